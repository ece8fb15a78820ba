"""
One provider call, measured: time to its first piece (of a streamed answer) and to its end, its
outcome and tokens, logged as one line (tagged with the run id in effect) and counted in the metrics,
once the request that made it has been answered (`when_answered`).
"""

import logging
import time

from observability import context, metrics

from .types import Completion, StreamItem

logger = logging.getLogger("assistant_proxy.calls")


class ProviderCall:
    def __init__(self, *, engine: str, model: str, run_id: str = "") -> None:
        self.engine = engine
        self.model = model
        self.run_id = run_id or None
        self.started = time.perf_counter()
        self.first_piece: float | None = None
        self.completion: Completion | None = None

    def saw(self, item: StreamItem) -> None:
        if self.first_piece is None:
            self.first_piece = time.perf_counter()
            metrics.provider_latency.labels(self.engine, "first_piece").observe(
                self.first_piece - self.started
            )
        if isinstance(item, Completion):
            self.completion = item

    def answered(self, completion: Completion) -> None:
        """A whole (unstreamed) answer: it has no first piece to time apart from its end."""
        self.completion = completion

    def finished(self) -> None:
        usage = self.completion.usage if self.completion is not None else None
        self._end(
            "ok",
            prompt_tokens=usage.prompt_tokens if usage else None,
            completion_tokens=usage.completion_tokens if usage else None,
        )

    def failed(self, outcome: str) -> None:
        self._end(outcome)

    def _end(self, outcome: str, **tokens: int | None) -> None:
        total = time.perf_counter() - self.started
        context.when_answered(lambda: self._record(outcome, total, tokens))

    def _record(self, outcome: str, total: float, tokens: dict[str, int | None]) -> None:
        if tokens.get("prompt_tokens") is not None:
            metrics.provider_tokens.labels(self.engine, "prompt").inc(tokens["prompt_tokens"])
        if tokens.get("completion_tokens") is not None:
            metrics.provider_tokens.labels(self.engine, "completion").inc(tokens["completion_tokens"])
        metrics.provider_calls.labels(self.engine, outcome).inc()
        metrics.provider_latency.labels(self.engine, "total").observe(total)
        first = None if self.first_piece is None else round((self.first_piece - self.started) * 1000, 1)
        logger.info(
            "provider call %s: %s in %.0f ms",
            self.model,
            outcome,
            total * 1000,
            extra={
                "run_id": self.run_id,
                "engine": self.engine,
                "model": self.model,
                "outcome": outcome,
                "provider_first_piece_ms": first,
                "provider_ms": round(total * 1000, 1),
                **tokens,
            },
        )
