"""Work spread over every core: parsing many sources, rendering many outputs.

Workers are forked, so they start at once with everything the parent holds (modules, settings, the site model,
compiled templates) and nothing is sent to them; only their results travel back.
"""

from __future__ import annotations

import dataclasses
import heapq
import os
from collections.abc import Callable
from typing import Any, TypeVar

from .cache import PageCache, page_keys
from .config import Config
from .content import Page, Source, parse_page
from .errors import Problems, SiteError
from .markup import Markup
from .urls import Urls

# Below this many items a pool's start-up costs more than it saves.
POOL_THRESHOLD = 64
CHUNKS_PER_WORKER = 4

Item = TypeVar("Item")
Result = TypeVar("Result")
Parsed = tuple[Page | None, list[SiteError], list[SiteError]]
_work: tuple[Callable[[list[Any]], Any], list[list[Any]]] | None = None  # what forked workers find on waking


def spread(
    task: Callable[[list[Item]], list[Result]],
    items: list[Item],
    weight: Callable[[Item], int] | None = None,
    meanwhile: Callable[[], None] | None = None,
) -> list[Result]:
    """Return task's result for each item, in the order of the items: on every core when there are many.

    The task takes a list of items and returns one result per item. Items are dealt into chunks of about the
    same total weight (the heaviest first, each to the lightest chunk), and each worker takes the next chunk.
    `meanwhile` is work worth doing only beside other processes (such as compiling templates ahead of need): it
    runs in this process while the workers work, and not at all when there are none.
    """
    workers = min(_cores(), len(items) // (POOL_THRESHOLD // 2) or 1)
    if len(items) < POOL_THRESHOLD or workers < 2:
        return task(items) if items else []
    # imported here, not at the top: a warm build or a small site never needs them (~10 ms of start-up)
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    if "fork" not in multiprocessing.get_all_start_methods():
        return task(items)
    global _work
    # several chunks per worker: a worker done early takes the next, and results travel while others still work
    dealt = _deal(items, workers * CHUNKS_PER_WORKER, weight or (lambda item: 1))
    _work = (task, [[items[index] for index in indices] for indices in dealt])
    try:
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
            running = pool.map(_run_chunk, range(len(dealt)))  # every chunk is handed out before this returns
            if meanwhile is not None:
                meanwhile()
            chunks = list(running)
    finally:
        _work = None
    results: list[Any] = [None] * len(items)
    for indices, chunk in zip(dealt, chunks, strict=True):
        for index, result in zip(indices, chunk, strict=True):
            results[index] = result
    return results


def _cores() -> int:
    """Return how many cores this process may run on (all of them where the system cannot say, as on macOS)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _deal(items: list[Item], chunks: int, weight: Callable[[Item], int]) -> list[list[int]]:
    """Return, for each chunk, the indices of the items it takes, in order, so that the loads come out even."""
    loads = [(0, chunk) for chunk in range(chunks)]
    dealt: list[list[int]] = [[] for _ in range(chunks)]
    for index in sorted(range(len(items)), key=lambda index: -weight(items[index])):
        load, chunk = heapq.heappop(loads)
        dealt[chunk].append(index)
        heapq.heappush(loads, (load + weight(items[index]), chunk))
    return [sorted(indices) for indices in dealt if indices]


def _run_chunk(index: int) -> Any:
    """In a worker: run the task on its chunk, both inherited from the parent at the fork."""
    assert _work is not None
    task, chunks = _work
    return task(chunks[index])


def parse_pages(
    sources: list[Source],
    config: Config,
    problems: Problems,
    cache: PageCache,
    meanwhile: Callable[[], None] | None = None,
) -> list[Page]:
    """Return the pages of all sources, in source order: from the cache where it has them, else parsed.

    `meanwhile` is work for this process while other processes parse.
    """
    keys = page_keys(sources, config, cache.keys)
    pages: list[Page] = []
    missing: list[Source] = []
    for source in sources:
        hit = cache.get(keys[source.src_path])
        if hit is None:
            missing.append(source)
        else:
            pages.append(hit[0])
            problems.warnings.extend(hit[1])
    parsed = spread(
        lambda chunk: _parse_chunk(chunk, config), missing, weight=lambda source: len(source.data), meanwhile=meanwhile
    )
    for page, errors, warnings in parsed:
        problems.errors.extend(errors)
        problems.warnings.extend(warnings)
        if page is not None and not errors:
            page = dataclasses.replace(page, key=keys[page.src_path])
            cache.put(page.key, page, warnings)
            pages.append(page)
    order = {source.src_path: position for position, source in enumerate(sources)}
    return sorted(pages, key=lambda page: order[page.src_path])


def _parse_chunk(sources: list[Source], config: Config) -> list[Parsed]:
    """Parse some sources with one Markdown converter; return each page with the problems it had."""
    markup = Markup(Urls(config.base_url))
    results: list[Parsed] = []
    for source in sources:
        problems = Problems()
        page = parse_page(source, config, markup, problems)
        results.append((page, problems.errors, problems.warnings))
    return results
