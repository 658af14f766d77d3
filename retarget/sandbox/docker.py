"""Untrusted programs in a Docker container, through the Docker SDK.

The same contract as :func:`retarget.sandbox.process.run_jailed` (a command, a scratch directory
writable at its own path, extra directories read-only or writable, an environment, stdin, the
:class:`~retarget.sandbox.process.Limits`), and the same :class:`ProcessResult`, in a container:
no network at all, the root file system read-only with a private ``/tmp`` in memory, a non-root
user with every capability dropped and no privilege gain, memory (swap included), process and
CPU limits from cgroups, file-size and core rlimits, and every GPU only when configured.

The image is a plain Debian root file system (``scripts/docker.sh`` builds it with debootstrap
and ``docker import``); the Python environment is not copied into it but bound read-only at its
own paths (:func:`runtime_binds`), so the same interpreter and packages run on both sides.

stdin goes through a file in the scratch directory: the container's shell opens it as its
stdin, deletes it, then execs the command, so the program never sees it as a file.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sys
import time
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path

from pydantic import BaseModel

from retarget.errors import ToolchainError
from retarget.sandbox.process import Limits, ProcessResult

DEFAULT_IMAGE = "retarget-sandbox:1"
LABEL = "retarget.sandbox"
"""Label on every container started here (``docker ps -a --filter label=retarget.sandbox``)."""
_STDIN = ".retarget-stdin"
_SYSTEM = {Path("/"), Path("/usr"), Path("/bin"), Path("/lib"), Path("/usr/bin"), Path("/usr/lib")}
"""Directories the image has its own copies of, never bound over it."""


class DockerConfig(BaseModel):
    """How the container is set up (the time and memory limits come from ``Limits``)."""

    image: str = DEFAULT_IMAGE
    """Image the container starts from; ``scripts/docker.sh`` builds the default one locally."""
    gpu: bool = False
    """Request every GPU of the host (``device_requests``); needs the NVIDIA container toolkit."""
    pids: int = 1024
    """Most processes and threads alive at once (pids cgroup); PyTorch's thread pools count."""
    cpus: float | None = None
    """CPUs the container may use (``nano_cpus``); ``None`` for all of the host's."""
    user: str = "65534:65534"
    """``uid:gid`` inside the container when the caller is root (the scratch directory and the
    writable directories are handed to it). Any other caller runs as its own uid:gid, so that it
    can remove what the container wrote."""
    tmp_mb: int = 1024
    """Size of the in-memory ``/tmp`` (it counts against the memory limit)."""


def runtime_binds() -> list[Path]:
    """What a ``sys.executable -m ...`` of this environment needs bound into the image: the
    interpreter's prefixes (a virtual environment and the Python it was made from), or, for a
    Python installed in ``/usr``, its ``sys.path`` directories and the interpreter; and the CUDA
    toolkit when ``nvcc`` lives outside ``/usr``."""
    binds: list[Path] = []
    for prefix in {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}:
        path = Path(prefix).resolve()
        if path not in _SYSTEM:
            binds.append(path)
            continue
        binds.append(Path(sys.executable).resolve())
        binds += [Path(p).resolve() for p in sys.path if p and Path(p).is_dir()]
    nvcc = shutil.which("nvcc")
    if nvcc is not None:
        toolkit = Path(nvcc).resolve().parent.parent
        if toolkit not in _SYSTEM:
            binds.append(toolkit)
    return _unique([b for b in binds if b.exists() and b not in _SYSTEM])


def container_user(config: DockerConfig) -> tuple[int, int]:
    """The uid and gid the container runs as (never root)."""
    if os.getuid() != 0:
        return os.getuid(), os.getgid()
    uid, _, gid = config.user.partition(":")
    user = (int(uid), int(gid or uid))
    if user[0] == 0:
        raise ValueError("the container must not run as root (DockerConfig.user)")
    return user


def container_options(
    argv: Sequence[str], scratch: Path, limits: Limits, config: DockerConfig, *,
    env: Mapping[str, str], read_only: Sequence[Path], writable: Sequence[Path],
) -> dict[str, object]:  # fmt: skip
    """The keyword arguments of ``containers.create`` for one run."""
    from docker.types import DeviceRequest, LogConfig, Mount, Ulimit

    uid, gid = container_user(config)
    mounts: dict[str, Mount] = {}
    binds = [(p, True) for p in read_only] + [(p, False) for p in [*writable, scratch]]
    for path, read in binds:  # a directory both read-only and writable ends up writable
        source = str(Path(path).resolve())
        if not Path(source).exists():
            raise ToolchainError(f"cannot bind {path} into the container: it does not exist")
        mounts[str(path)] = Mount(str(path), source, type="bind", read_only=read)
    stdin = scratch / _STDIN
    shell = 'exec <"$1" && rm -f -- "$1" && shift && exec "$@"'
    size = limits.file_mb * 1024 * 1024
    options: dict[str, object] = {
        "image": config.image,
        "command": ["/bin/sh", "-c", shell, "sh", str(stdin), *argv],
        "working_dir": str(scratch),
        "environment": dict(env),
        "user": f"{uid}:{gid}",
        "network_mode": "none",
        "read_only": True,
        "tmpfs": {"/tmp": f"rw,nosuid,nodev,size={config.tmp_mb}m,mode=1777"},
        "mounts": [mounts[k] for k in sorted(mounts)],
        "mem_limit": f"{limits.memory_mb}m",
        "memswap_limit": f"{limits.memory_mb}m",
        "pids_limit": config.pids,
        "nano_cpus": int((config.cpus or os.cpu_count() or 1) * 1e9),
        "cap_drop": ["ALL"],
        "security_opt": ["no-new-privileges"],
        "ulimits": [Ulimit(name=n, soft=v, hard=v) for n, v in (("fsize", size), ("core", 0))],
        "log_config": LogConfig(type="json-file", config={"max-size": "16m", "max-file": "1"}),
        "labels": {LABEL: "1"},
        "name": f"retarget-{uuid.uuid4().hex[:16]}",
        "detach": True,
    }
    if config.gpu:
        options["device_requests"] = [DeviceRequest(count=-1, capabilities=[["gpu"]])]
    return options


