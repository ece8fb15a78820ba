"""
The Assistants-compatible endpoints for runs: create (also with a new thread), cancel, submit tool
outputs, streamed or not, and the run steps.
"""

from functools import cached_property
from typing import Any

from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from datasets.serializers import RunCreateWithDataSerializer, ThreadAndRunCreateWithDataSerializer
from datasets.services import thread_datasets_add

from .. import selectors, services
from ..models import Assistant, Run, RunStep
from ..serializers import examples
from ..serializers.objects import RunSerializer, RunStepSerializer
from ..serializers.requests import (
    MetadataUpdateSerializer,
    RunCreateSerializer,
    SubmitToolOutputsSerializer,
    ThreadAndRunCreateSerializer,
)
from ..services import RunOptions
from ..services.events import RunEvent, run_announced
from ..streaming import assistant_event_stream
from .base import PublicIdViewSet, ThreadScopedMixin, owner_of, thread_data, validated


STREAM_DESCRIPTION = (
    " With `stream: true` the answer is `text/event-stream`: OpenAI's Assistants events "
    "(thread.run.created, thread.run.queued, thread.run.in_progress, thread.run.step.*, "
    "thread.message.created, thread.message.delta, thread.message.completed, thread.run.completed "
    "| requires_action | incomplete | failed | cancelled | expired) ending with `event: done` and "
    "`data: [DONE]`. A provider that fails before the first token is answered with a JSON error "
    "(502/503) instead."
)


def run_responses() -> dict[Any, Any]:
    return {
        (200, "application/json"): RunSerializer,
        (200, "text/event-stream"): examples.SSE_EVENT_SCHEMA,
    }


def run_options(data: dict[str, Any]) -> RunOptions:
    """The run's options from a validated create request (without its own routing fields)."""
    skip = {"assistant_id", "stream", "thread"}
    return RunOptions(
        **{name: value for name, value in data.items() if name not in skip and value is not None}
    )


def run_answer(run: Run, *, streamed: bool, announce: list[RunEvent]) -> Response | StreamingHttpResponse:
    """The run as JSON, or, streamed, the `announce` events and then the run's own as it executes."""
    if streamed:
        return assistant_event_stream(services.run_stream_events(run=run, announce=announce))
    return Response(RunSerializer(run).data)


def run_assistant(request: Request, data: dict[str, Any]) -> Assistant:
    owner = owner_of(request)
    if data.get("assistant_id"):
        return selectors.assistant_get(public_id=data["assistant_id"], owner=owner)
    return selectors.assistant_default(owner=owner)


