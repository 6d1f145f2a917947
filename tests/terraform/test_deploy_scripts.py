"""deploy.sh and cleanup.sh stop with a clear message when a prerequisite is missing; the web
upload puts the built front end in place. Nothing here reaches AWS."""

from __future__ import annotations

import os
import re
import shutil
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


# --- portability: macOS ships bash 3.2 and BSD tools ---------------------------------------------

# What bash 3.2 or BSD userland lacks, with why; none may appear in the scripts.
NOT_PORTABLE = {
    r"\bmktemp\s+(-\w*\s+)*--": "BSD mktemp has no long options (--suffix, --tmpdir)",
    r"\bmktemp\s+-p\b": "BSD mktemp has no -p",
    r"\b(declare|local|typeset)\s+-[a-zA-Z]*[An]": "bash 3.2 has no associative arrays or namerefs",
    r"\b(mapfile|readarray|coproc)\b": "not in bash 3.2",
    r"\$\{\w+(,,|\^\^)": "case modification is bash 4",
    r"&>>|\|&": "bash 4 redirections",
    r"\[\[\s+-v\b": "[[ -v ]] is bash 4.2",
    r"\bsed\s+-i\b": "BSD sed -i needs a suffix argument",
    r"\breadlink\s+-f\b": "BSD readlink has no -f (macOS before 12.3)",
    r"\bdate\s+-d\b": "BSD date has no -d",
    r"\bgrep\s+-\w*P": "BSD grep has no -P",
}
SCRIPT_FILES = ["deploy.sh", "cleanup.sh", "common.sh"]


def _empty_array_expansions(source: str) -> list[str]:
    """ "${name[@]}" of an array that may be empty: bash < 4.4 calls it unbound under set -u."""
    maybe_empty = set(re.findall(r"^\s*(?:local\s+)?(\w+)=\(\s*\)", source, re.M))
    return [name for name in maybe_empty if f'"${{{name}[@]}}"' in source]


@pytest.mark.parametrize("script", SCRIPT_FILES)
def test_scripts_use_only_what_macos_bash_and_bsd_tools_have(script):
    """No bash 4 feature, no GNU-only option, no expansion of a possibly empty array."""
    source = (SCRIPTS / script).read_text(encoding="utf-8")
    code = "\n".join(
        line.split(" #", 1)[0] for line in source.splitlines() if not line.lstrip().startswith("#")
    )
    found = [why for pattern, why in NOT_PORTABLE.items() if re.search(pattern, code)]
    found += [f'"${{{n}[@]}}" may be empty' for n in _empty_array_expansions(code)]
    assert found == [], f"{script}: {found}"


# --- the scripts' flow, with stand-ins for terraform, aws, npm and python ------------------------

SHIM = """#!/bin/sh
printf '%s|%s\\n' "$(pwd)" "$*" >> "{log}"
{body}
"""
TERRAFORM_BODY = """
case "$*" in
  "version -json") echo '{"terraform_version": "1.11.4"}' ;;
  *"output -raw"*) echo "chatstack-dev-web-abc" ;;
  *"output -json"*) echo '{}' ;;
  *destroy*)
    for a in "$@"; do
      case "$a" in
        lambda_zip=*) [ -f "${a#lambda_zip=}" ] && echo "package exists" >> "{log}" ;;
      esac
    done ;;
esac
exit 0
"""
AWS_BODY = "echo 123456789012\nexit 0\n"
NPM_BODY = "exit 0\n"
# The project's Python for everything but what would build, upload or call AWS.
PYTHON_BODY = """
case "$1" in
  -m) exit 0 ;;
  -) cat >/dev/null
     echo "${{CHATSTACK_TEST_LOGS_ROLE-arn:aws:iam::123456789012:role/logs}}"
     exit 0 ;;
esac
exec "{python}" "$@"
"""
# BSD mktemp: templates only, no long options.
MKTEMP_BODY = """
case "$*" in
  *--*|*-p*) echo "mktemp: illegal option" >&2; exit 1 ;;
esac
exec /usr/bin/mktemp "$@"
"""


