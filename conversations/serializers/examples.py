"""Request examples shown in the API docs."""

from drf_spectacular.utils import OpenApiExample

ASSISTANT_CREATE = OpenApiExample(
    "Signage analyst",
    request_only=True,
    value={
        "name": "Campaign analyst",
        "instructions": "You analyse digital-signage campaigns. Ground every figure in the data.",
        "model": "gpt-4.1-mini",
        "metadata": {"team": "operations"},
    },
)

ASSISTANT_UPDATE = OpenApiExample(
    "Change the instructions",
    request_only=True,
    value={"instructions": "Answer in Korean unless asked otherwise.", "temperature": 0.2},
)

THREAD_CREATE = OpenApiExample(
    "Thread with a first question",
    request_only=True,
    value={
        "messages": [{"role": "user", "content": "Which screens had the most views yesterday?"}],
        "metadata": {"signage_id": "lobby-01"},
    },
)

MESSAGE_CREATE = OpenApiExample(
    "Question",
    request_only=True,
    value={"role": "user", "content": "Compare this week's views with last week's."},
)

RUN_CREATE = OpenApiExample(
    "Run the default assistant",
    request_only=True,
    value={"additional_instructions": "Answer in two sentences."},
)

THREAD_AND_RUN_CREATE = OpenApiExample(
    "New thread with a question, streamed",
    request_only=True,
    value={
        "thread": {
            "messages": [{"role": "user", "content": "Which ad ran most often on lobby-01?"}],
            "metadata": {"signage_id": "lobby-01"},
        },
        "stream": True,
    },
)

SUBMIT_TOOL_OUTPUTS = OpenApiExample(
    "Answer a function call",
    request_only=True,
    value={
        "tool_outputs": [
            {"tool_call_id": "call_abc123", "output": "{\"views\": 1284, \"screen\": \"lobby-01\"}"}
        ]
    },
)

METADATA_UPDATE = OpenApiExample(
    "Tag with a campaign", request_only=True, value={"metadata": {"campaign": "spring-sale"}}
)

CHAT = OpenApiExample(
    "Continue a conversation",
    request_only=True,
    value={"message": "Do you remember what I said before?", "thread_id": "thread_abc123"},
)


def _response(name: str, value: dict) -> OpenApiExample:
    return OpenApiExample(name, response_only=True, status_codes=["200"], value=value)


CREATED_AT = 1754481000

ASSISTANT = _response(
    "Assistant",
    {
        "id": "asst_abc123",
        "object": "assistant",
        "created_at": CREATED_AT,
        "name": "Signage data analyst",
        "description": "Analyses digital-signage screens, targeted ads and view events.",
        "model": "gpt-4.1-mini",
        "instructions": "You are a data-analysis expert for a digital-signage network.",
        "tools": [],
        "tool_resources": {},
        "metadata": {},
        "temperature": None,
        "top_p": None,
        "response_format": "auto",
        "prompt_id": "",
    },
)

THREAD = _response(
    "Thread",
    {
        "id": "thread_abc123",
        "object": "thread",
        "created_at": CREATED_AT,
        "metadata": {"signage_id": "lobby-01"},
        "tool_resources": {},
    },
)

MESSAGE = _response(
    "Message",
    {
        "id": "msg_abc123",
        "object": "thread.message",
        "created_at": CREATED_AT,
        "thread_id": "thread_abc123",
        "status": "completed",
        "incomplete_details": None,
        "completed_at": CREATED_AT,
        "incomplete_at": None,
        "role": "user",
        "content": [
            {"type": "text", "text": {"value": "Which screen had the most views?", "annotations": []}}
        ],
        "assistant_id": None,
        "run_id": None,
        "attachments": [],
        "metadata": {},
    },
)

RUN = _response(
    "Run",
    {
        "id": "run_abc123",
        "object": "thread.run",
        "created_at": CREATED_AT,
        "thread_id": "thread_abc123",
        "assistant_id": "asst_abc123",
        "status": "completed",
        "required_action": None,
        "last_error": None,
        "expires_at": None,
        "started_at": CREATED_AT,
        "cancelled_at": None,
        "failed_at": None,
        "completed_at": CREATED_AT + 2,
        "incomplete_details": None,
        "model": "gpt-4.1-mini",
        "instructions": "You are a data-analysis expert for a digital-signage network.",
        "tools": [],
        "metadata": {},
        "usage": {"prompt_tokens": 420, "completion_tokens": 96, "total_tokens": 516},
        "temperature": None,
        "top_p": None,
        "max_prompt_tokens": None,
        "max_completion_tokens": None,
        "truncation_strategy": {"type": "auto", "last_messages": None},
        "response_format": "auto",
        "tool_choice": "auto",
        "parallel_tool_calls": True,
    },
)

