"""The delivery path's signer caches what is the same for every POST: its signatures must be
exactly botocore's own SigV4 signatures."""

from __future__ import annotations

import datetime

import pytest
from botocore import auth
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from lambdas.domain.signed_delivery import _Signer


def _request(url: str, body: bytes) -> AWSRequest:
    return AWSRequest(method="POST", url=url, data=body, headers={"Host": "abc.example.com"})


@pytest.mark.parametrize("token", [None, "session-token"])
def test_signatures_equal_botocores_across_requests_bodies_and_days(monkeypatch, token):
    credentials = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token)
    ours = _Signer(credentials, "execute-api", "eu-west-1")
    now = [datetime.datetime(2026, 11, 25, 23, 59, 59)]
    monkeypatch.setattr(auth, "get_current_datetime", lambda: now[0])
    body = b'{"type":"message","message":"hello"}'
    cases = [
        ("https://abc.example.com/dev/@connections/a%3D", body),
        ("https://abc.example.com/dev/@connections/b%2Bc%3D", body),  # same body object: cached
        ("https://abc.example.com/dev/@connections/a%3D", b"another body"),
        ("https://abc.example.com/dev/@connections/a%3D?x=1&a=2", body),  # a query, if ever
    ]
    for day in (0, 1):  # the signing key is derived again on a new day
        now[0] += datetime.timedelta(seconds=day)
        for url, data in cases:
            expected, signed = _request(url, data), _request(url, data)
            SigV4Auth(credentials, "execute-api", "eu-west-1").add_auth(expected)
            ours.add_auth(signed)
            assert signed.headers["Authorization"] == expected.headers["Authorization"]
            assert signed.headers["X-Amz-Date"] == expected.headers["X-Amz-Date"]
