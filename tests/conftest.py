from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from retarget.llm.client import OpenAIModel
from retarget.llm.replay import ReplayScript, ReplayServer
from retarget.llm.settings import ModelSettings

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"


def _have(tool: str) -> bool:
    return shutil.which(tool) is not None


needs_cross = pytest.mark.skipif(
    not (_have("aarch64-linux-gnu-gcc") and _have("riscv64-linux-gnu-gcc")),
    reason="cross gccs missing: run scripts/setup.sh",
)


def compile_to_asm(tmp: Path, c_source: str, gcc: str, flags: list[str]) -> str:
    src = tmp / "unit.c"
    src.write_text(c_source)
    out = tmp / f"unit.{gcc}.s"
    subprocess.run([gcc, "-S", *flags, "-fno-asynchronous-unwind-tables", "-o", str(out),
                    str(src)], check=True)  # fmt: skip
    return out.read_text()


TARGET_FLAGS = ["-fsigned-char", "-ffp-contract=off"]


@pytest.fixture
def pair(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Compile C into (x86-64 asm, target asm) at an optimisation level."""

    def build(c_source: str, target: str, opt: str = "-O2") -> tuple[str, str]:
        ref = compile_to_asm(tmp_path, c_source, "x86_64-linux-gnu-gcc", [opt])
        cand = compile_to_asm(tmp_path, c_source, f"{target}-linux-gnu-gcc", [opt, *TARGET_FLAGS])
        return ref, cand

    return build


@pytest.fixture
def serve() -> Iterator[Any]:
    """``serve(entries)`` starts a replay server answering from ``entries`` and returns it
    with the real model client pointed at it (no waiting between retries)."""
    servers: list[ReplayServer] = []

    def start(entries: list[dict[str, Any]]) -> tuple[ReplayServer, OpenAIModel]:
        server = ReplayServer(ReplayScript.model_validate({"responses": entries})).start()
        servers.append(server)
        settings = ModelSettings(model="replay", base_url=server.base_url, max_attempts=2)
        return server, OpenAIModel(settings, sleep=lambda s: None)

    yield start
    for server in servers:
        server.stop()
