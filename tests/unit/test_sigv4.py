"""The delivery path's SigV4 signer gives exactly botocore's signatures, for every request
shape delivery sends, across session tokens, connection ids, bodies, seconds and days."""

from __future__ import annotations

import datetime
from urllib.parse import quote

import pytest
from botocore import auth
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from lambdas.domain.sigv4 import PostSigner, canonical_path, payload_hash

HOSTS = ["abc123.execute-api.eu-west-1.amazonaws.com", "127.0.0.1:41234"]
IDS = ["a=", "b+c/d=", "L0SM9cOFvHcCIhw=", "..", "x y", "é"]


def _botocore(credentials, host: str, path: str, body: bytes) -> dict[str, str]:
    request = AWSRequest(
        method="POST", url=f"http://{host}{path}", data=body, headers={"Host": host}
    )
    SigV4Auth(credentials, "execute-api", "eu-west-1").add_auth(request)
    return dict(request.headers.items())


@pytest.mark.parametrize("token", [None, "session  token"])
@pytest.mark.parametrize("host", HOSTS)
def test_headers_equal_botocores(monkeypatch, token, host):
    """Every header, its value and its order are botocore's, over ids, bodies, a new second
    and a new day (the signing key is derived again)."""
    credentials = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token)
    signer = PostSigner(credentials.get_frozen_credentials(), "eu-west-1", "execute-api", host)
    now = [datetime.datetime(2026, 11, 25, 23, 59, 58)]
    monkeypatch.setattr(auth, "get_current_datetime", lambda: now[0])
    bodies = [b'{"type":"message","message":"hello"}', b"", "é ✓".encode()]
    for _ in range(3):  # 23:59:58, :59, then the next day
        for connection_id in IDS:
            for body in bodies:
                path = "/dev/@connections/" + quote(connection_id, safe="-_.~")
                expected = _botocore(credentials, host, path, body)
                ours = signer.headers(path, payload_hash(body))
                assert ours == list(expected.items())
        now[0] += datetime.timedelta(seconds=1)


@pytest.mark.parametrize(
    ("path", "canonical"),
    [
        ("/dev/@connections/a%3D", "/dev/%40connections/a%253D"),
        ("/dev//@connections/./a", "/dev/%40connections/a"),
        ("/dev/@connections/x/../y", "/dev/%40connections/y"),
    ],
)
def test_canonical_path_is_botocores(path, canonical):
    """Paths are encoded once more, with dot segments and repeated slashes removed."""
    assert canonical_path(path) == canonical
