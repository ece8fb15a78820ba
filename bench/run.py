"""
The server against the project's fake provider, side by side with the provider alone, in one run:

- added latency of POST /api/v1/chat over calling the provider directly, p50/p95/p99, at
  concurrency 1, 8 and 32;
- added time to first token of a streamed run (POST /api/v1/threads/runs, stream: true);
- listing 20 messages of a 1,000-message thread: requests per second and server time;
- the most concurrent open streams held without an error, and peak memory of web and worker.

Usage: .venv/bin/python bench/run.py [--quick] [--only chat,first-token,listing,streams]
                                     [--worker-class gthread|asgi] [--workers N] [--threads N]
Prints a table and writes bench/results/<time>.json. DATABASE_URL picks the database (default: a
fresh SQLite file). Compare figures within one run: the machine's other load moves them all.
"""

import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python")
QUESTION = "Which screen had the most views yesterday?"
MEASURES = ("chat", "first-token", "listing", "streams")


# --- Processes ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_fake(*, latency: float, pieces: int, gap: float) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen(
        [PYTHON, str(ROOT / "bench" / "fake_server.py"), f"--latency={latency}",
         f"--pieces={pieces}", f"--gap={gap}"],
        stdout=subprocess.PIPE, text=True,
    )
    return process, process.stdout.readline().strip()


class Server:
    """gunicorn and the task worker, configured as in production but for the fake provider."""

    def __init__(
        self, *, fake_url: str, worker_class: str, workers: int, threads: int, work: Path, root: Path = ROOT
    ):
        """`root`: the checkout served (bench/paired.py serves another one beside this one's)."""
        self.port = free_port()
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.base",
            "DEBUG": "false",
            "SECRET_KEY": "bench-" + "x" * 50,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "false",
            "SECURE_HSTS_SECONDS": "0",
            "REQUIRE_API_KEY": "false",
            "RATE_LIMIT_REQUESTS_PER_MINUTE": "0",
            "RATE_LIMIT_RUNS_IN_FLIGHT": "0",
            "OPENAI_API_KEY": "bench",
            "OPENAI_BASE_URL": fake_url,
            "OPENAI_MODEL": "fake-model",
            "OPENAI_MAX_RETRIES": "0",
            "LOG_FILE": str(work / "app.log"),
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "WEB_CONCURRENCY": str(workers),
            "GUNICORN_THREADS": str(threads),
            "GUNICORN_WORKER_CLASS": worker_class,
            "PROMETHEUS_MULTIPROC_DIR": str(work / "metrics"),
        }
        self.env.setdefault("DATABASE_URL", f"sqlite:///{work / 'bench.sqlite3'}")
        (work / "metrics").mkdir(parents=True)
        subprocess.run([PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=root, env=self.env, check=True)
        self.logs = open(work / "server.out", "w")  # noqa: SIM115
        self.web = subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "gunicorn"), "config.wsgi" if worker_class != "asgi" else "config.asgi",
             "--config", "gunicorn.conf.py"],
            cwd=root, env=self.env, stdout=self.logs, stderr=subprocess.STDOUT,
        )
        self.worker = subprocess.Popen(
            [PYTHON, "manage.py", "worker"], cwd=root, env=self.env, stdout=self.logs, stderr=subprocess.STDOUT
        )
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                status, _, _ = request("127.0.0.1", self.port, "GET", "/api/v1/health")
                if status in (200, 503):
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("the server did not start: see its output")

    def peak_rss_mb(self) -> dict[str, float]:
        """Peak resident memory (VmHWM) of the web server's processes and of the worker."""
        web_pids = [self.web.pid, *children(self.web.pid)]
        return {
            "web": round(sum(peak_rss_kb(pid) for pid in web_pids) / 1024, 1),
            "worker": round(peak_rss_kb(self.worker.pid) / 1024, 1),
        }

    def stop(self) -> None:
        for process in (self.web, self.worker):
            process.terminate()
        for process in (self.web, self.worker):
            process.wait(timeout=30)
        self.logs.close()


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def peak_rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


