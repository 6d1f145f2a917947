"""The Terraform, run for real: ``init`` from the machine's provider mirror, ``validate``,
``plan``, ``apply``, a key rotation, and ``destroy`` — against moto's server on a free loopback
port, with fake credentials, every endpoint on loopback and a dead proxy for anything else, so
nothing leaves the machine. The configuration is copied to a temporary folder first.

Skipped, with the reason, where no mirror of ``hashicorp/aws`` is found (set
``CHATSTACK_TF_PLUGIN_DIR`` to one). What moto cannot create is listed in ``NOT_APPLIED`` (and in
the Terraform README), each with the reason, and removed from the copy that is applied.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import threading
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.support.moto_server import MotoServer
from tests.terraform.terraform_config import STACK, STACK_FILE, TF_DIR

# The whole life of a stage, once per module: about 3 minutes on the 2-core machine (the AWS
# provider creates functions with a local package one at a time, ~5 s each).
pytestmark = pytest.mark.timeout(900)

MIRROR_CANDIDATES = [
    os.environ.get("CHATSTACK_TF_PLUGIN_DIR"),
    "/opt/tf-plugins",
    str(Path.home() / ".terraform.d" / "plugins"),
    "/usr/local/share/terraform/plugins",
    "/usr/share/terraform/plugins",
]

# What moto (5.2.5) cannot create, with why; each is removed from the applied copy, with every
# line that refers to it. Keep in step with the Terraform README.
NOT_APPLIED = {
    "aws_cloudfront_response_headers_policy.web": (
        "moto has no CloudFront response headers policies (CreateResponseHeadersPolicy is "
        "answered 404); the distribution is applied without its response_headers_policy_id"
    ),
    "aws_s3_bucket_policy.web": (
        "moto evaluates a bucket policy's statements without their conditions: the TLS-only "
        "Deny (aws:SecureTransport = false) would refuse every request, Terraform's own upload "
        "of config.json included"
    ),
    "aws_cloudfront_response_headers_policy.media": (
        "as the web one: the media distribution is applied without its response headers policy"
    ),
    "aws_s3_bucket_policy.media": (
        "as the web one: its TLS-only Deny would refuse Terraform's own reads of the bucket"
    ),
}

# Every service the configuration calls, pointed at moto.
SERVICES = [
    "apigateway",
    "apigatewayv2",
    "cloudfront",
    "cloudwatchlogs",
    "dynamodb",
    "iam",
    "kms",
    "lambda",
    "s3",
    "secretsmanager",
    "sqs",
    "ssm",
    "sts",
]
# login and $connect, and every Bearer REST route of contract v2.
KEY_READERS = {"login", "connect"} | {
    route["function"]
    for route in STACK["rest_routes"]
    if route["path"] not in ("/signup", "/login")
}


def find_mirror() -> Path | None:
    """A filesystem mirror holding hashicorp/aws for this platform, if the machine has one."""
    for candidate in filter(None, MIRROR_CANDIDATES):
        pattern = "registry.terraform.io/hashicorp/aws/*/*/terraform-provider-aws_*"
        if any(Path(candidate).glob(pattern)):
            return Path(candidate)
    return None


def without(source: str, address: str) -> tuple[str, int]:
    """``source`` without the resource ``address`` and the lines that refer to it."""
    type_, name = address.split(".")
    block = re.compile(rf'^resource "{type_}" "{name}" {{\n.*?^}}\n', re.S | re.M)
    source, removed = block.subn("", source)
    source = "".join(
        line
        for line in source.splitlines(keepends=True)
        if f"{address}." not in line and f"{address}[" not in line
    )
    return source, removed


def provider_override(endpoint: str) -> str:
    endpoints = "".join(f'    {service} = "{endpoint}"\n' for service in SERVICES)
    return (
        'provider "aws" {\n'
        '  access_key                  = "testing"\n'
        '  secret_key                  = "testing"\n'
        "  skip_credentials_validation = true\n"
        "  skip_metadata_api_check     = true\n"
        "  s3_use_path_style           = true\n"
        f"  endpoints {{\n{endpoints}  }}\n"
        "}\n"
    )


@dataclass
class Run:
    """What each step answered; ``failed`` names the first step that did not succeed."""

    workdir: Path
    endpoint: str = ""
    steps: dict[str, subprocess.CompletedProcess[str]] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    planned: list[str] = field(default_factory=list)
    applied: list[str] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    functions: dict[str, dict[str, str]] = field(default_factory=dict)
    key: str = ""
    rotation_changes: dict[str, list[str]] = field(default_factory=dict)
    planned_environment: dict[str, dict[str, str]] = field(default_factory=dict)
    rotated_key: str = ""
    left_after_destroy: list[str] = field(default_factory=list)
    account_role: str = ""
    removed: dict[str, int] = field(default_factory=dict)
    failed: str | None = None

    def terraform(self, step: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        started = time.monotonic()
        result = subprocess.run(
            ["terraform", *args, "-no-color"],
            cwd=cwd,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        self.seconds[step] = round(time.monotonic() - started, 1)
        self.steps[step] = result
        if result.returncode != 0 and self.failed is None:
            self.failed = step
        return result

    def succeeded(self, step: str) -> bool:
        return step in self.steps and self.steps[step].returncode == 0

    @property
    def env(self) -> dict[str, str]:
        dead_proxy = "http://127.0.0.1:9"  # anything not on loopback would go here, and fail
        return {
            "PATH": os.environ["PATH"],
            "HOME": str(self.workdir),
            "TF_CLI_CONFIG_FILE": "/dev/null",
            "TF_IN_AUTOMATION": "1",
            "CHECKPOINT_DISABLE": "1",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_CONFIG_FILE": str(self.workdir / "no-aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(self.workdir / "no-aws-credentials"),
            "AWS_EC2_METADATA_DISABLED": "true",
            "HTTP_PROXY": dead_proxy,
            "HTTPS_PROXY": dead_proxy,
            "NO_PROXY": "127.0.0.1,localhost",
        }

    def client(self, service: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def read_functions(self) -> dict[str, dict[str, str]]:
        found = {}
        for page in self.client("lambda").get_paginator("list_functions").paginate():
            for function in page["Functions"]:
                found[function["FunctionName"]] = function.get("Environment", {}).get(
                    "Variables", {}
                )
        return found

    def read_key(self) -> str:
        parameter = self.client("ssm").get_parameter(
            Name="/chatstack/dev/jwt-secret", WithDecryption=True
        )
        return parameter["Parameter"]["Value"]


def copy_module(workdir: Path, endpoint: str) -> tuple[Path, dict[str, int]]:
    """The stage module and stack.json, as the module expects them, minus NOT_APPLIED."""
    module = workdir / "reference_stack" / "terraform"
    shutil.copytree(TF_DIR, module, ignore=shutil.ignore_patterns(".terraform*", "*.tfstate*"))
    shutil.copy(STACK_FILE, module.parent / "stack.json")
    removed = dict.fromkeys(NOT_APPLIED, 0)
    for path in module.glob("*.tf"):
        source = path.read_text(encoding="utf-8")
        for address in NOT_APPLIED:
            source, count = without(source, address)
            removed[address] += count
        path.write_text(source, encoding="utf-8")
    (module / "test_endpoints_override.tf").write_text(provider_override(endpoint))
    (module / "account" / "test_endpoints_override.tf").write_text(provider_override(endpoint))
    return module, removed


def changed_attributes(plan: dict[str, Any]) -> dict[str, list[str]]:
    """Each resource a plan changes, with the top-level attributes it changes."""
    found = {}
    for change in plan.get("resource_changes", []):
        if change["mode"] != "managed" or change["change"]["actions"] == ["no-op"]:
            continue
        before = change["change"].get("before") or {}
        after = change["change"].get("after") or {}
        found[change["address"]] = sorted(
            key for key in set(before) | set(after) if before.get(key) != after.get(key)
        )
    return found


def _show(run: Run, plan: str, cwd: Path) -> dict[str, Any]:
    shown = run.terraform(f"show {plan}", "show", "-json", plan, cwd=cwd)
    return json.loads(shown.stdout) if shown.returncode == 0 else {}


def _state(run: Run, step: str, cwd: Path) -> list[str]:
    listed = run.terraform(step, "state", "list", cwd=cwd)
    return sorted(a for a in listed.stdout.splitlines() if a and not a.startswith("data."))


def _drive(run: Run, mirror: Path, package: Path) -> None:
    module = run.workdir / "reference_stack" / "terraform"
    variables = ["-var", f"lambda_zip={package}"]
    run.terraform("init", "init", "-backend=false", f"-plugin-dir={mirror}", cwd=module)
    if not run.succeeded("init"):
        return
    run.terraform("validate", "validate", cwd=module)
    planned = run.terraform(
        "plan", "plan", "-input=false", "-json", "-out=stage.plan", *variables, cwd=module
    )
    if not run.succeeded("plan"):
        return
    run.planned = sorted(  # from the plan's machine-readable log: no second `terraform show`
        message["change"]["resource"]["addr"]
        for message in map(json.loads, planned.stdout.splitlines())
        if message.get("type") == "planned_change"
        and message["change"]["action"] == "create"
        and message["change"]["resource"]["resource_type"] != ""
        and not message["change"]["resource"]["addr"].startswith("data.")
    )
    try:
        run.terraform("apply", "apply", "-input=false", "-parallelism=30", "stage.plan", cwd=module)
        run.applied = _state(run, "state list", module)
        outputs = run.terraform("output", "output", "-json", cwd=module)
        if outputs.returncode == 0:
            run.outputs = {k: v["value"] for k, v in json.loads(outputs.stdout).items()}
        if not run.succeeded("apply"):
            return
        run.functions = run.read_functions()
        run.key = run.read_key()
        rotate = [*variables, "-var", "jwt_secret_version=2"]
        run.terraform(
            "rotation plan", "plan", "-input=false", "-refresh=false", "-out=rotate.plan",
            *rotate, cwd=module,
        )  # fmt: skip
        rotation = _show(run, "rotate.plan", module)
        run.rotation_changes = changed_attributes(rotation)
        run.planned_environment = {
            change["address"]: (change["change"]["after"].get("environment") or [{}])[0].get(
                "variables", {}
            )
            for change in rotation.get("resource_changes", [])
            if change["type"] == "aws_lambda_function" and change["change"]["after"]
        }
        # The functions' new environment is read from the plan: applying it would also re-apply
        # moto's perpetual differences (listed in the Terraform README) to every function, a
        # minute of the provider's one-at-a-time function updates.
        run.terraform(
            "rotation apply", "apply", "-input=false", "-auto-approve", "-refresh=false",
            "-target=aws_ssm_parameter.jwt_secret", *rotate, cwd=module,
        )  # fmt: skip
        run.rotated_key = run.read_key()
    finally:
        # Refreshed: disabling the distribution before deleting it needs its current ETag.
        run.terraform(
            "destroy", "destroy", "-input=false", "-auto-approve",
            "-parallelism=30", *variables, cwd=module,
        )  # fmt: skip
        run.left_after_destroy = _state(run, "state list after destroy", module)


def _drive_account(run: Run, mirror: Path) -> None:
    """The account module's own life, beside the stage's (they share nothing but moto)."""
    account = run.workdir / "reference_stack" / "terraform" / "account"
    run.terraform("account init", "init", "-backend=false", f"-plugin-dir={mirror}", cwd=account)
    run.terraform("account apply", "apply", "-input=false", "-auto-approve", cwd=account)
    run.account_role = run.client("apigateway").get_account().get("cloudwatchRoleArn", "")
    run.terraform("account destroy", "destroy", "-input=false", "-auto-approve", cwd=account)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    """One pass over the whole life of a stage, each step's answer kept for the tests."""
    mirror = find_mirror()
    if shutil.which("terraform") is None:
        pytest.skip("terraform is not on PATH: the configuration cannot be planned or applied")
    if mirror is None:
        pytest.skip(
            "no filesystem mirror of the hashicorp/aws provider on this machine (looked in "
            f"{', '.join(filter(None, MIRROR_CANDIDATES))}; set CHATSTACK_TF_PLUGIN_DIR): "
            "terraform init cannot download providers here"
        )
    workdir = tmp_path_factory.mktemp("terraform")
    package = workdir / "lambda.zip"
    with zipfile.ZipFile(package, "w") as archive:  # moto stores the code, never runs it
        archive.writestr("lambdas/__init__.py", "")
    result = Run(workdir)
    started = time.monotonic()
    with MotoServer(workdir / "moto.log") as aws:
        result.endpoint = aws.endpoint
        _, result.removed = copy_module(workdir, aws.endpoint)
        account = threading.Thread(target=_drive_account, args=(result, mirror))
        account.start()
        try:
            _drive(result, mirror, package)
        finally:
            account.join()
    result.seconds["total"] = round(time.monotonic() - started, 1)
    print(f"terraform steps (s): {result.seconds}")
    yield result


