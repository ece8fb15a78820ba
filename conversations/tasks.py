"""Background tasks, executed by the worker (`manage.py worker`)."""

import logging

from django_tasks import task

from .services.executor import run_execute
from .services.runs import run_claim

logger = logging.getLogger(__name__)


@task()
def run_execute_task(run_pk: int) -> None:
    """Execute a queued run; a second delivery of the same task finds it claimed and does nothing."""
    run = run_claim(run_pk=run_pk)
    if run is None:
        logger.info("Run %s is no longer queued; skipping this delivery.", run_pk)
        return
    run_execute(run=run)