@pytest.fixture
def stand_ins(tmp_path) -> dict[str, Path]:
    """A bin folder of recording stand-ins; returns their logs and the folder."""
    bin_dir = tmp_path / "stand-ins"
    bin_dir.mkdir()
    logs = {}
    bodies = {
        "terraform": TERRAFORM_BODY,
        "aws": AWS_BODY,
        "npm": NPM_BODY,
        "python": PYTHON_BODY.replace("{python}", sys.executable),
        "mktemp": MKTEMP_BODY,
    }
    for name, body in bodies.items():
        logs[name] = tmp_path / f"{name}.log"
        logs[name].touch()
        shim = bin_dir / name
        shim.write_text(
            SHIM.format(log=logs[name], body=body.replace("{log}", str(logs[name])))
            .replace("{{", "{")
            .replace("}}", "}")
        )
        shim.chmod(0o755)
    node = shutil.which("node")
    assert node, "node is needed to run deploy.sh's check"
    (bin_dir / "node").symlink_to(node)
    logs["bin"] = bin_dir
    return logs


def _run_with(stand_ins, script, *args, tmp_path, **env):
    return subprocess.run(
        ["bash", str(SCRIPTS / script), *args],
        env={
            "PATH": f"{stand_ins['bin']}:/usr/bin:/bin",
            "HOME": str(tmp_path),
            "CHATSTACK_PYTHON": str(stand_ins["bin"] / "python"),
            "CHATSTACK_STAGE_DIR": str(tmp_path / "stage"),
            "CHATSTACK_PACKAGE": str(tmp_path / "no-such" / "lambda.zip"),
            "TMPDIR": str(tmp_path),
            **env,
        },
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )


def test_cleanup_runs_with_bsd_mktemp_and_no_package(stand_ins, tmp_path):
    """Without a built package, cleanup.sh makes a placeholder zip with BSD-style mktemp, passes
    it to terraform destroy, and removes it after."""
    result = _run_with(stand_ins, "cleanup.sh", "dev", "--yes", tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    calls = stand_ins["terraform"].read_text()
    assert "destroy -input=false -auto-approve -var stage=dev" in calls
    assert "package exists" in calls
    assert not list(tmp_path.glob("chatstack-cleanup.*")), "the placeholder was left behind"


def test_cleanup_without_yes_passes_no_empty_argument(stand_ins, tmp_path):
    """Without --yes Terraform asks, and no empty argument reaches it."""
    result = _run_with(stand_ins, "cleanup.sh", "dev", tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    (destroy,) = [c for c in stand_ins["terraform"].read_text().splitlines() if "destroy" in c]
    assert "destroy -input=false -var stage=dev" in destroy


def test_deploy_builds_and_uploads_the_web_app(stand_ins, tmp_path):
    """deploy.sh builds frontend/dist with npm (ci, then build) and always uploads it."""
    result = _run_with(stand_ins, "deploy.sh", "dev", tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    npm = stand_ins["npm"].read_text().splitlines()
    frontend = str(ROOT / "frontend")
    assert npm == [f"{frontend}|ci --no-audit --no-fund", f"{frontend}|run build"]
    python = stand_ins["python"].read_text()
    assert "-m reference_stack.web_upload --bucket chatstack-dev-web-abc" in python
    assert (tmp_path / "stage" / "aws-dev.json").exists()


def test_deploy_checks_node(stand_ins, tmp_path):
    """With a Node older than 20, deploy.sh stops before building anything, saying so."""
    old_node = stand_ins["bin"] / "node"
    old_node.unlink()
    old_node.write_text('#!/bin/sh\n[ "$1" = --version ] && echo v18.19.0\nexit 1\n')
    old_node.chmod(0o755)
    result = _run_with(stand_ins, "deploy.sh", "dev", tmp_path=tmp_path)
    assert result.returncode != 0
    assert "Node v18.19.0 is too old" in result.stderr
    assert stand_ins["npm"].read_text() == "" and "building" not in result.stdout


def test_deploy_sets_the_account_role_only_when_asked(stand_ins, tmp_path):
    """With no API Gateway CloudWatch role in the account, deploy.sh stops and names
    --setup-account; with it, it applies terraform/account before the stage."""
    refused = _run_with(
        stand_ins, "deploy.sh", "dev", tmp_path=tmp_path, CHATSTACK_TEST_LOGS_ROLE=""
    )
    assert refused.returncode != 0
    assert "--setup-account" in refused.stderr
    assert "apply" not in stand_ins["terraform"].read_text()
    accepted = _run_with(
        stand_ins, "deploy.sh", "dev", "--setup-account", tmp_path=tmp_path,
        CHATSTACK_TEST_LOGS_ROLE="",
    )  # fmt: skip
    assert accepted.returncode == 0, accepted.stderr
    applies = [c for c in stand_ins["terraform"].read_text().splitlines() if " apply " in c]
    assert "terraform/account apply" in applies[0] and "-var region=us-east-1" in applies[0]
    assert "terraform apply" in applies[1]
