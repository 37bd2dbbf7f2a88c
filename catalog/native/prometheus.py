"""Prometheus rule files and the Kubernetes PrometheusRule resource: one `monitor` asset per alerting rule."""

from __future__ import annotations

import re
from typing import Any, ClassVar

from catalog.native.base import NO_ASSETS, Draft, NativeError, Source, camel_words, cut, slugify
from catalog.native.emit import dump_yaml, number
from catalog.native.promql import (
    canonical_duration,
    is_duration,
    parse_comparison,
    severity_or_warning,
    without_comments,
)
from catalog.native.yamlsafe import Loaded, load_yaml_documents

__all__ = ["Prometheus"]

_FILE_KEYS = {"groups"}
_GROUP_KEYS = {"name", "interval", "query_offset", "limit", "labels", "rules", "partial_response_strategy"}
_RULE_KEYS = {"alert", "record", "expr", "for", "keep_firing_for", "labels", "annotations"}
_CRD_API = "monitoring.coreos.com/v1"
_TEMPLATE_ACTION = re.compile(r"\{\{.*?\}\}", re.DOTALL)
_METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*\Z")
_ATTRIBUTION = (
    'Source: "awesome-prometheus-alerts" by Samuel Berthe, https://github.com/samber/awesome-prometheus-alerts, '
    "licensed CC BY 4.0."
)


def _is_crd(data: Any) -> bool:
    return isinstance(data, dict) and data.get("kind") in ("PrometheusRule", "List") and "apiVersion" in data


def _clean(text: str) -> str:
    """Annotation text without Go template actions, or the empty brackets they leave behind."""
    text = _TEMPLATE_ACTION.sub("", text)
    text = re.sub(r"\(\s*\w*\s*\)", "", text)
    return " ".join(text.split())


