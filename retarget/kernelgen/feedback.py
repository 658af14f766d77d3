"""What the judge and the coder read of an evaluation: a few lines, not the raw tables."""

from __future__ import annotations

from retarget.kernelgen.evaluate import KernelEvaluation
from retarget.kernelgen.profile import metrics_lines, profile_lines


def timing_lines(ev: KernelEvaluation) -> list[str]:
    if ev.runtime_ms is None or ev.eager_ms is None:
        return []
    line = f"runtime {ev.runtime_ms:.4f} ms per call; eager PyTorch {ev.eager_ms:.4f} ms"
    if ev.compile_ms:
        line += f", torch.compile {ev.compile_ms:.4f} ms"
    lines = [line + f" (median of {ev.repeats}, on {ev.device})"]
    if ev.floor_ms:
        # floor_ms is an eighth of a copy of the call's bytes (half, with 4x slack)
        copy_ms = ev.floor_ms * 8
        share = copy_ms / 2 / ev.runtime_ms
        kind = "close to memory-bound" if share > 0.5 else "far from the memory bandwidth limit"
        lines.append(f"moving the call's inputs and outputs once takes about {copy_ms / 2:.4f} "
                     f"ms: the candidate reaches {100 * share:.0f}% of that ({kind})")  # fmt: skip
    return lines


def summarize(ev: KernelEvaluation) -> str:
    """The verdict, the timing against both baselines, where the time goes, and the compiler's
    resource report (registers, shared memory), as short lines."""
    lines = [f"verdict: {ev.verdict} ({ev.stage}): {ev.reason.strip().splitlines()[0][:300]}"]
    lines += timing_lines(ev)
    if ev.launches:
        lines.append("kernel launches over the run: "
                     + ", ".join(f"{k} x{n}" for k, n in sorted(ev.launches.items())))  # fmt: skip
    if ev.profile_rows:
        lines += profile_lines(ev.profile_rows)
    if ev.ncu:
        lines += metrics_lines(ev.ncu)
    report = [
        line for line in ev.compile_report.splitlines() if "registers" in line or "smem" in line
    ]
    lines += [f"compiler: {line.strip()}" for line in report[:4]]
    return "\n".join(lines)
