"""Work spread over every core: parsing many sources, rendering many outputs.

Workers are forked, so they start at once with everything the parent holds (modules, settings, the site model,
compiled templates, the task itself) and nothing is sent to them but the numbers of the chunks they take; only
their results travel back, each chunk's pickled as soon as it is done.
"""

from __future__ import annotations

import dataclasses
import heapq
import os
import pickle
import selectors
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

from .cache import PageCache, page_keys
from .config import Config
from .content import Page, Source, parse_page
from .errors import Problems, SiteError
from .markup import Markup
from .urls import Urls

# Below this many items a pool's start-up costs more than it saves.
POOL_THRESHOLD = 64
CHUNKS_PER_WORKER = 4
PIPE_BYTES = 1 << 20  # a worker's results wait in its pipe while the parent does other work

Item = TypeVar("Item")
Result = TypeVar("Result")
Parsed = tuple[Page | None, list[SiteError], list[SiteError]]


class WorkerDied(RuntimeError):
    """A worker process ended without returning all of its work (killed, or out of memory)."""


def spread(
    task: Callable[[list[Item]], list[Result]],
    items: list[Item],
    weight: Callable[[Item], int] | None = None,
    meanwhile: Callable[[], None] | None = None,
    threshold: int = POOL_THRESHOLD,
) -> list[Result]:
    """Return task's result for each item, in the order of the items: on every core when there are many.

    The task takes a list of items and returns one result per item. Items are dealt into chunks by weight,
    larger chunks first and smaller ones last, and each worker takes the next chunk when it is done with one,
    so that the workers finish together. An exception in a worker is raised here. `meanwhile` is work worth doing
    only beside other processes (such as compiling templates ahead of need): it runs in this process while the
    workers work, and not at all when there are none. Below `threshold` items the task runs in this process
    (images, each far more work than a page, use a pool from two).
    """
    workers = min(_cores(), len(items) // max(1, threshold // 2) or 1)
    if len(items) < threshold or workers < 2 or not hasattr(os, "fork"):
        return task(items) if items else []
    dealt = _deal(items, _shares(workers), weight or (lambda item: 1))
    chunks = _forked(task, [[items[index] for index in indices] for indices in dealt], workers, meanwhile)
    results: list[Any] = [None] * len(items)
    for indices, chunk in zip(dealt, chunks, strict=True):
        for index, result in zip(indices, chunk, strict=True):
            results[index] = result
    return results


def _cores() -> int:
    """Return how many cores this process may run on (all of them where the system cannot say, as on macOS)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _shares(workers: int) -> list[int]:
    """Return the relative sizes of the chunks, in the order they are handed out: the last ones are the smallest."""
    return [size for size in range(CHUNKS_PER_WORKER, 0, -1) for _ in range(workers)]


def _deal(items: list[Item], shares: list[int], weight: Callable[[Item], int]) -> list[list[int]]:
    """Return, for each chunk, the indices of the items it takes, in order, with loads in proportion to shares."""
    loads = [(0.0, chunk) for chunk in range(len(shares))]
    dealt: list[list[int]] = [[] for _ in shares]
    for index in sorted(range(len(items)), key=lambda index: -weight(items[index])):
        load, chunk = heapq.heappop(loads)
        dealt[chunk].append(index)
        heapq.heappush(loads, (load + weight(items[index]) / shares[chunk], chunk))
    return [sorted(indices) for indices in dealt if indices]


def _forked(task: Callable[[list[Any]], Any], chunks: list[list[Any]], workers: int, meanwhile: Any) -> list[Any]:
    """Return task's result for each chunk, from forked workers that take the chunks' numbers from one pipe."""
    tickets, handout = os.pipe()
    os.write(handout, b"".join(number.to_bytes(4, "big") for number in range(len(chunks))))
    os.close(handout)  # once the numbers are taken, a worker's read finds the end
    running: dict[int, int] = {}  # each worker's pipe of results -> its process id
    try:
        for _ in range(workers):
            results, out = os.pipe()
            pid = os.fork()
            if pid == 0:
                os.close(results)
                _work(task, chunks, tickets, out)
            os.close(out)
            running[results] = pid
        if meanwhile is not None:
            meanwhile()
        return _collect(running, len(chunks))
    except BaseException:
        for pid in running.values():  # nobody waits for their results any more
            os.kill(pid, signal.SIGKILL)
        raise
    finally:
        os.close(tickets)
        for results, pid in running.items():
            os.close(results)
            os.waitpid(pid, 0)


def _work(task: Callable[[list[Any]], Any], chunks: list[list[Any]], tickets: int, out: int) -> NoReturn:
    """In a worker: run the task on each chunk whose number it takes, writing each result; never return."""
    status = 0
    try:
        _grow(out)
        while ticket := os.read(tickets, 4):  # a read of 4 bytes from a pipe is never split with another reader
            number = int.from_bytes(ticket, "big")
            _send(out, (number, task(chunks[number])))
    except BaseException as error:  # noqa: BLE001 - every failure goes to the parent, which raises it
        status = 1
        try:
            _send(out, (-1, error))
        except Exception:  # noqa: BLE001 - an exception that does not pickle
            _send(out, (-1, RuntimeError(f"{type(error).__name__}: {error}")))
    finally:
        os._exit(status)  # never the parent's code: no atexit, no flushing of its buffers


def _grow(out: int) -> None:
    """Let a pipe hold a whole chunk's results, where the system allows (Linux)."""
    try:
        import fcntl

        fcntl.fcntl(out, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
    except (ImportError, AttributeError, OSError):
        pass


def _send(out: int, message: object) -> None:
    """Write a pickled message to a pipe, its length first."""
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    view = memoryview(len(data).to_bytes(8, "big") + data)
    while view:
        view = view[os.write(out, view) :]


def _collect(running: dict[int, int], count: int) -> list[Any]:
    """Return the result of each chunk as the workers' pipes deliver them; raise a worker's exception."""
    chunks: list[Any] = [None] * count
    done = 0
    pending = {results: bytearray() for results in running}
    with selectors.DefaultSelector() as selector:  # not select(): serve may hold file numbers past 1024
        for results in running:
            selector.register(results, selectors.EVENT_READ)
        while pending:
            for ready, _ in selector.select():
                results = int(ready.fd)
                data = os.read(results, PIPE_BYTES)
                buffer = pending[results]
                if not data:
                    selector.unregister(results)
                    del pending[results]
                    if buffer:
                        raise WorkerDied("a worker process stopped in the middle of returning its work")
                    continue
                buffer += data
                while len(buffer) >= 8 and len(buffer) >= 8 + (size := int.from_bytes(buffer[:8], "big")):
                    number, value = pickle.loads(buffer[8 : 8 + size])
                    del buffer[: 8 + size]
                    if number < 0:
                        raise value
                    chunks[number] = value
                    done += 1
    if done < count:
        raise WorkerDied("a worker process stopped before finishing its work (killed, or out of memory?)")
    return chunks


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
    pages: list[Page] = []
    missing = sources
    keys: dict[Path, str] | None = None
    if cache.entries or cache.decoded:  # else nothing can be found, and the workers key the pages they parse
        keys = page_keys(sources, config, cache.keys)
        missing = []
        for source in sources:
            hit = cache.get(keys[source.src_path])
            if hit is None:
                missing.append(source)
            else:
                pages.append(hit[0])
                problems.warnings.extend(hit[1])
    parsed = spread(
        lambda chunk: _parse_chunk(chunk, config, keys),
        missing,
        weight=lambda source: len(source.data),
        meanwhile=meanwhile,
    )
    for page, errors, warnings in parsed:
        problems.errors.extend(errors)
        problems.warnings.extend(warnings)
        if page is not None and not errors:
            cache.put(page.key, page, warnings)
            pages.append(page)
    order = {source.src_path: position for position, source in enumerate(sources)}
    return sorted(pages, key=lambda page: order[page.src_path])


def _parse_chunk(sources: list[Source], config: Config, keys: dict[Path, str] | None) -> list[Parsed]:
    """Parse and key some sources with one Markdown converter; return each page with the problems it had."""
    markup = Markup(Urls(config.base_url))
    keys = keys if keys is not None else page_keys(sources, config)
    results: list[Parsed] = []
    for source in sources:
        problems = Problems()
        page = parse_page(source, config, markup, problems)
        if page is not None:
            page = dataclasses.replace(page, key=keys[source.src_path])
        results.append((page, problems.errors, problems.warnings))
    return results
