"""Background tasks, executed by the worker (`manage.py worker`)."""

import logging

from django_tasks import task

from assistant_proxy.exceptions import ProviderError

from .services.runs import run_claim, run_execute

logger = logging.getLogger(__name__)


@task()
def run_execute_task(run_pk: int) -> None:
    run = run_claim(run_pk=run_pk)
    if run is None:
        logger.info("Run %s was already claimed; skipping this delivery.", run_pk)
        return
    try:
        run_execute(run=run)
    except ProviderError as error:
        # Already recorded on the run as its last_error; the task itself did its job.
        logger.warning("Run %s failed: %s (%s)", run.public_id, error.message, error.code)
