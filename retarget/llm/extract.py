"""Taking code out of a model's answer."""

from __future__ import annotations

import re

from retarget.errors import NoCodeError

FENCE = re.compile(r"```[ \t]*([\w+.#-]*)[^\n]*\n(.*?)(?:\n[ \t]*```|\Z)", re.DOTALL)


def code_blocks(text: str) -> list[tuple[str, str]]:
    """(language tag, code) of each fenced block, in order; an unclosed last block counts."""
    return [(m.group(1).lower(), m.group(2).strip("\n")) for m in FENCE.finditer(text)]


def extract_code(text: str, languages: tuple[str, ...] = ()) -> str:
    """The code the answer gives: the last fenced block tagged with one of ``languages``
    (any tag when empty), else the last untagged block. Raises NoCodeError when there is
    none, quoting the start of the answer."""
    blocks = [(tag, code) for tag, code in code_blocks(text) if code.strip()]
    tagged = [code for tag, code in blocks if not languages or tag in languages]
    untagged = [code for tag, code in blocks if not tag]
    chosen = tagged or untagged
    if not chosen:
        wanted = f" ({', '.join(languages)})" if languages else ""
        head = text.strip()[:200].replace("\n", " ")
        raise NoCodeError(f"the model's answer holds no fenced code block{wanted}: {head!r}")
    return chosen[-1] + "\n"
