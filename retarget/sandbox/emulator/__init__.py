"""Function-level sandbox: Unicorn runs one function of a linked image with no host access.

``load_program`` assembles and links; ``Machine`` calls the function as an ABI-following caller
would and returns a ``RunOutcome`` with everything the caller can observe.
"""

from retarget.sandbox.emulator.loader import Program, load_program
from retarget.sandbox.emulator.machine import Machine
from retarget.sandbox.emulator.outcome import (
    ArgValue,
    BufferInit,
    CallSetup,
    EndKind,
    ExternalCall,
    RunEnd,
    RunOutcome,
)

__all__ = [
    "ArgValue",
    "BufferInit",
    "CallSetup",
    "EndKind",
    "ExternalCall",
    "Machine",
    "Program",
    "RunEnd",
    "RunOutcome",
    "load_program",
]
