"""
Domain errors raised by services and selectors. Each declares the HTTP status, error type and code it
is answered with; `config.exceptions` renders them in OpenAI's error shape.
"""


class ConversationError(Exception):
    status_code = 400
    error_type = "invalid_request_error"
    default_code: str | None = None
    default_message = "The request could not be processed."

    def __init__(self, message: str | None = None, *, param: str | None = None) -> None:
        self.message = message or self.default_message
        self.code = self.default_code
        self.param = param
        super().__init__(self.message)


class ObjectNotFound(ConversationError):
    status_code = 404
    default_message = "No such object."


class ThreadBusy(ConversationError):
    """A thread has an active run, so it takes no new message or run until that run ends."""

    default_message = "The thread has an active run."


class UnsupportedContent(ConversationError):
    default_code = "unsupported_content"
    default_message = "Only text content parts are supported."
