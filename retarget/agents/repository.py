"""Porting a whole repository: find its x86-64 assembly, solve every function, write the port
and the report. This is the run layer: it wires the problem, the model and the graph."""

from __future__ import annotations

import hashlib
import re
import shutil
import sqlite3
import subprocess
import tomllib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Literal

from langgraph.checkpoint.sqlite import SqliteSaver
from pydantic import BaseModel, Field

from retarget.agents.budget import Budget
from retarget.agents.graph import Outcome, OutcomeStatus, solve
from retarget.agents.trace import Trace
from retarget.agents.transpile import FunctionTask, TranspileProblem
from retarget.errors import InputError, SourceError
from retarget.isa.targets import get_target
from retarget.isa.toolchain import assemble
from retarget.llm.client import Model
from retarget.sandbox.process import Limits, run_jailed
from retarget.testgen.prototype import prototypes_in_c
from retarget.transpile.symbolic.translate import function_names, translate_source
from retarget.transpile.symbolic.unit import load_unit

STATE_DIR = ".retarget"
SKIPPED_DIRS = {".git", ".hg", ".svn", "__pycache__", STATE_DIR}


class FunctionReport(BaseModel):
    file: str
    function: str
    prototype: str = ""
    status: OutcomeStatus
    producer: Literal["symbolic", "model", "none"]
    reason: str = ""
    rounds: int = 0
    tests: int = 0
    coverage: float | None = None
    ratio: float | None = Field(None, description="executed instructions over the x86 original's")
    tokens: int = 0
    cost: float = 0.0
    key: str = Field("", description="content hash: source text, function, prototype, target")
    code: str = ""


class RepoReport(BaseModel):
    repository: str
    target: str
    output: str
    functions: list[FunctionReport]
    files: dict[str, str] = Field(default_factory=dict, description="file -> problem writing it")
    test_command: dict[str, str | int] | None = None

    @property
    def all_verified(self) -> bool:
        return not self.files and all(f.status == "verified" for f in self.functions)

    def summary(self) -> dict[str, int | float]:
        out: dict[str, int | float] = {"functions": len(self.functions)}
        for f in self.functions:
            out[f.status] = int(out.get(f.status, 0)) + 1
        out["by_model"] = sum(
            f.producer == "model" and f.status == "verified" for f in self.functions
        )
        out["tokens"] = sum(f.tokens for f in self.functions)
        out["cost"] = round(sum(f.cost for f in self.functions), 6)
        return out


class RepoConfig(BaseModel):
    """``retarget.toml`` at the repository root: prototypes and buffer sizes of functions
    no C header declares (or declares too loosely)."""

    prototypes: dict[str, str] = Field(default_factory=dict)
    sizes: dict[str, str] = Field(default_factory=dict)

    @classmethod
    def load(cls, repo: Path) -> RepoConfig:
        path = repo / "retarget.toml"
        if not path.is_file():
            return cls()
        try:
            return cls.model_validate(tomllib.loads(path.read_text()))
        except (tomllib.TOMLDecodeError, ValueError) as exc:
            raise InputError(f"{path}: {exc}") from exc


class Job(BaseModel):
    """One function to port."""

    file: str
    task_source: str
    function: str
    prototype: str | None
    sizes: str
    key: str


def _walk(repo: Path, out: Path) -> list[Path]:
    files = []
    for path in sorted(repo.rglob("*")):
        rel = path.relative_to(repo)
        if any(part in SKIPPED_DIRS for part in rel.parts) or path.is_relative_to(out):
            continue
        if path.is_file():
            files.append(path)
    return files


def _assembly_text(path: Path, repo: Path) -> str:
    """A ``.s`` file as it is; a ``.S`` file through the C preprocessor."""
    if path.suffix == ".s":
        return path.read_text()
    command = ["gcc", "-E", "-P", "-x", "assembler-with-cpp", f"-I{path.parent}", f"-I{repo}",
               str(path)]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    if done.returncode != 0:
        raise SourceError("cannot preprocess", str(path), details=done.stderr)
    return done.stdout


