"""The container runtime reads its settings from the environment, the JWT key from SSM on AWS."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest

from lambdas import runtime
from lambdas.contract.errors import ConfigurationError


@pytest.fixture
def fresh_runtime(monkeypatch: pytest.MonkeyPatch, aws_endpoint: str) -> Iterator[None]:
    """A cold container: nothing cached, every client pointed at moto."""
    for name in ("CHATSTACK_JWT_SECRET", "CHATSTACK_JWT_SECRET_PARAM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", aws_endpoint)
    runtime.reset()
    yield
    runtime.reset()


def test_jwt_secret_is_read_from_the_ssm_parameter_named(fresh_runtime, aws_endpoint, monkeypatch):
    """With CHATSTACK_JWT_SECRET_PARAM, the key is the decrypted SecureString it names."""
    ssm = boto3.client("ssm", endpoint_url=aws_endpoint)
    ssm.put_parameter(
        Name="/chatstack/test/jwt", Value="k" * 64, Type="SecureString", Overwrite=True
    )
    monkeypatch.setenv("CHATSTACK_JWT_SECRET_PARAM", "/chatstack/test/jwt")
    assert runtime.jwt_secret() == "k" * 64


def test_jwt_secret_from_the_environment_wins(fresh_runtime, monkeypatch):
    """CHATSTACK_JWT_SECRET, when set, is used as it is (the local stage's way)."""
    monkeypatch.setenv("CHATSTACK_JWT_SECRET", "direct-secret")
    monkeypatch.setenv("CHATSTACK_JWT_SECRET_PARAM", "/does/not/exist")
    assert runtime.jwt_secret() == "direct-secret"


def test_missing_jwt_secret_is_a_configuration_error(fresh_runtime):
    """With neither variable set, the function fails at first use, naming both."""
    with pytest.raises(ConfigurationError, match="CHATSTACK_JWT_SECRET"):
        runtime.jwt_secret()


def test_a_rotated_key_is_read_by_the_next_configuration(fresh_runtime, aws_endpoint, monkeypatch):
    """Terraform passes the key's version beside its name; a rotation changes it, so Lambda
    starts new containers, which read the new key: no cached old key answers for the new
    version."""
    ssm = boto3.client("ssm", endpoint_url=aws_endpoint)
    ssm.put_parameter(Name="/chatstack/test/rot", Value="old" * 20, Type="SecureString")
    monkeypatch.setenv("CHATSTACK_JWT_SECRET_PARAM", "/chatstack/test/rot")
    monkeypatch.setenv("CHATSTACK_JWT_SECRET_VERSION", "1")
    assert runtime.jwt_secret() == "old" * 20

    ssm.put_parameter(
        Name="/chatstack/test/rot", Value="new" * 20, Type="SecureString", Overwrite=True
    )
    monkeypatch.setenv("CHATSTACK_JWT_SECRET_VERSION", "2")
    runtime.settings.cache_clear()  # a container of the new configuration reads its environment
    assert runtime.jwt_secret() == "new" * 20
