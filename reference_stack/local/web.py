"""The web app: the built front end (if any) and its runtime ``config.json``."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

__all__ = ["build_web_app"]

_PLACEHOLDER = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>chatstack</title></head>
<body><main><h1>chatstack local stage</h1>
<p>The front end is not built yet. REST API: <code>{rest_url}</code>,
WebSocket API: <code>{ws_url}</code>.</p></main></body></html>
"""


def build_web_app(root: Path, rest_url: str, ws_url: str) -> web.Application:
    """Serve ``root`` (the Vite build) with ``/config.json`` holding the API URLs."""
    config = {"restUrl": rest_url, "wsUrl": ws_url}

    async def config_json(request: web.Request) -> web.Response:
        return web.json_response(config, headers={"Cache-Control": "no-store"})

    async def index(request: web.Request) -> web.StreamResponse:
        page = root / "index.html"
        if page.is_file():
            return web.FileResponse(page)
        return web.Response(
            text=_PLACEHOLDER.format(rest_url=rest_url, ws_url=ws_url), content_type="text/html"
        )

    app = web.Application()
    app.router.add_get("/config.json", config_json)
    app.router.add_get("/", index)
    if (root / "assets").is_dir():
        app.router.add_static("/assets", root / "assets")
    return app
