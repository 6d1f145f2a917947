"""The AWS provider's argument, block and attribute names, for checking the Terraform offline.

``terraform validate`` needs the provider binary, which cannot be downloaded here. The names it
would check are also in ``@cdktf/provider-aws`` on npm, generated from the provider's schema:
each resource's ``synthesizeAttributes()`` lists its arguments and blocks in Terraform's own
spelling, and its getters the attributes it exports. ``provider_schema.json`` keeps the types
the module uses; regenerate it after using a new type or moving to a new provider version:

    .venv/bin/python -m tests.terraform.provider_schema
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["SCHEMA_FILE", "load", "problems"]

SCHEMA_FILE = Path(__file__).with_name("provider_schema.json")
CDKTF_PACKAGE = "@cdktf/provider-aws@21.22.1"  # generated from hashicorp/aws 6.25.0
META_ARGUMENTS = {"count", "for_each", "depends_on", "lifecycle", "provider"}

_FUNCTION = re.compile(r"^function (\w+)ToTerraform\(struct\) \{\n(.*?)^\}", re.S | re.M)
_RETURNED = re.compile(r"return \{\n(.*?)\n    \};", re.S)
_SYNTHESIZED = re.compile(r"synthesizeAttributes\(\) \{\n\s+return \{\n(.*?)\n\s+\};", re.S)
_ENTRY = re.compile(r"^\s+(\w+): (.+?),?$", re.M)
_GETTER = re.compile(r"get\w*Attribute\('(\w+)'\)")
_TYPE = re.compile(r'\.tfResourceType = "(\w+)"')
_BLOCK_REF = re.compile(r"(\w+)ToTerraform\b")


def _body(entries: str, functions: dict[str, str], depth: int = 0) -> dict[str, Any]:
    arguments, blocks = [], {}
    for match in _ENTRY.finditer(entries):
        key, expression = match.groups()
        refs = [r for r in _BLOCK_REF.findall(expression) if r in functions]
        if refs and depth < 8:
            blocks[key] = _body(functions[refs[0]], functions, depth + 1)
        else:
            arguments.append(key)
    return {"arguments": sorted(arguments), "blocks": blocks}


def _resource(source: str) -> tuple[str, dict[str, Any]] | None:
    type_, synthesized = _TYPE.search(source), _SYNTHESIZED.search(source)
    if not type_ or not synthesized:
        return None
    functions = {}
    for match in _FUNCTION.finditer(source):
        returned = _RETURNED.search(match.group(2))
        functions[match.group(1)] = returned.group(1) if returned else ""
    schema = _body(synthesized.group(1), functions)
    schema["attributes"] = sorted(set(_GETTER.findall(source)))
    return type_.group(1), schema


def _used_types() -> dict[str, set[str]]:
    """The aws_* resource and data types of the stage module and of account/."""
    import hcl2

    from tests.terraform.terraform_config import TF_DIR

    used: dict[str, set[str]] = {"resource": set(), "data": set()}
    for path in TF_DIR.rglob("*.tf"):
        with path.open(encoding="utf-8") as handle:
            document = hcl2.load(handle)
        for kind, types in used.items():
            for entry in document.get(kind, []):
                types.update(t.strip('"') for t in entry if t.strip('"').startswith("aws_"))
    return used


def regenerate() -> None:
    """Download the cdktf package with npm and keep the types the module uses."""
    used = _used_types()
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            ["npm", "pack", "--silent", CDKTF_PACKAGE],
            cwd=tmp,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        (archive,) = Path(tmp).glob("*.tgz")
        schema: dict[str, Any] = {"source": CDKTF_PACKAGE, "resource": {}, "data": {}}
        with tarfile.open(archive) as tar:
            for member in tar.getmembers():
                parts = member.name.split("/")
                if len(parts) != 4 or parts[1] != "lib" or parts[3] != "index.js":
                    continue
                kind = "data" if parts[2].startswith("data-") else "resource"
                source = tar.extractfile(member).read().decode("utf-8")  # type: ignore[union-attr]
                found = _resource(source)
                if found and found[0] in used[kind]:
                    schema[kind][found[0]] = found[1]
    missing = {k: sorted(used[k] - set(schema[k])) for k in used if used[k] - set(schema[k])}
    if missing:
        sys.exit(f"not in {CDKTF_PACKAGE}: {missing}")
    SCHEMA_FILE.write_text(json.dumps(schema, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def load() -> dict[str, Any]:
    return json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))


def _is_block(value: Any) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(v, dict) and v.get("__is_block__") for v in value)
    )


def problems(body: dict[str, Any], schema: dict[str, Any], where: str) -> list[str]:
    """Arguments and blocks of ``body`` (parsed with explicit blocks) the schema does not have."""
    found = []
    for key, value in body.items():
        if key.startswith("__") or key in META_ARGUMENTS:
            continue
        if key == "dynamic":
            for dynamic in value:
                for name, spec in dynamic.items():
                    if name.startswith("__"):
                        continue
                    if name not in schema["blocks"]:
                        found.append(f"{where}: no block {name!r}")
                        continue
                    for content in spec["content"]:
                        found += problems(content, schema["blocks"][name], f"{where}.{name}")
        elif _is_block(value):
            if key not in schema["blocks"]:
                found.append(f"{where}: no block {key!r}")
                continue
            for item in value:
                found += problems(item, schema["blocks"][key], f"{where}.{key}")
        elif key not in schema["arguments"]:
            found.append(f"{where}: no argument {key!r}")
    return found


if __name__ == "__main__":
    regenerate()
    print(f"wrote {SCHEMA_FILE}")
