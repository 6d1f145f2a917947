"""The exception tree (lambdas/contract/errors.py) against the code table of CONTRACT.md §1."""

from __future__ import annotations

import pytest

from lambdas.contract import errors
from lambdas.contract.errors import ChatError, ConfigurationError, InternalError, ValidationFailed

EXPECTED = [
    (errors.InvalidJson, "INVALID_JSON", 400),
    (errors.ValidationFailed, "VALIDATION_ERROR", 400),
    (errors.EmailTaken, "EMAIL_TAKEN", 409),
    (errors.InvalidCredentials, "INVALID_CREDENTIALS", 401),
    (errors.Unauthorized, "UNAUTHORIZED", 401),
    (errors.UnknownAction, "UNKNOWN_ACTION", 400),
    (errors.NotInRoom, "NOT_IN_ROOM", 403),
    (errors.TooManyRooms, "TOO_MANY_ROOMS", 409),
    (errors.ChatNotFound, "CHAT_NOT_FOUND", 404),
    (errors.UserNotFound, "USER_NOT_FOUND", 404),
    (errors.NotAGroup, "NOT_A_GROUP", 409),
    (errors.TooManyParticipants, "TOO_MANY_PARTICIPANTS", 409),
    (errors.RateLimited, "RATE_LIMITED", 429),
    (errors.FileTooLarge, "FILE_TOO_LARGE", 413),
    (errors.UnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE", 415),
    (errors.AttachmentNotFound, "ATTACHMENT_NOT_FOUND", 404),
    (errors.AttachmentMismatch, "ATTACHMENT_MISMATCH", 409),
    (errors.InternalError, "INTERNAL_ERROR", 500),
    (errors.ConfigurationError, "INTERNAL_ERROR", 500),
]


@pytest.mark.parametrize(
    ("cls", "code", "status"), EXPECTED, ids=[c.__name__ for c, _, _ in EXPECTED]
)
def test_each_error_has_the_contract_code_and_status(cls, code, status):
    """Every error class carries the code and HTTP status the contract gives it."""
    error = cls()
    assert isinstance(error, ChatError)
    assert (error.code, error.status) == (code, status)
    assert error.message
    assert str(error) == error.message


def test_every_exported_error_is_in_the_table():
    """No error class is exported without a contract code checked above."""
    exported = {getattr(errors, name) for name in errors.__all__} - {ChatError}
    assert exported == {cls for cls, _, _ in EXPECTED}


def test_error_to_wire_includes_field_only_when_set():
    """to_wire gives code and message, and field only when one input field is at fault."""
    assert ValidationFailed("bad").to_wire() == {"code": "VALIDATION_ERROR", "message": "bad"}
    assert ValidationFailed("bad", field="email").to_wire() == {
        "code": "VALIDATION_ERROR",
        "message": "bad",
        "field": "email",
    }


def test_error_without_message_uses_its_default_message():
    """An error raised without a message falls back to its class default."""
    assert errors.EmailTaken().message == errors.EmailTaken.default_message
    assert errors.EmailTaken("").message == errors.EmailTaken.default_message
    assert errors.EmailTaken("custom").message == "custom"


def test_internal_errors_do_not_leak_details_through_to_wire():
    """The generic internal error says nothing about its cause."""
    wire = InternalError().to_wire()
    assert wire == {"code": "INTERNAL_ERROR", "message": "internal error"}
    assert ConfigurationError("CHATSTACK_X is not set").to_wire()["code"] == "INTERNAL_ERROR"


def test_errors_are_raisable_and_catchable_as_chat_error():
    """Handlers catch ChatError; every subclass is caught by it."""
    for cls, _, _ in EXPECTED:
        with pytest.raises(ChatError):
            raise cls("x")
