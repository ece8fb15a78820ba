"""
A small, real HTTP server that speaks the parts of OpenAI's API this project uses: the Responses API
(`/v1/responses`), Conversations (`/v1/conversations`) and Chat Completions
(`/v1/chat/completions`), streamed (server-sent events, chunked) or not. Tests script its replies
(text, tool calls, pacing, a cut-off stream) and faults, and read back what it received.

By default it answers `Echo: <last user text> (turns: <number of input messages>)`, so a test can see
both what the model was asked and how much history reached it.
"""

import dataclasses
import json
import select
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.fake_provider_payloads import (
    Reply,
    Turn,
    chat_chunks,
    chat_completion,
    new_id,
    response_object,
    responses_events,
    responses_output,
)

__all__ = ["Fault", "FakeProvider", "ReceivedRequest", "Reply"]


@dataclass
class Fault:
    """What the next matching request gets instead of an answer."""

    status: int = 500
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None  # sent as-is, for malformed answers
    hang: float = 0.0  # seconds to wait before answering (longer than the client's timeout: a hang)
    drop: bool = False  # close the connection without answering


@dataclass
class ReceivedRequest:
    method: str
    path: str
    body: Any
    headers: dict[str, str]
    # For streamed answers: pieces written so far. For any answer: whether the client left before
    # its end (a whole answer is left while the reply is being "generated").
    chunks_sent: int = 0
    stream_closed_early: bool = False


class FakeProvider:
    """
    `latency`: seconds every model request waits before its answer (or its stream's first event),
    as a real provider's time to first token. `default_reply`: what unscripted turns answer instead
    of the echo (its text, pacing and length), for benchmarks.
    """

    def __init__(self, *, latency: float = 0.0, default_reply: Reply | None = None) -> None:
        self.latency = latency
        self.default_reply = default_reply
        self.keep_requests = True  # benchmarks turn it off: thousands of requests add up
        self.requests: list[ReceivedRequest] = []
        self.replies: list[str | Reply] = []
        self.faults: list[Fault] = []
        self.usage = (11, 7)
        self.finish_reason = "stop"
        self.conversations: dict[str, list[dict[str, Any]]] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server = _Server(("127.0.0.1", 0), _handler_for(self))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def start(self) -> "FakeProvider":
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and end every handler at once (hanging, streaming or idle keep-alive)."""
        self._stopping.set()
        self._server.shutdown()
        self._server.close_connections()
        self._server.server_close()  # joins the handler threads

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self.replies.clear()
            self.faults.clear()
            self.conversations.clear()
            self.usage = (11, 7)
            self.finish_reason = "stop"

    def script(self, *replies: str | Reply) -> None:
        """Queue the next model turns, in order; after them the default echo answers."""
        with self._lock:
            self.replies.extend(replies)

    def fail_next(self, fault: Fault | None = None, *, times: int = 1, **kwargs: Any) -> None:
        with self._lock:
            self.faults.extend([fault or Fault(**kwargs)] * times)

    def model_requests(self) -> list[ReceivedRequest]:
        """The generation requests received (responses and chat completions), in order."""
        return [r for r in self.requests if r.path.endswith(("/responses", "/chat/completions"))]

    # --- What the handler calls.

    def _take_fault(self) -> Fault | None:
        with self._lock:
            return self.faults.pop(0) if self.faults else None

    def _turn(self, history: list[dict[str, Any]]) -> Turn:
        with self._lock:
            scripted = self.replies.pop(0) if self.replies else None
        if scripted is None and self.default_reply is not None:
            scripted = self.default_reply
        if isinstance(scripted, Reply) and scripted.answer is not None:
            scripted = dataclasses.replace(scripted, text=scripted.answer(_tool_outputs(history)), answer=None)
        if isinstance(scripted, Reply):
            return Turn.of(scripted, self.usage)
        text = scripted if scripted is not None else (
            f"Echo: {_last_user_text(history)} (turns: {_turns(history)})"
        )
        return Turn.of(Reply(text=text, finish=self.finish_reason), self.usage)

    def responses_turn(self, body: dict[str, Any]) -> tuple[Turn, list[dict[str, Any]]]:
        items = body.get("input") or []
        if isinstance(items, str):
            items = [{"role": "user", "content": items}]
        history = list(items)
        if conversation_id := body.get("conversation"):
            history = self.conversations.get(conversation_id, []) + history
        return self._turn(history), items

    def responses_record(self, body: dict[str, Any], items: list[dict[str, Any]], turn: Turn) -> None:
        """Keep the request's input and the reply's output in the named Conversation."""
        conversation_id = body.get("conversation")
        if conversation_id and conversation_id in self.conversations:
            self.conversations[conversation_id].extend(items + responses_output(turn))

    def chat_turn(self, body: dict[str, Any]) -> Turn:
        return self._turn([m for m in body.get("messages", []) if m.get("role") != "system"])

    def conversation_create(self, body: dict[str, Any]) -> dict[str, Any]:
        conversation_id = new_id("conv_")
        self.conversations[conversation_id] = list(body.get("items") or [])
        return _conversation(conversation_id, body.get("metadata"))

    def conversation_items_add(self, conversation_id: str, body: dict[str, Any]) -> dict[str, Any]:
        items = [dict(item, id=item.get("id") or new_id("msg_")) for item in body.get("items", [])]
        self.conversations[conversation_id].extend(items)
        return {"object": "list", "data": items, "first_id": None, "last_id": None, "has_more": False}


class _Server(ThreadingHTTPServer):
    """Tracks its client sockets so that stop() can end handlers blocked on them."""

    daemon_threads = False
    block_on_close = True
    request_queue_size = 256  # many clients connect at once in the benchmark: none is dropped

    def __init__(self, *args: Any) -> None:
        self._sockets: set[socket.socket] = set()
        self._sockets_lock = threading.Lock()
        super().__init__(*args)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._sockets_lock:
            self._sockets.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._sockets_lock:
            self._sockets.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self._sockets_lock:
            sockets = list(self._sockets)
        for client in sockets:
            try:
                client.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def _conversation(conversation_id: str, metadata: Any) -> dict[str, Any]:
    return {"id": conversation_id, "object": "conversation", "created_at": 0, "metadata": metadata or {}}


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "".join(part.get("text", "") for part in content or [] if isinstance(part, dict))


def _last_user_text(messages: list[dict[str, Any]]) -> str:
    for message in reversed(messages):
        if message.get("role") == "user":
            return _text_of(message.get("content"))
    return ""


def _tool_outputs(history: list[dict[str, Any]]) -> list[str]:
    """What the tools returned, in both APIs' shapes (`tool` messages, `function_call_output` items)."""
    return [
        item.get("content") if item.get("role") == "tool" else item.get("output")
        for item in history
        if item.get("role") == "tool" or item.get("type") == "function_call_output"
    ]


