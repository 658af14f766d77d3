"""``retarget transpile REPO`` end to end: the CLI in a child process, the model behind the
replay server, the port checked by the verifier (and, for the example, by its own tests)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from retarget.llm.replay import ReplayScript, ReplayServer
from tests.conftest import needs_cross
from tests.test_agents import SUM4_BAD, SUM4_GOOD

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "bitlib"
SUM4_REPO = Path(__file__).parent / "data" / "repo_sum4"
TESTS_ANSWER = {"match": "Propose up to", "content": '```json\n[{"a": [0, 0, 0, 0]}]\n```',
                "repeat": True}  # fmt: skip


def transpile(
    repo: Path, out: Path, *extra: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "retarget.cli", "transpile", str(repo), "--to", "aarch64",
               "--out", str(out), *extra]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, timeout=600,
                          env={**os.environ, **(env or {})}, check=False)  # fmt: skip


@pytest.fixture
def replay() -> Iterator[Any]:
    servers: list[ReplayServer] = []

    def start(script: dict[str, Any]) -> tuple[ReplayServer, dict[str, str]]:
        server = ReplayServer(ReplayScript.model_validate(script)).start()
        servers.append(server)
        env = {"RETARGET_MODEL": "replay", "OPENAI_BASE_URL": server.base_url,
               "RETARGET_BACKOFF_S": "0.01", "RETARGET_BUDGET_CANDIDATES": "1"}  # fmt: skip
        return server, env

    yield start
    for server in servers:
        server.stop()


def report(out: Path) -> dict[str, Any]:
    return json.loads((out / "report.json").read_text())  # type: ignore[no-any-return]


@needs_cross
def test_example_ports_offline_and_passes_its_own_tests(tmp_path: Path) -> None:
    if shutil.which("bwrap") is None or shutil.which("qemu-aarch64-static") is None:
        pytest.skip("needs bubblewrap and qemu-user-static for --test-cmd")
    out = tmp_path / "bitlib-aarch64"
    done = transpile(EXAMPLE, out, "--test-cmd", "make test CC=$CC RUN=$RUN",
                     env={"RETARGET_MODEL": ""})  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    data = report(out)
    assert data["summary"]["verified"] == 4 and data["all_verified"]
    assert data["test_command"]["exit"] == 0
    assert (out / "report.md").is_file() and (out / "report.html").is_file()
    assert (out / "tests" / "test_bitlib.c").is_file()  # other files copied as they are


@needs_cross
def test_refused_function_ported_by_the_model_through_a_429_storm_and_a_malformed_reply(
    tmp_path: Path, replay: Any
) -> None:
    faults = [{"status": 429, "retry_after": 0}] * 3 + [{"malformed": True}]
    server, env = replay({"faults": faults, "responses": [
        TESTS_ANSWER, {"match": "Counterexample", "content": f"```asm\n{SUM4_GOOD}```"},
        {"content": f"```asm\n{SUM4_BAD}```"}]})  # fmt: skip
    out = tmp_path / "out"
    done = transpile(SUM4_REPO, out, "--json", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    (entry,) = report(out)["functions"]
    assert (entry["status"], entry["producer"], entry["rounds"]) == ("verified", "model", 2)
    assert entry["tokens"] > 0
    assert "sum4:" in (out / "lib" / "sum4.s").read_text()
    assert len(server.requests) == len(faults) + 3  # tester, round 1, round 2


@needs_cross
def test_budget_stops_with_a_partial_report(tmp_path: Path, replay: Any) -> None:
    _, env = replay({"responses": [TESTS_ANSWER, {"content": f"```asm\n{SUM4_BAD}```",
                                                 "repeat": True}]})  # fmt: skip
    out = tmp_path / "out"
    done = transpile(SUM4_REPO, out, env={**env, "RETARGET_BUDGET_ROUNDS": "2"})
    assert done.returncode == 1
    (entry,) = report(out)["functions"]
    assert entry["status"] == "mismatch" and "round budget" in entry["reason"]


@needs_cross
def test_a_killed_run_resumes_without_redoing_finished_functions(
    tmp_path: Path, replay: Any
) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(EXAMPLE, repo)
    shutil.copytree(SUM4_REPO / "lib", repo / "xlib")  # after src/: solved last
    (repo / "retarget.toml").write_text((EXAMPLE / "retarget.toml").read_text() + 'sum4 = "a=4"\n')
    _server, env = replay({"responses": [TESTS_ANSWER, {"content": f"```asm\n{SUM4_GOOD}```",
                                                       "repeat": True, "faults": [{"delay": 30}]}]})  # fmt: skip
    out = tmp_path / "out"
    command = [sys.executable, "-m", "retarget.cli", "transpile", str(repo), "--to", "aarch64",
               "--out", str(out)]  # fmt: skip
    child = subprocess.Popen(command, env={**os.environ, **env, "RETARGET_TIMEOUT_S": "60"},
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    results = out / ".retarget" / "results.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # the symbolic functions finish; sum4 waits on the model
        if results.is_file() and len(results.read_text().splitlines()) >= 4:
            break
        time.sleep(0.2)
    child.send_signal(signal.SIGKILL)
    child.wait()
    finished = [json.loads(line) for line in results.read_text().splitlines()]
    assert len(finished) == 4 and all(f["status"] == "verified" for f in finished)
    done = transpile(repo, out, "--resume", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = [json.loads(line) for line in results.read_text().splitlines()]
    # Only sum4 was solved again; the four finished functions were not re-verified.
    assert [entry["function"] for entry in lines[4:]] == ["sum4"]
    assert report(out)["summary"]["verified"] == 5


@needs_cross
def test_preprocessed_sources_and_missing_prototypes(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "src").mkdir(parents=True)
    header = "#define K 7\n#ifndef __ASSEMBLER__\nint add_k(int x);\n#endif\n"
    (repo / "src" / "k.h").write_text(header)
    (repo / "src" / "add.S").write_text(
        '#include "k.h"\n\t.text\n\t.globl\tadd_k\n\t.type\tadd_k, @function\nadd_k:\n'
        "\tleal\tK(%rdi), %eax\n\tret\n\t.size\tadd_k, .-add_k\n"
        "\t.globl\tmystery\n\t.type\tmystery, @function\nmystery:\n\tmovl\t%edi, %eax\n\tret\n"
        "\t.size\tmystery, .-mystery\n"
    )
    out = tmp_path / "out"
    done = transpile(repo, out, env={"RETARGET_MODEL": ""})
    assert done.returncode == 1  # mystery has no prototype
    entries = {e["function"]: e for e in report(out)["functions"]}
    assert entries["add_k"]["status"] == "verified"
    assert entries["mystery"]["status"] == "refused" and "prototype" in entries["mystery"]["reason"]
    assert "add_k:" in (out / "src" / "add.s").read_text()
    assert "<td>refused</td>" in (out / "report.html").read_text()
