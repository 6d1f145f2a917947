"""REST ``POST /upload-url``: a presigned upload of one file under the caller's own prefix."""

from __future__ import annotations

from typing import Any

from lambdas import runtime
from lambdas.apigw import RestRequest, authed_endpoint
from lambdas.contract.media import parse_upload


@authed_endpoint(body=True)
def handler(request: RestRequest) -> tuple[int, dict[str, Any]]:
    media = runtime.media()
    wanted = parse_upload(request.body, media.policy)
    return 200, media.presign_upload(request.identity.user_id, wanted).to_wire()
