"""The HTTP client the CLI's client commands share: base URL and token from settings, problems made readable."""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from typing import Any

import click
import httpx

from registry.settings import Settings

__all__ = ["ApiError", "RegistryClient", "describe_problem", "publish_in_batches"]


class ApiError(click.ClickException):
    """A problem details answer (or a transport failure), shown as one readable message."""

    def __init__(self, message: str, status: int | None = None, body: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.body = body or {}


def describe_problem(body: dict[str, Any]) -> str:
    """`detail` plus one indented line per field problem: pointer, what, how to fix."""
    lines = [str(body.get("detail") or body.get("title") or "request failed")]
    for err in body.get("errors") or []:
        fix = f" ({err['fix']})" if err.get("fix") else ""
        lines.append(f"    {err.get('pointer', '/')}: {err.get('detail', '')}{fix}")
    return "\n".join(lines)


class RegistryClient:
    """Thin wrapper over httpx that raises ApiError with the server's problem details."""

    def __init__(self, settings: Settings, *, timeout: float = 30.0) -> None:
        headers = {"User-Agent": "registry-cli"}
        if settings.token:
            headers["Authorization"] = f"Bearer {settings.token.get_secret_value()}"
        self.base = settings.url.rstrip("/")
        self._http = httpx.Client(base_url=self.base, headers=headers, timeout=timeout)

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, *_: object) -> None:
        self._http.close()

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as err:
            raise ApiError(f"cannot reach the registry at {self.base}: {err} (set REGISTRY_URL)") from err
        if response.status_code >= 400:
            try:
                body = response.json()
            except ValueError:
                body = {"detail": response.text[:500] or response.reason_phrase}
            if response.status_code == 404 and isinstance(body, dict):
                body = {**body, "detail": f"{body.get('detail', 'not found')}{self._hint(path, body.get('code'))}"}
            raise ApiError(describe_problem(body), response.status_code, body)
        return response

    def _hint(self, path: str, code: object) -> str:
        """What a person would ask next after a 404: the asset or pilot meant, or the versions there are."""
        parts = path.split("?")[0].strip("/").split("/")  # api, v1, assets|pilots, SLUG, ...
        if len(parts) < 4 or parts[2] not in ("assets", "pilots"):
            return ""
        try:
            if code == "version-not-found":
                versions = [v["version"] for v in self._http.get(f"/api/v1/assets/{parts[3]}").json()["versions"]]
                return f"; its versions: {', '.join(versions) or 'none'}"
            if code == "asset-not-found":
                hits = self._http.get("/api/v1/search", params={"q": parts[3].replace("-", " "), "limit": 3}).json()
                names = [hit["slug"] for hit in hits.get("hits", [])]
            elif code == "pilot-not-found":
                pilots = self._http.get("/api/v1/pilots", params={"limit": 500}).json()
                slugs = [p["slug"] for p in (pilots.get("items", pilots) if isinstance(pilots, dict) else pilots)]
                names = difflib.get_close_matches(parts[3], slugs, n=3)
            else:
                return ""
        except (httpx.HTTPError, ValueError, KeyError, TypeError):
            return ""  # a hint is a courtesy: the 404 itself is the answer
        return f"; did you mean {' or '.join(names)}?" if names else ""

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        return self.request(method, path, **kwargs).json()


BATCH = 1000  # versions per request (the batch endpoint's limit)


def publish_in_batches(client: RegistryClient, manifests: list[dict[str, Any]]) -> Iterator[tuple[int, dict[str, Any]]]:
    """Each manifest's result (its index in `manifests`, the registry's answer for it): one request per
    thousand versions through the batch endpoint, in the order given so dependencies go first."""
    for start in range(0, len(manifests), BATCH):
        answer = client.json("POST", "/api/v1/assets/batch", json={"manifests": manifests[start : start + BATCH]})
        for result in answer["results"]:
            yield start + result["index"], result
