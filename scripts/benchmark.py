#!/usr/bin/env python3
"""Benchmark builds on a synthetic corpus: cold, warm and one-change builds, Markdown floor, search index, memory.

Usage: python scripts/benchmark.py [--articles 1000] [--repeat 5] [--saves 15] [--workdir /dev/shm] [--json out.json]

Every build is a separate `python build.py` process, timed from start to exit (wall clock), so start-up and
imports count, as they do for an editor. Runs of different kinds are interleaved so that drift of the machine
spreads over all of them. The search index is also timed alone (Pagefind on the corpus' pages, no cache, in this
process); a build overlaps it with rendering. The live edit is measured last, by serve_latency.py's method:
`build.py serve` on the same corpus, one article saved again and again, each timed from the write to the
browser's reload message.
Not a test: the suite only checks that it runs on a tiny corpus.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # the script runs from a checkout, installed or not
sys.path.insert(0, str(REPO / "scripts"))
from serve_latency import serve_and_measure  # noqa: E402 - found through the line above

WORDS = (
    "trust care listen honest steady repair feeling partner friend respect boundary kindness promise time "
    "conflict calm notice support grow together patience understand choice habit moment gentle clear open "
    "reliable empathy voice share safe hope change practice learn week group skill anxiety relief"
).split()
TAGS = ("relationships", "trust", "communication", "anxiety", "mindfulness", "family", "work", "grief")
CONFIG = """\
title: Benchmark site
organisation: Benchmark Org
description: A synthetic site for timing builds.
base_url: https://example.org/
timezone: UTC
signup_url: https://forms.example.com/signup
"""


def sentence(rng: random.Random, words: int) -> str:
    """Return one sentence of random words."""
    text = " ".join(rng.choice(WORDS) for _ in range(words))
    return text[0].upper() + text[1:] + "."


def paragraph(rng: random.Random) -> str:
    """Return a paragraph of about 60 words with a link and some emphasis."""
    parts = [sentence(rng, rng.randint(9, 16)) for _ in range(5)]
    parts[1] = f"See [{rng.choice(WORDS)}](/articles/post-{rng.randint(1, 50)}/) and **{rng.choice(WORDS)}**."
    return " ".join(parts)


def article(number: int, rng: random.Random) -> str:
    """Return one synthetic article of about 900 words: headings, lists, links, a table and a quote."""
    tags = rng.sample(TAGS, 3)
    front = (
        f"---\ntitle: Article number {number} about {rng.choice(WORDS)}\n"
        f"date: 2024-{number % 12 + 1:02d}-{number % 28 + 1:02d} {number % 24:02d}:{number % 60:02d}\n"
        f"description: {sentence(rng, 12)}\ntags: [{', '.join(tags)}]\n---\n\n"
    )
    body = [paragraph(rng), paragraph(rng), paragraph(rng)]
    for section in range(4):
        body.append(f"## Section {section + 1}: {rng.choice(WORDS)} and {rng.choice(WORDS)}")
        body += [paragraph(rng), paragraph(rng), paragraph(rng)]
        if section == 1:
            body.append("\n".join(f"- {sentence(rng, 6)}" for _ in range(5)))
        if section == 2:
            rows = "\n".join(f"| {rng.choice(WORDS)} | {rng.randint(1, 99)} | {rng.choice(WORDS)} |" for _ in range(4))
            body.append(f"| Skill | Weeks | Note |\n|---|---|---|\n{rows}")
        if section == 3:
            body.append(f"> {sentence(rng, 20)}")
    return front + "\n\n".join(body) + "\n"


def make_corpus(root: Path, count: int, seed: int) -> list[Path]:
    """Lay out a source folder with `count` articles; return the article paths."""
    rng = random.Random(seed)
    shutil.copytree(REPO / "templates", root / "templates")
    shutil.copytree(REPO / "static", root / "static")
    (root / "site.yaml").write_text(CONFIG)
    folder = root / "content" / "articles"
    folder.mkdir(parents=True)
    paths = []
    for number in range(1, count + 1):
        path = folder / f"post-{number}.md"
        path.write_text(article(number, rng))
        paths.append(path)
    return paths


def timed_build(source: Path, output: Path) -> tuple[float, float]:
    """Run one build process; return its wall time in seconds and its peak memory in MB."""
    # As on an editor's machine, Python keeps its compiled bytecode (some sandboxes turn that off for everything).
    environment = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, str(REPO / "build.py"), "--source", str(source), "--output", str(output), "--quiet"],
        env=environment,
    )
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"build failed with exit code {process.returncode}")
    return elapsed, usage.ru_maxrss / 1024


def _convert_all(texts: list[str]) -> int:
    """Convert texts with Python-Markdown alone and our extension set, in one process; return how many."""
    import markdown

    from kiln.markup import EXTENSIONS

    converter = markdown.Markdown(extensions=list(EXTENSIONS))
    for text in texts:
        converter.reset()
        converter.convert(text)
    return len(texts)


def markdown_floor(paths: list[Path], workers: int) -> float:
    """Return the wall time for Python-Markdown alone, with our extensions, to convert the corpus in N processes."""
    texts = [path.read_text().split("\n---\n", 1)[1] for path in paths]
    chunks = [texts[index::workers] for index in range(workers)]
    started = time.perf_counter()
    with ProcessPoolExecutor(workers) as pool:
        assert sum(pool.map(_convert_all, chunks)) == len(texts)
    return time.perf_counter() - started


def index_time(source: Path) -> tuple[float, int]:
    """Return the wall time of making the search index alone (Pagefind, no cache) and the index's size in bytes."""
    from kiln.cache import IndexCache
    from kiln.errors import Problems
    from kiln.pipeline import Options, render
    from kiln.search import start_index

    site = render(Options(source=source, cache=False), index=False).site
    problems = Problems()
    started = time.perf_counter()
    files = start_index(site, IndexCache(None)).files(problems)
    elapsed = time.perf_counter() - started
    if problems.errors:
        raise SystemExit(f"indexing failed: {problems.errors[0].format()}")
    return elapsed, sum(len(data) for data in files.values())


