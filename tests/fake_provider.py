"""
A small, real HTTP server that speaks the parts of OpenAI's API this project uses: the Responses API
(`/v1/responses`), Conversations (`/v1/conversations`) and Chat Completions
(`/v1/chat/completions`). Tests script its replies and faults and read back what it received.

By default it answers `Echo: <last user text> (turns: <number of input messages>)`, so a test can see
both what the model was asked and how much history reached it.
"""

import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_ids = itertools.count(1)


def _new_id(prefix: str) -> str:
    return f"{prefix}{next(_ids):024d}"


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


class FakeProvider:
    def __init__(self) -> None:
        self.requests: list[ReceivedRequest] = []
        self.replies: list[str] = []
        self.faults: list[Fault] = []
        self.usage = (11, 7)
        self.finish_reason = "stop"
        self.conversations: dict[str, list[dict[str, Any]]] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def start(self) -> "FakeProvider":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self.replies.clear()
            self.faults.clear()
            self.conversations.clear()
            self.usage = (11, 7)
            self.finish_reason = "stop"

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

    def _reply_text(self, last_user_text: str, turns: int) -> str:
        with self._lock:
            if self.replies:
                return self.replies.pop(0)
        return f"Echo: {last_user_text} (turns: {turns})"

    def responses_create(self, body: dict[str, Any]) -> dict[str, Any]:
        items = body.get("input") or []
        if isinstance(items, str):
            items = [{"role": "user", "content": items}]
        history = list(items)
        if conversation_id := body.get("conversation"):
            history = self.conversations.get(conversation_id, []) + history
        text = self._reply_text(_last_user_text(history), len(history))
        prompt_tokens, completion_tokens = self.usage
        output_item = {
            "id": _new_id("msg_"),
            "type": "message",
            "role": "assistant",
            "status": "completed",
            "content": [{"type": "output_text", "text": text, "annotations": []}],
        }
        if conversation_id and conversation_id in self.conversations:
            self.conversations[conversation_id].extend(items + [output_item])
        incomplete = self.finish_reason == "length"
        return {
            "id": _new_id("resp_"),
            "object": "response",
            "created_at": int(time.time()),
            "status": "incomplete" if incomplete else "completed",
            "incomplete_details": {"reason": "max_output_tokens"} if incomplete else None,
            "error": None,
            "model": body.get("model", "fake-model"),
            "output": [output_item],
            "parallel_tool_calls": True,
            "tool_choice": "auto",
            "tools": [],
            "usage": {
                "input_tokens": prompt_tokens,
                "output_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
                "input_tokens_details": {"cached_tokens": 0},
                "output_tokens_details": {"reasoning_tokens": 0},
            },
        }

    def chat_completions_create(self, body: dict[str, Any]) -> dict[str, Any]:
        messages = [m for m in body.get("messages", []) if m.get("role") != "system"]
        text = self._reply_text(_last_user_text(messages), len(messages))
        prompt_tokens, completion_tokens = self.usage
        return {
            "id": _new_id("chatcmpl-"),
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", "fake-model"),
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text},
                    "finish_reason": self.finish_reason,
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }

    def conversation_create(self, body: dict[str, Any]) -> dict[str, Any]:
        conversation_id = _new_id("conv_")
        self.conversations[conversation_id] = list(body.get("items") or [])
        return _conversation(conversation_id, body.get("metadata"))

    def conversation_items_add(self, conversation_id: str, body: dict[str, Any]) -> dict[str, Any]:
        items = [dict(item, id=item.get("id") or _new_id("msg_")) for item in body.get("items", [])]
        self.conversations[conversation_id].extend(items)
        return {"object": "list", "data": items, "first_id": None, "last_id": None, "has_more": False}


def _conversation(conversation_id: str, metadata: Any) -> dict[str, Any]:
    return {
        "id": conversation_id,
        "object": "conversation",
        "created_at": int(time.time()),
        "metadata": metadata or {},
    }


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "".join(part.get("text", "") for part in content or [] if isinstance(part, dict))


def _last_user_text(messages: list[dict[str, Any]]) -> str:
    for message in reversed(messages):
        if message.get("role") == "user":
            return _text_of(message.get("content"))
    return ""


def _handler_for(fake: FakeProvider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

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
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a time-out test): nothing left to answer

        def _answer(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else {}
            path = self.path.split("?")[0]
            fake.requests.append(
                ReceivedRequest(self.command, path, body, {k.lower(): v for k, v in self.headers.items()})
            )
            fault = fake._take_fault()
            if fault is not None:
                self._fault(fault)
                return
            answer = self._route(path, body)
            if answer is None:
                self._send(404, {"error": {"message": f"Unknown path {path}", "type": "invalid_request_error"}})
            else:
                self._send(200, answer)

        def _route(self, path: str, body: dict[str, Any]) -> dict[str, Any] | None:
            parts = path.strip("/").split("/")[1:]  # without the leading "v1"
            if self.command == "POST" and parts == ["responses"]:
                return fake.responses_create(body)
            if self.command == "POST" and parts == ["chat", "completions"]:
                return fake.chat_completions_create(body)
            if self.command == "POST" and parts == ["conversations"]:
                return fake.conversation_create(body)
            if len(parts) >= 2 and parts[0] == "conversations" and parts[1] in fake.conversations:
                conversation_id = parts[1]
                if parts[2:] == ["items"] and self.command == "POST":
                    return fake.conversation_items_add(conversation_id, body)
                if parts[2:] == ["items"] and self.command == "GET":
                    data = fake.conversations[conversation_id]
                    return {"object": "list", "data": data, "has_more": False}
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
