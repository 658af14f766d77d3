"""An OpenAI-compatible chat-completions server on 127.0.0.1 that answers from a script.

No model is reachable on the project's machines, so tests point the real client at this
server: the code path is the one a real endpoint takes. The script (JSON) lists answers,
matched on the request's text or served in order, and faults to inject first::

    {"faults": [{"status": 429, "retry_after": 0.1}],
     "responses": [
        {"match": "popcount", "content": "```asm\\n...\\n```",
         "faults": [{"malformed": true}], "usage": {"prompt_tokens": 900}},
        {"content": "an answer for the next request, whatever it says"}]}

Faults: ``{"status": N}`` (with ``retry_after`` seconds and ``body``), ``{"malformed": true}``
(200 with a body that is not JSON), ``{"empty": true}`` (200 without choices),
``{"delay": S}`` (the answer after S seconds, not using the entry up: a client that timed
out gets it on its retry). Run one by hand with
``python -m retarget.llm.replay SCRIPT [--port N]``.
"""

from __future__ import annotations

import argparse
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from retarget.errors import ReplayScriptError


class Fault(BaseModel):
    status: int | None = None
    retry_after: float | None = None
    body: str = ""
    malformed: bool = False
    empty: bool = False
    delay: float = 0.0


class Entry(BaseModel):
    match: str | None = Field(None, description="regex searched in the request's messages")
    content: str
    usage: dict[str, int] = Field(default_factory=dict)
    faults: list[Fault] = Field(default_factory=list)
    repeat: bool = Field(False, description="serve it for every match, never used up")


class ReplayScript(BaseModel):
    faults: list[Fault] = Field(default_factory=list)
    responses: list[Entry] = Field(default_factory=list)

    @classmethod
    def load(cls, path: Path) -> ReplayScript:
        try:
            return cls.model_validate_json(path.read_text())
        except OSError as exc:
            raise ReplayScriptError(f"{path}: cannot read the replay script: {exc}") from exc
        except ValidationError as exc:
            raise ReplayScriptError(f"{path}: not a replay script: {exc}") from exc


def _request_text(body: dict[str, Any]) -> str:
    messages = body.get("messages") or []
    return "\n".join(str(m.get("content", "")) for m in messages if isinstance(m, dict))


class _State:
    """What the server has served; guarded by one lock."""

    def __init__(self, script: ReplayScript) -> None:
        self.lock = threading.Lock()
        self.faults = list(script.faults)
        self.entries = [e.model_copy(deep=True) for e in script.responses]
        self.used = [False] * len(self.entries)
        self.requests: list[dict[str, Any]] = []
        self.answered = 0
        self.in_flight = 0
        self.max_in_flight = 0

    def next(self, body: dict[str, Any]) -> tuple[Fault | None, Entry | None]:
        """The fault and the answer for this request: global faults first, then the matched
        entry's own; the entry is used up once answered without a fault."""
        with self.lock:
            self.requests.append(body)
            if self.faults:
                return self.faults.pop(0), None
            index = self._select(_request_text(body))
            if index is None:
                return None, None
            entry = self.entries[index]
            if entry.faults:
                return entry.faults.pop(0), entry
            self.used[index] = not entry.repeat
            self.answered += 1
            return None, entry

    def _select(self, text: str) -> int | None:
        open_ = [i for i, used in enumerate(self.used) if not used]
        for i in open_:
            pattern = self.entries[i].match
            if pattern is not None and re.search(pattern, text):
                return i
        return next((i for i in open_ if self.entries[i].match is None), None)


def _completion(entry: Entry, body: dict[str, Any], number: int) -> dict[str, Any]:
    prompt = entry.usage.get("prompt_tokens", len(_request_text(body)) // 4)
    completion = entry.usage.get("completion_tokens", len(entry.content) // 4)
    return {
        "id": f"replay-{number}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", "replay"),
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": entry.content}}],
        "usage": {"prompt_tokens": prompt, "completion_tokens": completion,
                  "total_tokens": prompt + completion},
    }  # fmt: skip


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        return None  # quiet: tests read ``requests`` instead

    def do_POST(self) -> None:
        if not self.path.rstrip("/").endswith("/chat/completions"):
            self._send(404, {"error": {"message": f"no such endpoint {self.path}"}})
            return
        length = int(self.headers.get("content-length") or 0)
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            self._send(400, {"error": {"message": "the request body is not JSON"}})
            return
        state = self.server.state
        with state.lock:
            state.in_flight += 1
            state.max_in_flight = max(state.max_in_flight, state.in_flight)
        try:
            self._answer(state, body)
        finally:
            with state.lock:
                state.in_flight -= 1

    def _answer(self, state: _State, body: dict[str, Any]) -> None:
        fault, entry = state.next(body)
        if fault is None and entry is None:
            message = "no scripted response matches this request"
            self._send(400, {"error": {"message": message, "type": "replay_exhausted"}})
            return
        if fault is None:
            assert entry is not None
            self._send(200, _completion(entry, body, len(state.requests)))
            return
        time.sleep(fault.delay)
        if fault.status is not None:
            headers = {} if fault.retry_after is None else {"Retry-After": f"{fault.retry_after}"}
            payload = fault.body or json.dumps({"error": {"message": f"injected {fault.status}"}})
            self._send_raw(fault.status, payload.encode(), headers)
        elif fault.malformed:
            self._send_raw(200, b'{"id": "replay", "choices": [', {})
        elif fault.empty or entry is None:
            self._send(200, {"id": "replay", "object": "chat.completion", "choices": []})
        else:  # a delay alone: the answer, late (the entry stays for the retry)
            self._send(200, _completion(entry, body, len(state.requests)))

    def _send(self, status: int, payload: dict[str, Any]) -> None:
        self._send_raw(status, json.dumps(payload).encode(), {})

    def _send_raw(self, status: int, data: bytes, headers: dict[str, str]) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout it was meant to hit)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    state: _State


class ReplayServer:
    """The server on a free port of 127.0.0.1, in a background thread."""

    def __init__(self, script: ReplayScript, port: int = 0) -> None:
        self._server = _Server(("127.0.0.1", port), _Handler)
        self._server.state = _State(script)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    @property
    def requests(self) -> list[dict[str, Any]]:
        """Every request body received, in order (faulted ones included)."""
        with self._server.state.lock:
            return list(self._server.state.requests)

    @property
    def answered(self) -> int:
        """Requests that got a scripted answer."""
        return self._server.state.answered

    @property
    def max_in_flight(self) -> int:
        return self._server.state.max_in_flight

    def start(self) -> ReplayServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> ReplayServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("script", type=Path)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    server = ReplayServer(ReplayScript.load(args.script), args.port)
    print(server.base_url, flush=True)
    try:
        server._server.serve_forever()
    except KeyboardInterrupt:
        server._server.server_close()


if __name__ == "__main__":
    main()
