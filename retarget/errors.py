"""The one exception hierarchy for errors in the user's input or environment.

Errors inside a sandboxed run are *results* (see ``retarget.transpile.verify``), not exceptions.
The tree::

    RetargetError
    ├── InputError              bad input from the user; the CLI exits with code 2
    │   ├── SourceError         a file that cannot be read, assembled or parsed (file and line)
    │   ├── PrototypeError      a C prototype that does not parse or uses unsupported types
    │   ├── FunctionNotFound    the named function is not defined in the file
    │   └── ReplayScriptError   a replay server script that cannot be read or is malformed
    ├── ToolchainError          an assembler, compiler or linker is missing or failed unexpectedly
    └── ModelError              the model endpoint failed in a way retrying does not fix
        ├── ModelUnavailable    retries exhausted (rate limits, server errors, timeouts)
        ├── ModelRequestError   the endpoint rejected the request (4xx other than 429)
        └── NoCodeError         a response that holds no code block to take
"""

from __future__ import annotations


class RetargetError(Exception):
    """Base of every error retarget raises on purpose."""


class InputError(RetargetError):
    """The user's input is wrong; the message says what and where."""


class SourceError(InputError):
    """A file that cannot be read, assembled or parsed.

    ``path`` and ``line`` name the place when it is known; ``details`` carries tool output
    (assembler messages) verbatim.
    """

    def __init__(
        self, message: str, path: str | None = None, line: int | None = None, details: str = ""
    ) -> None:
        self.path = path
        self.line = line
        self.details = details
        where = path or ""
        if path and line:
            where = f"{path}:{line}"
        text = f"{where}: {message}" if where else message
        if details:
            lines = details.rstrip().splitlines()
            shown = lines[:20] + (
                [f"... ({len(lines) - 20} more lines)"] if len(lines) > 20 else []
            )
            text = text + "\n" + "\n".join(shown)
        super().__init__(text)


class PrototypeError(InputError):
    """A C prototype that does not parse, or that uses a type inputs cannot be made for."""


class FunctionNotFound(InputError):
    """The function named by the user is not defined in the assembly file."""


class ToolchainError(RetargetError):
    """A required tool (assembler, compiler, linker) is missing or failed unexpectedly."""


class ReplayScriptError(InputError):
    """A replay server script that cannot be read, or whose entries are malformed."""


class ModelError(RetargetError):
    """The model endpoint failed in a way that retrying will not fix."""


class ModelUnavailable(ModelError):
    """Every attempt failed with a retryable error (429, 5xx, timeout, malformed reply)."""


class ModelRequestError(ModelError):
    """The endpoint rejected the request itself (bad request, authentication, unknown model)."""


class NoCodeError(ModelError):
    """A model response without the code block the prompt asked for."""
