"""Both delivery paths — boto3 (`ManagementApiPoster`) and SigV4 over keep-alive HTTP
(`SignedPoster`) — against a tiny @connections server: every test runs on both, with the same
expected results."""

from __future__ import annotations

import json
import socket
import time

import pytest

from lambdas.contract.frames import Message
from lambdas.domain.fanout import ConnectionGone, DeliveryFailed, deliver_each, fan_out
from tests.functional.connections_api import poster_for


@pytest.fixture(params=["boto3", "signed"])
def path(request) -> str:
    return request.param


@pytest.fixture
def poster(api, path):
    return poster_for(f"{api.url}/dev", path)


def test_post_delivers_the_exact_bytes_to_the_connection_path(poster, received):
    """A 200 answer means delivered; the server got the frame bytes on /dev/@connections/{id}."""
    data = '{"type":"message","message":"é😀"}'.encode()
    poster.post("ok-abc", data)
    (request,) = received
    assert request.method == "POST"
    assert request.path == "/dev/@connections/ok-abc"
    assert request.body == data


def test_post_encodes_an_id_ending_in_equals_and_the_server_decodes_it(poster, received):
    """An API Gateway-shaped id ('=' at the end, '+' inside) survives the URL round trip."""
    connection_id = "ok+Ab_9Cd7EfGhIJ=="
    poster.post(connection_id, b"{}")
    (request,) = received
    assert "%3D" in request.raw_path.upper()
    assert request.path == f"/dev/@connections/{connection_id}"


def test_gone_answer_raises_connection_gone(poster, received):
    """410 with x-amzn-ErrorType GoneException is ConnectionGone, after one request."""
    with pytest.raises(ConnectionGone) as caught:
        poster.post("gone-1=", b"{}")
    assert not isinstance(caught.value, DeliveryFailed)
    assert len(received) == 1


def test_server_error_raises_delivery_failed(poster, received):
    """A 500 is DeliveryFailed, not ConnectionGone."""
    with pytest.raises(DeliveryFailed) as caught:
        poster.post("boom-1=", b"{}")
    assert not isinstance(caught.value, ConnectionGone)
    assert "boom-1=" in str(caught.value)
    assert len(received) == 1


def test_other_modeled_error_raises_delivery_failed(poster):
    """A modeled error other than Gone (403 Forbidden) is DeliveryFailed."""
    with pytest.raises(DeliveryFailed):
        poster.post("forbidden-1=", b"{}")


def test_unreachable_endpoint_raises_delivery_failed(path):
    """A refused connection (a BotoCoreError) is DeliveryFailed."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(DeliveryFailed):
        poster_for(f"http://127.0.0.1:{port}/dev", path).post("ok-1=", b"{}")


def test_fan_out_through_the_management_api_isolates_each_failure(poster, received):
    """Gone and failing recipients are reported; everyone else still gets the message."""
    message = Message("m-1", "dev", "u-1", "Ada", "hello", 1_700_000_000_000, None)
    removed: list[tuple[str, str]] = []
    report = fan_out(
        message,
        ["ok-1=", "gone-1=", "boom-1=", "ok-2="],
        poster,
        lambda connection_id, room_id: removed.append((connection_id, room_id)),
    )
    assert (report.delivered, report.gone, report.failed) == (2, 1, 1)
    assert removed == [("gone-1=", "dev")]
    sent = sorted(r.path.rsplit("/", 1)[-1] for r in received)
    assert sent == sorted(["ok-1=", "gone-1=", "boom-1=", "ok-2="])
    assert all(json.loads(r.body)["messageId"] == "m-1" for r in received)


@pytest.mark.parametrize("connection_id", ["flaky-1=", "throttled-1="])
def test_a_transient_error_is_retried_then_delivered(api, path, received, connection_id):
    """A 500 or 429 answered once is retried: delivered, after exactly two requests."""
    poster = poster_for(f"{api.url}/dev", path, attempts=3)
    poster.post(connection_id, b"{}")
    assert len(received) == 2


def test_retries_are_bounded(api, path, received):
    """A recipient failing every time is given up after the attempts allowed."""
    poster = poster_for(f"{api.url}/dev", path, attempts=2)
    with pytest.raises(DeliveryFailed):
        poster.post("boom-2=", b"{}")
    assert len(received) == 2


def test_signed_path_retries_forbidden_within_the_time_budget(api, received):
    """403 is retried on the signed path, but never past the function's remaining time."""
    poster = poster_for(f"{api.url}/dev", "signed", attempts=5)
    with pytest.raises(DeliveryFailed):
        poster.post("forbidden-2=", b"{}", deadline=time.monotonic())
    assert len(received) == 1


