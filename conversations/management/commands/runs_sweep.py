"""`manage.py runs_sweep`: end overdue runs now (the worker also does this periodically)."""

from django.core.management.base import BaseCommand

from conversations.services import runs_sweep


class Command(BaseCommand):
    help = (
        "End runs whose executing process died (stale heartbeat) as failed, and runs past their "
        "expires_at as expired, so their threads accept new runs."
    )

    def handle(self, *args, **options) -> None:
        swept = runs_sweep()
        summary = ", ".join(f"{count} {status}" for status, count in sorted(swept.items()))
        self.stdout.write(f"Swept runs: {summary or 'none overdue'}.")
