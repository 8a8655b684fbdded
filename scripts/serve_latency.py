#!/usr/bin/env python3
"""Measure save-to-reload latency of `build.py serve`: from a file write to the reload message on the websocket.

Usage: python scripts/serve_latency.py [--saves 30] [--file content/articles/the-role-of-trust-in-relationships.md]

Copies the launch site (content/, templates/, static/, site.yaml) into a temporary folder, starts
`python build.py serve --port 0` on it, connects to the live-reload websocket as livereload.js does, then edits
the file again and again, timing each write until the reload message arrives. Not a test: the suite only checks
that a reload arrives after a save.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tornado.httpclient import HTTPRequest
from tornado.websocket import websocket_connect

REPO = Path(__file__).resolve().parent.parent


def main() -> int:
    """Run the measurement and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--saves", type=int, default=30)
    parser.add_argument("--file", default="content/articles/the-role-of-trust-in-relationships.md")
    parser.add_argument("--articles", type=int, default=0, help="add this many synthetic articles (benchmark.py's)")
    default_dir = "/dev/shm" if Path("/dev/shm").is_dir() else None
    parser.add_argument("--workdir", default=default_dir, help="where the site goes (a tmpfs by default)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.workdir) as folder:
        source = Path(folder)
        for name in ("content", "templates", "static"):
            shutil.copytree(REPO / name, source / name)
        shutil.copy(REPO / "site.yaml", source / "site.yaml")
        if args.articles:
            _add_articles(source, args.articles)
        times = serve_and_measure(source, source / args.file, args.saves)
    times.sort()
    print(
        f"save-to-reload over {len(times)} saves of {args.file} ({args.articles} extra articles): "
        f"median {statistics.median(times):.1f} ms, "
        f"p90 {times[int(len(times) * 0.9) - 1]:.1f} ms, min {times[0]:.1f} ms, max {times[-1]:.1f} ms"
    )
    return 0


def serve_and_measure(source: Path, path: Path, saves: int) -> list[float]:
    """Start `build.py serve` on a source folder, save `path` `saves` times, stop it; return each latency in ms."""
    server = subprocess.Popen(
        [sys.executable, str(REPO / "build.py"), "serve", "--source", str(source), "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # as in a terminal, even in a background job
    )
    try:
        return asyncio.run(_measure(_port(server), path, saves))
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.terminate()
            server.wait(timeout=10)


def _add_articles(source: Path, count: int) -> None:
    """Add synthetic articles, the benchmark's, to the copied site."""
    import random

    sys.path.insert(0, str(REPO / "scripts"))
    from benchmark import article

    rng = random.Random(1)
    folder = source / "content" / "articles" / "synthetic"
    folder.mkdir(parents=True)
    for number in range(1, count + 1):
        (folder / f"post-{number}.md").write_text(article(number, rng), encoding="utf-8")


def _port(server: subprocess.Popen[str]) -> int:
    """Return the port the server printed in its URL."""
    assert server.stdout is not None
    for line in server.stdout:
        if line.startswith("Preview ") and " at http://" in line:
            return int(line.rsplit(":", 1)[1].strip().strip("/"))
    raise SystemExit("serve printed no URL")


async def _measure(port: int, path: Path, saves: int) -> list[float]:
    """Return the milliseconds from each write of path to the reload message that follows it."""
    origin = f"http://127.0.0.1:{port}"
    socket = await websocket_connect(HTTPRequest(f"ws://127.0.0.1:{port}/livereload", headers={"Origin": origin}))
    await socket.write_message(json.dumps({"command": "hello", "protocols": []}))
    await socket.read_message()
    await socket.write_message(json.dumps({"command": "info", "url": origin + "/", "plugins": {}}))
    # the server registers the page on "info" and answers nothing; its answer to a second hello, read after it,
    # says that it has (no sleep a loaded machine could outrun)
    await socket.write_message(json.dumps({"command": "hello", "protocols": []}))
    await socket.read_message()
    original = path.read_text(encoding="utf-8")
    times: list[float] = []
    for number in range(saves):
        await asyncio.sleep(0.3)  # an editor saves now and then, not in a burst
        started = time.perf_counter()
        path.write_text(original + f"\nEdit number {number}.\n", encoding="utf-8")
        while True:
            message = await asyncio.wait_for(socket.read_message(), 10)
            if isinstance(message, str) and json.loads(message)["command"] == "reload":
                break
        times.append((time.perf_counter() - started) * 1000)
    socket.close()
    return times


if __name__ == "__main__":
    sys.exit(main())
