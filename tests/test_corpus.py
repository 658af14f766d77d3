"""Every corpus function, compiled for x86-64 and for each target at -O0 and -O2, verifies."""

from __future__ import annotations

from pathlib import Path

import pytest

from retarget.testgen.inputs import parse_sizes
from retarget.transpile.corpus import CorpusFunction, compile_file, corpus_functions
from retarget.transpile.verify import Verdict, VerifyOptions, verify_function
from tests.conftest import CORPUS, needs_cross

FUNCTIONS = corpus_functions(CORPUS)


def test_corpus_is_large_enough() -> None:
    assert len(FUNCTIONS) >= 60


@needs_cross
@pytest.mark.slow
@pytest.mark.parametrize("opt", ["-O0", "-O2"])
@pytest.mark.parametrize("target", ["aarch64", "riscv64"])
@pytest.mark.parametrize("path", sorted({f.file for f in FUNCTIONS}), ids=lambda p: p.stem)
def test_every_pair_verifies(path: Path, target: str, opt: str, tmp_path: Path) -> None:
    source, candidate = compile_file(path, target, opt, tmp_path)
    failures = []
    for fn in (f for f in FUNCTIONS if f.file == path):
        result = _verify(fn, source, candidate, target)
        if result.verdict is not Verdict.VERIFIED:
            failures.append(f"{fn.name}: {result.verdict.value}: {result.detail}")
    assert not failures, "\n".join(failures)


def _verify(fn: CorpusFunction, source: str, candidate: str, target: str):  # type: ignore[no-untyped-def]
    options = VerifyOptions(sizes=parse_sizes(fn.sizes))
    return verify_function(source, candidate, fn.name, fn.prototype.render(), target, options)
