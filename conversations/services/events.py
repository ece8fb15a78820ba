"""
The events a run emits as it goes, named and shaped as OpenAI's Assistants stream events. The
executor yields them; the streaming endpoints serialize them as they come and the worker drops them.
"""

import copy
from dataclasses import dataclass
from typing import Any

from assistant_proxy.exceptions import ProviderError

from ..models import Run, RunStatus


@dataclass(frozen=True)
class RunEvent:
    """
    One stream event. `data` is a record (Thread, Run, RunStep, Message), serialized at once by
    whoever forwards the event because the executor goes on changing it, or a delta dict.
    `error` says why, on `thread.run.failed`.
    """

    name: str
    data: Any
    error: ProviderError | None = None

    @property
    def ends_run(self) -> bool:
        """Whether the run stops here: a final status, or waiting for tool outputs."""
        return self.name in RUN_ENDING_EVENTS


RUN_ENDING_EVENTS = frozenset(
    {
        "thread.run.completed",
        "thread.run.incomplete",
        "thread.run.failed",
        "thread.run.cancelled",
        "thread.run.expired",
        "thread.run.requires_action",
    }
)


def run_announced(run: Run) -> Run:
    """
    The run as a stream announces it (thread.run.created, thread.run.queued): queued, not yet
    started. A streamed run is saved already in_progress, since the request that created it
    executes it at once; its stream still shows the states OpenAI's does, in order.
    """
    announced = copy.copy(run)
    announced.status = RunStatus.QUEUED
    announced.started_at = None
    return announced


def message_text_delta(*, message_id: str, text: str) -> dict[str, Any]:
    return {
        "id": message_id,
        "object": "thread.message.delta",
        "delta": {
            "content": [
                {"index": 0, "type": "text", "text": {"value": text, "annotations": []}}
            ]
        },
    }


def tool_call_delta(
    *, step_id: str, index: int, call_id: str, name: str, arguments: str
) -> dict[str, Any]:
    """
    A piece of a function call in a tool_calls step. The id and name come with the first piece
    only: the SDK concatenates repeated strings.
    """
    function: dict[str, Any] = {"arguments": arguments}
    call: dict[str, Any] = {"index": index, "type": "function", "function": function}
    if call_id:
        call["id"] = call_id
        function["name"] = name
        function["output"] = None
    return {
        "id": step_id,
        "object": "thread.run.step.delta",
        "delta": {"step_details": {"type": "tool_calls", "tool_calls": [call]}},
    }