def _answer(run: Run, step: str) -> str:
    answered = run.steps.get(step)
    if answered is None:
        return f"{step} did not run (the first failed step: {run.failed})"
    said = answered.stderr[-3000:] or answered.stdout[-3000:]  # -json puts errors on stdout
    return f"terraform {step} exited {answered.returncode}:\n{said}"


def _ok(run: Run, step: str) -> None:
    answered = run.steps.get(step)
    assert answered is not None and answered.returncode == 0, _answer(run, step)


def test_init_installs_the_aws_provider_from_the_mirror(run):
    """terraform init finds hashicorp/aws in the mirror and needs no other provider."""
    _ok(run, "init")
    assert "hashicorp/aws" in run.steps["init"].stdout
    assert "hashicorp/random" not in run.steps["init"].stdout


def test_every_resource_moto_cannot_create_is_listed_and_was_removed_once(run):
    """NOT_APPLIED names existing resources: each was found in the configuration, once."""
    assert run.removed == dict.fromkeys(NOT_APPLIED, 1)


def test_validate_accepts_the_configuration(run):
    """terraform validate, with the real provider's schema."""
    _ok(run, "validate")


def test_plan_creates_the_whole_stage(run):
    """The plan creates every resource: tables, functions, both APIs, the web bucket…"""
    _ok(run, "plan")
    assert len(run.planned) > 100
    for address in (
        'aws_dynamodb_table.this["messages"]',
        'aws_lambda_function.this["broadcaster"]',
        'aws_lambda_event_source_mapping.stream["broadcast"]',
        'aws_lambda_event_source_mapping.stream["chat_events"]',
        'aws_dynamodb_table.this["chats"]',
        'aws_api_gateway_resource.path_level3["chats/{chatId}/messages"]',
        "aws_apigatewayv2_stage.ws",
        "aws_api_gateway_stage.rest",
        "aws_cloudfront_distribution.web",
        "aws_ssm_parameter.jwt_secret",
    ):
        assert address in run.planned, address


