"""``GET /``: the mock's front page (a placeholder for the web inbox)."""

from __future__ import annotations

from aiohttp import web

__all__ = ["setup"]

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>mock MMSC</title></head>
<body>
<h1>mock MMSC</h1>
<p>An LG U+-like MM7 MMS Relay/Server. POST MM7 requests to <code>/</code> or <code>/mm7</code>.</p>
<ul>
<li><a href="/api/messages">/api/messages</a>: what was received</li>
<li><a href="/api/reports">/api/reports</a>: delivery reports</li>
<li><a href="/api/rules">/api/rules</a>: rules</li>
<li><a href="/api/openapi.json">/api/openapi.json</a>: the admin API</li>
</ul>
</body></html>
"""


async def index(request: web.Request) -> web.Response:
    """The front page."""
    return web.Response(text=_PAGE, content_type="text/html")


def setup(app: web.Application) -> None:
    """Add ``GET /`` to ``app``."""
    app.router.add_get("/", index)
