"""GNU toolchains: assemble, compile C and link for each ISA.

Tool names derive from the ISA's triple (``aarch64-linux-gnu-as``); the host's unprefixed tools
stand in for x86-64 when the prefixed ones are missing.
"""

from __future__ import annotations

import platform
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from retarget.errors import SourceError, ToolchainError
from retarget.isa.targets import Isa

TOOL_TIMEOUT_S = 60

# Directives clang emits that GNU as does not know; they carry no semantics we need.
_CLANG_ONLY = re.compile(r"^\s*\.(addrsig|addrsig_sym)\b")
_AS_MESSAGE = re.compile(r"^(?P<path>[^:\n]+):(?P<line>\d+): (?P<kind>Error|Warning|Fatal error)")


@dataclass(frozen=True)
class CompileOptions:
    """Flags for compiling C; ``target_flags`` apply to AArch64/RISC-V only."""

    opt_level: str = "-O2"
    extra: tuple[str, ...] = ()
    target_flags: tuple[str, ...] = ("-fsigned-char", "-ffp-contract=off")


def tool(isa: Isa, name: str) -> str:
    """Path of a GNU tool for ``isa``; ToolchainError names the package when it is missing."""
    prefixed = shutil.which(f"{isa.triple}-{name}")
    if prefixed:
        return prefixed
    if isa.name == platform.machine() or (isa.name == "x86_64" and platform.machine() == "AMD64"):
        plain = shutil.which(name)
        if plain:
            return plain
    raise ToolchainError(
        f"{isa.triple}-{name} not found; install the cross toolchain "
        "(scripts/setup.sh installs gcc-aarch64-linux-gnu and gcc-riscv64-linux-gnu)"
    )


def _run(argv: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            argv, cwd=cwd, capture_output=True, text=True, timeout=TOOL_TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise ToolchainError(f"{Path(argv[0]).name} timed out after {TOOL_TIMEOUT_S}s") from exc
    except OSError as exc:
        raise ToolchainError(f"cannot run {argv[0]}: {exc}") from exc


def normalise_source(text: str) -> str:
    """Blank out directives GNU as rejects but that change nothing, keeping line numbers."""
    return "".join(
        "\n" if _CLANG_ONLY.match(line) else line for line in text.splitlines(keepends=True)
    )


def _first_error(stderr: str, shown: str) -> tuple[int | None, str]:
    for line in stderr.splitlines():
        match = _AS_MESSAGE.match(line)
        if match and match["kind"] != "Warning":
            return int(match["line"]), line.split(": ", 2)[-1]
    return None, "assembler failed"


def assemble(isa: Isa, text: str, out: Path, shown_name: str, flags: tuple[str, ...] = ()) -> Path:
    """Assemble GNU-syntax ``text`` into the ELF object ``out``.

    ``shown_name`` is the user's file name, substituted into the assembler's messages so they
    point at the file the user wrote. ``flags`` go to ``as`` (``-g`` for a line table of the
    assembly source, ``-L`` to keep local labels).
    """
    src = out.with_suffix(".s")
    src.write_text(normalise_source(text))
    proc = _run([tool(isa, "as"), *flags, "-o", str(out), str(src)])
    if proc.returncode != 0:
        messages = proc.stderr.replace(str(src), shown_name)
        line, summary = _first_error(messages, shown_name)
        raise SourceError(
            f"does not assemble as {isa.name}: {summary}", shown_name, line, details=messages
        )
    return out


def compile_c(isa: Isa, source: Path, out: Path, options: CompileOptions, asm: bool) -> Path:
    """Compile C to assembly (``asm``) or to an object file."""
    flags = [options.opt_level, *options.extra]
    if isa.name != "x86_64":
        flags += list(options.target_flags)
    mode = "-S" if asm else "-c"
    proc = _run([tool(isa, "gcc"), mode, *flags, "-o", str(out), str(source)])
    if proc.returncode != 0:
        raise SourceError("does not compile", str(source), details=proc.stderr)
    return out


def link(
    isa: Isa,
    objects: list[Path],
    out: Path,
    script: str,
    defsyms: dict[str, int],
    emit_relocs: bool = False,
) -> Path:
    """Link objects statically at fixed addresses given by a linker ``script``; with
    ``emit_relocs`` the output keeps its relocations (which operands name which symbols)."""
    script_path = out.with_suffix(".ld")
    script_path.write_text(script)
    argv = [tool(isa, "ld"), "-static", "-nostdlib", "--no-dynamic-linker", "-z", "norelro"]
    argv += ["--build-id=none", "-z", "noexecstack", "--no-warn-rwx-segments", "-e", "0"]
    if isa.name == "riscv64":
        argv.append("--no-relax")
    if emit_relocs:
        argv.append("--emit-relocs")
    argv += [f"--defsym={name}={addr:#x}" for name, addr in sorted(defsyms.items())]
    argv += ["-T", str(script_path), "-o", str(out), *map(str, objects)]
    proc = _run(argv)
    if proc.returncode != 0:
        raise ToolchainError(f"link failed for {isa.name}:\n{proc.stderr.strip()}")
    return out