# --- HTTP --------------------------------------------------------------------------------------


_local = threading.local()


def request(host: str, port: int, method: str, path: str, body: dict | None = None) -> tuple[int, dict, bytes]:
    """One request on this thread's kept-alive connection: (status, headers, body)."""
    key = (host, port)
    connections = _local.__dict__.setdefault("connections", {})
    payload = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json"} if payload is not None else {}
    reused = key in connections
    connection = connections.get(key) or http.client.HTTPConnection(host, port, timeout=120)
    connections[key] = connection
    try:
        connection.request(method, path, payload, headers)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    except (OSError, http.client.HTTPException):
        connection.close()
        connections.pop(key, None)
        if reused:  # the server closed an idle kept-alive connection: once more on a new one
            return request(host, port, method, path, body)
        raise


def first_event_after(host: str, port: int, path: str, body: dict, marker: bytes) -> tuple[float, bool]:
    """Seconds until the first line containing `marker` of a streamed answer; whether it ended well."""
    connection = http.client.HTTPConnection(host, port, timeout=120)
    started = time.perf_counter()
    connection.request("POST", path, json.dumps(body).encode(), {"Content-Type": "application/json"})
    response = connection.getresponse()
    first = None
    complete = False
    for line in response:
        if first is None and marker in line:
            first = time.perf_counter() - started
        if line.startswith(b"event: done") or line.strip() == b"data: [DONE]" or b"response.completed" in line:
            complete = True
    connection.close()
    return (first if first is not None else float("nan")), complete and response.status == 200


