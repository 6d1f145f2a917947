"""deploy.sh and cleanup.sh stop with a clear message when a prerequisite is missing; the web
upload puts the built front end in place. Nothing here reaches AWS."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from reference_stack.web_upload import IMMUTABLE, REVALIDATE, upload
from tests.terraform.terraform_config import ROOT

SCRIPTS = ROOT / "reference_stack"
TERRAFORM = Path("/usr/local/bin/terraform")


def _run(script: str, *args: str, path: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """Run a script with a bare PATH and no AWS credentials anywhere (so nothing is sent)."""
    env = {
        "PATH": path,
        "HOME": str(tmp_path),
        "CHATSTACK_PYTHON": sys.executable,
        "AWS_CONFIG_FILE": str(tmp_path / "no-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_DEFAULT_REGION": "us-east-1",
        "TF_CLI_CONFIG_FILE": "/dev/null",
    }
    return subprocess.run(
        ["bash", str(SCRIPTS / script), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )


@pytest.fixture
def bin_with_terraform(tmp_path) -> str:
    """A PATH with terraform and the basic tools, and no aws CLI."""
    if not TERRAFORM.exists():
        pytest.fail(f"{TERRAFORM} is missing (it is preinstalled on the development machine)")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "terraform").symlink_to(TERRAFORM)
    return f"{bin_dir}:/usr/bin:/bin"


@pytest.mark.parametrize("script", ["deploy.sh", "cleanup.sh"])
def test_scripts_say_terraform_is_missing(script, tmp_path):
    """Without terraform on PATH: exit non-zero, saying so and where to get it."""
    result = _run(script, "dev", path="/usr/bin:/bin", tmp_path=tmp_path)
    assert result.returncode != 0
    assert "terraform is not on PATH" in result.stderr


@pytest.mark.parametrize("script", ["deploy.sh", "cleanup.sh"])
def test_scripts_say_aws_credentials_are_missing(script, tmp_path, bin_with_terraform):
    """Terraform found but no credentials: exit non-zero before building or applying."""
    result = _run(script, "dev", path=bin_with_terraform, tmp_path=tmp_path)
    assert result.returncode != 0
    assert "no usable AWS credentials" in result.stderr
    assert "aws sts get-caller-identity" in result.stderr
    assert "building" not in result.stdout


@pytest.mark.parametrize("script", ["deploy.sh", "cleanup.sh"])
def test_scripts_refuse_an_unknown_stage(script, tmp_path, bin_with_terraform):
    """Only dev, staging and prod, as the Terraform variable allows."""
    result = _run(script, "qa", path=bin_with_terraform, tmp_path=tmp_path)
    assert result.returncode != 0
    assert "stage must be dev, staging or prod" in result.stderr


def test_scripts_are_executable():
    """They run as documented: reference_stack/deploy.sh."""
    for script in ("deploy.sh", "cleanup.sh"):
        assert os.access(SCRIPTS / script, os.X_OK), script


@pytest.fixture
def bucket():
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="web")
        yield s3


def test_upload_puts_the_build_with_types_and_caching(bucket, tmp_path):
    """index.html revalidated, fingerprinted assets immutable, types set; config.json untouched."""
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html>")
    (tmp_path / "assets" / "app-3f2a.js").write_text("console.log(1)")
    (tmp_path / "assets" / "app-3f2a.css").write_text("body{}")
    (tmp_path / "config.json").write_text('{"restUrl": "http://127.0.0.1:8000/dev"}')
    bucket.put_object(Bucket="web", Key="config.json", Body=b'{"restUrl": "https://aws"}')
    bucket.put_object(Bucket="web", Key="assets/app-old.js", Body=b"old")

    report = upload(bucket, "web", tmp_path)

    assert report.uploaded == ["assets/app-3f2a.css", "assets/app-3f2a.js", "index.html"]
    assert report.deleted == ["assets/app-old.js"]
    index = bucket.head_object(Bucket="web", Key="index.html")
    assert (index["ContentType"], index["CacheControl"]) == ("text/html", REVALIDATE)
    script = bucket.head_object(Bucket="web", Key="assets/app-3f2a.js")
    assert (script["ContentType"], script["CacheControl"]) == ("text/javascript", IMMUTABLE)
    config = bucket.get_object(Bucket="web", Key="config.json")["Body"].read()
    assert config == b'{"restUrl": "https://aws"}'


def test_upload_refuses_a_directory_that_is_not_a_build(bucket, tmp_path):
    """No index.html: nothing is uploaded or deleted."""
    bucket.put_object(Bucket="web", Key="index.html", Body=b"live")
    with pytest.raises(FileNotFoundError, match=r"index\.html"):
        upload(bucket, "web", tmp_path)
    assert bucket.get_object(Bucket="web", Key="index.html")["Body"].read() == b"live"
