"""Every answer of the REST API is JSON with the CORS header — API Gateway's own answers too."""

from __future__ import annotations

import json

import aiohttp
import pytest


async def _post(http: aiohttp.ClientSession, url: str, body: bytes, **headers: str):
    async with http.post(url, data=body, headers=headers) as answer:
        return answer.status, answer.headers, await answer.read()


def _json_with_cors(headers, body: bytes) -> dict:
    assert headers["Content-Type"].startswith("application/json")
    assert headers["Access-Control-Allow-Origin"] == "*"
    return json.loads(body)


async def test_a_body_over_10_mb_is_a_json_413_with_cors(http, stage):
    """API Gateway's payload limit answers JSON with the CORS header, not text/plain."""
    status, headers, body = await _post(http, f"{stage.rest_url}/signup", b"x" * (10 * 2**20 + 1))
    assert status == 413
    assert _json_with_cors(headers, body) == {"message": "Request Too Long"}


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "br"])
async def test_a_compressed_garbage_body_is_invalid_json(http, stage, encoding):
    """A body claiming a content encoding is passed on as sent (API Gateway decompresses
    nothing here): garbage is the contract's 400 INVALID_JSON, not a 500 in text/plain."""
    status, headers, body = await _post(
        http, f"{stage.rest_url}/login", b"\x1f\x8b\x08garbage", **{"Content-Encoding": encoding}
    )
    assert status == 400
    assert _json_with_cors(headers, body)["error"]["code"] == "INVALID_JSON"
