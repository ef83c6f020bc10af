"""The web inbox of the mock MMSC: ``GET /`` and its static files, a client of ``/api/``.

The page is plain HTML, CSS and JavaScript shipped as package data (no build step, nothing
fetched from the internet). Everything it shows comes from the JSON API
(:mod:`mockmmsc.api`): the list and a message from ``/api/messages`` (paged back with its
``before_id`` cursor), live updates from ``/api/events``, the controls from ``/api/overload``,
``/api/tps`` and ``/api/rules``, the traffic view (plain SVG charts drawn by the page's own
script) from ``/api/traffic``.

Everything shown is attacker-controlled, so the page builds its DOM with text nodes only and
is served with a strict Content-Security-Policy.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

from aiohttp import web

__all__ = ["CONTENT_SECURITY_POLICY", "setup"]

#: The page's Content-Security-Policy: only its own scripts, styles and images.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data: blob:; media-src 'self'; style-src 'self'; "
    "script-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)
_STATIC = {
    "index.html": "text/html",
    "app.js": "text/javascript",
    "app.css": "text/css",
}
_STATIC_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


@lru_cache(maxsize=len(_STATIC))
def _static_bytes(name: str) -> bytes:
    return resources.files(__name__).joinpath(name).read_bytes()


def _static_response(name: str) -> web.Response:
    return web.Response(
        body=_static_bytes(name),
        content_type=_STATIC[name],
        charset="utf-8",
        headers=_STATIC_HEADERS,
    )


async def index(request: web.Request) -> web.Response:
    """``GET /``: the inbox page."""
    return _static_response("index.html")


async def static(request: web.Request) -> web.Response:
    """``GET /static/{name}``: the page's script and style sheet."""
    name = request.match_info["name"]
    if name not in _STATIC or name == "index.html":
        return web.json_response({"error": f"no static file {name!r}", "status": 404}, status=404)
    return _static_response(name)


def setup(app: web.Application) -> None:
    """Add the inbox page and its static files to ``app``."""
    app.router.add_get("/", index)
    app.router.add_get("/static/{name}", static)
