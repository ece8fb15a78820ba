"""ASGI entry point, for ASGI servers (uvicorn, daphne, gunicorn's ASGI worker)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

application = get_asgi_application()
