"""The one exception tree of chatstack.

::

    ChatError                      (code, HTTP status, message, field)
    ├── InvalidJson                INVALID_JSON          400
    ├── ValidationFailed           VALIDATION_ERROR      400
    ├── EmailTaken                 EMAIL_TAKEN           409
    ├── InvalidCredentials         INVALID_CREDENTIALS   401
    ├── Unauthorized               UNAUTHORIZED          401  ($connect refusals, REST Bearer)
    ├── UnknownAction              UNKNOWN_ACTION        400
    ├── NotInRoom                  NOT_IN_ROOM           403
    ├── TooManyRooms               TOO_MANY_ROOMS        409
    ├── ChatNotFound               CHAT_NOT_FOUND        404  (unknown, or not a participant)
    ├── UserNotFound               USER_NOT_FOUND        404
    ├── NotAGroup                  NOT_A_GROUP           409
    ├── TooManyParticipants        TOO_MANY_PARTICIPANTS 409
    ├── RateLimited                RATE_LIMITED          429  (typing, faster than allowed)
    ├── FileTooLarge               FILE_TOO_LARGE        413  (media)
    ├── UnsupportedMediaType       UNSUPPORTED_MEDIA_TYPE 415 (media)
    ├── AttachmentNotFound         ATTACHMENT_NOT_FOUND  404  (media)
    ├── AttachmentMismatch         ATTACHMENT_MISMATCH   409  (media)
    ├── InternalError              INTERNAL_ERROR        500
    └── ConfigurationError         INTERNAL_ERROR        500  (a bad CHATSTACK_* setting)

Every error a client may see is a ``ChatError``; anything else is a bug, logged with its trace and
answered as ``INTERNAL_ERROR`` without one.
"""

from __future__ import annotations

__all__ = [
    "AttachmentMismatch",
    "AttachmentNotFound",
    "ChatError",
    "ChatNotFound",
    "ConfigurationError",
    "EmailTaken",
    "FileTooLarge",
    "InternalError",
    "InvalidCredentials",
    "InvalidJson",
    "NotAGroup",
    "NotInRoom",
    "RateLimited",
    "TooManyParticipants",
    "TooManyRooms",
    "Unauthorized",
    "UnknownAction",
    "UnsupportedMediaType",
    "UserNotFound",
    "ValidationFailed",
]


class ChatError(Exception):
    """Root of every error chatstack answers to a client."""

    code = "INTERNAL_ERROR"
    status = 500
    default_message = "internal error"

    def __init__(self, message: str | None = None, *, field: str | None = None) -> None:
        self.message = message or self.default_message
        self.field = field
        super().__init__(self.message)

    def to_wire(self) -> dict[str, str]:
        """The ``code``/``message``/``field`` triple both REST and WebSocket errors carry."""
        wire = {"code": self.code, "message": self.message}
        if self.field is not None:
            wire["field"] = self.field
        return wire


class InvalidJson(ChatError):
    code, status, default_message = "INVALID_JSON", 400, "body must be a JSON object"


class ValidationFailed(ChatError):
    code, status, default_message = "VALIDATION_ERROR", 400, "invalid input"


class EmailTaken(ChatError):
    code, status, default_message = "EMAIL_TAKEN", 409, "this e-mail is already registered"


class InvalidCredentials(ChatError):
    code, status, default_message = "INVALID_CREDENTIALS", 401, "invalid e-mail or password"


class Unauthorized(ChatError):
    code, status, default_message = "UNAUTHORIZED", 401, "a valid token is required"


class UnknownAction(ChatError):
    code, status, default_message = "UNKNOWN_ACTION", 400, "unknown action"


class NotInRoom(ChatError):
    code, status, default_message = "NOT_IN_ROOM", 403, "join the room before sending to it"


class TooManyRooms(ChatError):
    code, status, default_message = "TOO_MANY_ROOMS", 409, "too many rooms on this connection"


class ChatNotFound(ChatError):
    """The chat does not exist, or the caller is not one of its participants: the same answer,
    so that a non-participant cannot even learn that a chat exists."""

    code, status, default_message = "CHAT_NOT_FOUND", 404, "no such chat"


class UserNotFound(ChatError):
    code, status, default_message = "USER_NOT_FOUND", 404, "no such user"


class NotAGroup(ChatError):
    code, status, default_message = "NOT_A_GROUP", 409, "only a group chat can do this"


class TooManyParticipants(ChatError):
    code, status, default_message = "TOO_MANY_PARTICIPANTS", 409, "too many participants"


class RateLimited(ChatError):
    """A signal sent faster than the stage allows (typing, per user and chat)."""

    code, status, default_message = "RATE_LIMITED", 429, "too many signals; slow down"


class FileTooLarge(ChatError):
    code, status, default_message = "FILE_TOO_LARGE", 413, "the file is too large"


class UnsupportedMediaType(ChatError):
    code, status = "UNSUPPORTED_MEDIA_TYPE", 415
    default_message = "files of this type are not accepted"


class AttachmentNotFound(ChatError):
    """No such upload of the sender's (another user's key gets the same answer), or no such
    attachment in the room asked about."""

    code, status, default_message = "ATTACHMENT_NOT_FOUND", 404, "no such attachment"


class AttachmentMismatch(ChatError):
    """The stored upload is not what the message declares (its type or size differ)."""

    code, status = "ATTACHMENT_MISMATCH", 409
    default_message = "the attachment does not match its upload"


class InternalError(ChatError):
    pass


class ConfigurationError(ChatError):
    """A ``CHATSTACK_*`` setting is missing or out of bounds (raised at cold start)."""
