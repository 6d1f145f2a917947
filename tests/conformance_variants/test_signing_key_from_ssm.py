"""SEC-006 (an expired token is refused) against a stage whose key the run is not given: the
suite reads it from an SSM parameter by name, with the caller's own AWS credentials — here, the
embedded AWS (moto's server) standing in for the deployed stage's account."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from tests.support.moto_server import MotoServer
from tests.support.stage_process import RunningStage, start_stage

CHATSTACK = Path(sys.executable).with_name("chatstack")
PARAMETER = "/chatstack/dev/jwt-secret"


@pytest.fixture(scope="module")
def stage_and_aws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningStage, str]]:
    """A local stage, and an AWS whose SSM holds that stage's key as a SecureString."""
    workdir = tmp_path_factory.mktemp("ssm")
    with MotoServer(workdir / "moto.log") as aws:
        ssm = boto3.client(
            "ssm",
            endpoint_url=aws.endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        stage = start_stage(workdir / "stage")
        try:
            ssm.put_parameter(Name=PARAMETER, Value=stage.jwt_secret, Type="SecureString")
            yield stage, aws.endpoint
        finally:
            stage.stop()


def sec_006(stage: RunningStage, endpoint: str, workdir: Path, *options: str) -> dict:
    """SEC-006's verdict from `chatstack conform -k SEC-006`, with AWS credentials that reach
    only the embedded AWS."""
    results = workdir / "results.json"
    run = subprocess.run(
        [
            str(CHATSTACK), "conform", "--rest-url", stage.rest_url, "--ws-url", stage.ws_url,
            "--results-json", str(results), "-k", "SEC-006", *options,
        ],
        env={
            "PATH": "/usr/bin:/bin",
            "HOME": str(workdir),
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ENDPOINT_URL_SSM": endpoint,
            "AWS_CONFIG_FILE": str(workdir / "none"),
            "AWS_SHARED_CREDENTIALS_FILE": str(workdir / "none"),
            "AWS_EC2_METADATA_DISABLED": "true",
        },
        capture_output=True,
        text=True,
        timeout=300,
        cwd=workdir,
    )  # fmt: skip
    assert results.exists(), run.stdout[-3000:] + run.stderr[-2000:]
    return json.loads(results.read_text())["checks"]["SEC-006"]


def test_the_key_is_read_from_ssm_by_name(stage_and_aws, tmp_path):
    """--jwt-secret-param NAME: the key comes from SSM, and SEC-006 runs and passes."""
    stage, endpoint = stage_and_aws
    verdict = sec_006(stage, endpoint, tmp_path, "--jwt-secret-param", PARAMETER)
    assert verdict["outcome"] == "passed", verdict


def test_without_a_key_sec_006_is_skipped_saying_how_to_give_one(stage_and_aws, tmp_path):
    """Neither --jwt-secret nor --jwt-secret-param: skipped (never passed), naming both."""
    stage, endpoint = stage_and_aws
    verdict = sec_006(stage, endpoint, tmp_path)
    assert verdict["outcome"] == "skipped", verdict
    assert "--jwt-secret-param" in verdict["message"]


def test_a_parameter_that_cannot_be_read_is_a_harness_error(stage_and_aws, tmp_path):
    """A parameter name that does not exist: an error of the run, not a failure of the stage."""
    stage, endpoint = stage_and_aws
    verdict = sec_006(stage, endpoint, tmp_path, "--jwt-secret-param", "/chatstack/dev/nope")
    assert verdict["outcome"] == "error", verdict
    assert "/chatstack/dev/nope" in verdict["message"]
