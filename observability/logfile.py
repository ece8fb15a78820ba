"""
The log file that every process of the app appends to (the web workers and the task worker), rotated
by size: the standard library's WatchedFileHandler, which reopens the file when another process has
rotated it, plus the rotation itself, done under a lock by whichever process first finds the file
full.

Each line is appended (O_APPEND) in one write, which the kernel keeps whole and in order across the
processes, so writing a line takes no lock; only rotating does (an flock on `<file>.lock`).
"""

import fcntl
import logging
import os
from logging.handlers import WatchedFileHandler


class SharedRotatingFileHandler(WatchedFileHandler):
    """RotatingFileHandler's settings (`maxBytes`, `backupCount`), safe for several processes."""

    def __init__(
        self,
        filename: str,
        maxBytes: int = 0,  # noqa: N803  (RotatingFileHandler's names, as LOGGING passes them)
        backupCount: int = 0,  # noqa: N803
        encoding: str | None = None,
    ) -> None:
        super().__init__(filename, encoding=encoding)
        self.max_bytes = maxBytes
        self.backup_count = backupCount

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._follow()
        except OSError:
            self.handleError(record)
        logging.FileHandler.emit(self, record)

    def _follow(self) -> None:
        """
        Reopens the file if another process rotated it, and rotates it if it is full, from one
        stat of its path a line: the path's inode says whether the file is still ours, and when it
        is, its size is ours too. (A stat of the path and an fstat of ours were two system calls.)
        """
        try:
            current = os.stat(self.baseFilename)
        except FileNotFoundError:
            current = None
        if current is None or (current.st_dev, current.st_ino) != (self.dev, self.ino):
            self.reopenIfNeeded()
        elif self.max_bytes and self.stream is not None and current.st_size >= self.max_bytes:
            self._rotate()

    def _rotate(self) -> None:
        with open(self.baseFilename + ".lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            # Another process may have rotated it already: the path is then a new file, not ours.
            try:
                current = os.stat(self.baseFilename)
            except FileNotFoundError:
                current = None
            ours = os.fstat(self.stream.fileno())
            if current is not None and (current.st_dev, current.st_ino) == (ours.st_dev, ours.st_ino):
                for number in range(self.backup_count - 1, 0, -1):
                    older = f"{self.baseFilename}.{number}"
                    if os.path.exists(older):
                        os.replace(older, f"{self.baseFilename}.{number + 1}")
                if self.backup_count:
                    os.replace(self.baseFilename, f"{self.baseFilename}.1")
                else:
                    os.truncate(self.baseFilename, 0)
            self.stream.close()
            self.stream = self._open()
            self._statstream()
