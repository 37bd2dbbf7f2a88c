"""Headers every answer carries: no MIME sniffing, no full URLs leaked to other sites, and on the site's pages a
Content-Security-Policy that lets only the registry's own scripts run (descriptions are sanitized too: this is
the second wall). The interactive API pages (Swagger UI under `/api/docs` and `/schema`) run inline scripts and
get no policy."""

from __future__ import annotations

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["PAGE_POLICY", "security_headers"]

PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
_ALWAYS = ((b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"strict-origin-when-cross-origin"))


def security_headers(app: ASGIApp) -> ASGIApp:
    """Middleware: add the headers to each response that does not set them itself."""

    async def with_headers(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        page = not scope["path"].startswith(("/api/docs", "/schema"))  # Swagger UI runs inline scripts

        async def send_with(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or [])
                names = {bytes(name).lower() for name, _ in headers}
                headers += [h for h in _ALWAYS if h[0] not in names]
                html = any(
                    bytes(k).lower() == b"content-type" and bytes(v).startswith(b"text/html") for k, v in headers
                )
                if html and page and b"content-security-policy" not in names:
                    headers.append((b"content-security-policy", PAGE_POLICY.encode()))
                message = {**message, "headers": headers}
            await send(message)

        await app(scope, receive, send_with)

    return with_headers
