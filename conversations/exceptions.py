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


class SharedAssistantReadOnly(ConversationError):
    status_code = 403
    error_type = "permission_error"
    default_message = "The built-in assistant can only be changed by staff, in the admin."


class RunsInFlightLimited(ConversationError):
    """The owner already has RATE_LIMIT_RUNS_IN_FLIGHT active runs."""

    status_code = 429
    error_type = "rate_limit_error"
    default_code = "too_many_runs"
    retry_after = 5


class FeedbackNotAllowed(ConversationError):
    default_message = "Only the assistant's messages can be rated."


class RunNotCancellable(ConversationError):
    default_message = "The run has already ended."


class ToolOutputsRejected(ConversationError):
    """Tool outputs that do not answer the run's pending tool calls exactly."""

    default_message = "The tool outputs do not match the run's tool calls."


class RunServerError(ConversationError):
    """Something went wrong on this server while executing a run (logged with its traceback)."""

    status_code = 500
    error_type = "server_error"
    default_code = "server_error"
    default_message = "The server failed while executing the run; start a new run to try again."


class RunInterrupted(ConversationError):
    """The process executing the run shut down (a restart, a deploy) before the run ended."""

    status_code = 503
    error_type = "server_error"
    default_code = "server_shutdown"
    default_message = (
        "The server shut down before the run finished; the reply so far is saved. "
        "Start a new run to try again."
    )


class TaskQueueUnavailable(ConversationError):
    """The queue of background runs (Redis, with TASKS_BACKEND=rq) did not take the run."""

    status_code = 503
    error_type = "server_error"
    default_code = "queue_unavailable"
    default_message = (
        "The queue of background runs is unavailable; the run was not started. Try again shortly."
    )


class RunEndedWithoutReply(ConversationError):
    """A synchronous chat whose run was cancelled or expired before any reply."""

    status_code = 409
    default_code = "run_ended"
    default_message = "The run ended before the assistant replied."
