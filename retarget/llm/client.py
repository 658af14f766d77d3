"""The model client: any OpenAI-compatible endpoint through the ``openai`` package.

The package's own retries are off; this module retries instead, so that every attempt is
counted, Retry-After is honoured exactly, malformed replies are retried like server errors,
and one concurrency limit holds over all threads of a run.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, Protocol

import openai

from retarget.errors import ModelRequestError, ModelUnavailable
from retarget.llm.accounting import Ledger
from retarget.llm.cache import ResponseCache, request_key
from retarget.llm.settings import ModelSettings
from retarget.llm.types import Completion, Message, Usage


class Model(Protocol):
    """What the agents need of a model: one answer for a conversation."""

    def complete(self, messages: list[Message], *, tag: str = "") -> Completion: ...


class _Malformed(Exception):
    """A 2xx reply without a usable answer."""


RETRYABLE_STATUS = {408, 409, 425, 429}


def _retryable(exc: Exception) -> bool:
    if isinstance(exc, openai.APIStatusError):
        return exc.status_code in RETRYABLE_STATUS or exc.status_code >= 500
    return isinstance(
        exc,
        openai.APITimeoutError
        | openai.APIConnectionError
        | openai.APIResponseValidationError
        | _Malformed
        | ValueError,
    )


def retry_after(exc: Exception) -> float | None:
    """Seconds the server asked us to wait (Retry-After as seconds or an HTTP date)."""
    response = getattr(exc, "response", None)
    value = None if response is None else response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


class OpenAIModel:
    """Chat completions with retries, a concurrency gate, a response cache and a ledger."""

    def __init__(
        self,
        settings: ModelSettings,
        *,
        cache: ResponseCache | None = None,
        ledger: Ledger | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.settings = settings
        self.cache = cache
        self.ledger = ledger if ledger is not None else Ledger()
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._gate = threading.BoundedSemaphore(max(1, settings.concurrency))
        self._client = openai.OpenAI(
            base_url=settings.base_url,
            api_key=settings.api_key,
            max_retries=0,
            timeout=settings.timeout_s,
        )

    def request(self, messages: list[Message]) -> dict[str, Any]:
        """The request body sent for ``messages`` (also what the cache is keyed by)."""
        return {
            "model": self.settings.model,
            "messages": [m.model_dump() for m in messages],
            "temperature": self.settings.temperature,
            "max_tokens": self.settings.max_tokens,
        }

    def complete(self, messages: list[Message], *, tag: str = "") -> Completion:
        body = self.request(messages)
        key = request_key(body)
        cached = self.cache.get(key) if self.cache is not None else None
        if cached is not None:
            hit = cached.model_copy(update={"cached": True, "cost": 0.0, "seconds": 0.0})
            self.ledger.record(tag, hit)
            return hit
        completion = self._call(body)
        if self.cache is not None:
            self.cache.put(key, completion)
        self.ledger.record(tag, completion)
        return completion

    def _call(self, body: dict[str, Any]) -> Completion:
        started = time.monotonic()
        last: Exception | None = None
        for attempt in range(1, self.settings.max_attempts + 1):
            try:
                with self._gate:
                    text, usage = self._once(body)
            except Exception as exc:
                if not _retryable(exc):
                    raise ModelRequestError(
                        f"the model endpoint refused the request: {exc}"
                    ) from exc
                last = exc
                if attempt < self.settings.max_attempts:
                    self._sleep(self._wait(attempt, exc))
                continue
            price = self.settings.prices.get(self.settings.model)
            cost = price.cost(usage.prompt_tokens, usage.completion_tokens) if price else 0.0
            seconds = time.monotonic() - started
            return Completion(text=text, model=self.settings.model, usage=usage, cost=cost,
                              attempts=attempt, seconds=seconds)  # fmt: skip
        raise ModelUnavailable(
            f"no answer after {self.settings.max_attempts} attempts; last error: {last}"
        ) from last

    def _once(self, body: dict[str, Any]) -> tuple[str, Usage]:
        response = self._client.chat.completions.create(**body)
        choices = getattr(response, "choices", None)
        if not choices or choices[0].message is None or choices[0].message.content is None:
            raise _Malformed("a reply without an answer")
        usage = response.usage
        tokens = Usage(
            prompt_tokens=getattr(usage, "prompt_tokens", 0) or 0,
            completion_tokens=getattr(usage, "completion_tokens", 0) or 0,
        )
        return choices[0].message.content, tokens

    def _wait(self, attempt: int, exc: Exception) -> float:
        """Retry-After when the server gave one, else exponential backoff with jitter."""
        asked = retry_after(exc)
        if asked is not None:
            return min(asked, self.settings.max_backoff_s)
        ceiling = min(self.settings.max_backoff_s, self.settings.backoff_s * 2.0 ** (attempt - 1))
        return float(ceiling * (0.5 + 0.5 * self._rng.random()))


def configured_model(name: str | None, out: Path) -> tuple[OpenAIModel | None, ModelSettings]:
    """The model of a run: ``name`` or RETARGET_MODEL (None when neither is set), its
    responses cached under ``out/.retarget`` unless RETARGET_CACHE_PATH says elsewhere."""
    settings = ModelSettings()
    if name:
        settings = settings.model_copy(update={"model": name})
    if not settings.configured:
        return None, settings
    cache_path = settings.cache_path or out / ".retarget" / "responses.sqlite"
    return OpenAIModel(settings, cache=ResponseCache(cache_path)), settings
