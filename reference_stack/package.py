"""Build the Lambda package: ``lambdas/`` plus its runtime dependencies, as one reproducible zip.

    python -m reference_stack.package --arch arm64 --out build/lambda.zip

The dependencies are the four runtime packages pinned in ``pyproject.toml`` and everything they
need, at the exact versions of ``uv.lock``, installed for the Lambda runtime's platform with
``pip install --platform manylinux2014_{aarch64|x86_64} --only-binary=:all: --python-version 3.12
--implementation cp --no-deps --target DIR`` (bcrypt is native code). The same inputs give the
same bytes: files in a fixed order, fixed timestamps and permissions, no ``__pycache__`` and no
console scripts (whose first line names the building interpreter). Installed dependencies are
cached under ``build/lambda-deps/`` by what was asked for, so a rebuild takes a second.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
import venv
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "ARCHITECTURES",
    "BUILD",
    "DEFAULT_PYTHON_VERSION",
    "MAX_UNPACKED_BYTES",
    "MAX_ZIP_BYTES",
    "RUNTIME_PACKAGES",
    "PackageError",
    "PackageReport",
    "build",
    "locked_requirements",
    "main",
]

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build"
RUNTIME_PACKAGES = ("boto3", "bcrypt", "PyJWT", "aws-lambda-powertools")
PIP_CACHE = BUILD / "pip-cache"  # downloaded wheels, shared by every dependency cache
ARCHITECTURES = {"arm64": "manylinux2014_aarch64", "x86_64": "manylinux2014_x86_64"}
DEFAULT_PYTHON_VERSION = "3.12"  # the Terraform's Lambda runtime is python3.12

# Lambda's limits for a zip uploaded directly, and for the unpacked function.
MAX_ZIP_BYTES = 50 * 1024 * 1024
MAX_UNPACKED_BYTES = 250 * 1024 * 1024

_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip can hold
_SKIPPED_DIRS = {"__pycache__", "bin"}
_COMPLETE = ".complete"  # marks a finished dependency install


class PackageError(Exception):
    """The package cannot be built as asked."""


@dataclass(frozen=True)
class PackageReport:
    path: Path
    sha256: str
    zip_bytes: int
    unpacked_bytes: int
    files: int

    def summary(self) -> str:
        mib = 1024 * 1024
        return (
            f"{self.path}: {self.zip_bytes / mib:.1f} MiB zipped "
            f"({self.unpacked_bytes / mib:.1f} MiB unpacked, {self.files} files), "
            f"sha256 {self.sha256}"
        )


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pinned_roots(pyproject: Path) -> dict[str, str]:
    """The exact versions ``pyproject.toml`` pins for the runtime packages."""
    dependencies = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["dependencies"]
    pins: dict[str, str] = {}
    for requirement in dependencies:
        match = re.fullmatch(r"\s*([A-Za-z0-9_.-]+)\s*==\s*([^\s;]+)\s*", requirement)
        if match:
            pins[_normalize(match.group(1))] = match.group(2)
    missing = [name for name in RUNTIME_PACKAGES if _normalize(name) not in pins]
    if missing:
        raise PackageError(f"pyproject.toml pins no exact version of {', '.join(missing)}")
    return {_normalize(name): pins[_normalize(name)] for name in RUNTIME_PACKAGES}


def locked_requirements(
    pyproject: Path = ROOT / "pyproject.toml", lock: Path = ROOT / "uv.lock"
) -> list[str]:
    """``name==version`` of the runtime packages and all they depend on, from ``uv.lock``.

    Raises:
        PackageError: a runtime package is not pinned, or ``uv.lock`` disagrees with the pin.
    """
    roots = _pinned_roots(pyproject)
    packages: dict[str, list[dict]] = {}
    for package in tomllib.loads(lock.read_text(encoding="utf-8"))["package"]:
        packages.setdefault(_normalize(package["name"]), []).append(package)
    requirements: dict[str, str] = {}
    pending = list(roots)
    while pending:
        name = pending.pop()
        if name in requirements:
            continue
        candidates = packages.get(name, [])
        if len(candidates) != 1:
            raise PackageError(f"uv.lock has {len(candidates)} entries for {name}, expected one")
        locked = candidates[0]
        if name in roots and locked["version"] != roots[name]:
            raise PackageError(
                f"pyproject.toml pins {name}=={roots[name]} but uv.lock has {locked['version']}"
            )
        requirements[name] = f"{name}=={locked['version']}"
        for dependency in locked.get("dependencies", []):
            if "extra" not in dependency:
                pending.append(_normalize(dependency["name"]))
    return [requirements[name] for name in sorted(requirements)]


def _pip() -> list[str]:
    """A pip to run: this interpreter's, else one in a venv of its own under build/."""
    probe = subprocess.run(
        [sys.executable, "-m", "pip", "--version"], capture_output=True, check=False
    )
    if probe.returncode == 0:
        return [sys.executable, "-m", "pip"]
    tool = BUILD / "tools" / "pip"
    python = tool / "bin" / "python"
    if not python.exists():
        venv.EnvBuilder(with_pip=True, clear=True).create(tool)  # ensurepip: no network
    return [str(python), "-m", "pip"]


