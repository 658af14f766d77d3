"""The model client driven through the real ``openai`` package against the replay server."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from retarget.errors import ModelRequestError, ModelUnavailable, NoCodeError, ReplayScriptError
from retarget.llm.accounting import Ledger
from retarget.llm.cache import ResponseCache, request_key
from retarget.llm.client import OpenAIModel
from retarget.llm.extract import extract_code
from retarget.llm.replay import ReplayScript, ReplayServer
from retarget.llm.settings import ModelSettings, Price
from retarget.llm.types import Message

ASK = [Message(role="user", content="translate popcount to aarch64")]


@pytest.fixture
def serve() -> Iterator[Any]:
    servers: list[ReplayServer] = []

    def start(script: dict[str, Any]) -> ReplayServer:
        server = ReplayServer(ReplayScript.model_validate(script)).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def model_for(
    server: ReplayServer, waits: list[float] | None = None, **changes: Any
) -> OpenAIModel:
    settings = ModelSettings(model="replay-model", base_url=server.base_url, **changes)
    sleep = waits.append if waits is not None else (lambda s: None)
    return OpenAIModel(settings, sleep=sleep)


def test_answer_usage_and_cost(serve: Any) -> None:
    server = serve({"responses": [{"content": "hello", "usage": {"prompt_tokens": 1000,
                                                                 "completion_tokens": 500}}]})  # fmt: skip
    prices = {"replay-model": Price(input_per_mtok=2.0, output_per_mtok=8.0)}
    model = model_for(server, prices=prices)
    answer = model.complete(ASK, tag="popcount")
    assert answer.text == "hello"
    assert (answer.usage.prompt_tokens, answer.usage.completion_tokens) == (1000, 500)
    assert answer.cost == pytest.approx(1000 * 2e-6 + 500 * 8e-6)
    assert model.ledger.totals("popcount").cost == pytest.approx(answer.cost)
    assert server.requests[0]["model"] == "replay-model"


def test_matched_answers_follow_the_request_text(serve: Any) -> None:
    server = serve({"responses": [{"match": "strlen", "content": "for strlen"},
                                  {"match": "popcount", "content": "for popcount"}]})  # fmt: skip
    model = model_for(server)
    assert model.complete(ASK).text == "for popcount"
    assert model.complete([Message(role="user", content="now strlen")]).text == "for strlen"


def test_cache_makes_a_rerun_free(serve: Any, tmp_path: Path) -> None:
    server = serve({"responses": [{"content": "once"}]})
    first = model_for(server)
    first.cache = ResponseCache(tmp_path / "cache.sqlite")
    assert first.complete(ASK).text == "once"
    again = model_for(server)
    again.cache = ResponseCache(tmp_path / "cache.sqlite")  # a new run, same file
    hit = again.complete(ASK, tag="f")
    assert (hit.text, hit.cached, hit.cost) == ("once", True, 0.0)
    assert len(server.requests) == 1
    assert again.ledger.totals().cached_calls == 1


def test_cache_key_is_the_whole_request() -> None:
    a = {"model": "m", "messages": [{"role": "user", "content": "x"}], "temperature": 0.2}
    assert request_key(a) == request_key(dict(reversed(a.items())))
    assert request_key(a) != request_key({**a, "temperature": 0.3})


def test_a_429_storm_is_survived_with_retry_after(serve: Any) -> None:
    storm = [{"status": 429, "retry_after": 0.25}] * 4
    server = serve({"faults": storm, "responses": [{"content": "after the storm"}]})
    waits: list[float] = []
    answer = model_for(server, waits).complete(ASK)
    assert answer.text == "after the storm"
    assert answer.attempts == 5
    assert waits == [0.25] * 4  # the server's Retry-After, not our own backoff


def test_server_errors_back_off_exponentially(serve: Any) -> None:
    server = serve({"faults": [{"status": 500}, {"status": 503}, {"status": 502}],
                    "responses": [{"content": "ok"}]})  # fmt: skip
    waits: list[float] = []
    model_for(server, waits, backoff_s=1.0).complete(ASK)
    assert len(waits) == 3
    for attempt, wait in enumerate(waits):
        assert 0.5 * 2**attempt <= wait <= 2**attempt  # jitter in the upper half


def test_malformed_and_empty_replies_are_retried(serve: Any) -> None:
    server = serve({"responses": [{"content": "fine", "faults": [{"malformed": True},
                                                                 {"empty": True}]}]})  # fmt: skip
    answer = model_for(server).complete(ASK)
    assert (answer.text, answer.attempts) == ("fine", 3)


def test_a_slow_reply_times_out_and_the_retry_gets_it(serve: Any) -> None:
    server = serve({"responses": [{"content": "late", "faults": [{"delay": 2.0}]}]})
    answer = model_for(server, timeout_s=0.3).complete(ASK)
    assert (answer.text, answer.attempts) == ("late", 2)


def test_giving_up_says_why(serve: Any) -> None:
    server = serve({"faults": [{"status": 429}] * 10, "responses": [{"content": "never"}]})
    with pytest.raises(ModelUnavailable, match="3 attempts"):
        model_for(server, max_attempts=3).complete(ASK)
    assert len(server.requests) == 3


def test_a_rejected_request_is_not_retried(serve: Any) -> None:
    server = serve({"faults": [{"status": 401}], "responses": [{"content": "no"}]})
    with pytest.raises(ModelRequestError, match="refused"):
        model_for(server).complete(ASK)
    assert len(server.requests) == 1


def test_an_unscripted_request_is_an_error(serve: Any) -> None:
    server = serve({"responses": []})
    with pytest.raises(ModelRequestError, match="no scripted response"):
        model_for(server).complete(ASK)


def test_concurrency_limit_holds_across_threads(serve: Any) -> None:
    entries: list[dict[str, Any]] = [
        {"content": f"answer {i}", "faults": [{"delay": 0.2}], "repeat": True} for i in range(6)
    ]
    server = serve({"responses": entries})
    model = model_for(server, concurrency=2, timeout_s=5)
    threads = [threading.Thread(target=model.complete, args=([Message(role="user",
               content=f"q{i}")],)) for i in range(6)]  # fmt: skip
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert server.max_in_flight <= 2
    assert model.ledger.totals().calls == 6


def test_replay_script_errors_name_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "script.json"
    bad.write_text(json.dumps({"responses": [{"match": "x"}]}))
    with pytest.raises(ReplayScriptError, match="script.json"):
        ReplayScript.load(bad)
    with pytest.raises(ReplayScriptError, match="cannot read"):
        ReplayScript.load(tmp_path / "missing.json")


def test_settings_read_the_openai_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("OPENAI_API_KEY", "k")
    monkeypatch.setenv("RETARGET_MODEL", "m")
    settings = ModelSettings()
    assert (settings.base_url, settings.api_key, settings.model) == (
        "http://127.0.0.1:9/v1",
        "k",
        "m",
    )
    assert settings.configured


def test_ledger_totals_by_tag() -> None:
    from retarget.llm.types import Completion, Usage

    ledger = Ledger()
    ledger.record("f", Completion(text="", model="m", usage=Usage(prompt_tokens=3), cost=0.5))
    ledger.record("g", Completion(text="", model="m", cost=0.25, cached=True))
    assert ledger.totals("f").prompt_tokens == 3
    assert ledger.totals().cost == pytest.approx(0.75)
    assert ledger.totals().cached_calls == 1


def test_code_extraction() -> None:
    answer = "Here:\n```c\nint x;\n```\nand the port:\n```asm\nmov x0, 1\nret\n```\n"
    assert extract_code(answer, ("asm", "s")) == "mov x0, 1\nret\n"
    assert extract_code(answer) == "mov x0, 1\nret\n"
    assert extract_code("```\nuntagged\n```", ("asm",)) == "untagged\n"
    assert extract_code("```asm\nunclosed\n", ("asm",)) == "unclosed\n"
    with pytest.raises(NoCodeError, match="no fenced code block"):
        extract_code("I cannot do that.", ("asm",))
