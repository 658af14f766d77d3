"""Mechanically mutated candidates are rejected; survivors are listed, not hidden."""

from __future__ import annotations

from pathlib import Path

from retarget.transpile.corpus import compile_file, corpus_functions
from retarget.transpile.mutate import mutants, mutation_report
from tests.conftest import CORPUS, needs_cross

pytestmark = needs_cross


def test_mutants_of_a_sort_are_all_killed_or_listed(tmp_path: Path) -> None:
    fn = next(f for f in corpus_functions(CORPUS) if f.name == "insertion_sort")
    source, candidate = compile_file(fn.file, "aarch64", "-O2", tmp_path)
    kinds = {m.kind for m in mutants(candidate, fn.name, "aarch64")}
    assert {"change-imm", "delete", "swap-regs"} <= kinds
    report = mutation_report(source, candidate, fn.name, fn.prototype.render(), "aarch64")
    assert report.total > 20
    assert report.killed > 0.8 * report.total
    assert report.missed == []
    assert report.total == report.killed + report.stillborn + len(report.equivalent)
