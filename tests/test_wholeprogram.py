"""Translated code in a real program: linked with a C driver built for the target and run under
qemu-user, its output must equal the x86-64 build's."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT, needs_cross

DATA = ROOT / "tests" / "data" / "wholeprog"
QEMU = {"aarch64": "qemu-aarch64-static", "riscv64": "qemu-riscv64-static"}

pytestmark = [
    needs_cross,
    pytest.mark.skipif(not shutil.which("qemu-aarch64-static"), reason="qemu-user missing"),
]


def run(argv: list[str | Path], **kw: object) -> str:
    done = subprocess.run([str(a) for a in argv], capture_output=True, text=True, timeout=120,
                          check=False, **kw)  # type: ignore[call-overload]  # fmt: skip
    assert done.returncode == 0, (argv, done.stdout, done.stderr)
    return str(done.stdout)


def x86_output(tmp: Path, source: Path) -> str:
    program = tmp / "x86prog"
    run(["gcc", "-O2", DATA / "driver.c", source, "-o", program])
    return run([program])


def retarget(*args: str | Path) -> None:
    run(["python3", "-m", "retarget.cli", *args])


@pytest.mark.parametrize("target", ["aarch64", "riscv64"])
@pytest.mark.parametrize("opt", ["-O0", "-O2"])
def test_translated_library_runs_like_the_original(target: str, opt: str, tmp_path: Path) -> None:
    source = tmp_path / "lib.s"
    run(["gcc", opt, "-S", "-fno-asynchronous-unwind-tables", DATA / "lib.c", "-o", source])
    # The C file beside the assembly gives the translator its prototypes.
    shutil.copy(DATA / "lib.c", tmp_path / "lib.c")
    expected = x86_output(tmp_path, source)
    out = tmp_path / f"lib.{target}.s"
    retarget("translate", source, "--to", target, "-o", out)
    program = tmp_path / f"prog.{target}"
    run([f"{target}-linux-gnu-gcc", "-static", DATA / "driver.c", out, "-o", program])
    assert run([QEMU[target], program]) == expected


@pytest.mark.parametrize("target", ["aarch64", "riscv64"])
def test_one_function_links_beside_native_code(target: str, tmp_path: Path) -> None:
    source = tmp_path / "lib.s"
    run(["gcc", "-O2", "-S", "-fno-asynchronous-unwind-tables", DATA / "lib.c", "-o", source])
    expected = x86_output(tmp_path, source)
    only = tmp_path / "scale.s"
    retarget("translate", source, "--to", target, "-o", only, "--function", "scale")
    rest = tmp_path / "rest.o"
    gcc = f"{target}-linux-gnu-gcc"
    run([gcc, "-O2", "-c", "-DSKIP_SCALE", "-fsigned-char", DATA / "lib.c", "-o", rest])
    program = tmp_path / f"mixed.{target}"
    run([gcc, "-static", DATA / "driver.c", rest, only, "-o", program])
    assert run([QEMU[target], program]) == expected