RUN_STEP = _response(
    "Run step",
    {
        "id": "step_abc123",
        "object": "thread.run.step",
        "created_at": CREATED_AT,
        "run_id": "run_abc123",
        "thread_id": "thread_abc123",
        "assistant_id": "asst_abc123",
        "type": "message_creation",
        "status": "completed",
        "step_details": {
            "type": "message_creation",
            "message_creation": {"message_id": "msg_def456"},
        },
        "last_error": None,
        "expired_at": None,
        "cancelled_at": None,
        "failed_at": None,
        "completed_at": CREATED_AT + 2,
        "metadata": {},
        "usage": {"prompt_tokens": 420, "completion_tokens": 96, "total_tokens": 516},
    },
)


def deleted_example(object_name: str, public_id: str) -> OpenApiExample:
    return _response(
        "Deleted", {"id": public_id, "object": f"{object_name}.deleted", "deleted": True}
    )


CHAT_REPLY = _response(
    "Reply",
    {
        "message": "Lobby-01 had the most views yesterday: 1,204, 38% of the network's total.",
        "thread_id": "thread_abc123",
        "role": "assistant",
        "created_at": CREATED_AT,
    },
)

API_ROOT = _response(
    "API information",
    {
        "name": "Signage Analyst API",
        "version": "1.0.0",
        "docs": "http://127.0.0.1:8010/docs",
        "redoc": "http://127.0.0.1:8010/redoc",
        "openapi": "http://127.0.0.1:8010/api/v1/schema",
        "health": "http://127.0.0.1:8010/api/v1/health",
    },
)

HEALTH = _response(
    "Healthy",
    {
        "status": "ok",
        "version": "1.0.0",
        "time": CREATED_AT,
        "checks": {
            "database": {"ok": True, "vendor": "postgresql"},
            "provider": {"ok": True, "engine": "responses", "model": "gpt-4.1-mini"},
            "worker": {
                "ok": True,
                "backend": "django_tasks_db.DatabaseBackend",
                "last_seen": CREATED_AT - 4,
            },
        },
    },
)

RUN_STREAM = OpenApiExample(
    "Streamed run (stream: true)",
    response_only=True,
    status_codes=["200"],
    media_type="text/event-stream",
    value=(
        'event: thread.run.created\ndata: {"id": "run_abc123", "object": "thread.run", '
        '"status": "queued", …}\n\n'
        'event: thread.run.in_progress\ndata: {"id": "run_abc123", "status": "in_progress", …}\n\n'
        'event: thread.message.created\ndata: {"id": "msg_abc123", "object": "thread.message", '
        '"status": "in_progress", "content": [], …}\n\n'
        'event: thread.message.delta\ndata: {"id": "msg_abc123", "object": "thread.message.delta", '
        '"delta": {"content": [{"index": 0, "type": "text", "text": {"value": "Lobby-01", '
        '"annotations": []}}]}}\n\n'
        'event: thread.message.completed\ndata: {"id": "msg_abc123", "status": "completed", …}\n\n'
        'event: thread.run.completed\ndata: {"id": "run_abc123", "status": "completed", …}\n\n'
        "event: done\ndata: [DONE]\n\n"
    ),
)

CHAT_STREAM = OpenApiExample(
    "Streamed chat (stream: true)",
    response_only=True,
    status_codes=["200"],
    media_type="text/event-stream",
    value=(
        'event: thread\ndata: {"thread_id": "thread_abc123"}\n\n'
        'event: delta\ndata: {"text": "Lobby-01 had "}\n\n'
        'event: delta\ndata: {"text": "the most views."}\n\n'
        'event: done\ndata: {"message": "Lobby-01 had the most views.", "thread_id": '
        '"thread_abc123", "role": "assistant", "created_at": 1754481000}\n\n'
    ),
)


# How a text/event-stream answer is described: each server-sent event, its data JSON or [DONE].
SSE_EVENT_SCHEMA = {
    "type": "object",
    "required": ["data"],
    "properties": {
        "event": {"type": "string", "description": "The event's name, e.g. thread.message.delta."},
        "data": {"type": "string", "description": "The event's object as JSON, or [DONE]."},
        "id": {"type": "string"},
        "retry": {"type": "integer"},
    },
}
