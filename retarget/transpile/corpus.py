"""C corpora compiled into (x86-64 reference, target candidate) assembly pairs.

Used by the tests and benchmarks: each exported function of each ``.c`` file becomes one pair
per target and optimisation level.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from retarget.isa import X86_64, get_target
from retarget.isa.toolchain import CompileOptions, compile_c
from retarget.testgen.prototype import Prototype, exported_functions

_SIZES = re.compile(r"/\*\s*sizes:\s*([^*]+?)\s*\*/")


@dataclass(frozen=True)
class CorpusFunction:
    file: Path
    name: str
    prototype: Prototype
    sizes: str | None


@dataclass(frozen=True)
class CompiledPair:
    function: CorpusFunction
    target: str
    opt_level: str
    source: str
    """x86-64 assembly of the whole file."""
    candidate: str
    """Target assembly of the whole file."""


def corpus_functions(directory: Path) -> list[CorpusFunction]:
    out: list[CorpusFunction] = []
    for path in sorted(directory.glob("*.c")):
        text = path.read_text()
        for name, proto in exported_functions(text).items():
            body = re.search(rf"\b{re.escape(name)}\s*\([^)]*\)\s*\{{(.*)", text)
            hint = _SIZES.search(body.group(1).split("\n")[0]) if body else None
            out.append(CorpusFunction(path, name, proto, hint.group(1) if hint else None))
    return out


def compile_file(path: Path, target: str, opt_level: str, workdir: Path) -> tuple[str, str]:
    """(x86-64 assembly, target assembly) of one C file."""
    options = CompileOptions(opt_level=opt_level, extra=("-fno-asynchronous-unwind-tables",))
    stem = f"{path.stem}{opt_level}"
    ref = compile_c(X86_64, path, workdir / f"{stem}.x86_64.s", options, asm=True)
    cand = compile_c(get_target(target), path, workdir / f"{stem}.{target}.s", options, asm=True)
    return ref.read_text(), cand.read_text()
