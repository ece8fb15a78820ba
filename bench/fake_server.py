"""
The project's fake provider as a process of its own, for benchmarks: every model request waits
`--latency` seconds before answering (a provider's time to first token), and replies stream in
`--pieces` pieces `--gap` seconds apart. Prints its base URL, then serves until killed.
"""

import argparse
import signal
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.fake_provider import FakeProvider, Reply  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--pieces", type=int, default=20)
    parser.add_argument("--gap", type=float, default=0.0)
    args = parser.parse_args()
    reply = Reply(text="Lobby-01 led with 1,204 views. " * 4, delay=args.gap)
    reply.chunk = max(1, len(reply.text) // args.pieces)
    fake = FakeProvider(latency=args.latency, default_reply=reply)
    fake.keep_requests = False
    fake.start()
    print(fake.base_url, flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    fake.stop()


if __name__ == "__main__":
    main()
