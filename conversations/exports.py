"""
Whole conversations as files, for the API's export endpoint and the admin's export actions: JSON (the
complete record), Markdown (to read or paste into a report) and CSV (one row per message, for a
spreadsheet). Each export reads its threads in a fixed number of queries, however many there are.
"""

import csv
import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils.http import content_disposition_header
from django.utils.text import slugify

from .models import Message, Run, Thread

FORMATS = ("json", "md", "csv")


@dataclass(frozen=True)
class ExportFile:
    content: bytes
    content_type: str
    filename: str

    @property
    def content_disposition(self) -> str:
        return content_disposition_header(as_attachment=True, filename=self.filename)


def threads_for_export(threads: QuerySet[Thread]) -> list[Thread]:
    """The threads with their messages (and feedback) and runs, in three queries."""
    messages = Message.objects.select_related("feedback", "run", "assistant").order_by("id")
    runs = Run.objects.select_related("assistant").order_by("id")
    return list(
        threads.order_by("id").prefetch_related(
            Prefetch("messages", queryset=messages), Prefetch("runs", queryset=runs)
        )
    )


def threads_export(threads: Sequence[Thread], *, file_format: str) -> ExportFile:
    """One file holding the threads (fetched with `threads_for_export`) in the given format."""
    if file_format == "md":
        content = "\n\n---\n\n".join(_thread_markdown(thread) for thread in threads) + "\n"
        return ExportFile(content.encode(), "text/markdown; charset=utf-8", _filename(threads, "md"))
    if file_format == "csv":
        return ExportFile(_threads_csv(threads), "text/csv; charset=utf-8", _filename(threads, "csv"))
    records: Any = [thread_record(thread) for thread in threads]
    if len(threads) == 1:
        records = records[0]
    content = json.dumps(records, ensure_ascii=False, indent=2).encode()
    return ExportFile(content, "application/json", _filename(threads, "json"))


def thread_record(thread: Thread) -> dict[str, Any]:
    """A thread as one JSON object: its messages in order, with feedback, and its runs."""
    return {
        "id": thread.public_id,
        "object": "thread.export",
        "title": thread.title,
        "created_at": _unix(thread.created_at),
        "metadata": thread.metadata,
        "messages": [_message_record(message) for message in thread.messages.all()],
        "runs": [_run_record(run) for run in thread.runs.all()],
    }


def _message_record(message: Message) -> dict[str, Any]:
    feedback = _feedback(message)
    return {
        "id": message.public_id,
        "created_at": _unix(message.created_at),
        "role": message.role,
        "status": message.status,
        "text": message.text,
        "run_id": message.run.public_id if message.run else None,
        "assistant_id": message.assistant.public_id if message.assistant else None,
        "metadata": message.metadata,
        "feedback": (
            {"rating": feedback.rating, "comment": feedback.comment} if feedback is not None else None
        ),
        "provenance": message.provenance,
    }


def _run_record(run: Run) -> dict[str, Any]:
    return {
        "id": run.public_id,
        "created_at": _unix(run.created_at),
        "assistant_id": run.assistant.public_id if run.assistant else None,
        "model": run.model,
        "status": run.status,
        "started_at": _unix(run.started_at),
        "completed_at": _unix(run.completed_at or run.failed_at or run.cancelled_at),
        "usage": run.usage,
        "last_error": run.last_error,
        "incomplete_details": run.incomplete_details,
    }


def _thread_markdown(thread: Thread) -> str:
    lines = [f"# {thread.title or thread.public_id}", ""]
    about = [f"Thread `{thread.public_id}`", f"started {_when(thread.created_at)}"]
    if thread.metadata:
        about.append(", ".join(f"{key}: {value}" for key, value in thread.metadata.items()))
    lines += [" · ".join(about), ""]
    for message in thread.messages.all():
        heading = [message.role.capitalize(), _when(message.created_at)]
        if message.run is not None and message.role == "assistant":
            heading.append(message.run.model)
        if (feedback := _feedback(message)) is not None:
            heading.append(f"rated {feedback.rating}" + (f": {feedback.comment}" if feedback.comment else ""))
        lines += [f"## {' · '.join(heading)}", "", message.text or "*(no text)*", ""]
        lines += _provenance_markdown(message.provenance)
    return "\n".join(lines).rstrip()


def _provenance_markdown(entries: list[dict[str, Any]]) -> list[str]:
    """Each query (its SQL and rows as a table) and chart (its title and SQL) under the reply."""
    lines: list[str] = []
    for entry in entries:
        if entry["type"] == "chart":
            lines += [f"**Chart: {entry.get('title') or 'untitled'}**", "", "```sql", entry["sql"], "```", ""]
            continue
        more = ", more matched" if entry.get("truncated") else ""
        lines += [f"**Query** ({entry.get('row_count', 0)} rows{more})", "", "```sql", entry["sql"], "```", ""]
        if entry.get("columns"):
            lines.append("| " + " | ".join(_cell(c) for c in entry["columns"]) + " |")
            lines.append("|" + "---|" * len(entry["columns"]))
            lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in entry.get("rows", [])]
            lines.append("")
    return lines


def _cell(value: Any) -> str:
    return "NULL" if value is None else str(value).replace("|", "\\|").replace("\n", " ")


CSV_COLUMNS = [
    "thread_id", "thread_title", "message_id", "created_at", "role", "status", "text", "run_id",
    "model", "prompt_tokens", "completion_tokens", "feedback_rating", "feedback_comment", "queries",
]


def _threads_csv(threads: Iterable[Thread]) -> bytes:
    buffer = io.StringIO()
    # A byte-order mark, so that spreadsheets open the UTF-8 (Korean text, say) as UTF-8.
    buffer.write("\ufeff")
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for thread in threads:
        for message in thread.messages.all():
            run, feedback = message.run, _feedback(message)
            answered = run is not None and message.role == "assistant"
            writer.writerow([
                thread.public_id, thread.title, message.public_id, _iso(message.created_at),
                message.role, message.status, message.text, run.public_id if run else "",
                run.model if answered else "",
                _blank_none(run.prompt_tokens) if answered else "",
                _blank_none(run.completion_tokens) if answered else "",
                feedback.rating if feedback else "", feedback.comment if feedback else "",
                ";\n".join(entry["sql"] for entry in message.provenance),
            ])
    return buffer.getvalue().encode()


def _filename(threads: Sequence[Thread], extension: str) -> str:
    if len(threads) == 1:
        thread = threads[0]
        slug = slugify(thread.title, allow_unicode=True)[:60].strip("-")
        return f"{thread.public_id}-{slug}.{extension}" if slug else f"{thread.public_id}.{extension}"
    return f"threads-{datetime.now(UTC):%Y%m%d-%H%M%S}.{extension}"


def _feedback(message: Message) -> Any:
    try:
        return message.feedback
    except Message.feedback.RelatedObjectDoesNotExist:
        return None


def _unix(moment: datetime | None) -> int | None:
    return int(moment.timestamp()) if moment is not None else None


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _when(moment: datetime) -> str:
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def _blank_none(value: int | None) -> Any:
    return "" if value is None else value
