"""
The server's own analysis tools in a run (`describe_data`, `query_data`, `make_chart`, see
datasets.tools): offered to the model when the run's thread has datasets, and run by the server
between two model calls, so the model can look at the data, query it, correct a failed query and
then answer. Their outputs are recorded on the run's tool_calls step; their queries and charts on
the reply, as its provenance.
"""

import logging
import time
from dataclasses import dataclass

from assistant_proxy.types import Completion, FunctionTool, ToolCall
from datasets.models import Dataset
from datasets.tools import analysis_tool_run, analysis_tools
from observability import metrics

from ..models import Run
from .run_records import ReplyRecords

logger = logging.getLogger(__name__)

# Model calls one run may make while it analyses; the last one must answer in words.
MAX_MODEL_CALLS = 8
ANALYST_INSTRUCTIONS = (
    "Dashboard data is attached to this conversation. Answer questions about it from the data: "
    "call describe_data to see its tables, then query_data with SQL that aggregates over all rows, "
    "and make_chart when a chart makes the answer clearer. Give figures only from query results; "
    "never guess them from samples."
)


@dataclass(frozen=True)
class RunAnalysis:
    """The datasets a run analyses and the tools the server runs for it."""

    datasets: tuple[Dataset, ...] = ()
    tools: tuple[FunctionTool, ...] = ()

    @property
    def instructions(self) -> str:
        return ANALYST_INSTRUCTIONS if self.tools else ""

    @classmethod
    def of(cls, run: Run) -> "RunAnalysis":
        created_with = run.thread.created_with
        datasets = created_with.datasets if created_with else tuple(run.thread.datasets.all())
        if not datasets:
            return cls()
        # A function of the run's own with the same name is the client's to answer.
        own = {tool["function"]["name"] for tool in run.tools if tool.get("type") == "function"}
        return cls(datasets, tuple(t for t in analysis_tools(datasets=datasets) if t.name not in own))

    def calls_in(self, completion: Completion) -> list[ToolCall]:
        names = {tool.name for tool in self.tools}
        return [call for call in completion.tool_calls if call.name in names]

    def run_calls(self, records: ReplyRecords, calls: list[ToolCall]) -> None:
        """Run the calls, keeping their outputs and provenance on the records."""
        step_id = records.tool_step.public_id if records.tool_step else ""
        for call in calls:
            started = time.perf_counter()
            result = analysis_tool_run(name=call.name, arguments=call.arguments, datasets=self.datasets)
            seconds = time.perf_counter() - started
            records.tool_outputs[call.id] = result.output
            if result.provenance is not None:
                records.provenance.append({**result.provenance, "tool_call_id": call.id, "step_id": step_id})
            metrics.analysis_tool_seconds.labels(call.name, "error" if result.error else "ok").observe(seconds)
            logger.info(
                "Analysis tool %s ran in %.0f ms%s",
                call.name,
                seconds * 1000,
                f": {result.error}" if result.error else "",
                extra={"run_id": records.run.public_id, "tool": call.name, "tool_ms": round(seconds * 1000, 1)},
            )
