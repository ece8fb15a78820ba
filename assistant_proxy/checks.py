"""System checks that catch provider misconfiguration at start-up rather than at the first request."""

from django.core import checks

from .conf import Engine, provider_settings


@checks.register()
def check_provider_settings(app_configs, **kwargs) -> list[checks.CheckMessage]:
    cfg = provider_settings()
    errors: list[checks.CheckMessage] = []
    if cfg.engine not in set(Engine):
        errors.append(
            checks.Error(
                f"LLM_ENGINE is {cfg.engine!r}.",
                hint=f"Use one of: {', '.join(Engine)}.",
                id="assistant_proxy.E001",
            )
        )
    if cfg.timeout <= 0 or cfg.connect_timeout <= 0 or cfg.connect_timeout > 10:
        errors.append(
            checks.Error(
                "OPENAI_TIMEOUT must be positive and OPENAI_CONNECT_TIMEOUT between 0 and 10 seconds.",
                id="assistant_proxy.E002",
            )
        )
    if not cfg.configured:
        errors.append(
            checks.Warning(
                "OPENAI_API_KEY is not set: chat and runs will answer 503 provider_not_configured.",
                hint="Set OPENAI_API_KEY in .env (any value for a local server that needs none).",
                id="assistant_proxy.W001",
            )
        )
    return errors
