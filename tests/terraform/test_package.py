"""The Lambda package: built from the pins, reproducible, within Lambda's limits, and importable.

Builds need PyPI the first time; installed dependencies are cached under build/lambda-deps/ and
downloads under build/pip-cache/, so later runs take seconds.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from reference_stack import package
from tests.terraform.terraform_config import ROOT, STACK

# ELF e_machine of a native extension: what the package was built for.
ELF_MACHINES = {"x86_64": 62, "arm64": 183}

IMPORT_CHECK = """
import importlib, json, sys
root, handlers = sys.argv[1], json.loads(sys.argv[2])
sys.path.insert(0, root)
for path in handlers:
    module, _, name = path.rpartition(".")
    assert callable(getattr(importlib.import_module(module), name)), path
import aws_lambda_powertools, bcrypt, boto3, jwt
assert bcrypt.checkpw(b"pw", bcrypt.hashpw(b"pw", bcrypt.gensalt(rounds=4)))
boto3.client("dynamodb", region_name="us-east-1")  # botocore's service data loads
from lambdas.handlers.default import handler
class Context:
    function_name, aws_request_id = "default", "r-1"
reply = handler({"requestContext": {"connectionId": "c-1", "routeKey": "$default"},
                 "body": '{"action": "dance"}'}, Context())
names = ["boto3", "botocore", "bcrypt", "jwt", "aws_lambda_powertools", "lambdas"]
print(json.dumps({"reply": reply, "files": {n: sys.modules[n].__file__ for n in names}}))
"""


def _python_312() -> tuple[str, str, dict[str, str]]:
    """An interpreter to import the package with: Python 3.12 if there is one, else this one.

    Returns (executable, its "X.Y" version, environment).
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    if shutil.which("pyenv"):
        listed = subprocess.run(
            ["pyenv", "versions", "--bare"], capture_output=True, text=True, check=False
        ).stdout.split()
        versions = sorted(v for v in listed if v.startswith("3.12"))
        if versions:
            env["PYENV_VERSION"] = versions[-1]
    found = shutil.which("python3.12")
    if found:
        probe = subprocess.run([found, "--version"], env=env, capture_output=True, check=False)
        if probe.returncode == 0:
            return found, "3.12", env
    return sys.executable, f"{sys.version_info.major}.{sys.version_info.minor}", env


@pytest.fixture(scope="module")
def interpreter() -> tuple[str, str, dict[str, str]]:
    return _python_312()


@pytest.fixture(scope="module")
def x86_package(tmp_path_factory, interpreter) -> package.PackageReport:
    """The package for x86_64 (this machine), for the interpreter the import test runs."""
    out = tmp_path_factory.mktemp("package") / "lambda.zip"
    return package.build(out, arch="x86_64", python_version=interpreter[1])


def test_requirements_are_the_pyproject_pins_and_their_locked_dependencies():
    """The four runtime packages at pyproject.toml's versions, plus uv.lock's closure of them."""
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    pins = {d.split("==")[0].lower(): d.split("==")[1] for d in dependencies if "==" in d}
    requirements = dict(r.split("==") for r in package.locked_requirements())
    for name in ("boto3", "bcrypt", "pyjwt", "aws-lambda-powertools"):
        assert requirements[name] == pins[name]
    assert {"botocore", "jmespath", "s3transfer"} <= set(requirements)
    assert not {"moto", "aiohttp", "pytest"} & set(requirements), "no local-stage packages"


def test_a_pin_that_disagrees_with_the_lock_is_refused(tmp_path):
    """pyproject.toml and uv.lock must name the same version, or the build stops."""
    text = (ROOT / "pyproject.toml").read_text().replace('"bcrypt==', '"bcrypt==0.0.1+')
    (tmp_path / "pyproject.toml").write_text(text)
    with pytest.raises(package.PackageError, match="bcrypt"):
        package.locked_requirements(tmp_path / "pyproject.toml", ROOT / "uv.lock")


def test_the_zip_holds_the_code_and_dependencies_in_a_fixed_order_and_time(x86_package):
    """Sorted names, one timestamp, no caches or scripts; every handler module inside."""
    with zipfile.ZipFile(x86_package.path) as archive:
        infos = archive.infolist()
    names = [i.filename for i in infos]
    assert names == sorted(names)
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert {i.external_attr >> 16 for i in infos} == {0o100644}
    assert not [
        n for n in names if "__pycache__" in n or n.endswith(".pyc") or n.startswith("bin/")
    ]
    for function in STACK["functions"].values():
        module = function["handler"].rpartition(".")[0]
        assert module.replace(".", "/") + ".py" in names
    assert x86_package.files == len(names)


def _native_machine(path: Path) -> int:
    with zipfile.ZipFile(path) as archive:
        (name,) = [n for n in archive.namelist() if n.startswith("bcrypt/") and n.endswith(".so")]
        header = archive.read(name)[:20]
    assert header[:4] == b"\x7fELF"
    return int.from_bytes(header[18:20], "little")


def test_the_same_inputs_give_the_same_bytes(x86_package, tmp_path, interpreter):
    """Rebuilt from a fresh dependency install, the zip has the same sha256."""
    again = package.build(
        tmp_path / "again.zip",
        arch="x86_64",
        python_version=interpreter[1],
        cache=tmp_path / "fresh-deps",
    )
    assert again.sha256 == x86_package.sha256
    assert hashlib.sha256(again.path.read_bytes()).hexdigest() == again.sha256


def test_each_handler_imports_from_the_unpacked_package_alone(x86_package, tmp_path, interpreter):
    """In an isolated interpreter (no site-packages), every handler imports and one runs."""
    executable, _, env = interpreter
    with zipfile.ZipFile(x86_package.path) as archive:
        archive.extractall(tmp_path)
    handlers = [f["handler"] for f in STACK["functions"].values()]
    result = subprocess.run(
        [executable, "-I", "-S", "-c", IMPORT_CHECK, str(tmp_path), json.dumps(handlers)],
        capture_output=True,
        text=True,
        env={**env, "AWS_DEFAULT_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true"},
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    for name, file in report["files"].items():
        assert file.startswith(str(tmp_path)), f"{name} came from {file}"
    frame = json.loads(report["reply"]["body"])
    assert frame["type"] == "error" and frame["code"] == "UNKNOWN_ACTION"
    assert _native_machine(x86_package.path) == ELF_MACHINES["x86_64"]


def test_the_arm64_package_for_python_312_fits_lambdas_limits(tmp_path):
    """The package Terraform deploys by default: aarch64 bcrypt, under 50 MiB zipped."""
    report = package.build(tmp_path / "lambda.zip", arch="arm64")
    assert _native_machine(report.path) == ELF_MACHINES["arm64"]
    assert report.zip_bytes < package.MAX_ZIP_BYTES
    assert report.unpacked_bytes < package.MAX_UNPACKED_BYTES
    print(report.summary())


def test_the_command_line_builds_and_reports_the_size(tmp_path):
    """`python -m reference_stack.package` prints the path, sizes and sha256."""
    out = tmp_path / "cli.zip"
    result = subprocess.run(
        [sys.executable, "-m", "reference_stack.package", "--arch", "arm64", "--out", str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    assert str(out) in result.stdout and "MiB zipped" in result.stdout
    assert hashlib.sha256(out.read_bytes()).hexdigest() in result.stdout
    refused = subprocess.run(
        [sys.executable, "-m", "reference_stack.package", "--arch", "mips"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert refused.returncode != 0 and "mips" in refused.stderr
