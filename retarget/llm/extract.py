"""Taking code out of a model's answer."""

from __future__ import annotations

import json
import re
from typing import Any

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


def json_values(text: str) -> list[Any]:
    """Every JSON value in the answer's fenced blocks (the whole answer when it has none),
    last block last; blocks that are not JSON are skipped."""
    values = []
    for _, code in code_blocks(text) or [("", text)]:
        try:
            values.append(json.loads(code))
        except ValueError:
            continue
    return values


def json_objects(text: str) -> list[dict[str, Any]]:
    """The items of every JSON list in the answer that are objects (a model's proposed
    inputs or variants), in order."""
    return [item for value in json_values(text) if isinstance(value, list)
            for item in value if isinstance(item, dict)]  # fmt: skip
