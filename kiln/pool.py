"""Parse many sources at once: Markdown is the costliest step of a build, so it runs on every core."""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor

from .cache import PageCache, page_keys
from .config import Config
from .content import Page, Source, parse_page
from .errors import Problems, SiteError
from .markup import Markup
from .urls import Urls

# Below this many files a pool's start-up costs more than it saves.
POOL_THRESHOLD = 64

Parsed = tuple[Page | None, list[SiteError], list[SiteError]]


def parse_pages(sources: list[Source], config: Config, problems: Problems, cache: PageCache) -> list[Page]:
    """Return the pages of all sources, in source order: from the cache where it has them, else parsed."""
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
    for parsed, warnings in _parse_all(missing, config, problems):
        page = dataclasses.replace(parsed, key=keys[parsed.src_path])
        cache.put(page.key, page, warnings)
        pages.append(page)
    order = {source.src_path: position for position, source in enumerate(sources)}
    return sorted(pages, key=lambda page: order[page.src_path])


def _parse_all(sources: list[Source], config: Config, problems: Problems) -> list[tuple[Page, list[SiteError]]]:
    """Return each page parsed with its own warnings, using every core when there are many."""
    if not sources:
        return []
    workers = min(len(os.sched_getaffinity(0)), len(sources) // (POOL_THRESHOLD // 2) or 1)
    if len(sources) < POOL_THRESHOLD or workers < 2:
        results = [_parse_chunk(sources, config)]
    else:
        chunks = [sources[index::workers] for index in range(workers)]
        # fork: the workers start at once with everything imported (no re-import per worker)
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(workers, mp_context=context) as pool:
            results = list(pool.map(_parse_chunk, chunks, [config] * workers))
    parsed: list[tuple[Page, list[SiteError]]] = []
    for chunk in results:
        for page, errors, warnings in chunk:
            problems.errors.extend(errors)
            problems.warnings.extend(warnings)
            if page is not None and not errors:
                parsed.append((page, warnings))
    return parsed


def _parse_chunk(sources: list[Source], config: Config) -> list[Parsed]:
    """Parse some sources with one Markdown converter; return each page with the problems it had."""
    markup = Markup(Urls(config.base_url))
    results: list[Parsed] = []
    for source in sources:
        problems = Problems()
        page = parse_page(source, config, markup, problems)
        results.append((page, problems.errors, problems.warnings))
    return results
