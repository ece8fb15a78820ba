"""
The records behind the Assistants-compatible API: assistants, threads, messages, runs and run steps.

Each record has an integer primary key, which orders lists and cursors, and a public id in OpenAI's
shape (`thread_…`, `msg_…`) that is the only id the API shows. The provider's own ids (`conv_…`,
`resp_…`, output item ids) are mirrored beside ours.
"""

from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.utils import timezone

from config.ids import random_id

if TYPE_CHECKING:
    from .services.threads import ThreadContents


# Module-level functions, because migrations refer to field defaults by name.
def new_assistant_id() -> str:
    return random_id("asst_")


def new_thread_id() -> str:
    return random_id("thread_")


def new_message_id() -> str:
    return random_id("msg_")


def new_run_id() -> str:
    return random_id("run_")


def new_step_id() -> str:
    return random_id("step_")


def auto() -> str:
    """OpenAI's default for response_format and tool_choice."""
    return "auto"


class PublicIdField(models.CharField):
    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("max_length", 40)
        kwargs.setdefault("unique", True)
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)


class TokenUsage(models.Model):
    """Tokens spent, shown in the API as OpenAI's `usage` object (null until known)."""

    prompt_tokens = models.PositiveIntegerField(null=True, blank=True)
    completion_tokens = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        abstract = True

    @property
    def usage(self) -> dict[str, int] | None:
        if self.prompt_tokens is None and self.completion_tokens is None:
            return None
        prompt, completion = self.prompt_tokens or 0, self.completion_tokens or 0
        return {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        }


class Assistant(models.Model):
    public_id = PublicIdField(default=new_assistant_id, verbose_name="id")
    created_at = models.DateTimeField(default=timezone.now)
    # The API key owner it belongs to (none: made without a key, when keys are not required).
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    shared = models.BooleanField(
        default=False,
        help_text="Built in: every owner may run it; only staff change it, in the admin.",
    )
    name = models.CharField(max_length=256, blank=True)
    description = models.CharField(max_length=512, blank=True)
    model = models.CharField(max_length=256, blank=True, help_text="Empty: the server's OPENAI_MODEL.")
    instructions = models.TextField(blank=True)
    tools = models.JSONField(default=list, blank=True)
    tool_resources = models.JSONField(default=dict, blank=True)
    temperature = models.FloatField(null=True, blank=True)
    top_p = models.FloatField(null=True, blank=True)
    response_format = models.JSONField(default=auto, blank=True)
    prompt_id = models.CharField(
        max_length=128,
        blank=True,
        help_text="A saved prompt (pmpt_…) passed to the Responses API as `prompt`.",
    )
    metadata = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return self.name or self.public_id


