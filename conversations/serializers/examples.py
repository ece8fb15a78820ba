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

CHAT = OpenApiExample(
    "Continue a conversation",
    request_only=True,
    value={"message": "Do you remember what I said before?", "thread_id": "thread_abc123"},
)