def test_apply_creates_every_planned_resource(run):
    """terraform apply succeeds, and the state holds exactly what the plan created."""
    _ok(run, "apply")
    assert run.applied == run.planned
    assert set(run.outputs) == {"rest_url", "ws_url", "web_url", "web_bucket", "media_bucket"}


def test_applied_functions_get_their_settings_with_the_partitions_urls(run):
    """The functions' environment: the key by name and version, @connections at the
    execute-api host of the WebSocket API in the partition's DNS suffix."""
    _ok(run, "apply")
    login = run.functions["chatstack-dev-login"]
    assert login["CHATSTACK_JWT_SECRET_PARAM"] == "/chatstack/dev/jwt-secret"
    assert login["CHATSTACK_JWT_SECRET_VERSION"] == "1"
    assert "CHATSTACK_JWT_SECRET" not in login
    api_host = run.outputs["ws_url"].removeprefix("wss://").split("/")[0]
    assert api_host.endswith(".execute-api.us-east-1.amazonaws.com")
    management = run.functions["chatstack-dev-broadcaster"]["CHATSTACK_MANAGEMENT_URL"]
    assert management == f"https://{api_host}/dev"
    assert re.fullmatch(r"[A-Za-z0-9]{64}", run.key), "the generated key: 64 letters and digits"