class Prometheus:
    id: ClassVar[str] = "prometheus"
    kind: ClassVar[str] = "monitor"
    suffixes: ClassVar[tuple[str, ...]] = (".yml", ".yaml")
    claims: ClassVar[tuple[str, ...]] = ()

    def detect(self, source: Source, data: Any) -> bool:
        if _is_crd(data) and (data.get("kind") == "List" or str(data.get("apiVersion")) == _CRD_API):
            return True
        groups = data.get("groups") if isinstance(data, dict) else None
        return isinstance(groups, list) and all(isinstance(g, dict) and "rules" in g for g in groups)

    def load(self, source: Source) -> list[dict[str, Any]]:
        """Every rule group, each tagged with the document it came from (CRD streams have several)."""
        documents = load_yaml_documents(source.text, yaml12=True)
        if not documents:
            raise NativeError(source.name, "the file is empty; a rule file holds `groups:`")
        groups: list[dict[str, Any]] = []
        if any(_is_crd(d.data) for d in documents):
            for index, doc in enumerate(documents):
                for resource, pointer in self._resources(doc.data):
                    spec = resource.get("spec")
                    if not isinstance(spec, dict):
                        raise NativeError(source.name, "a PrometheusRule has no `spec`", line=doc.line(pointer))
                    k8s = {k: resource[k] for k in ("apiVersion", "kind", "metadata") if k in resource}
                    groups += self._groups(source, spec, doc, f"{pointer}/spec", {"document": index, "kubernetes": k8s})
        else:
            if len(documents) > 1:
                raise NativeError(
                    source.name,
                    f"a Prometheus rule file holds one YAML document; this one has {len(documents)}",
                    fix="Prometheus reads only the first: split the file",
                )
            doc = documents[0]
            if not isinstance(doc.data, dict):
                raise NativeError(source.name, "a rule file is a mapping with `groups:`", line=1)
            unknown = sorted(set(doc.data) - _FILE_KEYS)
            if unknown:
                raise NativeError(
                    source.name,
                    f"unknown top-level field {unknown[0]!r}",
                    line=doc.line(f"/{unknown[0]}"),
                    fix="a rule file has only `groups`",
                )
            groups = self._groups(source, doc.data, doc, "", {})
        if not groups:
            raise NativeError(source.name, "the file has no rule groups")
        return groups

    def _resources(self, data: Any) -> list[tuple[dict[str, Any], str]]:
        if not isinstance(data, dict):
            return []
        if data.get("kind") == "List":
            items = data.get("items") or []
            return [(item, f"/items/{i}") for i, item in enumerate(items) if isinstance(item, dict) and _is_crd(item)]
        return [(data, "")] if data.get("kind") == "PrometheusRule" else []

    def _groups(
        self, source: Source, holder: dict[str, Any], doc: Loaded, base: str, context: dict[str, Any]
    ) -> list[dict[str, Any]]:
        raw = holder.get("groups")
        if not isinstance(raw, list):
            raise NativeError(source.name, "`groups` must be a list of rule groups", line=doc.line(f"{base}/groups"))
        names: set[str] = set()
        groups = []
        for gi, group in enumerate(raw):
            where = f"{base}/groups/{gi}"

            def fail(message: str, pointer: str = "", fix: str = "", where: str = where) -> NativeError:
                return NativeError(source.name, message, line=doc.line(where + pointer), fix=fix)

            if not isinstance(group, dict):
                raise fail("a rule group must be a mapping with `name` and `rules`")
            unknown = sorted(set(group) - _GROUP_KEYS)
            if unknown:
                raise fail(f"unknown group field {unknown[0]!r}", f"/{unknown[0]}")
            name = group.get("name")
            if not isinstance(name, str) or not name.strip():
                raise fail("a rule group needs a `name`", fix="name the group")
            if name in names:
                raise fail(f"the group name {name!r} is used twice", "/name", "group names are unique in a file")
            names.add(name)
            for key in ("interval", "query_offset"):
                if key in group and not is_duration(str(group[key])):
                    raise fail(f"{key} {group[key]!r} is not a duration", f"/{key}", "use e.g. 30s, 1m, 1h30m")
            rules = group.get("rules")
            if not isinstance(rules, list):
                raise fail("`rules` must be a list", "/rules")
            for ri, rule in enumerate(rules):
                self._check_rule(rule, lambda m, p="", f="", ri=ri: fail(m, f"/rules/{ri}{p}", f))
            groups.append({**group, "_context": context, "_pointer": where})
        return groups

    def _check_rule(self, rule: Any, fail: Any) -> None:
        if not isinstance(rule, dict):
            raise fail("a rule must be a mapping")
        unknown = sorted(set(rule) - _RULE_KEYS)
        if unknown:
            raise fail(f"unknown rule field {unknown[0]!r}", f"/{unknown[0]}")
        if ("alert" in rule) == ("record" in rule):
            raise fail("a rule sets exactly one of `alert` and `record`")
        expr = rule.get("expr")
        if isinstance(expr, bool) or not isinstance(expr, str | int) or not str(expr).strip():
            raise fail("the rule has no `expr`", fix="write the PromQL expression")
        if "record" in rule:
            if not isinstance(rule["record"], str) or not _METRIC_NAME.match(rule["record"]):
                raise fail(f"`record` {rule['record']!r} is not a valid metric name", "/record")
            for key in ("for", "keep_firing_for", "annotations"):
                if key in rule:
                    raise fail(f"`{key}` applies to alerting rules only", f"/{key}")
        elif not isinstance(rule["alert"], str) or not rule["alert"].strip():
            raise fail("`alert` must name the alert", "/alert")
        for key in ("for", "keep_firing_for"):
            if key in rule and not is_duration(str(rule[key])):
                raise fail(f"`{key}` {rule[key]!r} is not a duration", f"/{key}", "use e.g. 0s, 5m, 1h30m")
        for key in ("labels", "annotations"):
            if key in rule and not isinstance(rule[key], dict):
                raise fail(f"`{key}` must be a mapping", f"/{key}")

    def drafts(self, source: Source, data: Any) -> list[Draft]:
        groups = data
        recording = [
            {"record": r["record"], "expr": str(r["expr"]).strip()} for g in groups for r in g["rules"] if "record" in r
        ]
        attribute = "awesome-prometheus-alerts" in source.name
        drafts: list[Draft] = []
        index = 0
        for group in groups:
            for rule in group["rules"]:
                if "alert" not in rule:
                    continue
                drafts.append(self._draft(source, group, rule, index, recording, attribute))
                index += 1
        if not drafts:
            raise NativeError(
                source.name,
                f"{NO_ASSETS}: the file has no alerting rule, only {len(recording)} recording rule(s)",
                fix="recording rules are not assets; import a file with at least one `alert:` rule",
            )
        if recording:
            names = ", ".join(r["record"] for r in recording)
            drafts[0].notices.append(
                f"{source.name}: {len(recording)} recording rule(s) skipped ({names}): not assets, kept in the "
                "attached file and listed on each alert"
            )
        return drafts

    def _draft(
        self,
        source: Source,
        group: dict[str, Any],
        rule: dict[str, Any],
        index: int,
        recording: list[dict[str, str]],
        attribute: bool,
    ) -> Draft:
        alert = str(rule["alert"])
        expr = str(rule["expr"])
        labels = dict(rule.get("labels") or {})
        annotations = dict(rule.get("annotations") or {})
        window = canonical_duration(str(rule.get("for", "0s")))
        comparison = parse_comparison(without_comments(expr))
        if comparison is not None:
            signal, condition = comparison.signal, {"op": comparison.op, "threshold": comparison.threshold}
            applies_to = "value"
        else:
            signal, condition, applies_to = without_comments(expr), {"op": ">", "threshold": 0}, "series_count"
        signal = " ".join(signal.split())  # one line in the catalog; `expr` keeps the text verbatim
        severity, notices = severity_or_warning(labels.get("severity"), alert)
        title = _clean(str(annotations.get("summary", "")))
        if len(title) < 3:
            title = camel_words(alert)
        first_line = _clean(str(annotations.get("description", "")).strip().split("\n")[0])
        summary = first_line if len(first_line) >= 10 else self._generated_summary(alert, comparison, signal, window)
        runbook = annotations.get("runbook_url") or annotations.get("runbook")
        context = group["_context"]
        selector: dict[str, Any] = {"group": group["name"], "alert": alert, "index": index}
        if "document" in context:
            selector["document"] = context["document"]
        spec: dict[str, Any] = {
            "signal": signal,
            "condition": {**condition, "window": window, "applies_to": applies_to},
            "severity": severity,
            "format": "prometheus",
            "native": {"format": self.id, "path": source.name, "selector": selector},
            "alert": alert,
            "expr": expr,
            "group": {k: group[k] for k in ("name", "interval", "query_offset", "limit", "labels") if k in group},
            "labels": labels,
            "annotations": annotations,
            "recording_rules": recording,
        }
        if isinstance(runbook, str) and re.match(r"https?://\S+\Z", runbook) and "{{" not in runbook:
            spec["runbook_url"] = runbook
        for key in ("keep_firing_for",):
            if key in rule:
                spec[key] = rule[key]
        if "partial_response_strategy" in group:
            spec["partial_response_strategy"] = group["partial_response_strategy"]
        if context.get("kubernetes"):
            spec["kubernetes"] = context["kubernetes"]
        description = self._description(alert, group, expr, window, labels, annotations, recording, attribute)
        return Draft(
            kind=self.kind,
            slug=slugify(alert),
            title=cut(title, 200),
            summary=cut(summary, 500),
            description=description,
            tags=["prometheus", "alert", slugify(str(group["name"])), severity],
            spec=spec,
            select_names=(alert, slugify(alert)),
            collision_hint=slugify(str(group["name"])),
            notices=notices,
        )

    @staticmethod
    def _generated_summary(alert: str, comparison: Any, signal: str, window: str) -> str:
        if comparison is not None:
            text = f"{alert} fires when {signal} {comparison.op} {number(comparison.threshold)} for {window}"
        else:
            text = f"{alert} fires when its expression returns series for {window}"
        return text if len(text) >= 10 else f"{text} (Prometheus alert)"

    @staticmethod
    def _description(
        alert: str,
        group: dict[str, Any],
        expr: str,
        window: str,
        labels: dict[str, Any],
        annotations: dict[str, Any],
        recording: list[dict[str, str]],
        attribute: bool,
    ) -> str:
        interval = f" (evaluated every {group['interval']})" if "interval" in group else ""
        lines = [
            f"Prometheus alerting rule `{alert}` in group `{group['name']}`{interval}.",
            "",
            "```promql",
            expr.strip(),
            "```",
            "",
            f"Fires after the condition holds for {window}.",
        ]
        if labels:
            lines += ["", "Labels: " + ", ".join(f"`{k}={v}`" for k, v in labels.items())]
        for key, value in annotations.items():
            lines += ["", f"**{key}**: {value}"]
        if recording:
            lines += ["", "Recording rules in the same file: " + ", ".join(f"`{r['record']}`" for r in recording)]
        if attribute:
            lines += ["", _ATTRIBUTION]
        return "\n".join(lines)[:50_000]

    def generate(self, manifest: dict[str, Any]) -> bytes:
        spec = manifest["spec"]
        condition = spec["condition"]
        expr = spec.get("expr")
        if not isinstance(expr, str):
            signal = str(spec["signal"])
            if condition.get("applies_to") == "series_count":
                expr = signal
            else:
                simple = re.fullmatch(r"[\w:]+(\{[^{}]*\})?(\[[^\]]*\])?|[\w:]+\(.*\)", signal.strip(), re.DOTALL)
                lhs = signal if simple else f"({signal})"
                expr = f"{lhs} {condition['op']} {number(condition['threshold'])}"
        alert = spec.get("alert") or "".join(w.capitalize() for w in str(manifest["slug"]).split("-"))
        window = str(condition["window"])
        if not is_duration(window):
            raise NativeError(
                manifest["slug"],
                f"window {window!r} is not a Prometheus duration",
                fix="write units in the order y w d h m s ms, e.g. 1h30m",
            )
        labels = dict(spec.get("labels") or {})
        labels.setdefault("severity", spec["severity"])
        annotations = dict(spec.get("annotations") or {})
        if not annotations:
            annotations = {"summary": manifest["title"], "description": manifest["summary"]}
            if spec.get("runbook_url"):
                annotations["runbook_url"] = spec["runbook_url"]
        rule: dict[str, Any] = {"alert": alert, "expr": expr, "for": window, "labels": labels}
        if spec.get("keep_firing_for"):
            rule["keep_firing_for"] = spec["keep_firing_for"]
        rule["annotations"] = annotations
        group_extra = dict(spec.get("group") or {})
        group: dict[str, Any] = {"name": group_extra.pop("name", manifest["slug"])}
        group.update({k: group_extra[k] for k in ("interval", "query_offset", "limit", "labels") if k in group_extra})
        group["rules"] = [rule]
        body: dict[str, Any] = {"groups": [group]}
        k8s = spec.get("kubernetes")
        if isinstance(k8s, dict) and k8s:
            body = {**{k: k8s[k] for k in ("apiVersion", "kind", "metadata") if k in k8s}, "spec": body}
        return dump_yaml(body)