def test_a_malformed_answer_fails_only_that_attempt(api, received):
    """A status line that is not HTTP (``2OO``) is a failed attempt, retried: the batch's other
    recipients are delivered and nothing raises."""
    poster = poster_for(f"{api.url}/dev", "signed", attempts=2)
    outcome = poster.deliver(["ok-m1=", "garbled-1=", "ok-m2="], b"{}")
    assert sorted(outcome.delivered) == ["garbled-1=", "ok-m1=", "ok-m2="]
    assert [r.path.rsplit("/", 1)[-1] for r in received].count("garbled-1=") == 2


def test_a_malformed_answer_with_no_attempt_left_is_a_failed_delivery(api, received):
    """With one attempt, a malformed answer is reported failed for that recipient alone."""
    poster = poster_for(f"{api.url}/dev", "signed", attempts=1)
    outcome = poster.deliver(["garbled-2=", "ok-m3="], b"{}")
    assert (outcome.delivered, outcome.failed) == (["ok-m3="], ["garbled-2="])


def test_signed_requests_carry_a_sigv4_signature(api, received):
    """Every signed POST carries an AWS4-HMAC-SHA256 Authorization for execute-api."""
    poster_for(f"{api.url}/dev", "signed").deliver(["ok-a=", "ok-b="], b"{}")
    assert len(received) == 2
    for request in received:
        assert request.authorization.startswith("AWS4-HMAC-SHA256 Credential=functional/")
        assert "/us-east-1/execute-api/aws4_request" in request.authorization


def test_refusals_are_retried_beyond_the_attempts_whose_answer_was_lost(api, received):
    """A 500 means API Gateway did not send the frame: it is retried past ``max_attempts``
    (up to ``max_refusals``), so a burst of throttling never costs a delivery; the attempts
    that may have delivered (lost answers) stay bounded."""
    poster = poster_for(f"{api.url}/dev", "signed", attempts=1, refusals=8)
    outcome = poster.deliver(["sick-r1="], b"{}")
    assert outcome.delivered == ["sick-r1="]
    assert len(received) == 3  # two refusals, then delivered


def test_deliver_each_posts_every_frame_in_order_and_a_gone_connection_once(poster, received):
    """Three frames to overlapping connections at once (``deliver_each``): each connection
    gets its frames in job order, a gone one is posted to once and counted gone for every
    frame, a failing one fails each of its frames."""
    jobs = [
        (["ok-a", "ok-b", "gone-1="], b'{"n":1}'),
        (["ok-a", "gone-1=", "boom-1="], b'{"n":2}'),
        (["ok-b", "ok-a"], b'{"n":3}'),
    ]
    outcomes = deliver_each(poster, jobs)
    assert [sorted(o.delivered) for o in outcomes] == [["ok-a", "ok-b"], ["ok-a"], ["ok-a", "ok-b"]]
    assert [o.gone for o in outcomes] == [["gone-1="], ["gone-1="], []]
    assert [o.failed for o in outcomes] == [[], ["boom-1="], []]
    bodies: dict[str, list[int]] = {}
    for request in received:
        bodies.setdefault(request.path.rsplit("/", 1)[1], []).append(json.loads(request.body)["n"])
    assert bodies["ok-a"] == [1, 2, 3] and bodies["ok-b"] == [1, 3]
    assert bodies["gone-1="] == [1]
