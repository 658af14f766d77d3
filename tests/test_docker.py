"""The Docker sandbox, for real: scripts/docker.sh starts dockerd and builds the image locally,
then programs run in containers through the Docker SDK and must meet every limit, and the kernel
evaluator runs end to end with ``sandbox="docker"``."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from retarget.cli_kernel import eval_options
from retarget.kernelgen.evaluate import EvalOptions, evaluate
from retarget.kernelgen.harness import Timing
from retarget.kernelgen.task import load_task
from retarget.sandbox.docker import (
    DockerConfig,
    container_options,
    container_user,
    run_container,
    runtime_binds,
)
from retarget.sandbox.process import Limits, ProcessResult

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "kernels"
HACKS = Path(__file__).parent / "data" / "kernels"
SILU = load_task(EXAMPLES / "tasks" / "silu.py")


@pytest.fixture(scope="module")
def docker_sandbox() -> Iterator[DockerConfig]:
    """dockerd up and the image built (scripts/docker.sh, idempotent). Skipped only where
    dockerd cannot start, and never on CI."""
    script = ROOT / "scripts" / "docker.sh"
    done = subprocess.run([str(script)], capture_output=True, text=True, timeout=900,
                          env={**os.environ, "PYTHON": sys.executable}, check=False)  # fmt: skip
    output = (done.stdout + done.stderr)[-3000:]
    if done.returncode == 3 and not os.environ.get("CI"):
        print(f"scripts/docker.sh: dockerd cannot start on this machine:\n{output}")
        pytest.skip(f"dockerd cannot start on this machine: {output[-300:]}")
    assert done.returncode == 0, f"scripts/docker.sh failed ({done.returncode}):\n{output}"
    yield DockerConfig()


def in_container(
    code: str, scratch: Path, config: DockerConfig, *, seconds: float = 60,
    memory_mb: int = 1024, stdin: str = "",
) -> ProcessResult:  # fmt: skip
    return run_container([sys.executable, "-c", code], scratch,
                         Limits(seconds=seconds, memory_mb=memory_mb), config=config,
                         read_only=runtime_binds(), stdin=stdin)  # fmt: skip


def assert_removed(name: str) -> None:
    import docker

    client = docker.from_env()
    try:
        with pytest.raises(docker.errors.NotFound):
            client.containers.get(name)
    finally:
        client.close()


def test_the_container_has_no_network(docker_sandbox: DockerConfig, tmp_path: Path) -> None:
    code = """
import socket
for address in [("1.1.1.1", 53), ("8.8.8.8", 443), ("127.0.0.1", 2375)]:
    try:
        socket.create_connection(address, timeout=3).close()
        print("connected", address)
    except OSError as error:
        print("refused", address, error.errno)
print(sorted(name for _, name in socket.if_nameindex()))
"""
    done = in_container(code, tmp_path, docker_sandbox)
    assert done.returncode == 0, done.stderr
    assert "connected" not in done.stdout and done.stdout.count("refused") == 3
    assert done.stdout.strip().splitlines()[-1] == "['lo']"


def test_the_root_is_read_only_and_only_scratch_and_tmp_are_writable(
    docker_sandbox: DockerConfig, tmp_path: Path
) -> None:
    code = """
import os
for path in ["/evil", "/usr/evil", "/etc/passwd", os.path.join(os.__file__ + ".evil")]:
    try:
        open(path, "a").close()
        print("wrote", path)
    except OSError as error:
        print("denied", path, error.errno)
open("here.txt", "w").write("scratch")
open("/tmp/t", "w").write("tmp")
print("ok")
"""
    done = in_container(code, tmp_path, docker_sandbox)
    assert done.returncode == 0, done.stderr
    assert "wrote" not in done.stdout and done.stdout.count("denied") == 4, done.stdout
    assert (tmp_path / "here.txt").read_text() == "scratch"


def test_the_program_runs_as_a_non_root_user_without_capabilities(
    docker_sandbox: DockerConfig, tmp_path: Path
) -> None:
    code = """
import os
print(os.getuid(), os.geteuid(), os.getgid())
print([l.split()[1] for l in open("/proc/self/status") if l.startswith(("CapEff", "CapPrm"))])
print(open("/proc/self/status").read().split("NoNewPrivs:")[1].split()[0])
"""
    done = in_container(code, tmp_path, docker_sandbox)
    assert done.returncode == 0, done.stderr
    ids, caps, no_new_privs = done.stdout.strip().splitlines()
    uid, euid, gid = map(int, ids.split())
    assert uid != 0 and euid != 0 and (uid, gid) == container_user(docker_sandbox)
    assert caps == "['0000000000000000', '0000000000000000']"
    assert no_new_privs == "1"


def test_stdin_arrives_and_its_file_is_gone(docker_sandbox: DockerConfig, tmp_path: Path) -> None:
    code = "import os, sys; print(sys.stdin.read()); print(sorted(os.listdir('.')))"
    done = in_container(code, tmp_path, docker_sandbox, stdin='{"request": 1}')
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ['{"request": 1}', "[]"]


def test_the_wall_clock_limit_kills_and_removes_the_container(
    docker_sandbox: DockerConfig, tmp_path: Path
) -> None:
    code = "import socket, time; print(socket.gethostname(), flush=True); time.sleep(600)"
    done = in_container(code, tmp_path, docker_sandbox, seconds=3)
    assert done.timed_out and done.signal_name == "SIGKILL"
    assert_removed(done.stdout.strip())


def test_the_memory_limit_kills(docker_sandbox: DockerConfig, tmp_path: Path) -> None:
    code = """
