"""
The run executor: takes a claimed (`in_progress`) run through its model calls to `requires_action` or
a final status, yielding OpenAI's Assistants stream events as it goes. When the model calls the
server's own analysis tools, the server runs them and calls the model again with their outputs; the
client's functions end the run `requires_action`. The background worker drains it (`run_execute`);
the streaming endpoints forward its events to the client as they come.

Text is kept in memory while it streams and saved when the call ends, however it ends: completed,
cut by a token limit, cancelled, expired, failed, or abandoned by a client that went away. A reply
nobody watches arrive (the one-call chat) is asked for whole instead. A run stopped from outside
has its provider call hung up, streamed or whole, even while it waits for the first token. No
transaction is held across the provider call.

A run may also come unsaved, with what saves it (the one-call chat's new thread): its first model
call is sent first, and its records are written while the provider works on it, which takes their
transaction off the time the caller waits.
"""

import logging
from collections.abc import Callable, Generator, Iterator, Sequence

from django.db import connection

from assistant_proxy.client import stream
from assistant_proxy.exceptions import ProviderBadResponse, ProviderError
from assistant_proxy.types import Completion, CompletionRequest, TextDelta, ToolCallDelta

from ..exceptions import ConversationError, RunServerError
from ..models import Run, RunStatus
from .analysis import MAX_MODEL_CALLS, RunAnalysis
from .events import RunEvent, message_text_delta, tool_call_delta
from .history import RunLimitReached, completion_request
from .liveness import Watch, run_watch_start, run_watched
from .run_records import Outcome, ReplyRecords, run_call_settle, run_settle
from .runs import run_claim

logger = logging.getLogger(__name__)


class _Stopped(Exception):
    """The run was cancelled, expired or deleted while generating, or this process is stopping."""

    def __init__(self, status: str, error: ConversationError | None = None) -> None:
        self.status = status
        self.error = error
        super().__init__(status)


def run_execute(*, run: Run) -> None:
    """Execute a claimed run to its end, dropping the events (the background worker's way)."""
    for _ in run_events(run=run):
        pass


def run_events(
    *, run: Run, live: bool = True, save: Callable[[], object] | None = None
) -> Iterator[RunEvent]:
    """
    Execute a claimed run, yielding its stream events until it ends or waits for tool outputs.
    Closing the iterator early (the client went away) ends the run `incomplete`, with the text
    generated so far saved on an incomplete message. Without `live`, the reply's message and steps
    are saved when each model call ends rather than as they start (see ReplyRecords), and the
    pieces of text and tool calls are not sent as delta events.

    A run not saved yet comes with its `save`, called once its first model call has been sent (or
    could not be), and in any case before the run settles. When `save` fails, nothing is settled:
    its error is raised, and the provider call hung up.
    """
    records = ReplyRecords(run, live=live)
    with run_watched(run=run) as watch:
        saving = _Saving(run, save, watch) if save is not None else None
        try:
            yield RunEvent("thread.run.in_progress", run)
            completion = yield from _model_calls(records, watch, saving)
        except GeneratorExit:
            if saving is not None:
                saving()
            run_settle(records, Outcome(RunStatus.INCOMPLETE, reason="client_disconnected"))
            raise
        except RunLimitReached as limit:
            outcome = Outcome(RunStatus.INCOMPLETE, reason=limit.reason)
        except ProviderError as error:
            outcome = Outcome(RunStatus.FAILED, error=error)
        except _Stopped as stop:
            outcome = Outcome(stop.status, error=stop.error)
        except Exception as error:  # noqa: BLE001  (a run must never be left in_progress by a bug)
            if saving is not None and saving.failure is error:
                raise  # nothing was saved: nothing to settle
            logger.exception("Run %s crashed", run.public_id)
            outcome = Outcome(RunStatus.FAILED, error=RunServerError())
        else:
            outcome = Outcome.of(completion)
        if saving is not None:
            saving()  # a run that ended before its call was sent is saved all the same
        events = run_settle(records, outcome)
    yield from events


class _Saving:
    """Saves an unsaved run once, then watches it; a failure is kept, and raised again if asked."""

    def __init__(self, run: Run, save: Callable[[], object], watch: Watch) -> None:
        self._run = run
        self._save: Callable[[], object] | None = save
        self._watch = watch
        self.failure: Exception | None = None

    def __call__(self) -> None:
        if self.failure is not None:
            raise self.failure
        if self._save is None:
            return
        save, self._save = self._save, None
        try:
            save()
        except Exception as failure:
            self.failure = failure
            raise
        run_watch_start(self._watch, run=self._run)