def _prototypes(files: list[Path], config: RepoConfig) -> dict[str, str]:
    found: dict[str, str] = {}
    for path in files:
        if path.suffix in (".h", ".c"):
            found |= {
                n: p.render() for n, p in prototypes_in_c(path.read_text(errors="replace")).items()
            }
    return found | config.prototypes


def _key(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:24]


def plan_jobs(repo: Path, target: str, out: Path) -> tuple[list[Job], list[Path], dict[str, str]]:
    """The functions to port, the files to copy as they are, and the assembly texts."""
    config = RepoConfig.load(repo)
    files = _walk(repo, out)
    prototypes = _prototypes(files, config)
    jobs: list[Job] = []
    texts: dict[str, str] = {}
    for path in files:
        if path.suffix not in (".s", ".S"):
            continue
        rel = str(path.relative_to(repo))
        text = _assembly_text(path, repo)
        texts[rel] = text
        for name in function_names(load_unit(text, rel)):
            prototype = prototypes.get(name)
            sizes = config.sizes.get(name, "")
            key = _key(text, name, prototype or "", target, sizes)
            jobs.append(Job(file=rel, task_source=text, function=name, prototype=prototype,
                            sizes=sizes, key=key))  # fmt: skip
    copies = [p for p in files if p.suffix not in (".s", ".S")]
    return jobs, copies, texts


def _report_of(job: Job, outcome: Outcome) -> FunctionReport:
    best = outcome.best
    producer: Literal["symbolic", "model", "none"] = "none"
    if best is not None:
        producer = "symbolic" if best.origin == "seed" else "model"
    return FunctionReport(
        file=job.file, function=job.function, prototype=job.prototype or "",
        status=outcome.status, producer=producer,
        reason=outcome.reason if outcome.status != "verified" else "",
        rounds=outcome.rounds, tests=best.evaluation.tests if best else 0,
        coverage=best.evaluation.coverage if best else None,
        ratio=best.evaluation.ratio if best else None, tokens=outcome.tokens,
        cost=round(outcome.cost, 6), key=job.key,
        code=best.code if best and best.evaluation.verified else "",
    )  # fmt: skip


class Runner:
    """Solves the jobs of one repository, with resumable state under ``out/.retarget``."""

    def __init__(self, target: str, out: Path, model: Model | None, budget: Budget,
                 resume: bool) -> None:  # fmt: skip
        self.target = target
        self.model = model
        self.budget = budget
        state = out / STATE_DIR
        if not resume and state.exists():
            for name in ("checkpoints.sqlite", "results.jsonl"):
                (state / name).unlink(missing_ok=True)
        state.mkdir(parents=True, exist_ok=True)
        self.results_path = state / "results.jsonl"
        self.trace = Trace(state / "trace.jsonl")
        db = sqlite3.connect(str(state / "checkpoints.sqlite"), check_same_thread=False)
        self.saver = SqliteSaver(db)
        self.done = self._load_done() if resume else {}

    def _load_done(self) -> dict[str, FunctionReport]:
        if not self.results_path.is_file():
            return {}
        reports = [FunctionReport.model_validate_json(line)
                   for line in self.results_path.read_text().splitlines() if line.strip()]  # fmt: skip
        return {r.key: r for r in reports if r.status == "verified"}

    def run(self, job: Job) -> FunctionReport:
        if job.key in self.done:
            return self.done[job.key]
        if job.prototype is None:
            report = FunctionReport(
                file=job.file, function=job.function, status="refused", producer="none",
                reason="no prototype: declare it in a header or in retarget.toml [prototypes]",
                key=job.key,
            )  # fmt: skip
        else:
            report = self._solve(job, job.prototype)
        with self.results_path.open("a") as out:
            out.write(report.model_dump_json() + "\n")
        return report

    def _solve(self, job: Job, prototype: str) -> FunctionReport:
        task = FunctionTask(path=job.file, source=job.task_source, function=job.function,
                            prototype=prototype, target=self.target, sizes=job.sizes)  # fmt: skip
        try:
            problem = TranspileProblem(task)
            outcome = solve(problem, self.model, self.budget, checkpointer=self.saver,
                            trace=self.trace, thread=job.key)  # fmt: skip
        except InputError as exc:
            return FunctionReport(file=job.file, function=job.function, status="error",
                                  producer="none", reason=str(exc), key=job.key)  # fmt: skip
        return _report_of(job, outcome)