def clean(source: Path, output: Path) -> None:
    """Remove the output and any cache, for a cold build."""
    shutil.rmtree(output, ignore_errors=True)
    shutil.rmtree(source / ".kiln-cache", ignore_errors=True)


def measure(count: int, repeat: int, workdir: Path, seed: int, saves: int) -> dict[str, object]:
    """Return medians of every measurement over `repeat` interleaved rounds, and of `saves` live edits."""
    root = Path(tempfile.mkdtemp(prefix="kiln-bench-", dir=workdir))
    try:
        source, output = root / "src", root / "out"
        paths = make_corpus(source, count, seed)
        runs: dict[str, list[float]] = {"floor": [], "cold": [], "warm": [], "one_change": [], "index": []}
        peak = 0.0
        index_bytes = 0
        for round_ in range(repeat):
            runs["floor"].append(markdown_floor(paths, os.cpu_count() or 1))
            index, index_bytes = index_time(source)
            runs["index"].append(index)
            clean(source, output)
            cold, memory = timed_build(source, output)
            runs["cold"].append(cold)
            runs["warm"].append(timed_build(source, output)[0])
            with paths[round_ % len(paths)].open("a") as handle:
                handle.write(f"\nOne more line, round {round_}.\n")
            runs["one_change"].append(timed_build(source, output)[0])
            peak = max(peak, memory)
        medians = {name: statistics.median(values) for name, values in runs.items()}
        edits = sorted(serve_and_measure(source, paths[0], saves)) if saves else []
        return {
            "articles": count,
            "repeat": repeat,
            "cpus": os.cpu_count(),
            "median_seconds": medians,
            "runs_seconds": runs,
            "peak_memory_mb": round(peak, 1),
            "index_bytes": index_bytes,
            "cold_over_floor": round(medians["cold"] / medians["floor"], 3),
            "live_edit_ms": {
                "median": round(statistics.median(edits), 1) if edits else None,
                "p90": round(edits[max(0, int(len(edits) * 0.9) - 1)], 1) if edits else None,
                "runs": [round(edit, 1) for edit in edits],
            },
        }
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main() -> int:
    """Run the benchmark and print a table (and JSON when asked)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, nargs="+", default=[1000])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--saves", type=int, default=15, help="live edits to time in serve (0: none)")
    default_dir = Path("/dev/shm") if Path("/dev/shm").is_dir() else Path(tempfile.gettempdir())
    parser.add_argument("--workdir", type=Path, default=default_dir, help="where the corpus goes (a tmpfs)")
    parser.add_argument("--json", type=Path, help="also write the results as JSON to this file")
    args = parser.parse_args()
    results = [measure(count, args.repeat, args.workdir, args.seed, args.saves) for count in args.articles]
    columns = ("articles", "floor s", "cold s", "cold/floor", "warm s", "1 change s", "index s", "peak MB", "edit ms")
    print(" ".join(f"{name:>10}" for name in columns))
    for result in results:
        m = result["median_seconds"]
        assert isinstance(m, dict)
        row = (
            result["articles"],
            f"{m['floor']:.3f}",
            f"{m['cold']:.3f}",
            f"{result['cold_over_floor']:.2f}",
            f"{m['warm']:.3f}",
            f"{m['one_change']:.3f}",
            f"{m['index']:.3f}",
            result["peak_memory_mb"],
            live["median"] if isinstance(live := result["live_edit_ms"], dict) and live["median"] else "-",
        )
        print(" ".join(f"{value:>10}" for value in row))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