def run_container(
    argv: Sequence[str],
    scratch: Path,
    limits: Limits,
    *,
    config: DockerConfig | None = None,
    env: Mapping[str, str] | None = None,
    read_only: Sequence[Path] = (),
    writable: Sequence[Path] = (),
    stdin: str = "",
) -> ProcessResult:
    """Run ``argv`` in a container with ``scratch`` as its writable working directory.

    The container is killed at the wall-clock limit (``timed_out``) and removed in every case;
    one the kernel killed for its memory limit reports SIGKILL with a note on stderr."""
    import docker
    import requests

    config = config or DockerConfig()
    uid, gid = container_user(config)
    (scratch / _STDIN).write_text(stdin)
    _hand_over([scratch, *writable], uid, gid)
    base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(scratch),
            "TMPDIR": str(scratch), "LANG": "C.UTF-8"}  # fmt: skip
    options = container_options(argv, scratch, limits, config, env={**base, **(env or {})},
                                read_only=read_only, writable=writable)  # fmt: skip
    try:
        client = docker.from_env(timeout=120)
        client.ping()
    except docker.errors.DockerException as error:
        raise ToolchainError(f"the Docker daemon is not reachable ({error}); start it with "
                             "scripts/docker.sh") from error  # fmt: skip
    try:
        try:
            container = client.containers.create(**options)  # type: ignore[arg-type]
        except docker.errors.ImageNotFound as error:
            raise ToolchainError(f"no image {config.image}: build it with scripts/docker.sh"
                                 ) from error  # fmt: skip
        started = time.monotonic()
        timed_out = False
        try:
            container.start()
            try:
                status = int(container.wait(timeout=limits.seconds)["StatusCode"])
            except requests.exceptions.RequestException as error:  # the SDK's read timeout
                if time.monotonic() - started < limits.seconds:
                    raise ToolchainError(f"lost the Docker daemon: {error}") from error
                timed_out = True
                with contextlib.suppress(docker.errors.APIError):  # it may have just ended
                    container.kill()
                status = int(container.wait(timeout=60)["StatusCode"])
            seconds = time.monotonic() - started
            container.reload()
            killed = bool(container.attrs["State"].get("OOMKilled"))
            out = container.logs(stdout=True, stderr=False).decode(errors="replace")
            err = container.logs(stdout=False, stderr=True).decode(errors="replace")
        finally:
            container.remove(force=True)
    finally:
        client.close()
    returncode = -signal.SIGKILL if timed_out else _returncode(status)
    if killed and not timed_out:
        returncode = -signal.SIGKILL
        err += (f"\n[sandbox] the container's memory limit ({limits.memory_mb} MiB) was reached: "
                "killed by the kernel's OOM killer\n")  # fmt: skip
    return ProcessResult(returncode=returncode, stdout=out[-20000:], stderr=err[-20000:],
                         timed_out=timed_out, seconds=seconds)  # fmt: skip


def _returncode(status: int) -> int:
    """Docker reports a command killed by signal N as 128 + N; ``ProcessResult`` as -N."""
    if 128 < status < 128 + 65:
        return -(status - 128)
    return status


def _hand_over(paths: Sequence[Path], uid: int, gid: int) -> None:
    """Give the container's user the directories it may write (only needed when we are root and
    it is not us): every entry not already its own."""
    if os.getuid() != 0 or uid == 0:
        return
    for top in paths:
        names = [str(top)]
        for root, dirs, files in os.walk(top):
            names += [os.path.join(root, n) for n in [*dirs, *files]]
        for name in names:
            with contextlib.suppress(FileNotFoundError):  # a concurrent build's own leftovers
                info = os.lstat(name)
                if (info.st_uid, info.st_gid) != (uid, gid):
                    os.lchown(name, uid, gid)


def _unique(paths: Sequence[Path]) -> list[Path]:
    seen: dict[Path, None] = {}
    for path in paths:
        seen.setdefault(path, None)
    return list(seen)