def load(call: Callable[[], float], *, total: int, concurrency: int) -> list[float]:
    """`total` calls over `concurrency` threads; each call returns its duration in seconds."""
    durations: list[float] = []
    lock = threading.Lock()
    per_thread = [total // concurrency + (1 if i < total % concurrency else 0) for i in range(concurrency)]

    def worker(count: int) -> None:
        for _ in range(count):
            duration = call()
            with lock:
                durations.append(duration)

    threads = [threading.Thread(target=worker, args=(count,)) for count in per_thread]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return durations


def timed(host: str, port: int, method: str, path: str, body: dict | None = None) -> float:
    started = time.perf_counter()
    status, _, _ = request(host, port, method, path, body)
    if status != 200:
        raise RuntimeError(f"{method} {path} answered {status}")
    return time.perf_counter() - started


def percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000  # noqa: E731
    return {"p50": round(pick(0.50), 2), "p95": round(pick(0.95), 2), "p99": round(pick(0.99), 2)}


# --- The measurements --------------------------------------------------------------------------


# Rounds per concurrency: a round's connections are shared out between the web workers as they
# accept them, and how evenly varies from round to round. With 5 rounds at 8, three runs of the
# same code gave a p50 of 4.48, 6.03 and 6.93 ms; 20 rounds average over four times the draws, for
# about 20 s more a run.
ROUNDS = {1: 5, 8: 20, 32: 20}


def provider_call(fake: str) -> Callable[[], float]:
    """The chat's model call made to the provider directly, as the server makes it (whole)."""
    host, port = urlsplit(fake).hostname, urlsplit(fake).port
    body = {"model": "fake-model", "input": [{"role": "user", "content": QUESTION}]}
    return lambda: timed(host, port, "POST", "/v1/responses", body)


def chat_call(server: Server) -> Callable[[], float]:
    return lambda: timed("127.0.0.1", server.port, "POST", "/api/v1/chat", {"message": QUESTION})


def added(served: dict[str, float], direct: dict[str, float]) -> dict[str, float]:
    """What the server adds at each percentile: its figure less the provider's own."""
    return {q: round(served[q] - direct[q], 2) for q in direct}


def added_latency(server: Server, fake: str, *, total: int) -> dict:
    """
    The chat against the provider called as the server calls it: for the reply whole (unstreamed),
    as the server asks for a reply nobody watches arrive, on a kept-alive connection. Each
    concurrency is measured in alternating rounds (ROUNDS) of total / 5 calls, the provider alone
    then through the server, on new connections each round: the web workers share out kept-alive
    connections as they accept them, unevenly more often than not, and one round's share would
    stand for the run.
    """
    direct_call, served_call = provider_call(fake), chat_call(server)
    results = {}
    for concurrency, rounds in ROUNDS.items():
        # Warm both (connections, caches), then measure the provider alone and through the server.
        load(direct_call, total=concurrency * 2, concurrency=concurrency)
        load(served_call, total=concurrency * 2, concurrency=concurrency)
        direct_ms: list[float] = []
        served_ms: list[float] = []
        for _ in range(rounds):
            direct_ms += load(direct_call, total=max(concurrency, total // 5), concurrency=concurrency)
            served_ms += load(served_call, total=max(concurrency, total // 5), concurrency=concurrency)
        direct, served = percentiles(direct_ms), percentiles(served_ms)
        results[concurrency] = {
            "requests": len(served_ms),
            "direct_ms": direct,
            "server_ms": served,
            "added_ms": added(served, direct),
        }
    return results


def added_first_token(server: Server, fake: str, *, total: int) -> dict:
    parts = urlsplit(fake)
    direct_body = {"model": "fake-model", "input": [{"role": "user", "content": QUESTION}], "stream": True}
    run_body = {"thread": {"messages": [{"role": "user", "content": QUESTION}]}, "stream": True}
    direct, served = [], []
    for _ in range(total):
        direct.append(first_event_after(parts.hostname, parts.port, "/v1/responses", direct_body, b"output_text.delta")[0])
        served.append(first_event_after("127.0.0.1", server.port, "/api/v1/threads/runs", run_body, b"thread.message.delta")[0])
    d, s = percentiles(direct), percentiles(served)
    return {"direct_ms": d, "server_ms": s, "added_ms": {q: round(s[q] - d[q], 2) for q in d}}


def message_listing(server: Server, *, seconds: float) -> dict:
    status, _, body = request("127.0.0.1", server.port, "POST", "/api/v1/threads", {})
    thread_id = json.loads(body)["id"]
    for number in range(1000):
        request("127.0.0.1", server.port, "POST", f"/api/v1/threads/{thread_id}/messages",
                {"role": "user", "content": f"View event note {number}: lobby-01 at 09:{number % 60:02d}"})
    path = f"/api/v1/threads/{thread_id}/messages?limit=20"
    server_ms: list[float] = []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds
    count = 0

    def worker() -> None:
        nonlocal count
        while time.monotonic() < deadline:
            status, headers, _ = request("127.0.0.1", server.port, "GET", path)
            assert status == 200
            timing = float(headers["Server-Timing"].split("dur=")[1])
            with lock:
                server_ms.append(timing / 1000)
                count += 1

    started = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {"requests_per_second": round(count / (time.monotonic() - started), 1), "server_ms": percentiles(server_ms)}


def concurrent_streams(server: Server, levels: list[int]) -> dict:
    held = 0
    tried = {}
    for level in levels:
        outcomes: list[bool] = []
        lock = threading.Lock()

        def stream() -> None:
            try:
                _, ok = first_event_after("127.0.0.1", server.port, "/api/v1/chat", {"message": QUESTION, "stream": True}, b"event: delta")
            except (OSError, http.client.HTTPException):
                ok = False
            with lock:
                outcomes.append(ok)

        threads = [threading.Thread(target=stream) for _ in range(level)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        errors = outcomes.count(False)
        tried[level] = errors
        if errors:
            break
        held = level
    return {"held_without_error": held, "errors_by_level": tried}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer requests, for a try-out")
    parser.add_argument("--worker-class", default=os.environ.get("GUNICORN_WORKER_CLASS", "gthread"))
    parser.add_argument("--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "3")))
    parser.add_argument("--threads", type=int, default=int(os.environ.get("GUNICORN_THREADS", 128)))
    parser.add_argument("--stream-levels", default="50,100,200,300")
    parser.add_argument("--only", default=",".join(MEASURES), help="which measures, comma-separated: " + ", ".join(MEASURES))
    args = parser.parse_args()
    total = 60 if args.quick else 300
    only = set(args.only.split(","))
    if not only <= set(MEASURES):
        parser.error(f"--only takes {', '.join(MEASURES)}")

    with tempfile.TemporaryDirectory(prefix="signage-bench-") as work:
        fake_process, fake = start_fake(latency=0.05, pieces=20, gap=0.0)
        slow_process, slow_fake = start_fake(latency=0.05, pieces=40, gap=0.1)
        results = {
            "when": datetime.now(UTC).isoformat(timespec="seconds"),
            "server": {"worker_class": args.worker_class, "workers": args.workers, "threads": args.threads,
                       "database": os.environ.get("DATABASE_URL", "sqlite:").split(":", 1)[0]},
            "provider_latency_ms": 50,
        }
        if only - {"streams"}:
            server = Server(fake_url=fake, worker_class=args.worker_class, workers=args.workers, threads=args.threads, work=Path(work))
            try:
                if "chat" in only:
                    results["chat_added_latency"] = added_latency(server, fake, total=total)
                if "first-token" in only:
                    results["run_first_token"] = added_first_token(server, fake, total=total // 5)
                if "listing" in only:
                    results["message_listing"] = message_listing(server, seconds=5 if args.quick else 10)
            finally:
                server.stop()
        # The streams test talks to a provider whose replies take about 4 s, on a fresh server.
        if "streams" in only:
            streams_server = Server(fake_url=slow_fake, worker_class=args.worker_class, workers=args.workers, threads=args.threads, work=Path(work) / "streams")
            try:
                results["concurrent_streams"] = concurrent_streams(streams_server, [int(n) for n in args.stream_levels.split(",")])
                results["peak_memory_mb"] = streams_server.peak_rss_mb()
            finally:
                streams_server.stop()
        for process in (fake_process, slow_process):
            process.terminate()
    report(results)


def report(results: dict) -> None:
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{results['when'].replace(':', '')}-{results['server']['worker_class']}.json"
    path.write_text(json.dumps(results, indent=2))
    server = results["server"]
    print(f"\nServer: gunicorn {server['worker_class']}, {server['workers']} workers x {server['threads']} threads, {server['database']}; provider latency 50 ms")
    print(f"{'measure':<44}{'p50':>9}{'p95':>9}{'p99':>9}")
    for concurrency, row in results.get("chat_added_latency", {}).items():
        added = row["added_ms"]
        print(f"{'chat added latency, concurrency ' + str(concurrency) + ' (ms)':<44}{added['p50']:>9}{added['p95']:>9}{added['p99']:>9}")
    if "run_first_token" in results:
        first = results["run_first_token"]["added_ms"]
        print(f"{'streamed run, added time to first token (ms)':<44}{first['p50']:>9}{first['p95']:>9}{first['p99']:>9}")
    if "message_listing" in results:
        listing = results["message_listing"]
        timing = listing["server_ms"]
        print(f"{'list 20 of 1,000 messages, server time (ms)':<44}{timing['p50']:>9}{timing['p95']:>9}{timing['p99']:>9}")
        print(f"list 20 of 1,000 messages: {listing['requests_per_second']} requests/s at concurrency 8")
    if "concurrent_streams" in results:
        streams = results["concurrent_streams"]
        print(f"concurrent streams held with no error: {streams['held_without_error']} (errors by level: {streams['errors_by_level']})")
        memory = results["peak_memory_mb"]
        print(f"peak memory: web {memory['web']} MB, worker {memory['worker']} MB")
    print(f"written to {path.relative_to(ROOT)}")


if __name__ == "__main__":
    sys.exit(main())