def _turns(history: list[dict[str, Any]]) -> int:
    """Messages in the history (tool calls and outputs are items, not turns)."""
    return sum(1 for item in history if "role" in item)


def _handler_for(fake: FakeProvider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            # Small event writes go out at once, as a real provider's do (no Nagle delay).
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

        def do_GET(self) -> None:  # noqa: N802
            self._dispatch()

        def do_POST(self) -> None:  # noqa: N802
            self._dispatch()

        def do_DELETE(self) -> None:  # noqa: N802
            self._dispatch()

        def _dispatch(self) -> None:
            try:
                self._answer()
            except OSError:  # the client gave up (a time-out, a cancelled stream, a stop)
                self.close_connection = True

        def _answer(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else {}
            path = self.path.split("?")[0]
            received = ReceivedRequest(
                self.command, path, body, {k.lower(): v for k, v in self.headers.items()}
            )
            if fake.keep_requests:
                fake.requests.append(received)
            fault = fake._take_fault()
            if fault is not None:
                self._fault(fault)
                return
            parts = path.strip("/").split("/")[1:]  # without the leading "v1"
            if fake.latency and parts in (["responses"], ["chat", "completions"]):
                fake._stopping.wait(fake.latency)
            if self.command == "POST" and parts == ["responses"]:
                self._responses(body, received)
            elif self.command == "POST" and parts == ["chat", "completions"]:
                self._chat(body, received)
            elif (answer := self._conversations(parts, body)) is not None:
                self._send(200, answer)
            else:
                message = f"Unknown path {path}"
                self._send(404, {"error": {"message": message, "type": "invalid_request_error"}})

        def _responses(self, body: dict[str, Any], received: ReceivedRequest) -> None:
            turn, items = fake.responses_turn(body)
            model = body.get("model", "fake-model")
            if body.get("stream"):
                events = (
                    (f"event: {event['type']}\ndata: {json.dumps(event)}\n\n", piece)
                    for event, piece in responses_events(turn, model)
                )
                if self._stream(events, turn, received):
                    fake.responses_record(body, items, turn)
                return
            if self._generate_whole(turn, received):
                fake.responses_record(body, items, turn)
                self._send(200, response_object(turn, model, output=responses_output(turn), done=True))

        def _chat(self, body: dict[str, Any], received: ReceivedRequest) -> None:
            turn = fake.chat_turn(body)
            model = body.get("model", "fake-model")
            if not body.get("stream"):
                if self._generate_whole(turn, received):
                    self._send(200, chat_completion(turn, model))
                return
            include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
            chunks = [
                (f"data: {json.dumps(chunk)}\n\n", piece)
                for chunk, piece in chat_chunks(turn, model, include_usage=include_usage)
            ]
            self._stream([*chunks, ("data: [DONE]\n\n", False)], turn, received)

        def _stream(self, events: Any, turn: Turn, received: ReceivedRequest) -> bool:
            """Send events as a chunked event stream, paced and cut as scripted; whether whole."""
            self.send_response(200)
            self.send_header("content-type", "text/event-stream")
            self.send_header("transfer-encoding", "chunked")
            self.end_headers()
            try:
                for text, piece in events:
                    if piece:
                        if turn.reply.delay and fake._stopping.wait(turn.reply.delay):
                            raise ConnectionAbortedError("the fake provider is stopping")
                        if turn.reply.cut_after is not None and received.chunks_sent >= turn.reply.cut_after:
                            self._cut()
                            return False
                        if turn.reply.stall_after is not None and received.chunks_sent >= turn.reply.stall_after:
                            self._stall()
                            raise ConnectionAbortedError("the client gave up on a stalled stream")
                    data = text.encode()
                    self.wfile.write(b"%X\r\n%s\r\n" % (len(data), data))
                    self.wfile.flush()
                    if piece:
                        received.chunks_sent += 1
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()
                return True
            except OSError:
                received.stream_closed_early = True
                raise

        def _generate_whole(self, turn: Turn, received: ReceivedRequest) -> bool:
            """
            Before a whole (unstreamed) answer: take as long as its pieces would have streamed,
            then stall or cut as scripted. Whether to answer; a client that leaves meanwhile is
            noted, as it is for a stream.
            """
            reply = turn.reply
            pieces = turn.piece_count()
            for limit in (reply.cut_after, reply.stall_after):
                if limit is not None:
                    pieces = min(pieces, limit)
            if reply.delay and self._client_left_within(reply.delay * pieces):
                received.stream_closed_early = True
                return False
            if reply.stall_after is not None and reply.stall_after < turn.piece_count():
                self._stall()
                received.stream_closed_early = True
                return False
            if reply.cut_after is not None and reply.cut_after < turn.piece_count():
                self._cut()
                return False
            return True

        def _client_left_within(self, seconds: float) -> bool:
            """Wait `seconds` (less if the fake stops); whether the client hung up meanwhile."""
            deadline = time.monotonic() + seconds
            while (left := deadline - time.monotonic()) > 0 and not fake._stopping.is_set():
                readable, _, _ = select.select([self.connection], [], [], min(left, 0.02))
                if readable and not self.connection.recv(1, socket.MSG_PEEK):
                    return True
            return False

        def _stall(self) -> None:
            """Send nothing, keeping the connection open, until the client hangs up (or a stop)."""
            while not fake._stopping.wait(0.05):
                readable, _, _ = select.select([self.connection], [], [], 0)
                if readable and not self.connection.recv(1, socket.MSG_PEEK):
                    return

        def _cut(self) -> None:
            """End the connection mid-stream, without the chunked terminator: a broken stream."""
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

        def _conversations(self, parts: list[str], body: dict[str, Any]) -> dict[str, Any] | None:
            if self.command == "POST" and parts == ["conversations"]:
                return fake.conversation_create(body)
            if len(parts) < 2 or parts[0] != "conversations" or parts[1] not in fake.conversations:
                return None
            conversation_id = parts[1]
            if parts[2:] == ["items"] and self.command == "POST":
                return fake.conversation_items_add(conversation_id, body)
            if parts[2:] == ["items"] and self.command == "GET":
                return {"object": "list", "data": fake.conversations[conversation_id], "has_more": False}
            if not parts[2:] and self.command == "GET":
                return _conversation(conversation_id, {})
            if not parts[2:] and self.command == "DELETE":
                del fake.conversations[conversation_id]
                return {"id": conversation_id, "object": "conversation.deleted", "deleted": True}
            return None

        def _fault(self, fault: Fault) -> None:
            if fault.hang and fake._stopping.wait(fault.hang):
                return
            if fault.drop:
                self.close_connection = True
                self.connection.close()
                return
            if fault.raw is not None:
                self.send_response(fault.status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(fault.raw)))
                self.end_headers()
                self.wfile.write(fault.raw)
                return
            body = fault.body or {
                "error": {"message": f"Injected fault {fault.status}", "type": "server_error"}
            }
            self._send(fault.status, body, fault.headers)

        def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

    return Handler
