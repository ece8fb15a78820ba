"""The provider settings are read once, and read again when one of them changes."""

from assistant_proxy.conf import provider_settings


def test_the_provider_settings_follow_a_changed_setting(settings):
    settings.OPENAI_MODEL = "model-a"
    first = provider_settings()
    assert provider_settings() is first and first.model == "model-a"

    settings.OPENAI_MODEL = "model-b"
    settings.OPENAI_API_KEY = ""

    changed = provider_settings()
    assert (changed.model, changed.configured) == ("model-b", False)