def _model_calls(
    records: ReplyRecords, watch: Watch, sent: Callable[[], None] | None
) -> Generator[RunEvent, None, Completion]:
    """
    The run's model calls: while the model calls only the server's analysis tools, run them and
    call it again with their outputs. Returns the last call's completion, which ends the run.
    """
    run = records.run
    analysis = RunAnalysis.of(run)
    for call in range(1, MAX_MODEL_CALLS + 1):
        request = completion_request(
            run=run,
            server_tools=analysis.tools,
            server_instructions=analysis.instructions,
            call=call,
            last_call=call == MAX_MODEL_CALLS,
        )
        completion = yield from _generate(records, watch, request, sent)
        server_calls = analysis.calls_in(completion)
        if not server_calls or completion.finish_reason == "length":
            return completion
        if call == MAX_MODEL_CALLS:
            raise RunLimitReached("max_tool_calls")
        if records.tool_step is None:  # calls that came whole, without streamed pieces
            yield from _tool_step_start(records)
        analysis.run_calls(records, server_calls)
        if len(server_calls) < len(completion.tool_calls):
            return completion  # the client's functions remain: the run requires action
        events = run_call_settle(records, completion)
        # Reset before any event goes out: a client that leaves meanwhile finds this call settled.
        records.next_call()
        yield from events
        _check(watch)
    raise AssertionError("unreachable: the last call returns or raises")


def connection_release() -> None:
    """
    Give the database connection back while the provider is waited on, when connections are not
    kept (CONN_MAX_AGE=0): to PostgreSQL's pool, or closed. Otherwise every run waiting on the
    provider, in the web server or the worker, would hold one of PostgreSQL's `max_connections` (or
    of the pool's) for as long. The run's next write takes one again.
    """
    if connection.settings_dict["CONN_MAX_AGE"] == 0 and not connection.in_atomic_block:
        connection.close()


def _generate(
    records: ReplyRecords, watch: Watch, request: CompletionRequest, sent: Callable[[], None] | None
) -> Generator[RunEvent, None, Completion]:
    """
    One model call. Nobody watches a reply that is not `live` arrive, so it is asked for whole;
    either way the watch's hangup ends the call when the run is stopped. `sent` runs while the
    provider works on the request.
    """
    connection_release()
    items = stream(request, whole=not records.live, hangup=watch.hangup, sent=sent)
    try:
        for item in items:
            _check(watch)
            if isinstance(item, TextDelta):
                yield from _text(records, item)
            elif isinstance(item, ToolCallDelta):
                yield from _tool_piece(records, item)
            else:
                if records.message is None and (item.text or not item.tool_calls):
                    # A reply whose text was not streamed (an empty one, one asked for whole, or
                    # one from a server that sends it whole) still gets its message.
                    yield from _message_start(records)
                return item
    except ProviderError:
        _check(watch)  # stopped meanwhile: the call was hung up, or failed as the run ended
        raise
    finally:
        items.close()  # stops the generation at the provider when we stop early
    raise ProviderBadResponse("The provider's stream ended before the reply was complete.")


def _check(watch: Watch) -> None:
    if watch.stopped:
        raise _Stopped(watch.stopped_as or RunStatus.CANCELLED, watch.error)
    if watch.expired:
        raise _Stopped(RunStatus.EXPIRED)


def _message_start(records: ReplyRecords) -> Iterator[RunEvent]:
    step, message = records.start_message()
    yield RunEvent("thread.run.step.created", step)
    yield RunEvent("thread.run.step.in_progress", step)
    yield RunEvent("thread.message.created", message)
    yield RunEvent("thread.message.in_progress", message)


def _text(records: ReplyRecords, delta: TextDelta) -> Iterator[RunEvent]:
    if records.message is None:
        yield from _message_start(records)
    records.text.append(delta.text)
    if not records.live:
        return  # nobody watches the pieces: the message is returned whole
    yield RunEvent(
        "thread.message.delta",
        message_text_delta(message_id=records.message.public_id, text=delta.text),
    )


def _tool_step_start(records: ReplyRecords) -> Iterator[RunEvent]:
    step = records.start_tool_step()
    yield RunEvent("thread.run.step.created", step)
    yield RunEvent("thread.run.step.in_progress", step)


def _tool_piece(records: ReplyRecords, piece: ToolCallDelta) -> Iterator[RunEvent]:
    if records.tool_step is None:
        yield from _tool_step_start(records)
    records.add_tool_piece(piece)
    if not records.live:
        return
    yield RunEvent(
        "thread.run.step.delta",
        tool_call_delta(
            step_id=records.tool_step.public_id,
            index=piece.index,
            call_id=piece.id,
            name=piece.name,
            arguments=piece.arguments,
        ),
    )



def run_stream_events(*, run: Run, announce: Sequence[RunEvent]) -> Iterator[RunEvent]:
    """
    The events of a run created (or resumed) to be streamed by the caller: the `announce` events
    (thread.created, thread.run.created, thread.run.queued), then its execution in this process. A
    run saved already claimed (in_progress) runs as it is; a queued one is claimed first.
    """
    yield from announce
    claimed = run if run.status == RunStatus.IN_PROGRESS else run_claim(run_pk=run.pk)
    if claimed is None:  # cancelled or expired before it could start
        run.refresh_from_db()
        yield RunEvent(f"thread.run.{run.status}", run)
        return
    yield from run_events(run=claimed)
