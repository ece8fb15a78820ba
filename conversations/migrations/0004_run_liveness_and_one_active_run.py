from django.db import migrations, models

ACTIVE = ("queued", "in_progress", "requires_action", "cancelling")


def expire_extra_active_runs(apps, schema_editor):
    """Before the constraint: keep each thread's newest active run, expire any older ones."""
    Run = apps.get_model("conversations", "Run")
    seen = set()
    for run in Run.objects.filter(status__in=ACTIVE).order_by("-id").only("id", "thread_id"):
        if run.thread_id in seen:
            Run.objects.filter(pk=run.pk).update(
                status="expired",
                last_error={"code": "run_expired", "message": "Superseded by a newer run."},
            )
        seen.add(run.thread_id)


class Migration(migrations.Migration):

    dependencies = [
        ('conversations', '0003_thread_provider_synced_through'),
    ]

    operations = [
        migrations.RemoveField(
            model_name='thread',
            name='provider_synced_through',
        ),
        migrations.AddField(
            model_name='run',
            name='heartbeat_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='thread',
            name='provider_synced_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddIndex(
            model_name='run',
            index=models.Index(fields=['status', 'expires_at'], name='run_status_expiry'),
        ),
        migrations.RunPython(expire_extra_active_runs, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name='run',
            constraint=models.UniqueConstraint(condition=models.Q(('status__in', ('queued', 'in_progress', 'requires_action', 'cancelling'))), fields=('thread',), name='one_active_run_per_thread', violation_error_message='The thread already has an active run.'),
        ),
    ]
