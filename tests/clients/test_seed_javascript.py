"""The seed's JavaScript helpers (startNewChat, continueChat, chatWithSystemData) run by Node."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conversations.models import Thread

NODE = shutil.which("node")
SCRIPT = Path(__file__).with_name("seed_chat.js")

pytestmark = [
    pytest.mark.skipif(NODE is None, reason="Node.js is not installed, so the seed's JavaScript cannot run"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_seed_javascript_helpers_work_unchanged(live_server, fake_provider):
    result = subprocess.run(
        [NODE, str(SCRIPT)],
        env={**os.environ, "SEED_BASE_URL": live_server.url},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["first"]["message"] == "Echo: 안녕하세요! (turns: 1)"
    assert out["second"]["thread_id"] == out["first"]["thread_id"]
    assert out["second"]["message"].endswith("(turns: 3)")
    assert "타겟광고 수: 7개" in out["analysis"] and out["analysis"].endswith("(turns: 5)")
    # thread_id: null (the helper's default) starts a new conversation.
    assert out["fresh"].endswith("(turns: 1)")
    assert Thread.objects.count() == 2
