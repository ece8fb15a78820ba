"""
The clients that must keep working unchanged, against a live server: the seed's Python client and
scenarios, and the `openai` SDK's `beta.threads` and `beta.assistants`.
"""

import openai
import pytest
import requests

# --- The seed's Python client, word for word (only its default base_url is the production host).


class OpenAIAssistantClient:
    def __init__(self, base_url="https://hamtoto.kr/openai-api"):
        self.base_url = base_url

    def chat(self, message, thread_id=None):
        """간단한 채팅 인터페이스"""
        payload = {"message": message}
        if thread_id:
            payload["thread_id"] = thread_id

        response = requests.post(
            f"{self.base_url}/api/v1/chat",
            json=payload,
            headers={"Content-Type": "application/json"}
        )
        response.raise_for_status()
        return response.json()

    def create_thread(self):
        """새 스레드 생성"""
        response = requests.post(f"{self.base_url}/api/v1/threads", json={})
        response.raise_for_status()
        return response.json()

    def get_messages(self, thread_id):
        """스레드 메시지 조회"""
        response = requests.get(f"{self.base_url}/api/v1/threads/{thread_id}/messages")
        response.raise_for_status()
        return response.json()


# serialized_rollback keeps the built-in assistant that a data migration created.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def sdk(live_server):
    return openai.OpenAI(base_url=f"{live_server.url}/api/v1", api_key="unused", max_retries=0)


def test_seed_client_example(live_server):
    client = OpenAIAssistantClient(live_server.url)

    result = client.chat("안녕하세요!")
    thread_id = result["thread_id"]
    result2 = client.chat("이전에 뭐라고 말했는지 기억하나요?", thread_id)

    assert result["message"] == "Echo: 안녕하세요! (turns: 1)"
    assert result2["message"] == "Echo: 이전에 뭐라고 말했는지 기억하나요? (turns: 3)"
    messages = client.get_messages(thread_id)
    assert messages["object"] == "list"
    assert [m["role"] for m in messages["data"]] == ["assistant", "user", "assistant", "user"]
    assert client.create_thread()["object"] == "thread"


def test_seed_scenario_3_fine_control(live_server):
    base = f"{live_server.url}/api/v1"
    thread = requests.post(f"{base}/threads", json={}).json()
    message = requests.post(
        f"{base}/threads/{thread['id']}/messages", json={"content": "메시지 내용", "role": "user"}
    ).json()
    run = requests.post(f"{base}/threads/{thread['id']}/runs").json()
    status = requests.get(f"{base}/threads/{thread['id']}/runs/{run['id']}").json()

    assert message["content"][0]["text"]["value"] == "메시지 내용"
    assert run["status"] == "queued" and run["assistant_id"].startswith("asst_")
    assert status["status"] == "completed"


def test_sdk_threads_messages_runs_create_and_poll(sdk, engine):
    assistant = sdk.beta.assistants.create(model="fake-model", instructions="Be precise.")
    thread = sdk.beta.threads.create(metadata={"signage_id": "lobby-01"})
    sdk.beta.threads.messages.create(thread.id, role="user", content="Top screen?")

    run = sdk.beta.threads.runs.create_and_poll(
        thread_id=thread.id, assistant_id=assistant.id, poll_interval_ms=50
    )

    assert run.status == "completed"
    assert run.usage.total_tokens == 18
    messages = sdk.beta.threads.messages.list(thread.id, order="asc")
    assert [m.role for m in messages.data] == ["user", "assistant"]
    assert messages.data[1].content[0].text.value == "Echo: Top screen? (turns: 1)"
    assert messages.data[1].run_id == run.id
    steps = sdk.beta.threads.runs.steps.list(run_id=run.id, thread_id=thread.id)
    assert steps.data[0].step_details.type == "message_creation"
    assert sdk.beta.threads.retrieve(thread.id).metadata == {"signage_id": "lobby-01"}


def test_sdk_second_turn_sends_history(sdk, fake_provider, engine):
    thread = sdk.beta.threads.create(messages=[{"role": "user", "content": "Screen A: 10 views."}])
    assistant_id = sdk.beta.assistants.list().data[0].id
    sdk.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant_id)
    sdk.beta.threads.messages.create(thread.id, role="user", content="And screen B?")

    sdk.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant_id)

    sent = fake_provider.model_requests()[-1].body
    history = sent["input"] if engine == "responses" else sent["messages"][1:]
    assert [m["content"] for m in history] == [
        "Screen A: 10 views.",
        "Echo: Screen A: 10 views. (turns: 1)",
        "And screen B?",
    ]


def test_sdk_auto_pagination_walks_every_page(sdk):
    thread = sdk.beta.threads.create()
    for i in range(7):
        sdk.beta.threads.messages.create(thread.id, role="user", content=f"m{i}")

    page = sdk.beta.threads.messages.list(thread.id, limit=3, order="asc")
    texts = [m.content[0].text.value for m in page]  # iterating follows `after` cursors

    assert texts == [f"m{i}" for i in range(7)]
    assert page.has_more is True


def test_sdk_assistants_crud(sdk):
    created = sdk.beta.assistants.create(model="gpt-4.1", name="Analyst", metadata={"a": "1"})
    assert sdk.beta.assistants.retrieve(created.id).name == "Analyst"
    assert sdk.beta.assistants.update(created.id, name="Renamed").name == "Renamed"
    assert created.id in [a.id for a in sdk.beta.assistants.list()]
    assert sdk.beta.assistants.delete(created.id).deleted is True


def test_sdk_sees_errors_as_openai_errors(sdk, fake_provider):
    with pytest.raises(openai.NotFoundError) as missing:
        sdk.beta.threads.retrieve("thread_missing")
    assert missing.value.body["message"] == "No thread found with id 'thread_missing'."

    thread = sdk.beta.threads.create()
    with pytest.raises(openai.BadRequestError) as bad:
        sdk.beta.threads.messages.create(thread.id, role="user", content="")
    assert bad.value.body["param"] == "content"

    fake_provider.fail_next(status=500)
    sdk.beta.threads.messages.create(thread.id, role="user", content="q")
    run = sdk.beta.threads.runs.create_and_poll(
        thread_id=thread.id, assistant_id=sdk.beta.assistants.list().data[0].id
    )
    assert run.status == "failed"
    assert run.last_error.code == "provider_unavailable"
