"""The port's report: ``report.json`` for tools, Markdown and a static HTML page for people."""

from __future__ import annotations

import html
import json
from pathlib import Path

from retarget.agents.repository import FunctionReport, RepoReport

COLUMNS = ("file", "function", "status", "producer", "rounds", "tests", "coverage", "ratio",
           "tokens", "cost", "reason")  # fmt: skip


def _cell(report: FunctionReport, column: str) -> str:
    value = getattr(report, column)
    if value is None:
        return "-"
    if column == "coverage":
        return f"{100 * value:.0f}%"
    if column == "cost":
        return f"${value:.4f}"
    return str(value).replace("\n", " ")


def _summary_line(report: RepoReport) -> str:
    summary = report.summary()
    counts = ", ".join(f"{k} {v}" for k, v in summary.items() if k not in ("tokens", "cost"))
    return f"{counts}; tokens {summary['tokens']}, cost ${summary['cost']:.4f}"


def markdown(report: RepoReport) -> str:
    lines = [f"# Port of {report.repository} to {report.target}", "", _summary_line(report), ""]
    lines += ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for f in report.functions:
        cells = [_cell(f, c).replace("|", "\\|") for c in COLUMNS]
        lines.append("| " + " | ".join(cells) + " |")
    for rel, problem in report.files.items():
        lines += ["", f"**{rel}**: {problem}"]
    if report.test_command is not None:
        lines += ["", f"Repository tests: {report.test_command}"]
    return "\n".join(lines) + "\n"


def page(report: RepoReport) -> str:
    rows = "\n".join(
        f'<tr class="{html.escape(f.status)}">'
        + "".join(f"<td>{html.escape(_cell(f, c))}</td>" for c in COLUMNS)
        + "</tr>"
        for f in report.functions
    )
    head = "".join(f"<th>{c}</th>" for c in COLUMNS)
    title = html.escape(f"Port of {report.repository} to {report.target}")
    notes = "".join(
        f"<p><b>{html.escape(k)}</b>: {html.escape(v)}</p>" for k, v in report.files.items()
    )
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:sans-serif}} td,th{{padding:2px 8px;border-bottom:1px solid #ddd}}
tr.verified{{background:#e8f5e9}} tr.mismatch,tr.error,tr.invalid{{background:#ffebee}}
tr.refused,tr.unverifiable{{background:#fff8e1}}</style></head>
<body><h1>{title}</h1><p>{html.escape(_summary_line(report))}</p>{notes}
<table><tr>{head}</tr>
{rows}
</table></body></html>
"""


def write_reports(report: RepoReport, out: Path) -> None:
    """``report.json``, ``report.md`` and ``report.html`` at the output root."""
    data = json.loads(report.model_dump_json())
    for f in data["functions"]:
        f.pop("code", None)  # the port itself is in the output tree
    data["summary"] = report.summary()
    data["all_verified"] = report.all_verified
    (out / "report.json").write_text(json.dumps(data, indent=2) + "\n")
    (out / "report.md").write_text(markdown(report))
    (out / "report.html").write_text(page(report))
