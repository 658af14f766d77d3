"""Untrusted programs in a separate process under bubblewrap.

The jail: the host's root read-only, a private ``/tmp``, a fresh ``/dev`` and ``/proc``, every
namespace unshared (no network at all, own PID space), one scratch directory writable, and
optional extra directories read-only or writable. Resource limits are rlimits set by ``prlimit``
around bubblewrap, so everything inside inherits them: address space, CPU seconds,
file size, no core dumps. A wall-clock limit kills the whole process group.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from pydantic import BaseModel

from retarget.errors import ToolchainError


class Limits(BaseModel):
    """What one sandboxed run may use."""

    seconds: float = 120.0
    """Wall clock; the CPU-time limit is set a little above it."""
    memory_mb: int = 8192
    """Address space (RLIMIT_AS). PyTorch alone maps about 1.5 GiB."""
    file_mb: int = 512
    """Largest file the process may write (RLIMIT_FSIZE)."""
    gpu: bool = False
    """Let the process use the host's NVIDIA GPUs: their device nodes are bound into the
    jail, and memory is limited by RLIMIT_DATA instead of RLIMIT_AS (the CUDA driver reserves
    far more address space than it uses, so an address-space limit breaks it)."""


class ProcessResult(BaseModel):
    """How a sandboxed run ended; ``returncode`` is negative for a signal."""

    returncode: int
    stdout: str
    stderr: str
    timed_out: bool = False
    seconds: float = 0.0

    @property
    def signal_name(self) -> str | None:
        if self.returncode >= 0:
            return None
        try:
            return signal.Signals(-self.returncode).name
        except ValueError:
            return f"signal {-self.returncode}"


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise ToolchainError(
            f"{name} is needed to run untrusted code in a sandbox; install it (scripts/setup.sh)"
        )
    return path


def run_jailed(
    argv: Sequence[str],
    scratch: Path,
    limits: Limits,
    *,
    env: Mapping[str, str] | None = None,
    read_only: Sequence[Path] = (),
    writable: Sequence[Path] = (),
    stdin: str = "",
) -> ProcessResult:
    """Run ``argv`` in the jail with ``scratch`` as its writable working directory."""
    jail = [_tool("bwrap"), "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
            "--tmpfs", "/tmp", "--unshare-all", "--die-with-parent", "--new-session"]  # fmt: skip
    if limits.gpu:
        for node in sorted(Path("/dev").glob("nvidia*")):
            jail += ["--dev-bind", str(node), str(node)]
    for path in read_only:
        jail += ["--ro-bind", str(path), str(path)]
    for path in [*writable, scratch]:
        jail += ["--bind", str(path), str(path)]
    jail += ["--chdir", str(scratch), *argv]
    memory, size = limits.memory_mb * 1024 * 1024, limits.file_mb * 1024 * 1024
    cpu = int(limits.seconds * 2) + 5  # threads add CPU time faster than the wall clock
    # prlimit, not preexec_fn: evaluations start from threads, where preexec_fn is unsafe.
    bound = f"--data={memory}" if limits.gpu else f"--as={memory}"
    jail = [_tool("prlimit"), bound, f"--cpu={cpu}", f"--fsize={size}", "--core=0",
            "--", *jail]  # fmt: skip
    base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(scratch),
            "TMPDIR": str(scratch), "LANG": "C.UTF-8"}  # fmt: skip
    started = time.monotonic()
    child = subprocess.Popen(
        jail,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**base, **(env or {})},
        start_new_session=True,
    )
    timed_out = False
    try:
        out, err = child.communicate(stdin, timeout=limits.seconds)
    except subprocess.TimeoutExpired:
        timed_out = True
        _kill_group(child.pid)
        out, err = child.communicate()
    return ProcessResult(returncode=child.returncode, stdout=out[-20000:], stderr=err[-20000:],
                         timed_out=timed_out, seconds=time.monotonic() - started)  # fmt: skip


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)
