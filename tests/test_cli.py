"""`retarget verify` as a user runs it: exit codes, JSON fields, batch lines, bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, needs_cross

pytestmark = needs_cross

EXAMPLE = ROOT / "examples" / "verify"
SIG = "long clamp_sum(const int *a, int n, int lo, int hi)"


def retarget(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "retarget.cli", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def verify_args(candidate: Path, *extra: str, source: Path | None = None) -> list[str | Path]:
    return [
        "verify", source or EXAMPLE / "clamp_sum.x86_64.s", candidate,
        "--function", "clamp_sum", "--signature", SIG, "--target", "aarch64", *extra,
    ]  # fmt: skip


def broken_candidate(tmp_path: Path) -> Path:
    """The example with the operands of the upper clamp swapped: a real mismatch."""
    text = (EXAMPLE / "clamp_sum.aarch64.s").read_text()
    assert "csel\tw5, w3, w1, le" in text
    path = tmp_path / "broken.s"
    path.write_text(text.replace("csel\tw5, w3, w1, le", "csel\tw5, w1, w3, le"))
    return path


def test_verified_exits_0_with_json_fields() -> None:
    done = retarget(*verify_args(EXAMPLE / "clamp_sum.aarch64.s", "--json"))
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["verdict"] == "verified"
    assert result["function"] == "clamp_sum"
    assert result["tests"] > 0
    assert 0 < result["coverage"] <= 1
    assert result["detail"]
    assert result["counterexample"] is None


def test_mismatch_exits_1_with_counterexample(tmp_path: Path) -> None:
    done = retarget(*verify_args(broken_candidate(tmp_path), "--json"))
    assert done.returncode == 1, done.stdout + done.stderr
    result = json.loads(done.stdout)
    assert result["verdict"] == "mismatch"
    assert set(result["counterexample"]) >= {"inputs", "observable", "expected", "got"}


def test_human_output_names_the_counterexample(tmp_path: Path) -> None:
    done = retarget(*verify_args(broken_candidate(tmp_path)))
    assert done.returncode == 1
    assert "MISMATCH" in done.stdout
    assert "counterexample inputs" in done.stdout


def test_unmodelled_external_exits_3(tmp_path: Path) -> None:
    source = tmp_path / "ref.s"
    source.write_text(
        "\t.text\n\t.globl clamp_sum\nclamp_sum:\n\tsubq $8, %rsp\n\tcall getpid\n"
        "\taddq $8, %rsp\n\tret\n"
    )
    done = retarget(*verify_args(EXAMPLE / "clamp_sum.aarch64.s", "--json", source=source))
    assert done.returncode == 3, done.stdout + done.stderr
    result = json.loads(done.stdout)
    assert result["verdict"] == "unverifiable"
    assert "getpid" in result["detail"]


def test_source_that_is_not_assembly_exits_2_naming_file_and_line(tmp_path: Path) -> None:
    source = tmp_path / "notes.s"
    source.write_text("\t.text\nclamp_sum:\n\tthis is not an instruction\n")
    done = retarget(*verify_args(EXAMPLE / "clamp_sum.aarch64.s", source=source))
    assert done.returncode == 2
    assert f"{source}:3" in done.stderr
    assert "Traceback" not in done.stderr


def test_candidate_that_does_not_assemble_exits_2_with_assembler_message(tmp_path: Path) -> None:
    candidate = tmp_path / "cand.s"
    candidate.write_text("\t.text\n\t.globl clamp_sum\nclamp_sum:\n\tadd x0, x0\n\tret\n")
    done = retarget(*verify_args(candidate, "--json"))
    assert done.returncode == 2
    result = json.loads(done.stdout)
    assert result["verdict"] == "error"
    assert f"{candidate}:4" in result["detail"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("--function", "clamp_sum", "--function", "no_such_fn"), "no_such_fn"),
        (("--signature", SIG, "--signature", "long clamp_sum(int *"), "prototype"),
        (("--target", "aarch64", "--target", "mips"), "mips"),
    ],
)
def test_bad_arguments_exit_2(change: tuple[str, ...], message: str) -> None:
    args = verify_args(EXAMPLE / "clamp_sum.aarch64.s")
    old_flag, old_value, new_flag, new_value = change
    at = args.index(old_flag)
    assert args[at + 1] == old_value
    args[at : at + 2] = [new_flag, new_value]
    done = retarget(*args)
    assert done.returncode == 2, done.stdout + done.stderr
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_missing_file_exits_2(tmp_path: Path) -> None:
    done = retarget(*verify_args(tmp_path / "absent.s"))
    assert done.returncode == 2
    assert "absent.s" in done.stderr


def test_batch_keeps_order_and_survives_bad_lines(tmp_path: Path) -> None:
    good = {
        "source": str(EXAMPLE / "clamp_sum.x86_64.s"),
        "candidate": str(EXAMPLE / "clamp_sum.riscv64.s"),
        "function": "clamp_sum",
        "signature": SIG,
        "target": "riscv64",
    }
    lines = [
        json.dumps(good),
        "{not json",
        json.dumps({**good, "signature": ""}),
        json.dumps({**good, "candidate": str(broken_candidate(tmp_path)), "target": "aarch64"}),
        json.dumps({**good, "sizes": "a=n"}),
    ]
    jobs = tmp_path / "jobs.jsonl"
    jobs.write_text("\n".join(lines) + "\n")
    for workers in ("1", "2"):
        done = retarget("verify", "--batch", jobs, "--jobs", workers)
        assert done.returncode == 0, done.stderr
        results = [json.loads(line) for line in done.stdout.splitlines()]
        verdicts = [r["verdict"] for r in results]
        assert verdicts == ["verified", "error", "error", "mismatch", "verified"]
        assert f"{jobs}:2" in results[1]["detail"]
        assert "signature" in results[2]["detail"]


def test_translate_writes_a_port_that_verifies(tmp_path: Path) -> None:
    out = tmp_path / "out.s"
    done = retarget("translate", EXAMPLE / "clamp_sum.x86_64.s", "--to", "riscv64", "-o", out)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "clamp_sum" in done.stdout and "translated" in done.stdout
    check = retarget(*verify_args(out, "--json")[:-1], "--target", "riscv64", "--json")
    assert json.loads(check.stdout)["verdict"] == "verified"


def test_translate_lists_refusals_and_exits_1(tmp_path: Path) -> None:
    source = tmp_path / "mixed.s"
    source.write_text(
        "\t.text\n\t.globl ok\n\t.type ok,@function\nok:\n\tleaq 1(%rdi), %rax\n\tret\n"
        "\t.globl avx\n\t.type avx,@function\navx:\n\tvpaddd %ymm1, %ymm0, %ymm0\n\tret\n"
    )
    out = tmp_path / "out.s"
    done = retarget("translate", source, "--to", "aarch64", "-o", out, "--json")
    assert done.returncode == 1
    status = {f["name"]: f for f in json.loads(done.stdout)["functions"]}
    assert status["ok"]["translated"] is True
    assert status["avx"]["translated"] is False
    assert status["avx"]["line"] == 10
    assert "ok:" in out.read_text()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--to", "mips"), "mips"),
        (("--to", "aarch64", "--function", "nope"), "nope"),
    ],
)
def test_translate_bad_arguments_exit_2(
    args: tuple[str, ...], message: str, tmp_path: Path
) -> None:
    out = tmp_path / "out.s"
    done = retarget("translate", EXAMPLE / "clamp_sum.x86_64.s", *args, "-o", out)
    assert done.returncode == 2
    assert message in done.stderr
    assert not out.exists()


def test_translate_not_assembly_exits_2_with_line(tmp_path: Path) -> None:
    source = tmp_path / "bad.s"
    source.write_text("\t.text\nf:\n\tnot an instruction\n")
    out = tmp_path / "out.s"
    done = retarget("translate", source, "--to", "riscv64", "-o", out)
    assert done.returncode == 2
    assert f"{source}:3" in done.stderr
    assert not out.exists()
