"""
The chat's added latency of two versions of the server, measured in one run: REV (any git revision,
checked out in a temporary worktree) as A, this checkout with its uncommitted changes as B. Both
serve at once, on the same fake provider, each on its own SQLite database, and are measured in
alternating rounds (the provider alone, then A and B, their order swapped every round), so the
machine's drift weighs on both alike. Prints each one's percentiles and added latency, and in how
many rounds B's median was the lower; writes bench/results/<time>-paired.json.

Usage: .venv/bin/python bench/paired.py REV [--concurrency 8] [--rounds 30] [--calls 60]
                                            [--workers N] [--threads N]
Both use this checkout's .venv: REV must run on the same packages.
"""

import argparse
import json
import os
import subprocess
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from run import ROOT, Server, added, chat_call, load, percentiles, provider_call, start_fake


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("rev", help="the revision measured as A (B is this checkout)")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--calls", type=int, default=60, help="calls per round, to each")
    parser.add_argument("--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "3")))
    parser.add_argument("--threads", type=int, default=int(os.environ.get("GUNICORN_THREADS", "128")))
    args = parser.parse_args()
    commit = subprocess.run(
        ["git", "rev-parse", "--verify", f"{args.rev}^{{commit}}"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()

    with tempfile.TemporaryDirectory(prefix="signage-paired-") as work:
        checkout = Path(work) / "a"
        subprocess.run(["git", "worktree", "add", "--detach", "--quiet", str(checkout), commit], cwd=ROOT, check=True)
        fake_process, fake = start_fake(latency=0.05, pieces=20, gap=0.0)
        servers: dict[str, Server] = {}
        try:
            for name, root in (("A", checkout), ("B", ROOT)):
                servers[name] = Server(
                    fake_url=fake, worker_class="gthread", workers=args.workers, threads=args.threads,
                    work=Path(work) / name, root=root,
                )
            results = _measure(servers, fake, args.concurrency, args.rounds, args.calls)
        finally:
            for server in servers.values():
                server.stop()
            fake_process.terminate()
            subprocess.run(["git", "worktree", "remove", "--force", str(checkout)], cwd=ROOT, check=False)
    results.update(
        when=datetime.now(UTC).isoformat(timespec="seconds"), a=commit, b="this checkout",
        concurrency=args.concurrency, rounds=args.rounds, calls=args.calls, workers=args.workers,
    )
    _report(results)


def _measure(servers: dict[str, Server], fake: str, concurrency: int, rounds: int, calls: int) -> dict:
    direct = provider_call(fake)
    served = {name: chat_call(server) for name, server in servers.items()}
    for call in served.values():  # connections and caches warm
        load(call, total=concurrency * 4, concurrency=concurrency)
    direct_s: list[float] = []
    served_s: dict[str, list[float]] = {name: [] for name in served}
    medians: dict[str, list[float]] = {name: [] for name in served}
    total = max(concurrency, calls)
    for number in range(rounds):
        direct_s += load(direct, total=total, concurrency=concurrency)
        for name in ("A", "B") if number % 2 == 0 else ("B", "A"):
            durations = load(served[name], total=total, concurrency=concurrency)
            served_s[name] += durations
            medians[name].append(sorted(durations)[len(durations) // 2])
    provider = percentiles(direct_s)
    results: dict = {"direct_ms": provider}
    for name, durations in served_s.items():
        own = percentiles(durations)
        results[name] = {"server_ms": own, "added_ms": added(own, provider)}
    results["b_lower_rounds"] = sum(b < a for a, b in zip(medians["A"], medians["B"], strict=True))
    return results


def _report(results: dict) -> None:
    print(f"\nchat added latency at concurrency {results['concurrency']}, {results['rounds']} rounds of "
          f"{results['calls']} calls, {results['workers']} workers; the provider alone: {results['direct_ms']}")
    print(f"{'':32}{'p50':>8}{'p95':>9}{'p99':>9}")
    for name, label in (("A", results["a"][:12]), ("B", results["b"])):
        added = results[name]["added_ms"]
        print(f"{name} {label:<30}{added['p50']:>8}{added['p95']:>9}{added['p99']:>9}")
    print(f"B's round median the lower in {results['b_lower_rounds']} of {results['rounds']} rounds")
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    path = out / f"{results['when'].replace(':', '')}-paired.json"
    path.write_text(json.dumps(results, indent=2))
    print(f"written to {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
