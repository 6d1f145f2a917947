"""The local stage as a process: its URLs, stage file, logs, web app and clean shutdown."""

from __future__ import annotations

import asyncio
import json
import signal

import pytest

from tests.support.stage_process import start_stage


def test_stage_file_has_the_shared_shape(stage):
    """The stage file holds exactly rest_url, ws_url and web_url, all on loopback."""
    urls = {"rest_url": stage.rest_url, "ws_url": stage.ws_url, "web_url": stage.web_url}
    assert stage.rest_url.startswith("http://127.0.0.1:") and stage.rest_url.endswith("/dev")
    assert stage.ws_url.startswith("ws://127.0.0.1:") and stage.ws_url.endswith("/dev")
    assert stage.web_url.startswith("http://127.0.0.1:")
    assert len(set(urls.values())) == 3


async def test_urls_are_printed(stage):
    """On start the stage prints its three URLs (just after writing its stage file)."""
    deadline = asyncio.get_running_loop().time() + 10
    while "Web app:" not in stage.stdout.read_text():
        assert asyncio.get_running_loop().time() < deadline, "no URLs printed within 10 s"
        await asyncio.sleep(0.05)
    out = stage.stdout.read_text()
    for url in (stage.rest_url, stage.ws_url, stage.web_url):
        assert url in out


async def test_each_invocation_logs_one_structured_line(stage, rest, connect):
    """Every handler invocation writes one JSON line naming function, ids, status and duration."""
    peer = await connect(await rest.new_user("logged"))
    await peer.request({"action": "getMessages", "roomId": "general", "limit": 1})
    lines = [json.loads(line) for line in stage.stderr.read_text().splitlines() if line]
    invocations = [line for line in lines if line.get("message") == "invoke"]
    functions = {line["function"] for line in invocations}
    assert {"signup", "login", "connect", "get_messages"} <= functions
    for line in invocations:
        assert {"time", "level", "function", "requestId", "durationMs", "outcome"} <= set(line)
    history = [line for line in invocations if line["function"] == "get_messages"]
    assert history[-1]["connectionId"] and history[-1]["routeKey"] == "getMessages"


async def test_web_app_serves_runtime_config(http, stage):
    """The web URL serves a page and config.json with the API URLs."""
    async with http.get(stage.web_url + "config.json") as response:
        assert response.status == 200
        assert await response.json() == {"restUrl": stage.rest_url, "wsUrl": stage.ws_url}
    async with http.get(stage.web_url) as response:
        assert response.status == 200
        assert "text/html" in response.headers["Content-Type"]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_stops_cleanly_on_signal(tmp_path, signum):
    """SIGTERM and SIGINT stop the stage with exit code 0 and remove its stage file."""
    running = start_stage(tmp_path)
    running.process.send_signal(signum)
    assert running.process.wait(15) == 0, running.stderr.read_text()[-2000:]
    assert not (tmp_path / "stage.json").exists()
    assert '"stage stopped"' in running.stderr.read_text()
    assert "Traceback" not in running.logs()


async def test_a_stage_whose_in_memory_dynamodb_dies_exits_saying_why(tmp_path):
    """moto holding every table (``--dynamodb moto``) is killed: its data is gone, so the
    stage stops at once with exit code 1 and a message that says so — it never lingers,
    answering INTERNAL_ERROR to everyone."""
    import os

    running = start_stage(tmp_path, "--dynamodb", "moto")
    try:
        os.kill(running._started()["pids"]["moto"], signal.SIGKILL)
        deadline = asyncio.get_running_loop().time() + 30
        while running.process.poll() is None:
            assert asyncio.get_running_loop().time() < deadline, "the stage did not stop"
            await asyncio.sleep(0.1)
        assert running.process.returncode == 1
        assert "moto's server exited" in running.stderr.read_text()
        assert "the data it held in memory is gone" in running.stderr.read_text()
    finally:
        running.stop()


async def test_a_dead_moto_that_holds_no_table_is_restarted(tmp_path, http):
    """With DynamoDB Local holding the tables, a killed moto is restarted on its port and the
    stage goes on (signup still works)."""
    import os

    from conformance.client import Rest

    running = start_stage(tmp_path)
    try:
        os.kill(running._started()["pids"]["moto"], signal.SIGKILL)
        deadline = asyncio.get_running_loop().time() + 30
        while '"embedded AWS restarted"' not in running.stderr.read_text():
            assert asyncio.get_running_loop().time() < deadline, "moto was not restarted"
            assert running.process.poll() is None, "the stage stopped"
            await asyncio.sleep(0.1)
        await Rest(http, running.rest_url, 10).new_user("after")
    finally:
        running.stop()