class Thread(models.Model):
    public_id = PublicIdField(default=new_thread_id, verbose_name="id")
    created_at = models.DateTimeField(default=timezone.now)
    # The API key owner it belongs to; its messages, runs and steps belong to the same owner.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    # Generated from the first question; editable in the admin. Not part of OpenAI's thread object.
    title = models.CharField(max_length=200, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    tool_resources = models.JSONField(default=dict, blank=True)
    provider_conversation_id = models.CharField(max_length=128, blank=True, help_text="conv_…")
    # When the provider's Conversation last took in the thread: messages created and tool outputs
    # submitted after this are sent with the next model call.
    provider_synced_at = models.DateTimeField(null=True, blank=True)

    # Not stored: what a thread held when this request created it (services.threads.thread_create),
    # so that the first model call of the run it starts need not read it back.
    created_with: "ThreadContents | None" = None

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return self.public_id


class MessageRole(models.TextChoices):
    USER = "user"
    ASSISTANT = "assistant"


class MessageStatus(models.TextChoices):
    IN_PROGRESS = "in_progress"
    INCOMPLETE = "incomplete"
    COMPLETED = "completed"


class Message(models.Model):
    public_id = PublicIdField(default=new_message_id, verbose_name="id")
    created_at = models.DateTimeField(default=timezone.now)
    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="messages")
    role = models.CharField(max_length=16, choices=MessageRole.choices)
    # The Assistants content-part list: [{"type": "text", "text": {"value": …, "annotations": []}}].
    content = models.JSONField(default=list)
    # The text parts joined, as the model and the seed's chat answer see it; kept beside `content`
    # by the services that write it, so transcripts can be searched and exported without JSON.
    text = models.TextField(blank=True, default="", editable=False)
    status = models.CharField(
        max_length=16, choices=MessageStatus.choices, default=MessageStatus.COMPLETED
    )
    incomplete_details = models.JSONField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    incomplete_at = models.DateTimeField(null=True, blank=True)
    assistant = models.ForeignKey(
        Assistant, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    run = models.ForeignKey(
        "Run", null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    attachments = models.JSONField(default=list, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    provider_item_id = models.CharField(max_length=128, blank=True)
    # Where the reply's figures come from: the queries (SQL, columns, rows) and charts (Vega-Lite
    # specs with their rows) of the analysis tools its run called, in the order they ran.
    provenance = models.JSONField(default=list, blank=True, editable=False)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.public_id


class RunStatus(models.TextChoices):
    QUEUED = "queued"
    IN_PROGRESS = "in_progress"
    REQUIRES_ACTION = "requires_action"
    CANCELLING = "cancelling"
    CANCELLED = "cancelled"
    FAILED = "failed"
    COMPLETED = "completed"
    INCOMPLETE = "incomplete"
    EXPIRED = "expired"


ACTIVE_RUN_STATUSES = (
    RunStatus.QUEUED,
    RunStatus.IN_PROGRESS,
    RunStatus.REQUIRES_ACTION,
    RunStatus.CANCELLING,
)


class Run(TokenUsage):
    public_id = PublicIdField(default=new_run_id, verbose_name="id")
    created_at = models.DateTimeField(default=timezone.now)
    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="runs")
    assistant = models.ForeignKey(
        Assistant, null=True, blank=True, on_delete=models.SET_NULL, related_name="runs"
    )
    status = models.CharField(max_length=20, choices=RunStatus.choices, default=RunStatus.QUEUED)
    model = models.CharField(max_length=256)
    instructions = models.TextField(blank=True)
    tools = models.JSONField(default=list, blank=True)
    temperature = models.FloatField(null=True, blank=True)
    top_p = models.FloatField(null=True, blank=True)
    max_prompt_tokens = models.PositiveIntegerField(null=True, blank=True)
    max_completion_tokens = models.PositiveIntegerField(null=True, blank=True)
    truncation_strategy = models.JSONField(default=dict, blank=True)
    response_format = models.JSONField(default=auto, blank=True)
    tool_choice = models.JSONField(default=auto, blank=True)
    parallel_tool_calls = models.BooleanField(default=True)
    metadata = models.JSONField(default=dict, blank=True)
    required_action = models.JSONField(null=True, blank=True)
    last_error = models.JSONField(null=True, blank=True)
    incomplete_details = models.JSONField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    # Renewed while a process executes the run; a stale one means that process died.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    engine = models.CharField(max_length=32, blank=True)
    provider_response_id = models.CharField(max_length=128, blank=True, help_text="resp_…")
    # The queries and charts of the analysis tools the server ran for this run so far (its
    # messages keep what came before them), so a run resumed after tool outputs keeps them.
    provenance = models.JSONField(default=list, blank=True, editable=False)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["thread", "status"], name="run_thread_status"),
            models.Index(fields=["status", "expires_at"], name="run_status_expiry"),
        ]
        constraints = [
            # The database, not a check in Python, keeps a thread to one active run.
            models.UniqueConstraint(
                fields=["thread"],
                condition=models.Q(status__in=ACTIVE_RUN_STATUSES),
                name="one_active_run_per_thread",
                violation_error_message="The thread already has an active run.",
            )
        ]

    def __str__(self) -> str:
        return self.public_id


class RunStepType(models.TextChoices):
    MESSAGE_CREATION = "message_creation"
    TOOL_CALLS = "tool_calls"


class RunStepStatus(models.TextChoices):
    IN_PROGRESS = "in_progress"
    CANCELLED = "cancelled"
    FAILED = "failed"
    COMPLETED = "completed"
    EXPIRED = "expired"


class RunStep(TokenUsage):
    public_id = PublicIdField(default=new_step_id, verbose_name="id")
    created_at = models.DateTimeField(default=timezone.now)
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="steps")
    type = models.CharField(max_length=20, choices=RunStepType.choices)
    status = models.CharField(
        max_length=16, choices=RunStepStatus.choices, default=RunStepStatus.IN_PROGRESS
    )
    step_details = models.JSONField(default=dict)
    last_error = models.JSONField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    expired_at = models.DateTimeField(null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.public_id


class FeedbackRating(models.TextChoices):
    UP = "up"
    DOWN = "down"


class Feedback(models.Model):
    """A reviewer's rating of one reply: one per message, a new one replaces the old."""

    message = models.OneToOneField(Message, on_delete=models.CASCADE, related_name="feedback")
    rating = models.CharField(max_length=8, choices=FeedbackRating.choices)
    comment = models.TextField(blank=True, max_length=2000)
    # Who rated it: the API key's owner or the signed-in staff user.
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "feedback"

    def __str__(self) -> str:
        return f"{self.rating} on {self.message_id}"


class WorkerHeartbeat(models.Model):
    """The last time each background worker said it was alive; read by the health endpoint."""

    worker_id = models.CharField(max_length=64, unique=True)
    seen_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.worker_id
