"""The shared log file: several processes append to it and rotate it without losing or splitting a line."""

import logging
import re
import subprocess
import sys
from pathlib import Path

from observability.logfile import SharedRotatingFileHandler

WRITER = """
import logging, sys
from observability.logfile import SharedRotatingFileHandler
handler = SharedRotatingFileHandler(sys.argv[1], maxBytes=4000, backupCount=100, encoding="utf-8")
log = logging.getLogger("writer")
log.addHandler(handler)
log.setLevel(logging.INFO)
for number in range(int(sys.argv[3])):
    log.info("%s line %05d %s", sys.argv[2], number, "x" * 60)
"""


def test_processes_share_the_file_and_its_rotation_without_losing_or_splitting_a_line(tmp_path):
    log_file = tmp_path / "app.log"
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(log_file), f"p{n}", "400"], cwd=Path(__file__).parents[2])
        for n in range(3)
    ]
    assert [writer.wait(60) for writer in writers] == [0, 0, 0]

    rotated = [path for path in tmp_path.glob("app.log.*") if path.suffix[1:].isdigit()]
    files = sorted(rotated, key=lambda path: -int(path.suffix[1:])) + [log_file]
    lines = [line for path in files for line in path.read_text().splitlines()]

    assert len(files) > 10  # it rotated, many times, under three writers
    assert all(re.fullmatch(r"p[0-2] line \d{5} x{60}", line) for line in lines)
    for n in range(3):
        mine = [int(line.split()[2]) for line in lines if line.startswith(f"p{n} ")]
        assert mine == list(range(400))  # each line once, in its writer's order, oldest file first
    assert max(path.stat().st_size for path in files) < 4000 + 3 * 100


def test_without_backups_a_full_file_starts_again(tmp_path):
    log_file = tmp_path / "app.log"
    subprocess.run(
        [sys.executable, "-c", WRITER.replace("backupCount=100", "backupCount=0"), str(log_file), "p0", "200"],
        cwd=Path(__file__).parents[2], check=True,
    )

    assert not [path for path in tmp_path.glob("app.log.*") if path.suffix[1:].isdigit()]
    assert 0 < log_file.stat().st_size < 4000 + 100


def test_a_removed_file_is_made_again_by_the_next_line(tmp_path):
    log_file = tmp_path / "app.log"
    handler = SharedRotatingFileHandler(str(log_file), maxBytes=4000, backupCount=2, encoding="utf-8")
    log = logging.getLogger("test.removed")
    log.addHandler(handler)
    log.propagate = False
    try:
        log.warning("first")
        log_file.unlink()
        log.warning("second")
    finally:
        log.removeHandler(handler)
        handler.close()

    assert log_file.read_text() == "second\n"


def test_a_file_rotated_by_another_writer_gets_the_next_line(tmp_path):
    log_file = tmp_path / "app.log"
    ours, theirs = (
        SharedRotatingFileHandler(str(log_file), maxBytes=100, backupCount=2, encoding="utf-8") for _ in range(2)
    )
    record = logging.LogRecord("test", logging.WARNING, __file__, 1, "%s", ("x" * 60,), None)
    try:
        ours.emit(record)
        theirs.emit(record)
        theirs.emit(record)  # finds the file full: rotates it, then writes to the new one
        ours.emit(record)
    finally:
        ours.close()
        theirs.close()

    assert len(Path(f"{log_file}.1").read_text().splitlines()) == 2
    assert len(log_file.read_text().splitlines()) == 2
