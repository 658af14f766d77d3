"""What the transpile problem tells the model: the task, the ABIs as data, the feedback."""

from __future__ import annotations

from retarget.isa.abi import CallingConvention, NarrowIntRule
from retarget.isa.targets import X86_64, get_target
from retarget.llm.types import Message

CODER_ROLE = (
    "You port x86-64 assembly functions to {target} GNU assembly, exactly: every input must "
    "give the same return value, memory writes, calls and traps as the original. Answer with "
    "one fenced ```asm block holding the complete function (its .globl, .type and label) and "
    "any data it needs; nothing outside the block is read."
)
TESTER_ROLE = (
    "You find inputs on which an x86-64 function is easy to get wrong: boundary values, "
    "empty and one-element buffers, sign and overflow edges. Answer with one fenced ```json "
    "block: a list of objects mapping every parameter name to a value (lists for arrays)."
)

NARROW = {
    NarrowIntRule.UNSPECIFIED: "bits above the type's width are unspecified",
    NarrowIntRule.SIGN_EXTEND_32: "extended to 32 bits by the type, then sign-extended to 64",
}


def abi_notes(cc: CallingConvention) -> str:
    """The calling convention as a few lines a model can follow."""
    narrow = NARROW[cc.narrow_ints]
    return "\n".join([
        f"{cc.name}: integer arguments in {', '.join(cc.int_args)}; FP arguments in "
        f"{', '.join(cc.fp_args)}",
        f"  results in {', '.join(cc.int_ret)} (FP: {', '.join(cc.fp_ret)}); narrow integers: "
        f"{narrow}",
        f"  callee-saved: {', '.join(cc.callee_saved)}; FP callee-saved (low 64 bits): "
        f"{', '.join(cc.callee_saved_fp) or 'none'}",
        f"  stack pointer {cc.stack_pointer}, {cc.stack_align}-byte aligned at calls",
    ])  # fmt: skip


def coder_messages(
    target: str,
    function: str,
    prototype: str,
    x86: str,
    data: str,
    refusal: str,
    history: list[tuple[str, str]],
    feedback: str,
    variant: int,
) -> list[Message]:
    """``history``: (code, verdict line) of earlier candidates, oldest first; the last two
    are shown."""
    isa = get_target(target)
    parts = [
        f"Port `{function}` ({prototype}) to {target}.",
        f"Calling conventions:\n{abi_notes(X86_64.cc)}\n{abi_notes(isa.cc)}",
        f"The x86-64 function:\n```asm\n{x86.rstrip()}\n```",
    ]
    if data.strip():
        parts.append(f"Data it references (keep the labels):\n```asm\n{data.rstrip()}\n```")
    if refusal:
        parts.append(f"The symbolic translator could not port it: {refusal}")
    for code, verdict in history[-2:]:
        parts.append(f"An earlier candidate ({verdict}):\n```asm\n{code.rstrip()}\n```")
    if feedback:
        parts.append(feedback)
    parts.append(f"(candidate {variant})")
    system = CODER_ROLE.format(target=target)
    return [
        Message(role="system", content=system),
        Message(role="user", content="\n\n".join(parts)),
    ]


def tester_messages(
    function: str, prototype: str, x86: str, sizes: dict[str, str]
) -> list[Message]:
    buffers = ", ".join(f"{name} has {count} elements" for name, count in sizes.items())
    text = (
        f"Propose up to 12 inputs for `{prototype}`"
        + (f" ({buffers})" if buffers else "")
        + f":\n```asm\n{x86.rstrip()}\n```"
    )
    return [Message(role="system", content=TESTER_ROLE), Message(role="user", content=text)]
