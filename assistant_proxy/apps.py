"""App configuration: registers the provider system checks."""

from django.apps import AppConfig


class AssistantProxyConfig(AppConfig):
    name = "assistant_proxy"
    verbose_name = "Model provider"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the checks)
