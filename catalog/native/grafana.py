"""Grafana alert-rule provisioning files (`apiVersion: 1`, `groups[].rules[]`): one `monitor` asset per rule."""

from __future__ import annotations

import json
import re
from typing import Any, ClassVar

from catalog.native.base import NO_ASSETS, Draft, NativeError, Source, cut, normalize_tags, slugify
from catalog.native.emit import dump_yaml, number
from catalog.native.promql import canonical_duration, is_duration, severity_or_warning, without_comments
from catalog.native.yamlsafe import load_yaml

__all__ = ["Grafana"]

_EVALUATORS = {"gt": ">", "lt": "<", "gte": ">=", "ge": ">=", "lte": "<=", "le": "<=", "eq": "==", "ne": "!="}
_TO_EVALUATOR = {">": "gt", "<": "lt", ">=": "gte", "<=": "lte", "==": "eq", "!=": "ne"}
_MATH = re.compile(r"^\s*\$(\w+)\s*(==|!=|>=|<=|>|<)\s*(-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)\s*$")


_ALERT_KEYS = ("uid", "title", "condition", "data", "for")


_EXPRESSION_UIDS = {"__expr__", "-100"}  # "-100": the expression datasource's legacy uid


def _datasource_uid(node: dict[str, Any]) -> str:
    """The node's datasource uid (Grafana reads the file as JSON, keys case-insensitively: `datasourceUID` too)."""
    return next((str(v) for k, v in node.items() if k.lower() == "datasourceuid"), "")


def _is_expression(node: dict[str, Any]) -> bool:
    return _datasource_uid(node) in _EXPRESSION_UIDS


def _query_text(node: dict[str, Any]) -> str:
    """What a query node asks, on one line without comments; its datasource when the model holds no query text."""
    model = node.get("model") or {}
    query = model.get("expr") or model.get("rawSql") or model.get("query") if isinstance(model, dict) else None
    if query:
        return " ".join(without_comments(str(query)).split())
    return f"query {node['refId']} of datasource {_datasource_uid(node) or 'unnamed'}"


def _recording(rule: Any) -> bool:
    return isinstance(rule, dict) and isinstance(rule.get("record"), dict)


def _rule_groups(data: Any) -> bool:
    groups = data.get("groups") if isinstance(data, dict) else None
    return isinstance(groups, list) and any(
        isinstance(g, dict)
        and isinstance(g.get("rules"), list)
        and any(isinstance(r, dict) and {"uid", "condition", "data"} <= set(r) for r in g["rules"])
        for g in groups
    )


