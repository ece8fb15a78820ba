"""App configuration: registers the system checks."""

from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "access"
    verbose_name = "API access"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the checks)
