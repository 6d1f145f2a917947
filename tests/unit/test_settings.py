"""Settings read from CHATSTACK_* variables (lambdas/settings.py)."""

from __future__ import annotations

import pytest

from lambdas.contract.errors import ConfigurationError
from lambdas.settings import MIN_BCRYPT_ROUNDS, Settings

INT_VARIABLES = [
    "CHATSTACK_TOKEN_TTL_SECONDS",
    "CHATSTACK_BCRYPT_ROUNDS",
    "CHATSTACK_CONNECTION_TTL_SECONDS",
    "CHATSTACK_MAX_ROOMS",
    "CHATSTACK_DEDUPE_TTL_SECONDS",
]


def test_defaults_match_the_contract():
    """With no variables set: 24 h tokens, cost 12, CORS *, 50 rooms, 24 h dedupe window."""
    settings = Settings.from_env({})
    assert settings.users_table == ""
    assert settings.messages_table == ""
    assert settings.connections_table == ""
    assert settings.jwt_secret is None
    assert settings.jwt_secret_param is None
    assert settings.token_ttl_seconds == 86400
    assert settings.bcrypt_rounds == 12
    assert settings.management_url is None
    assert settings.cors_origin == "*"
    assert settings.connection_ttl_seconds == 86400
    assert settings.max_rooms == 50
    assert settings.dedupe_ttl_seconds == 86400


def test_every_variable_is_read():
    """Each CHATSTACK_* variable sets its setting."""
    settings = Settings.from_env(
        {
            "CHATSTACK_USERS_TABLE": "u",
            "CHATSTACK_MESSAGES_TABLE": "m",
            "CHATSTACK_CONNECTIONS_TABLE": "c",
            "CHATSTACK_JWT_SECRET": "s",
            "CHATSTACK_JWT_SECRET_PARAM": "/p",
            "CHATSTACK_JWT_SECRET_VERSION": "3",
            "CHATSTACK_TOKEN_TTL_SECONDS": "60",
            "CHATSTACK_BCRYPT_ROUNDS": "11",
            "CHATSTACK_MANAGEMENT_URL": "http://127.0.0.1:1/dev",
            "CHATSTACK_CORS_ORIGIN": "https://chat.example",
            "CHATSTACK_CONNECTION_TTL_SECONDS": "7200",
            "CHATSTACK_MAX_ROOMS": "5",
            "CHATSTACK_DEDUPE_TTL_SECONDS": "30",
        }
    )
    assert settings == Settings(
        users_table="u",
        messages_table="m",
        connections_table="c",
        jwt_secret="s",
        jwt_secret_param="/p",
        jwt_secret_version="3",
        token_ttl_seconds=60,
        bcrypt_rounds=11,
        management_url="http://127.0.0.1:1/dev",
        cors_origin="https://chat.example",
        connection_ttl_seconds=7200,
        max_rooms=5,
        dedupe_ttl_seconds=30,
    )


def test_empty_values_fall_back_to_defaults():
    """An empty variable counts as unset."""
    env = {name: "" for name in INT_VARIABLES}
    env |= {"CHATSTACK_JWT_SECRET": "", "CHATSTACK_CORS_ORIGIN": "", "CHATSTACK_MANAGEMENT_URL": ""}
    settings = Settings.from_env(env)
    assert settings == Settings()
    assert settings.cors_origin == "*"
    assert settings.jwt_secret is None


def test_from_env_reads_the_process_environment_by_default(monkeypatch):
    """Without an explicit mapping, os.environ is read."""
    monkeypatch.setenv("CHATSTACK_MAX_ROOMS", "7")
    monkeypatch.setenv("CHATSTACK_USERS_TABLE", "users-from-env")
    settings = Settings.from_env()
    assert settings.max_rooms == 7
    assert settings.users_table == "users-from-env"


def test_bcrypt_cost_of_10_is_the_minimum_accepted():
    """Cost 10 is accepted; the contract forbids anything lower."""
    assert MIN_BCRYPT_ROUNDS == 10
    assert Settings.from_env({"CHATSTACK_BCRYPT_ROUNDS": "10"}).bcrypt_rounds == 10


@pytest.mark.parametrize("rounds", ["9", "4", "0", "-12"])
def test_bcrypt_cost_below_10_is_a_configuration_error(rounds):
    """A cost under 10 fails at cold start, naming the variable."""
    with pytest.raises(ConfigurationError) as caught:
        Settings.from_env({"CHATSTACK_BCRYPT_ROUNDS": rounds})
    assert "CHATSTACK_BCRYPT_ROUNDS" in caught.value.message


@pytest.mark.parametrize("name", INT_VARIABLES)
@pytest.mark.parametrize("raw", ["abc", "1.5", "12s", "0x10"])
def test_malformed_integer_is_a_configuration_error(name, raw):
    """A non-integer value for an integer setting fails, naming the variable and value."""
    with pytest.raises(ConfigurationError) as caught:
        Settings.from_env({name: raw})
    assert name in caught.value.message
    assert repr(raw) in caught.value.message
    assert caught.value.code == "INTERNAL_ERROR"


@pytest.mark.parametrize(
    "name",
    [
        "CHATSTACK_TOKEN_TTL_SECONDS",
        "CHATSTACK_CONNECTION_TTL_SECONDS",
        "CHATSTACK_MAX_ROOMS",
        "CHATSTACK_DEDUPE_TTL_SECONDS",
    ],
)
def test_non_positive_integer_is_a_configuration_error(name):
    """Lifetimes and the room limit must be at least 1."""
    with pytest.raises(ConfigurationError):
        Settings.from_env({name: "0"})
    assert getattr(Settings.from_env({name: "1"}), name.removeprefix("CHATSTACK_").lower()) == 1


def test_require_passes_when_the_settings_are_set():
    """require() is silent when every named setting has a value."""
    settings = Settings.from_env({"CHATSTACK_USERS_TABLE": "u", "CHATSTACK_MESSAGES_TABLE": "m"})
    settings.require("users_table", "messages_table")


@pytest.mark.parametrize(
    ("name", "variable"),
    [
        ("users_table", "CHATSTACK_USERS_TABLE"),
        ("connections_table", "CHATSTACK_CONNECTIONS_TABLE"),
        ("management_url", "CHATSTACK_MANAGEMENT_URL"),
        ("jwt_secret", "CHATSTACK_JWT_SECRET"),
    ],
)
def test_require_names_the_missing_variable(name, variable):
    """require() fails with the CHATSTACK_* name of the first unset setting."""
    settings = Settings.from_env({"CHATSTACK_MESSAGES_TABLE": "m"})
    with pytest.raises(ConfigurationError) as caught:
        settings.require("messages_table", name)
    assert caught.value.message == f"{variable} is not set"