def test_a_key_rotation_rewrites_the_key_and_changes_every_readers_configuration(run):
    """jwt_secret_version 1 → 2 rewrites the parameter and changes the environment of exactly
    the functions that read it (to the new version), so their next invocation runs in a new
    container."""
    _ok(run, "rotation apply")
    assert "value_wo_version" in run.rotation_changes["aws_ssm_parameter.jwt_secret"]
    readers = {f'aws_lambda_function.this["{name}"]' for name in KEY_READERS}
    environment_changed = {
        address for address, changed in run.rotation_changes.items() if "environment" in changed
    }
    assert environment_changed == readers
    for address in readers:
        assert run.planned_environment[address]["CHATSTACK_JWT_SECRET_VERSION"] == "2"
    assert run.rotated_key != run.key and len(run.rotated_key) == 64


def test_destroy_removes_everything(run):
    """terraform destroy leaves no resource in the state, and none in the embedded AWS."""
    _ok(run, "destroy")
    assert run.left_after_destroy == []


def test_the_account_module_sets_api_gateways_cloudwatch_role_on_its_own(run):
    """account/ sets the account-wide role (apply), and destroying it is separate from any
    stage's destroy."""
    _ok(run, "account apply")
    assert run.account_role.endswith(":role/chatstack-apigateway-cloudwatch-us-east-1")
    _ok(run, "account destroy")
