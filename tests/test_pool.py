"""Sites big enough to be parsed and rendered in forked workers give what one process gives."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import Run, snapshot

import kiln.pool

MANY = kiln.pool.POOL_THRESHOLD + 17  # enough for every core, and not a multiple of two


def articles(count: int) -> dict[str, str]:
    """Return `count` articles that link to each other, with tags, headings, a table and a footnote."""
    files = {}
    for number in range(count):
        files[f"content/articles/post-{number:03d}.md"] = (
            f"---\ntitle: Post {number}\ndate: 2026-01-{number % 28 + 1:02d} {number % 24:02d}:00\n"
            f"tags: [t{number % 5}, t{number % 3}]\n---\n"
            f"Text of *post {number}*, see [the next](/articles/post-{(number + 1) % count:03d}/).[^n]\n\n"
            f"## Part one\n\n| a | b |\n|---|---|\n| {number} | x |\n\n## Part two\n\n## Part three\n\n[^n]: A note.\n"
        )
    return files


def test_a_site_built_in_workers_is_the_site_built_in_one_process(
    site: Callable[..., Path], build: Callable[..., Run], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = site(articles(MANY))
    assert build(source, "--no-cache", "--output", str(tmp_path / "workers")).code == 0
    monkeypatch.setattr(kiln.pool, "POOL_THRESHOLD", 10**9)
    assert build(source, "--no-cache", "--output", str(tmp_path / "one")).code == 0
    in_workers, in_one = snapshot(tmp_path / "workers"), snapshot(tmp_path / "one")
    assert len(in_workers) > MANY
    assert in_workers == in_one


def test_a_template_mistake_met_in_every_worker_is_reported_once(
    site: Callable[..., Path], build: Callable[..., Run]
) -> None:
    template = '{% extends "base.html" %}\n{% block main %}\n{{ page.subtitle }}\n{% endblock %}\n'
    source = site({**articles(MANY), "templates/article.html": template})
    result = build(source)
    assert result.code == 1
    [line, summary] = result.err.splitlines()
    assert line.startswith("templates/article.html:3: template uses something that does not exist: ")
    assert summary == "Build failed with 1 error; the previous output was left as it was."


def test_content_errors_from_every_worker_are_all_reported(
    site: Callable[..., Path], build: Callable[..., Run]
) -> None:
    files = articles(MANY)
    broken = sorted(files)[::20]
    for path in broken:
        files[path] = files[path].replace("title: Post", "titel: Post")
    result = build(site(files))
    assert result.code == 1
    missing = [line for line in result.err.splitlines() if "`title` is required" in line]
    assert [line.split(":")[0] for line in missing] == broken


def test_spread_keeps_the_order_of_the_items() -> None:
    items = list(range(kiln.pool.POOL_THRESHOLD * 3 + 1))
    assert kiln.pool.spread(lambda chunk: [item * 2 for item in chunk], items) == [item * 2 for item in items]
    weighted = kiln.pool.spread(lambda chunk: [-item for item in chunk], items, weight=lambda item: item % 7)
    assert weighted == [-item for item in items]


def test_dealing_evens_out_the_loads() -> None:
    weights = [500, 1, 1, 1, 1, 300, 200] + [1] * 50
    dealt = kiln.pool._deal(weights, [1, 1], lambda weight: weight)
    assert sorted(index for indices in dealt for index in indices) == list(range(len(weights)))
    loads = sorted(sum(weights[index] for index in indices) for indices in dealt)
    assert loads == [527, 527]


def test_chunks_handed_out_last_are_the_smallest() -> None:
    items = [1] * 1000
    dealt = kiln.pool._deal(items, kiln.pool._shares(2), lambda weight: weight)
    sizes = [len(indices) for indices in dealt]
    assert sizes == [200, 200, 150, 150, 100, 100, 50, 50]


def test_an_exception_in_a_worker_is_raised_in_the_parent() -> None:
    def task(chunk: list[int]) -> list[int]:
        if 100 in chunk:
            raise ValueError("no hundreds")
        return chunk

    with pytest.raises(ValueError, match="no hundreds"):
        kiln.pool.spread(task, list(range(kiln.pool.POOL_THRESHOLD * 4)))


def test_a_worker_that_dies_is_an_error_not_a_hang() -> None:
    def task(chunk: list[int]) -> list[int]:
        if 100 in chunk:
            os.kill(os.getpid(), signal.SIGKILL)
        return chunk

    with pytest.raises(kiln.pool.WorkerDied):
        kiln.pool.spread(task, list(range(kiln.pool.POOL_THRESHOLD * 4)))


def test_results_bigger_than_a_pipe_arrive_whole() -> None:
    items = list(range(kiln.pool.POOL_THRESHOLD * 2))
    results = kiln.pool.spread(lambda chunk: [str(item) * 50_000 for item in chunk], items)
    assert results == [str(item) * 50_000 for item in items]


def test_spread_works_where_the_system_cannot_say_which_cores_a_process_may_use(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delattr(kiln.pool.os, "sched_getaffinity")  # as on macOS
    items = list(range(kiln.pool.POOL_THRESHOLD * 2))
    assert kiln.pool.spread(lambda chunk: [item + 1 for item in chunk], items) == [item + 1 for item in items]


def test_spread_runs_in_this_process_where_there_is_no_fork(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(kiln.pool.os, "fork")  # as on Windows
    pids = kiln.pool.spread(lambda chunk: [os.getpid() for _ in chunk], list(range(kiln.pool.POOL_THRESHOLD * 2)))
    assert set(pids) == {os.getpid()}
