"""System checks for API access."""

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.security)
def check_api_keys_required(app_configs, **kwargs) -> list[checks.CheckMessage]:
    if settings.REQUIRE_API_KEY:
        return []
    return [
        checks.Warning(
            "REQUIRE_API_KEY is off: anyone who can reach /api/v1 may use the API.",
            hint="Set REQUIRE_API_KEY=true and create keys with `manage.py apikey create`.",
            id="access.W001",
        )
    ]
