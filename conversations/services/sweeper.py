"""
Ending runs that nobody will finish: runs whose executor died (its heartbeat went stale: the process
was killed or the machine lost) and runs past their `expires_at` (never picked up, or left waiting
for tool outputs). The worker sweeps periodically, `manage.py runs_sweep` does it on demand, and a
thread's overdue run is swept as soon as someone wants to add to that thread.
"""

from collections import Counter
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from ..models import (
    ACTIVE_RUN_STATUSES,
    Message,
    MessageStatus,
    Run,
    RunStatus,
    RunStep,
    RunStepStatus,
)
from .history import thread_conversation_forget

EXPIRED_ERROR = {
    "code": "run_expired",
    "message": "The run passed its expires_at before it finished; start a new run to try again.",
}
_EXECUTING = (RunStatus.IN_PROGRESS, RunStatus.CANCELLING)
_MESSAGE_REASONS = {
    RunStatus.FAILED: "run_failed",
    RunStatus.CANCELLED: "run_cancelled",
    RunStatus.EXPIRED: "run_expired",
}


def runs_sweep() -> dict[str, int]:
    """End every overdue run; how many were moved to each status."""
    now = timezone.now()
    overdue = Run.objects.filter(
        Q(status__in=ACTIVE_RUN_STATUSES, expires_at__lte=now)
        | Q(status__in=_EXECUTING, heartbeat_at__lt=now - _stale_after())
    ).values_list("pk", flat=True)
    counts: Counter[str] = Counter()
    for run_pk in list(overdue):
        with transaction.atomic():
            run = Run.objects.select_for_update().filter(pk=run_pk).first()
            if run is not None and (status := _sweep_locked(run, now)):
                counts[status] += 1
    return dict(counts)


def run_sweep_one(*, run: Run) -> bool:
    """End `run` if it is overdue, inside the caller's transaction; whether it was."""
    locked = Run.objects.select_for_update().get(pk=run.pk)
    return _sweep_locked(locked, timezone.now()) is not None


def run_end_now(*, run: Run, status: str, last_error: dict[str, str] | None = None) -> None:
    """End a run that no executor is working on (queued, waiting, or abandoned), and its steps."""
    now = timezone.now()
    run.status = status
    run.required_action = None
    if status == RunStatus.CANCELLED:
        run.cancelled_at = now
    elif status == RunStatus.FAILED:
        run.failed_at = now
    if last_error is not None:
        run.last_error = last_error
    run.save()
    step_status, timestamp = {
        RunStatus.CANCELLED: (RunStepStatus.CANCELLED, "cancelled_at"),
        RunStatus.FAILED: (RunStepStatus.FAILED, "failed_at"),
        RunStatus.EXPIRED: (RunStepStatus.EXPIRED, "expired_at"),
    }[status]
    RunStep.objects.filter(run=run, status=RunStepStatus.IN_PROGRESS).update(
        status=step_status, last_error=last_error, **{timestamp: now}
    )
    Message.objects.filter(run=run, status=MessageStatus.IN_PROGRESS).update(
        status=MessageStatus.INCOMPLETE,
        incomplete_at=now,
        incomplete_details={"reason": _MESSAGE_REASONS[status]},
    )


def _stale_after() -> timedelta:
    return timedelta(seconds=settings.RUN_STALE_SECONDS)


def _sweep_locked(run: Run, now: datetime) -> str | None:
    stale = (
        run.status in _EXECUTING
        and run.heartbeat_at is not None
        and run.heartbeat_at < now - _stale_after()
    )
    expired = run.status in ACTIVE_RUN_STATUSES and run.expires_at is not None and run.expires_at <= now
    if not (stale or expired):
        return None
    if run.status == RunStatus.CANCELLING:
        run_end_now(run=run, status=RunStatus.CANCELLED)
    elif stale:
        run_end_now(
            run=run,
            status=RunStatus.FAILED,
            last_error={
                "code": "server_error",
                "message": (
                    "The process executing this run stopped (no heartbeat for "
                    f"{settings.RUN_STALE_SECONDS} s); start a new run to try again."
                ),
            },
        )
    else:
        run_end_now(run=run, status=RunStatus.EXPIRED, last_error=EXPIRED_ERROR)
    # A run that ended mid-way may have left the mirrored Conversation unlike the stored thread.
    thread_conversation_forget(thread_pk=run.thread_id)
    return run.status
