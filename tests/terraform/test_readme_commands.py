"""The commands the Terraform README gives for a deployed stage work as written: each
`chatstack conform` and `locust` line is accepted by the tool's own options, and names a
target the tool can resolve from the stage file deploy.sh writes."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest

from conformance.cli import build_parser
from loadtests.stage import resolve_target
from tests.terraform.terraform_config import TF_DIR

README = TF_DIR / "README.md"


def commands(tool: str) -> list[list[str]]:
    """Every line of the README's sh blocks that runs ``tool``, split as the shell would
    (a ``$(...)`` substitution kept as one word)."""
    blocks = re.findall(r"```sh\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    found = []
    for block in blocks:
        for line in block.replace("\\\n", " ").splitlines():
            words = shlex.split(re.sub(r"\$\((.*?)\)", lambda m: "SUBST", line.split(" #")[0]))
            if words and Path(words[0]).name == tool:
                found.append(words[1:])
    return found


def _option(words: list[str], name: str) -> str:
    return words[words.index(name) + 1] if name in words else ""


@pytest.fixture
def stage_file(tmp_path) -> Path:
    """What deploy.sh writes: `terraform output -json`."""
    path = tmp_path / "aws-dev.json"
    outputs = {
        "rest_url": "https://abc123.execute-api.us-east-1.amazonaws.com/dev",
        "ws_url": "wss://def456.execute-api.us-east-1.amazonaws.com/dev",
    }
    path.write_text(json.dumps({k: {"value": v, "type": "string"} for k, v in outputs.items()}))
    return path


def test_the_locust_commands_name_a_deployed_stage(stage_file):
    """Each locust line gives the load test a whole target (--stage-file, or --host with
    --ws-url): --host alone is refused by the load test."""
    found = commands("locust")
    assert found, "the README shows how to load-test the deployed stage"
    for words in found:
        stage = _option(words, "--stage-file") and str(stage_file)
        target = resolve_target(
            _option(words, "--host"), _option(words, "--ws-url"), stage, "--no-auth" in words
        )
        assert target is not None, f"no target in: locust {' '.join(words)}"
        assert target.ws_url.startswith("wss://"), target


def test_the_conform_commands_are_accepted_by_chatstack_conform():
    """Each `chatstack conform` line parses with its own options, none passed on to pytest."""
    found = commands("chatstack")
    assert found
    for words in found:
        assert words[0] == "conform"
        _, unknown = build_parser().parse_known_args(words[1:])
        assert unknown == [], f"chatstack {' '.join(words)}: unknown options {unknown}"
