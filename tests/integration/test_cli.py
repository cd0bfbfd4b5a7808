"""The `dhuman` command end to end, in a child process like a user runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.openai_server import OpenAIServer

REPO = Path(__file__).resolve().parents[2]


def dhuman(
    args: list[str], tmp_path: Path, stdin: str = "", timeout: float = 60, **env: str
) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("DHUMAN_")}
    environ |= {
        "DHUMAN_CONFIG_DIR": str(tmp_path / "config"),
        "DHUMAN_CACHE_DIR": str(tmp_path / "cache"),
        "PYTHONPATH": str(REPO),
    }
    environ |= env
    return subprocess.run(
        [sys.executable, "-m", "app.cli.main", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=environ,
        cwd=REPO,
    )


def test_chat_streams_a_conversation_from_an_openai_compatible_server(tmp_path: Path) -> None:
    def script(messages: list[dict[str, str]]) -> str:
        last = messages[-1]["content"]
        return (
            "The pharmacy is on the first floor." if "pharmacy" in last else "Goodbye, take care."
        )

    with OpenAIServer(script=script, token_delay=0.01) as server:
        result = dhuman(
            ["chat", "--base-url", server.base_url, "--model", "test-model"],
            tmp_path,
            stdin="Where is the pharmacy?\nThanks, bye\n\n",
        )
        assert result.returncode == 0, result.stderr
        assert "Hana> The pharmacy is on the first floor." in result.stdout
        assert "Hana> Goodbye, take care." in result.stdout
        assert "AI" in result.stdout  # the greeting discloses that this is an AI
        requests = server.chat_requests
        assert [r.stream for r in requests] == [True, True]
        assert requests[0].model == "test-model"
        # the second request carries the first exchange as history
        contents = [m["content"] for m in requests[1].messages]
        assert "Where is the pharmacy?" in contents
        assert "The pharmacy is on the first floor." in contents


def test_chat_in_korean(tmp_path: Path) -> None:
    with OpenAIServer(reply="약국은 1층에 있습니다.") as server:
        result = dhuman(
            ["--language", "ko", "chat", "--base-url", server.base_url, "--no-greeting"],
            tmp_path,
            stdin="약국이 어디예요?\n\n",
        )
    assert result.returncode == 0, result.stderr
    assert "하나> 약국은 1층에 있습니다." in result.stdout
    assert server.chat_requests[0].messages[0]["content"].startswith("당신은")


def test_chat_with_the_server_down_says_so_and_goes_on(tmp_path: Path) -> None:
    result = dhuman(
        ["chat", "--base-url", "http://127.0.0.1:9/v1", "--no-greeting"],
        tmp_path,
        stdin="hello\nstill there?\n\n",
        DHUMAN_LLM__ENGINE="openai",
    )
    assert result.returncode == 0
    assert "Traceback" not in result.stderr
    assert result.stderr.count("[chat]") == 2
    assert "http://127.0.0.1:9/v1" in result.stderr
    assert result.stdout.count("Please ask a staff member.") == 2  # the fallback line, twice


def test_chat_with_a_slow_server_times_out_clearly(tmp_path: Path) -> None:
    with OpenAIServer(reply="late", hang=True) as server:
        result = dhuman(
            ["chat", "--base-url", server.base_url, "--no-greeting"],
            tmp_path,
            stdin="hello\n\n",
            DHUMAN_LLM__FIRST_TOKEN_TIMEOUT_S="1",
        )
    assert result.returncode == 0
    assert "[chat]" in result.stderr and "Traceback" not in result.stderr


def test_config_set_show_and_errors(tmp_path: Path) -> None:
    set_ok = dhuman(["config", "set", "llm.model", "qwen2.5:3b"], tmp_path)
    assert set_ok.returncode == 0, set_ok.stderr
    shown = dhuman(["config", "show"], tmp_path, DHUMAN_LLM__TEMPERATURE="0.1")
    assert "model: qwen2.5:3b" in shown.stdout
    assert "temperature: 0.1" in shown.stdout
    assert "DHUMAN_LLM__TEMPERATURE" in shown.stdout
    bad = dhuman(["config", "set", "llm.temperature", "warm"], tmp_path)
    assert bad.returncode == 2 and "llm.temperature" in bad.stderr
    # a broken settings file is reported with its line, and nothing crashes
    (tmp_path / "config" / "settings.yaml").write_text("llm:\n  max_tokens: lots\n")
    broken = dhuman(["chat"], tmp_path, stdin="\n")
    assert broken.returncode == 2
    assert "settings.yaml:2: llm.max_tokens" in broken.stderr
    assert "Traceback" not in broken.stderr


def test_broken_persona_falls_back_to_the_default_with_a_precise_error(tmp_path: Path) -> None:
    persona = tmp_path / "mine.yaml"
    persona.write_text("schema: 1\nid: mine\nname: {en: Max}\nlanguages: [fr]\n")
    with OpenAIServer(reply="Hi.") as server:
        result = dhuman(
            ["--persona", str(persona), "chat", "--base-url", server.base_url, "--no-greeting"],
            tmp_path,
            stdin="hi\n\n",
        )
    assert result.returncode == 0
    assert f"{persona}:4: languages.0" in result.stderr
    assert "Hana> Hi." in result.stdout


@pytest.mark.slow
def test_doctor_reports_this_machine(tmp_path: Path) -> None:
    with OpenAIServer(models=["test-model"]) as server:
        base_url = server.base_url
        result = dhuman(
            ["doctor"], tmp_path, DHUMAN_LLM__BASE_URL=base_url, DHUMAN_LLM__MODEL="test-model"
        )
    out = result.stdout
    assert "PySide6 6.11.3" in out
    assert f"{base_url} serves test-model" in out
    assert "checks:" in out
    down = dhuman(
        ["doctor"],
        tmp_path,
        DHUMAN_LLM__BASE_URL="http://127.0.0.1:9/v1",
        DHUMAN_LLM__ENGINE="openai",
    )
    assert down.returncode == 1
    assert "cannot reach http://127.0.0.1:9/v1" in down.stdout
    assert "fix:" in down.stdout


@pytest.mark.slow
def test_auto_engine_answers_from_the_knowledge_base_while_the_server_is_down(
    tmp_path: Path,
) -> None:
    result = dhuman(
        ["chat", "--base-url", "http://127.0.0.1:9/v1", "--no-greeting"],
        tmp_path,
        stdin="Where can I park my car?\n주차장은 어디에 있나요?\n\n",
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    # said once, not on every turn
    assert result.stderr.count("answering only from the hospital") == 1
    assert "http://127.0.0.1:9/v1" in result.stderr
    replies = [line for line in result.stdout.splitlines() if "Hana>" in line]
    assert len(replies) == 2
    assert "park" in replies[0].lower()
    assert "주차" in replies[1]