@extend_schema_view(
    list=extend_schema(summary="List a thread's runs", operation_id="listRuns", examples=[examples.RUN]),
    retrieve=extend_schema(summary="Retrieve a run (poll its status)", operation_id="getRun", examples=[examples.RUN]),
)
class RunViewSet(ThreadScopedMixin, PublicIdViewSet):
    """Runs: one assistant answering a thread, from `queued` to a final status."""

    serializer_class = RunSerializer
    lookup_url_kwarg = "run_id"

    def get_queryset(self) -> QuerySet[Run]:
        return selectors.thread_runs(thread=self.thread)

    @extend_schema(
        summary="Create a run", operation_id="createRun",
        description=(
            "Starts the assistant on the thread. The body is optional: without `assistant_id` the "
            "server's default assistant (ASSISTANT_ID) runs. Answers at once with status `queued`; "
            "poll the run until it is `completed`, `requires_action`, `failed` or `incomplete`."
            + STREAM_DESCRIPTION
        ),
        request=RunCreateWithDataSerializer,
        responses=run_responses(),
        examples=[examples.RUN, examples.RUN_CREATE, examples.RUN_STREAM],
    )
    def create(self, request: Request, thread_id: str) -> Response | StreamingHttpResponse:
        data = validated(RunCreateSerializer, request)
        streamed = bool(data.get("stream"))
        # Kept by the thread before the run exists, so that the run can analyse them.
        thread_datasets_add(thread=self.thread, datasets=thread_data(request))
        run = services.run_create(
            thread=self.thread,
            assistant=run_assistant(request, data),
            options=run_options(data),
            enqueue=not streamed,
            claimed=streamed,
        )
        queued = run_announced(run)
        announce = [RunEvent("thread.run.created", queued), RunEvent("thread.run.queued", queued)]
        return run_answer(run, streamed=streamed, announce=announce)

    @extend_schema(summary="Modify a run", operation_id="modifyRun", request=MetadataUpdateSerializer, examples=[examples.METADATA_UPDATE, examples.RUN])
    def update(self, request: Request, thread_id: str, run_id: str) -> Response:
        return self.update_metadata(services.run_update, "run")

    @extend_schema(
        summary="Cancel a run", operation_id="cancelRun", request=None,
        description=(
            "A queued run, or one waiting for tool outputs, is cancelled at once. A run that is "
            "generating goes to `cancelling` and stops within about a second, its text so far "
            "saved on an incomplete message; poll until it is `cancelled`."
        ),
        responses={200: RunSerializer},
        examples=[examples.RUN],
    )
    def cancel(self, request: Request, thread_id: str, run_id: str) -> Response:
        run = services.run_cancel(run=self.get_object())
        return Response(RunSerializer(run).data)

    @extend_schema(
        summary="Submit tool outputs", operation_id="submitToolOutputsToRun",
        description=(
            "For a run in `requires_action`: the outputs of all its pending tool calls, each once. "
            "The run is queued again and goes on." + STREAM_DESCRIPTION
        ),
        request=SubmitToolOutputsSerializer,
        responses=run_responses(),
        examples=[examples.RUN, examples.SUBMIT_TOOL_OUTPUTS, examples.RUN_STREAM],
    )
    def submit_tool_outputs(
        self, request: Request, thread_id: str, run_id: str
    ) -> Response | StreamingHttpResponse:
        data = validated(SubmitToolOutputsSerializer, request)
        streamed = bool(data.get("stream"))
        run = services.run_submit_tool_outputs(
            run=self.get_object(), tool_outputs=data["tool_outputs"], enqueue=not streamed
        )
        return run_answer(run, streamed=streamed, announce=[RunEvent("thread.run.queued", run)])


class ThreadAndRunViewSet(viewsets.GenericViewSet):
    """`POST /threads/runs`: a new thread and a run on it, in one call."""

    @extend_schema(
        summary="Create a thread and run it", operation_id="createThreadAndRun",
        description=(
            "Makes a thread (with `thread.messages` and `thread.metadata`) and starts a run on it "
            "in one transaction." + STREAM_DESCRIPTION.replace(
                "(thread.run.created", "(thread.created, thread.run.created"
            )
        ),
        request=ThreadAndRunCreateWithDataSerializer,
        responses=run_responses(),
        examples=[examples.RUN, examples.THREAD_AND_RUN_CREATE, examples.RUN_STREAM],
    )
    def create(self, request: Request) -> Response | StreamingHttpResponse:
        data = validated(ThreadAndRunCreateSerializer, request)
        new_thread = data.get("thread") or {}
        streamed = bool(data.get("stream"))
        new = services.thread_run_new(
            owner=owner_of(request),
            assistant=run_assistant(request, data),
            options=run_options(data),
            metadata=new_thread.get("metadata"),
            messages=new_thread.get("messages", []),
            datasets=thread_data(request),
            claimed=streamed,
        )
        run = services.thread_run_insert(run=new, enqueue=not streamed)
        queued = run_announced(run)
        announce = [
            RunEvent("thread.created", run.thread),
            RunEvent("thread.run.created", queued),
            RunEvent("thread.run.queued", queued),
        ]
        return run_answer(run, streamed=streamed, announce=announce)


@extend_schema_view(
    list=extend_schema(summary="List a run's steps", operation_id="listRunSteps", examples=[examples.RUN_STEP]),
    retrieve=extend_schema(summary="Retrieve a run step", operation_id="getRunStep", examples=[examples.RUN_STEP]),
)
class RunStepViewSet(ThreadScopedMixin, PublicIdViewSet):
    """The steps a run took: the messages it created and the tools it called."""

    serializer_class = RunStepSerializer
    lookup_url_kwarg = "step_id"

    @cached_property
    def run(self) -> Run:
        return selectors.object_get(
            selectors.thread_runs(thread=self.thread), public_id=self.kwargs["run_id"]
        )

    def get_queryset(self) -> QuerySet[RunStep]:
        return selectors.run_steps(run=self.run)
