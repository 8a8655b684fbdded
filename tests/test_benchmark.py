"""The benchmark script runs end to end on a tiny corpus (its figures are not asserted: they are not tests)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conftest import REPO


def benchmark(folder: Path, report: Path, *arguments: str, timeout: int = 300) -> str:
    """Run scripts/benchmark.py with its corpus in a folder and its JSON in `report`; return what it printed."""
    done = subprocess.run(
        [sys.executable, str(REPO / "scripts/benchmark.py"), *arguments]
        + ["--workdir", str(folder), "--json", str(report)],
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_benchmark_runs_on_a_tiny_corpus_and_reports_every_measurement(tmp_path: Path) -> None:
    report = tmp_path / "bench.json"
    printed = benchmark(tmp_path, report, "--articles", "4", "--repeat", "1", "--saves", "3")
    header, row = printed.splitlines()
    assert header.split()[:3] == ["articles", "floor", "s"] and row.split()[0] == "4"
    [result] = json.loads(report.read_text())
    assert set(result["median_seconds"]) == {"floor", "cold", "warm", "one_change", "index"}
    assert result["index_bytes"] > 0
    assert all(value > 0 for value in result["median_seconds"].values())
    assert result["peak_memory_mb"] > 0
    assert len(result["live_edit_ms"]["runs"]) == 3 and result["live_edit_ms"]["median"] > 0
    assert row.split()[-1] == str(result["live_edit_ms"]["median"])
    assert list(tmp_path.iterdir()) == [report]  # the corpus is removed afterwards


def test_benchmark_corpus_is_deterministic() -> None:
    sys.path.insert(0, str(REPO / "scripts"))
    import random

    from benchmark import article

    first = [article(n, random.Random(7)) for n in range(1, 4)]
    second = [article(n, random.Random(7)) for n in range(1, 4)]
    assert first == second
    words = len(first[0].split("---\n", 2)[2].split())
    assert 700 <= words <= 1100, words


def test_benchmark_times_an_import_of_wordpress_posts_and_the_build_after(tmp_path: Path) -> None:
    report = tmp_path / "bench.json"
    printed = benchmark(tmp_path, report, "--articles", "2", "--repeat", "1", "--saves", "0", "--imports", "5")
    assert printed.splitlines()[-1].startswith("import of 5 WordPress posts: ")
    imported = json.loads(report.read_text())[-1]["import"]
    assert imported["posts"] == 5 and imported["import_seconds"] > 0 and imported["build_seconds"] > 0


def test_benchmark_measures_images(tmp_path: Path) -> None:
    report = tmp_path / "images.json"
    arguments = ("--images", "1", "--articles", "2", "--repeat", "1", "--saves", "2")
    header, row = benchmark(tmp_path, report, *arguments, timeout=600).splitlines()
    assert header.split()[:3] == ["photos", "floor", "s"] and row.split()[0] == "1"
    [result] = json.loads(report.read_text())
    assert {"floor", "cold_images", "warm_plain", "warm_pictured"} <= set(result["median_seconds"])
    assert result["median_seconds"]["floor"] > 0 and result["peak_memory_mb"] > 0
    assert len(result["live_edit_ms"]["runs"]) == 2
    assert list(tmp_path.iterdir()) == [report]