class Grafana:
    id: ClassVar[str] = "grafana"
    kind: ClassVar[str] = "monitor"
    suffixes: ClassVar[tuple[str, ...]] = (".yaml", ".yml", ".json")
    claims: ClassVar[tuple[str, ...]] = ()

    def detect(self, source: Source, data: Any) -> bool:
        return isinstance(data, dict) and str(data.get("apiVersion")) == "1" and _rule_groups(data)

    def load(self, source: Source) -> dict[str, Any]:
        if source.suffix == ".json":
            try:
                data = json.loads(source.text)
            except ValueError as err:
                raise NativeError(source.name, f"not valid JSON: {err}") from err
            loaded = None
        else:
            loaded = load_yaml(source.text, yaml12=True)
            data = loaded.data
        if not isinstance(data, dict) or str(data.get("apiVersion")) != "1" or not isinstance(data.get("groups"), list):
            raise NativeError(source.name, "a Grafana provisioning file has `apiVersion: 1` and `groups`", line=1)
        for gi, group in enumerate(data["groups"]):
            for key in ("name", "folder", "interval"):
                if not isinstance(group, dict) or not group.get(key):
                    raise NativeError(
                        source.name,
                        f"rule group {gi + 1} has no `{key}`",
                        line=loaded.line(f"/groups/{gi}") if loaded else None,
                    )
            if not isinstance(group.get("rules") or [], list):
                raise NativeError(source.name, f"`rules` of group {group['name']!r} must be a list")
            for ri, rule in enumerate(group.get("rules") or []):
                # A recording rule (`record: {metric, from}`) has neither `condition` nor `for`.
                required = ("uid", "title", "data", "record") if _recording(rule) else _ALERT_KEYS
                missing = [k for k in required if not isinstance(rule, dict) or k not in rule]
                if missing:
                    raise NativeError(
                        source.name,
                        f"rule {ri + 1} of group {group['name']!r} has no `{missing[0]}`",
                        line=loaded.line(f"/groups/{gi}/rules/{ri}") if loaded else None,
                    )
                if not isinstance(rule["data"], list) or not all(
                    isinstance(n, dict) and "refId" in n for n in rule["data"]
                ):
                    raise NativeError(source.name, f"rule {rule['uid']!r}: `data` must be a list of nodes with `refId`")
        return data

    def drafts(self, source: Source, data: dict[str, Any]) -> list[Draft]:
        drafts: list[Draft] = []
        recording = []
        for group in data["groups"]:
            for rule in group.get("rules") or []:
                if _recording(rule):
                    recording.append(str(rule["title"]))
                    continue
                drafts.append(self._draft(source, group, rule, len(drafts)))
        if not drafts:
            raise NativeError(
                source.name,
                f"{NO_ASSETS}: the file has no alert rule, only {len(recording)} recording rule(s)",
                fix="recording rules are not assets; import a file with at least one alert rule",
            )
        if recording:
            drafts[0].notices.append(
                f"{source.name}: {len(recording)} recording rule(s) skipped ({', '.join(recording)}): not assets, "
                "kept in the attached file"
            )
        return drafts

    @staticmethod
    def _condition(rule: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        nodes = {n["refId"]: n for n in rule["data"]}
        node = nodes.get(rule["condition"])
        seen: set[str] = set()
        op: str | None = None
        threshold: float | None = None
        while node is not None and node["refId"] not in seen:  # walk back to the query the condition starts from
            seen.add(node["refId"])
            model = node.get("model") or {}
            kind = model.get("type")
            if kind in {"threshold", "classic_conditions"} and op is None:
                evaluator = (model.get("conditions") or [{}])[0].get("evaluator") or {}
                if evaluator.get("type") in _EVALUATORS and evaluator.get("params"):
                    op, threshold = _EVALUATORS[evaluator["type"]], float(evaluator["params"][0])
            elif kind == "math" and op is None:
                m = _MATH.match(str(model.get("expression", "")))
                if m:
                    op, threshold = m.group(2), float(m.group(3))
            ref = model.get("expression")
            if not _is_expression(node):
                signal = _query_text(node)
                if op is None or threshold is None:
                    return signal, {"op": ">", "threshold": 0, "applies_to": "series_count"}
                return signal, {"op": op, "threshold": threshold, "applies_to": "value"}
            ref_id = str(ref).lstrip("$").split()[0] if isinstance(ref, str) and ref else None
            node = nodes.get(ref_id) if ref_id else None
        first = next((n for n in rule["data"] if not _is_expression(n)), rule["data"][0])
        signal = _query_text(first)
        return signal, {"op": ">", "threshold": 0, "applies_to": "series_count"}

    def _draft(self, source: Source, group: dict[str, Any], rule: dict[str, Any], index: int) -> Draft:
        signal, condition = self._condition(rule)
        labels = dict(rule.get("labels") or {})
        annotations = dict(rule.get("annotations") or {})
        severity, notices = severity_or_warning(labels.get("severity"), str(rule["title"]))
        window = canonical_duration(str(rule.get("for", "0s")))
        if not is_duration(window):
            raise NativeError(source.name, f"rule {rule['uid']!r}: `for` {window!r} is not a duration")
        title = str(rule["title"])
        summary = str(annotations.get("summary") or annotations.get("description") or "")
        if len(summary.strip()) < 10:
            summary = f"Grafana alert {title} in folder {group['folder']}"
        spec: dict[str, Any] = {
            "signal": signal or title,
            "condition": {
                "op": condition["op"],
                "threshold": condition["threshold"],
                "window": window,
                "applies_to": condition["applies_to"],
            },
            "severity": severity,
            "format": "grafana",
            "native": {
                "format": self.id,
                "path": source.name,
                "selector": {"group": group["name"], "uid": rule["uid"], "index": index},
            },
            "uid": rule["uid"],
            "folder": group["folder"],
            "group": {k: group[k] for k in ("name", "interval", "orgId") if k in group},
            "data": rule["data"],
            "condition_ref": rule["condition"],
            "labels": labels,
            "annotations": annotations,
        }
        for key in (
            "noDataState",
            "execErrState",
            "dashboardUid",
            "panelId",
            "isPaused",
            "keep_firing_for",
            "notification_settings",
        ):
            if key in rule:
                spec[key] = rule[key]
        runbook = annotations.get("runbook_url")
        if isinstance(runbook, str) and re.match(r"https?://\S+\Z", runbook):
            spec["runbook_url"] = runbook
        return Draft(
            kind=self.kind,
            slug=slugify(title if len(title) >= 2 else str(rule["uid"])),
            title=cut(title if len(title) >= 3 else f"{title} alert", 200),
            summary=cut(summary, 500),
            description=f"Grafana alert rule `{rule['uid']}` in folder `{group['folder']}`, group `{group['name']}`.",
            tags=normalize_tags(["grafana", "alert", slugify(str(group["name"])), severity]),
            spec=spec,
            select_names=(title, str(rule["uid"])),
            collision_hint=slugify(str(group["name"])),
            notices=notices,
        )

    def generate(self, manifest: dict[str, Any]) -> bytes:
        spec = manifest["spec"]
        condition = spec["condition"]
        data = spec.get("data")
        if not data:
            if not spec.get("datasource_uid"):
                raise NativeError(
                    manifest["slug"],
                    "a Grafana rule needs the datasource its query runs on",
                    fix="add datasource_uid to the spec",
                )
            evaluator = (
                {"type": _TO_EVALUATOR[condition["op"]], "params": [number(condition["threshold"])]}
                if condition.get("applies_to") != "series_count"
                else {"type": "gt", "params": [0]}
            )
            data = [
                {
                    "refId": "A",
                    "relativeTimeRange": {"from": 600, "to": 0},
                    "datasourceUid": spec["datasource_uid"],
                    "model": {"expr": spec["signal"], "refId": "A"},
                },
                {
                    "refId": "B",
                    "datasourceUid": "__expr__",
                    "model": {"type": "reduce", "expression": "A", "reducer": "last", "refId": "B"},
                },
                {
                    "refId": "C",
                    "datasourceUid": "__expr__",
                    "model": {
                        "type": "threshold",
                        "expression": "B",
                        "refId": "C",
                        "conditions": [{"evaluator": evaluator}],
                    },
                },
            ]
        group = dict(spec.get("group") or {})
        labels = dict(spec.get("labels") or {})
        labels.setdefault("severity", spec["severity"])
        annotations = dict(spec.get("annotations") or {"summary": manifest["summary"]})
        if spec.get("runbook_url"):
            annotations.setdefault("runbook_url", spec["runbook_url"])
        rule = {
            "uid": spec.get("uid") or manifest["slug"][:40],
            "title": manifest["title"],
            "condition": spec.get("condition_ref") or "C",
            "data": data,
            "for": condition["window"],
            "labels": labels,
            "annotations": annotations,
            "noDataState": spec.get("noDataState", "NoData"),
            "execErrState": spec.get("execErrState", "Error"),
        }
        body = {
            "apiVersion": 1,
            "groups": [
                {
                    "orgId": group.get("orgId", 1),
                    "name": group.get("name", manifest["slug"]),
                    "folder": spec.get("folder") or manifest.get("owner", "registry"),
                    "interval": group.get("interval", "1m"),
                    "rules": [rule],
                }
            ],
        }
        return dump_yaml(body)
