"""
The provider failures callers may see. Each carries the HTTP status and error code that the API
answers with, so the exception handler needs no knowledge of the provider.
"""


class ProviderError(Exception):
    status_code = 503
    default_code = "provider_error"
    default_message = "The language-model provider failed."

    def __init__(self, message: str | None = None, *, code: str | None = None) -> None:
        self.message = message or self.default_message
        self.code = code or self.default_code
        super().__init__(self.message)


class ProviderNotConfigured(ProviderError):
    status_code = 503
    default_code = "provider_not_configured"
    default_message = "No language-model provider is configured: set OPENAI_API_KEY."


class ProviderUnavailable(ProviderError):
    status_code = 503
    default_code = "provider_unavailable"
    default_message = "The language-model provider is unavailable. Try again shortly."


class ProviderBadResponse(ProviderError):
    status_code = 502
    default_code = "provider_bad_response"
    default_message = "The language-model provider sent a response that could not be read."


class ProviderHungUp(ProviderError):
    """The call was ended from this side, by its Hangup (the run it served was stopped)."""

    status_code = 503
    default_code = "provider_hung_up"
    default_message = "The call to the language-model provider was ended before its answer."


class ProviderRateLimited(ProviderError):
    status_code = 503
    default_code = "rate_limited"
    default_message = "The language-model provider is rate limiting requests. Try again later."

    def __init__(self, message: str | None = None, *, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ProviderRejected(ProviderError):
    status_code = 502
    default_code = "provider_rejected"
    default_message = "The language-model provider rejected the request."