import socket
print(socket.gethostname(), flush=True)
hoard = []
while True:
    hoard.append(b"x" * (32 << 20))
"""
    done = in_container(code, tmp_path, docker_sandbox, memory_mb=256)
    assert not done.timed_out and done.signal_name == "SIGKILL"
    assert "memory limit (256 MiB) was reached" in done.stderr
    assert_removed(done.stdout.strip())


def test_the_pids_limit_stops_a_fork_bomb(docker_sandbox: DockerConfig, tmp_path: Path) -> None:
    code = """
import os, time
started = 0
try:
    for _ in range(200):
        if os.fork() == 0:
            time.sleep(60)
            os._exit(0)
        started += 1
    print("forked", started)
except OSError as error:
    print("refused after", started, error.errno)
"""
    config = docker_sandbox.model_copy(update={"pids": 32})
    done = in_container(code, tmp_path, config)
    assert done.returncode == 0, done.stderr
    words = done.stdout.split()
    assert words[:2] == ["refused", "after"], done.stdout
    assert int(words[2]) < 32 and int(words[3]) == 11  # EAGAIN


def test_container_settings_and_the_gpu_request(tmp_path: Path) -> None:
    """No daemon needed: the options handed to the SDK."""
    limits = Limits(seconds=10, memory_mb=512)

    def options(config: DockerConfig) -> dict[str, object]:
        return container_options(["true"], tmp_path, limits, config, env={}, read_only=[],
                                 writable=[])  # fmt: skip

    plain = options(DockerConfig(cpus=1.5, pids=99))
    assert plain["network_mode"] == "none" and plain["read_only"] is True
    assert plain["mem_limit"] == plain["memswap_limit"] == "512m"
    assert plain["pids_limit"] == 99 and plain["nano_cpus"] == 1_500_000_000
    assert plain["cap_drop"] == ["ALL"] and plain["security_opt"] == ["no-new-privileges"]
    assert "/tmp" in plain["tmpfs"]  # type: ignore[operator]
    assert not str(plain["user"]).startswith("0:")
    assert "device_requests" not in plain
    gpu = options(DockerConfig(gpu=True))
    requests = gpu["device_requests"]
    assert isinstance(requests, list) and len(requests) == 1
    request = requests[0]
    assert request["Count"] == -1 and request["Capabilities"] == [["gpu"]]


def test_the_setting_selects_the_docker_sandbox(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RETARGET_KERNEL_SANDBOX", raising=False)
    assert eval_options().sandbox == "process"
    monkeypatch.setenv("RETARGET_KERNEL_SANDBOX", "docker")
    assert eval_options().sandbox == "docker"


@pytest.fixture(scope="module")
def docker_options(
    docker_sandbox: DockerConfig, tmp_path_factory: pytest.TempPathFactory
) -> EvalOptions:
    pytest.importorskip("torch", reason="the kernel side needs torch: scripts/setup.sh installs it")
    return EvalOptions(seeds=2, compile_baseline=False, profile=False, sandbox="docker",
                       docker=docker_sandbox, timing=Timing(repeats=5, warmup=1),
                       cache=tmp_path_factory.mktemp("docker-kernel-cache"),
                       limits=Limits(seconds=120, memory_mb=4096))  # fmt: skip


def test_a_correct_candidate_evaluates_correct_in_docker(docker_options: EvalOptions) -> None:
    source = (EXAMPLES / "cpp" / "silu.py").read_text()
    result = evaluate(SILU, source, "cpp", docker_options)
    assert (result.verdict, result.correct) == ("correct", True), result.reason
    assert result.trials == 4 and sum(result.launches.values()) >= 4


@pytest.mark.parametrize(("hack", "reason"), [("mutates_inputs", "changed its inputs"),
                                              ("allocates_unbounded", "memory limit")])  # fmt: skip
def test_a_hack_caught_at_run_time_is_rejected_in_docker(
    hack: str, reason: str, docker_options: EvalOptions
) -> None:
    result = evaluate(SILU, (HACKS / f"{hack}.py").read_text(), "cpp", docker_options)
    assert result.verdict == "rejected" and not result.correct
    assert result.stage != "static" and reason in result.reason, result.reason
