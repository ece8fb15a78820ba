"""
How a process that executes runs stops without leaving them behind, the web server and the worker
alike. At the first stop signal the process takes no new work (gunicorn and the task worker see to
that) and the runs it is executing get a grace period to finish. Runs still going when it ends, or
at a second signal, are interrupted: each ends `failed` with `last_error.code` `server_shutdown`,
its text so far saved on an incomplete message, so that a streaming client still gets the run's
last events and `[DONE]`, and nothing is left `in_progress` for the sweeper.
"""

import logging
import threading

from .services.liveness import runs_interrupt

logger = logging.getLogger(__name__)


class RunsDrain:
    """
    The grace period of a stopping process. `request()` is what a stop signal's handler calls; the
    waiting happens on a thread of its own, so the handler only sets an event.
    """

    def __init__(self, *, grace_seconds: float) -> None:
        self.grace_seconds = max(grace_seconds, 0.0)
        self._requested = threading.Event()
        self._now = threading.Event()
        self._done = threading.Event()
        threading.Thread(target=self._wait, name="runs-drain", daemon=True).start()

    @property
    def requested(self) -> bool:
        return self._requested.is_set()

    @property
    def interrupted(self) -> bool:
        """Whether the runs have been told to stop (the grace period is over)."""
        return self._done.is_set()

    def request(self, *, at_once: bool = False) -> None:
        """A stop signal: the first starts the grace period; a second, or `at_once`, ends it now."""
        if at_once or self._requested.is_set():
            self._now.set()
        self._requested.set()

    def _wait(self) -> None:
        self._requested.wait()
        if self.grace_seconds:
            logger.warning(
                "Stopping: any run in progress here has %.0f s to finish before it is interrupted.",
                self.grace_seconds,
            )
        self._now.wait(self.grace_seconds)
        if stopped := runs_interrupt():
            logger.warning("Stopping: interrupted %d run(s) still in progress.", stopped)
        self._done.set()
