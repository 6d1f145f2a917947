"""The Terraform passes the checks that need no AWS: fmt, checkov, the provider's schema."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import hcl2
import pytest
from hcl2 import SerializationOptions

from tests.terraform import provider_schema
from tests.terraform.terraform_config import ROOT, TF_DIR, strings, terraform

CHECKOV = ROOT / ".tools" / "checkov" / "bin" / "checkov"
SKIP_COMMENT = re.compile(r"#checkov:skip=(CKV2?_AWS_\d+):(.*)")


def test_terraform_files_are_formatted():
    """`terraform fmt -check -recursive` finds nothing to rewrite."""
    result = terraform("fmt", "-check", "-recursive", "-diff", cwd=TF_DIR, check=False)
    assert result.returncode == 0, f"run `terraform fmt -recursive`:\n{result.stdout}"


@pytest.fixture(scope="module")
def checkov_report() -> dict:
    """checkov's JSON report (without --quiet, which would leave out the skipped checks)."""
    assert CHECKOV.exists(), f"checkov is not installed at {CHECKOV}: `make checkov` installs it"
    result = subprocess.run(
        [
            str(CHECKOV),
            "--directory",
            str(TF_DIR),
            "--framework",
            "terraform",
            "--compact",
            "--skip-download",
            "--output",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.stdout.strip(), f"checkov printed nothing:\n{result.stderr[-2000:]}"
    report = json.loads(result.stdout)
    return report[0] if isinstance(report, list) else report


def test_checkov_finds_no_failed_check(checkov_report):
    """Every checkov check passes or is skipped with a reason in the .tf."""
    summary = checkov_report["summary"]
    failed = [
        f"{c['check_id']} {c['resource']} ({c['file_path']}): {c['check_name']}"
        for c in checkov_report["results"].get("failed_checks", [])
    ]
    assert summary["parsing_errors"] == 0
    assert summary["passed"] > 0
    assert failed == [], "\n".join(failed)


def test_every_checkov_skip_has_a_reason_and_is_still_needed(checkov_report):
    """Each `#checkov:skip=ID:reason` says why, and suppresses a check that would fail."""
    comments = []
    for path in sorted(TF_DIR.glob("*.tf")):
        for match in SKIP_COMMENT.finditer(path.read_text(encoding="utf-8")):
            comments.append((path.name, match.group(1), match.group(2).strip()))
    assert comments
    for file, check, reason in comments:
        assert len(reason) >= 20, f"{file}: the skip of {check} needs a reason"
    skipped = {
        (Path(c["file_path"]).name, c["check_id"])
        for c in checkov_report["results"].get("skipped_checks", [])
    }
    unused = [(f, c) for f, c, _ in comments if (f, c) not in skipped]
    assert unused == [], f"skips that suppress nothing (remove them): {unused}"


def _explicit_documents() -> dict[str, dict]:
    options = SerializationOptions(strip_string_quotes=True, explicit_blocks=True)
    documents = {}
    for path in sorted(TF_DIR.rglob("*.tf")):  # the stage module and account/
        with path.open(encoding="utf-8") as handle:
            documents[str(path.relative_to(TF_DIR))] = hcl2.load(
                handle, serialization_options=options
            )
    return documents


def test_every_argument_and_block_exists_in_the_aws_provider():
    """What `terraform validate` would check: no misspelt argument or block (AWS provider 6)."""
    schema, found = provider_schema.load(), []
    for file, document in _explicit_documents().items():
        for kind in ("resource", "data"):
            for entry in document.get(kind, []):
                for type_, named in entry.items():
                    if not type_.startswith("aws_"):
                        continue
                    for name, body in named.items():
                        if name.startswith("__"):
                            continue
                        if type_ not in schema[kind]:
                            found.append(f"{file}: {type_} not in {provider_schema.SCHEMA_FILE}")
                            continue
                        where = f"{file}: {type_}.{name}"
                        found += provider_schema.problems(body, schema[kind][type_], where)
    assert found == [], "\n".join(found)


def test_every_reference_names_an_attribute_the_resource_exports():
    """`aws_x.name.attr` and `data.aws_x.name.attr` name attributes the provider has."""
    schema = provider_schema.load()
    pattern = re.compile(r"(?<![\w.])(data\.)?(aws_[a-z0-9_]+)\.(\w+)(?:\[[^\]]+\])?\.(\w+)")
    found = []
    for file, document in _explicit_documents().items():
        for text in strings(document):
            for data, type_, name, attribute in pattern.findall(text):
                types = schema["data" if data else "resource"]
                known = types.get(type_, {})
                if attribute not in known.get("attributes", []) + known.get("arguments", []):
                    found.append(f"{file}: {data}{type_}.{name}.{attribute}")
    assert found == [], "\n".join(found)


def test_no_partition_is_hard_coded():
    """Endpoints, principals and ARNs come from the partition (aws, aws-cn, aws-us-gov): no .tf
    file spells amazonaws.com or arn:aws: itself."""
    found = []
    for path in sorted(TF_DIR.rglob("*.tf")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            if "amazonaws.com" in code or "arn:aws:" in code:
                found.append(f"{path.relative_to(TF_DIR)}:{number}: {line.strip()}")
    assert found == [], "\n".join(found)


def test_api_gateways_account_setting_is_not_part_of_a_stage():
    """The CloudWatch role is one setting per account and region: the stage module never sets
    it (destroying a stage would take it from the others); account/ does, once, on opt-in."""
    stage = "".join(p.read_text(encoding="utf-8") for p in TF_DIR.glob("*.tf"))
    assert "aws_api_gateway_account" not in stage
    assert "manage_api_gateway_account" not in stage
    account = (TF_DIR / "account" / "main.tf").read_text(encoding="utf-8")
    assert 'resource "aws_api_gateway_account" "this"' in account
