"""WSGI entry point, served by gunicorn (see gunicorn.conf.py)."""

import os
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")


def strip_url_prefix(app: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
    """
    Under a sub-path (URL_PREFIX, e.g. /openai-api), accept requests with the prefix still on the
    path, as from a proxy that passes it through, as well as without it, as from one that strips
    it: Django itself adds the prefix to every link it makes (FORCE_SCRIPT_NAME).
    """

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        prefix = settings.FORCE_SCRIPT_NAME or ""
        path = environ.get("PATH_INFO", "")
        if prefix and (path == prefix or path.startswith(prefix + "/")):
            environ["PATH_INFO"] = path[len(prefix):] or "/"
        return app(environ, start_response)

    return application


application = strip_url_prefix(get_wsgi_application())