def _install_dependencies(
    requirements: list[str], arch: str, python_version: str, cache: Path
) -> Path:
    """Install ``requirements`` for the Lambda platform into a cached directory; return it.

    The install goes to a directory of its own, renamed into place when complete, so a build
    that dies half-way, or two builds at once, never leave a partial cache behind.
    """
    key = hashlib.sha256(
        json.dumps([ARCHITECTURES[arch], python_version, requirements]).encode()
    ).hexdigest()[:16]
    target = cache / f"{arch}-py{python_version}-{key}"
    if (target / _COMPLETE).exists():
        return target
    cache.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=cache))
    command = [
        *_pip(),
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-compile",
        "--no-deps",
        "--platform",
        ARCHITECTURES[arch],
        "--only-binary=:all:",
        "--python-version",
        python_version,
        "--implementation",
        "cp",
        "--target",
        str(staging),
        "--cache-dir",
        str(PIP_CACHE),
        *requirements,
    ]
    try:
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise PackageError(f"pip install failed:\n{result.stdout}{result.stderr}")
        (staging / _COMPLETE).write_text("\n".join(requirements) + "\n", encoding="utf-8")
        shutil.rmtree(target, ignore_errors=True)  # an incomplete one from an older build
        staging.rename(target)
    except OSError:
        if not (target / _COMPLETE).exists():  # not another build finishing first
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _files(base: Path, top: Path) -> Iterator[tuple[str, Path]]:
    """(name in the zip, path) of every file under ``top``, without caches and scripts."""
    for path in top.rglob("*"):
        relative = path.relative_to(base)
        if not path.is_file() or path.name == _COMPLETE or path.suffix == ".pyc":
            continue
        if _SKIPPED_DIRS & set(relative.parts[:-1]):
            continue
        yield relative.as_posix(), path


def _write_zip(entries: dict[str, Path], out: Path) -> tuple[int, int]:
    """Write ``entries`` in name order with fixed metadata; return (files, unpacked bytes)."""
    buffer = io.BytesIO()
    unpacked = 0
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(entries):
            data = entries[name].read_bytes()
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, whatever builds it
            info.external_attr = 0o100644 << 16  # a regular file, rw-r--r--
            archive.writestr(info, data, compresslevel=9)
            unpacked += len(data)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(buffer.getvalue())
    return len(entries), unpacked


def build(
    out: Path,
    arch: str = "arm64",
    python_version: str = DEFAULT_PYTHON_VERSION,
    cache: Path = BUILD / "lambda-deps",
    source: Path = ROOT / "lambdas",
) -> PackageReport:
    """Build the package at ``out``.

    Raises:
        PackageError: pins disagree, pip fails, or the package exceeds Lambda's limits.
    """
    if arch not in ARCHITECTURES:
        raise PackageError(f"arch must be one of {', '.join(ARCHITECTURES)}, not {arch!r}")
    dependencies = _install_dependencies(locked_requirements(), arch, python_version, cache)
    entries = dict(_files(dependencies, dependencies))
    code = dict(_files(source.parent, source))
    clash = sorted(set(entries) & set(code))
    if clash:
        raise PackageError(f"a dependency ships files of the function code: {clash[:3]}")
    entries.update(code)
    files, unpacked = _write_zip(entries, out)
    data = out.read_bytes()
    report = PackageReport(out, hashlib.sha256(data).hexdigest(), len(data), unpacked, files)
    if report.zip_bytes > MAX_ZIP_BYTES:
        raise PackageError(f"{report.summary()}: over Lambda's 50 MiB limit for a direct upload")
    if report.unpacked_bytes > MAX_UNPACKED_BYTES:
        raise PackageError(f"{report.summary()}: over Lambda's 250 MiB unpacked limit")
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m reference_stack.package", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--arch", choices=sorted(ARCHITECTURES), default="arm64")
    parser.add_argument("--out", type=Path, default=BUILD / "lambda.zip")
    parser.add_argument(
        "--python-version",
        default=DEFAULT_PYTHON_VERSION,
        help="the Lambda runtime's Python (default %(default)s)",
    )
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=BUILD / "lambda-deps",
        help="where installed dependencies are kept between builds (default %(default)s)",
    )
    args = parser.parse_args(argv)
    try:
        report = build(args.out, args.arch, args.python_version, args.cache_dir)
    except PackageError as error:
        print(f"package: {error}", file=sys.stderr)
        return 1
    print(report.summary())
    return 0


if __name__ == "__main__":
    sys.exit(main())
