"""The ``retarget`` command line. Thin: it reads flags, calls the library, prints results."""

from __future__ import annotations

import json
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Annotated, Any

import typer

from retarget.config import VerifySettings
from retarget.errors import InputError, RetargetError, SourceError
from retarget.testgen.inputs import parse_sizes
from retarget.testgen.search import SearchLimits
from retarget.transpile.verify import Verdict, VerificationResult, VerifyOptions, verify_function

app = typer.Typer(
    name="retarget",
    help="Verified transpilation of x86-64 assembly to AArch64 and RISC-V.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _add_kernel_commands() -> None:
    from retarget.cli_kernel import kernel_app

    app.add_typer(kernel_app, name="kernel")


_add_kernel_commands()


@app.callback()
def _root() -> None:
    """retarget: verified transpilation and kernel generation."""


EXIT_CODES = {Verdict.VERIFIED: 0, Verdict.MISMATCH: 1, Verdict.UNVERIFIABLE: 3, Verdict.ERROR: 2}


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise SourceError(f"cannot read: {exc.strerror}", str(path)) from exc


def _options(seed: int, sizes: str | None) -> VerifyOptions:
    settings = VerifySettings()
    return VerifyOptions(
        seed=seed,
        sizes=parse_sizes(sizes),
        hidden_tests=settings.hidden_tests,
        limits=SearchLimits(max_runs=settings.max_runs, max_tests=settings.max_tests),
        budget=settings.budget,
        timeout_ms=settings.timeout_ms,
    )


def verify_job(job: dict[str, Any]) -> dict[str, Any]:
    """One batch line -> one JSON-able result; bad input becomes an ``error`` result."""
    function = str(job.get("function", ""))
    target = str(job.get("target", ""))
    try:
        missing = [
            k for k in ("source", "candidate", "function", "signature", "target") if not job.get(k)
        ]
        if missing:
            raise InputError(f"missing field(s): {', '.join(missing)}")
        source, candidate = Path(job["source"]), Path(job["candidate"])
        result = verify_function(
            _read(source), _read(candidate), function, str(job["signature"]), target,
            _options(int(job.get("seed", 0)), job.get("sizes")),
            source_name=str(source), candidate_name=str(candidate),
        )  # fmt: skip
        return result.model_dump(mode="json")
    except (RetargetError, ValueError, TypeError) as exc:
        return VerificationResult(
            verdict=Verdict.ERROR, function=function, target=target, stage="input", detail=str(exc)
        ).model_dump(mode="json")


def _print_human(result: VerificationResult) -> None:
    lines = [
        f"{result.function} → {result.target}: {result.verdict.value.upper()}",
        f"  {result.detail}",
    ]
    if result.verdict in (Verdict.VERIFIED, Verdict.MISMATCH):
        lines.append(
            f"  tests {result.tests} (hidden {result.hidden_tests}), coverage "
            f"{result.coverage:.0%} of {result.blocks_total} blocks, instructions "
            f"{result.reference_insns} x86-64 / {result.candidate_insns} {result.target}"
        )
    if result.counterexample is not None:
        ce = result.counterexample
        lines.append(f"  counterexample inputs: {json.dumps(ce.inputs)}")
        lines.append(f"  {ce.observable}: expected {ce.expected}, got {ce.got}")
    typer.echo("\n".join(lines))


def _batch(path: Path, jobs: int) -> None:
    items: list[dict[str, Any]] = []
    for number, line in enumerate(_read(path).splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            if not isinstance(item, dict):
                raise ValueError("not a JSON object")
            items.append(item)
        except ValueError as exc:
            items.append({"_error": f"{path}:{number}: not a JSON object ({exc})"})

    def run_all() -> list[dict[str, Any]]:
        if jobs <= 1:
            return [_one(item) for item in items]
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            return list(pool.map(_one, items))

    for result in run_all():
        typer.echo(json.dumps(result))


def _one(item: dict[str, Any]) -> dict[str, Any]:
    if "_error" in item:
        return VerificationResult(
            verdict=Verdict.ERROR, function="", target="", stage="input", detail=item["_error"]
        ).model_dump(mode="json")
    return verify_job(item)


@app.command()
def verify(
    source: Annotated[Path | None, typer.Argument(help="x86-64 assembly (gcc/clang -S)")] = None,
    candidate: Annotated[Path | None, typer.Argument(help="AArch64 or RISC-V assembly")] = None,
    function: Annotated[str | None, typer.Option(help="function to verify")] = None,
    signature: Annotated[
        str | None, typer.Option(help='C prototype, e.g. "int f(int *a, int n)"')
    ] = None,
    target: Annotated[str | None, typer.Option(help="aarch64 or riscv64")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
    seed: Annotated[int, typer.Option(help="seed of the generated tests")] = 0,
    sizes: Annotated[str | None, typer.Option(help="buffer sizes, e.g. a=n,b=16")] = None,
    batch: Annotated[Path | None, typer.Option(help="JSONL file of jobs")] = None,
    jobs: Annotated[int, typer.Option(help="parallel workers for --batch")] = 1,
) -> None:
    """Verify a candidate translation against the x86-64 original.

    Exit 0 verified, 1 mismatch, 3 unverifiable, 2 bad input.
    """
    if batch is not None:
        _batch(batch, jobs)
        return
    missing = [n for n, v in (("SOURCE", source), ("CANDIDATE", candidate), ("--function", function),
                              ("--signature", signature), ("--target", target)) if not v]  # fmt: skip
    if missing:
        raise InputError(f"missing {', '.join(missing)} (or use --batch JOBS.jsonl)")
    assert source and candidate and function and signature and target
    result = verify_function(
        _read(source), _read(candidate), function, signature, target, _options(seed, sizes),
        source_name=str(source), candidate_name=str(candidate),
    )  # fmt: skip
    if as_json:
        typer.echo(result.model_dump_json())
    else:
        _print_human(result)
    raise typer.Exit(EXIT_CODES[result.verdict])


@app.command()
def translate(
    source: Annotated[Path, typer.Argument(help="x86-64 assembly (gcc/clang -S)")],
    to: Annotated[str, typer.Option("--to", help="aarch64 or riscv64")],
    output: Annotated[Path, typer.Option("-o", "--output", help="where to write OUT.s")],
    function: Annotated[str | None, typer.Option(help="translate only this function")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="per-function status as JSON")] = False,
) -> None:
    """Translate x86-64 assembly to AArch64 or RISC-V with no model.

    Exit 0 when every function translated, 1 when some were refused, 2 on bad input.
    """
    from retarget.isa import get_target
    from retarget.transpile.symbolic.translate import translate_source

    isa = get_target(to)
    signatures = _sibling_prototypes(source)
    result = translate_source(
        _read(source), isa.name, str(source), only=function, signatures=signatures
    )
    partial = output.with_name(output.name + ".partial")
    partial.write_text(result.assembly)
    partial.replace(output)
    if as_json:
        typer.echo(result.model_dump_json())
    else:
        for status in result.functions:
            where = f"{source}:{status.line}" if status.line else str(source)
            state = "translated" if status.translated else f"refused: {status.reason}"
            typer.echo(f"{status.name} ({where}): {state}")
    raise typer.Exit(1 if result.refused else 0)


@app.command()
def transpile(
    repo: Annotated[Path, typer.Argument(help="repository holding x86-64 .s / .S files")],
    to: Annotated[str, typer.Option("--to", help="aarch64 or riscv64")],
    out: Annotated[Path | None, typer.Option(help="output tree (default REPO-<target>)")] = None,
    model: Annotated[str | None, typer.Option(help="model name (else RETARGET_MODEL)")] = None,
    jobs: Annotated[int, typer.Option(help="functions solved at once")] = 1,
    resume: Annotated[bool, typer.Option(help="keep verified functions of an earlier run")] = False,
    test_cmd: Annotated[
        str | None, typer.Option(help="the repository's test command, run on the port")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print report.json")] = False,
) -> None:
    """Port every function of a repository's x86-64 assembly, each one verified.

    Exit 0 when every function is verified, 1 otherwise, 2 on bad input.
    """
    from rich.progress import Progress

    from retarget.agents.budget import Budget
    from retarget.agents.report import write_reports
    from retarget.agents.repository import FunctionReport, transpile_repository
    from retarget.isa import get_target
    from retarget.llm.client import configured_model

    isa = get_target(to)
    repo = repo.resolve()
    if not repo.is_dir():
        raise InputError(f"{repo}: not a directory")
    target_out = (out or repo.with_name(f"{repo.name}-{isa.name}")).resolve()
    client, _ = configured_model(model, target_out)
    with Progress(transient=True, disable=as_json) as bar:
        task = bar.add_task("porting", total=None)

        def advance(done: FunctionReport, total: int) -> None:
            bar.update(task, total=total, advance=1, description=f"{done.function}: {done.status}")

        report = transpile_repository(repo, isa.name, target_out, client, Budget(), jobs=jobs,
                                      resume=resume, progress=advance)  # fmt: skip
    if test_cmd:
        from retarget.agents.repository import run_test_command

        report.test_command = run_test_command(test_cmd, target_out, isa.name)
    write_reports(report, target_out)
    if as_json:
        typer.echo((target_out / "report.json").read_text())
    else:
        for f in report.functions:
            typer.echo(
                f"{f.file}:{f.function}: {f.status} ({f.producer}){' ' + f.reason if f.reason else ''}"
            )
        typer.echo(f"report: {target_out / 'report.md'}")
    passed = report.test_command is None or report.test_command.get("exit") == 0
    raise typer.Exit(0 if report.all_verified and passed else 1)


def _sibling_prototypes(source: Path) -> dict[str, str]:
    """C prototypes from ``NAME.c`` / ``NAME.h`` beside ``NAME.s`` (or ``NAME.x86_64.s``):
    they make return values exact where the target ABI extends them (RV64)."""
    from retarget.testgen.prototype import prototypes_in_c

    found: dict[str, str] = {}
    stems = {source.stem, source.name.split(".")[0]}  # lib.s and lib.x86_64.s both mean lib.c
    for stem in sorted(stems):
        for suffix in (".c", ".h"):
            sibling = source.with_name(stem + suffix)
            if sibling.is_file():
                found |= {n: p.render() for n, p in prototypes_in_c(_read(sibling)).items()}
    return found


def main() -> None:
    try:
        app()
    except RetargetError as exc:  # InputError, ToolchainError: the user's input or machine
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
