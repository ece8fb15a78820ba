"""
The metrics' sample files under PROMETHEUS_MULTIPROC_DIR are named by host and pid: containers
sharing the directory (web and worker, deploy/compose.yaml) reuse one another's pids.
"""

import os
import socket

from prometheus_client import values

_HOST = socket.gethostname()


def process_identifier(pid: int | None = None) -> str:
    """What names the sample files of the process `pid` (this one by default)."""
    return f"{_HOST}_{pid or os.getpid()}"


def name_by_host() -> None:
    """
    Every metric made from now on writes files named by host and pid. Done when the settings load
    (observability/__init__.py), before any app makes a metric: each takes the value class in
    effect then (django-rq's admin makes one as it loads).
    """
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        values.ValueClass = values.MultiProcessValue(process_identifier)