def rename_local_labels(code: str, suffix: str) -> str:
    """``.Lfoo`` -> ``.Lfoo_suffix``: model-written functions combined in one file must not
    share local labels."""
    return re.sub(r"\.L([A-Za-z0-9_$.]+)", lambda m: f".L{m.group(1)}_{suffix}", code)


def write_file(rel: str, text: str, reports: list[FunctionReport], target: str) -> tuple[str, str]:
    """The port of one assembly file: the verified symbolic functions translated together
    (sharing their data), then the verified model-written ones. Also what went wrong, if
    anything ("" when nothing did)."""
    signatures = {r.function: r.prototype for r in reports if r.prototype}
    symbolic = [r.function for r in reports if r.status == "verified" and r.producer == "symbolic"]
    result = translate_source(text, target, rel, only=symbolic, signatures=signatures)
    assembly = result.assembly
    lost = [f.name for f in result.refused]
    for r in reports:
        if r.status == "verified" and r.producer == "model":
            assembly += f"\n\t.text\n{rename_local_labels(r.code, r.function)}"
    problem = f"functions lost when the file was put together: {', '.join(lost)}" if lost else ""
    return assembly, problem


def check_assembles(assembly: str, target: str, rel: str, workdir: Path) -> str | None:
    """The assembler's complaint about ``assembly``, or None."""
    try:
        assemble(get_target(target), assembly, workdir / "check.o", rel)
    except SourceError as exc:
        return str(exc)
    return None


def transpile_repository(
    repo: Path,
    target: str,
    out: Path,
    model: Model | None,
    budget: Budget,
    *,
    jobs: int = 1,
    resume: bool = False,
    progress: Callable[[FunctionReport, int], None] | None = None,
) -> RepoReport:
    """``progress`` hears of each finished function, with the number of functions in all."""
    if not repo.is_dir():
        raise InputError(f"{repo}: not a directory")
    get_target(target)
    planned, copies, texts = plan_jobs(repo, target, out)
    runner = Runner(target, out, model, budget, resume)
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        reports = []
        for done in pool.map(runner.run, planned):
            reports.append(done)
            if progress is not None:
                progress(done, len(planned))
    report = RepoReport(repository=str(repo), target=target, output=str(out), functions=reports)
    for path in copies:
        dest = out / path.relative_to(repo)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, dest)
    for rel, text in texts.items():
        mine = [r for r in reports if r.file == rel]
        assembly, problem = write_file(rel, text, mine, target)
        # The symbolic part was assembled by the translator; model-written code was
        # assembled alone: only the two together need a check.
        combined = any(r.status == "verified" and r.producer == "model" for r in mine)
        complaint = check_assembles(assembly, target, rel, out / STATE_DIR) if combined else None
        if complaint is not None:
            problem = f"the combined port does not assemble: {complaint}"
        if problem:
            report.files[rel] = problem
        dest = (out / rel).with_suffix(".s")
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(assembly)
    return report


def run_test_command(command: str, out: Path, target: str) -> dict[str, str | int]:
    """The repository's own test command, run in the port's tree with the target's cross
    tools and qemu-user (``CC``, ``AS``, ``QEMU``/``RUN`` in the environment). The port holds
    model-written code, so the command runs in the sandbox: no network, a read-only system,
    only the output tree writable, 4 GiB of address space and 600 s."""
    isa = get_target(target)
    qemu = f"qemu-{isa.name}-static"
    env = {"CC": f"{isa.triple}-gcc", "AS": f"{isa.triple}-as", "QEMU": qemu, "RUN": qemu}
    done = run_jailed(["sh", "-c", command], out, Limits(seconds=600, memory_mb=4096), env=env)
    if done.timed_out:
        return {"command": command, "exit": -1, "output": "timed out after 600 s"}
    tail = (done.stdout + done.stderr)[-4000:]
    return {"command": command, "exit": done.returncode, "output": tail}
