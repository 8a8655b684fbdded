"""Parse many sources at once: Markdown is the costliest step of a build, so it runs on every core."""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor

from .config import Config
from .content import Page, Source, parse_page
from .errors import Problems, SiteError
from .markup import Markup
from .urls import Urls

# Below this many files a pool's start-up costs more than it saves.
POOL_THRESHOLD = 64

Parsed = tuple[list[Page | None], list[SiteError], list[SiteError]]


def parse_pages(sources: list[Source], config: Config, problems: Problems) -> list[Page]:
    """Return the pages of all sources, in source order, recording every problem in `problems`."""
    workers = min(len(os.sched_getaffinity(0)), len(sources) // (POOL_THRESHOLD // 2) or 1)
    if len(sources) < POOL_THRESHOLD or workers < 2:
        results = [_parse_chunk(sources, config)]
    else:
        chunks = [sources[index::workers] for index in range(workers)]
        # fork: the workers start at once with everything imported (no re-import per worker)
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(workers, mp_context=context) as pool:
            results = list(pool.map(_parse_chunk, chunks, [config] * workers))
    pages: list[Page] = []
    for parsed, errors, warnings in results:
        problems.errors.extend(errors)
        problems.warnings.extend(warnings)
        pages.extend(page for page in parsed if page is not None)
    # chunks were interleaved; put the pages back in source order
    order = {source.src_path: position for position, source in enumerate(sources)}
    return sorted(pages, key=lambda page: order[page.src_path])


def _parse_chunk(sources: list[Source], config: Config) -> Parsed:
    """Parse some sources with one Markdown converter; return the pages and the problems met."""
    problems = Problems()
    markup = Markup(Urls(config.base_url))
    return [parse_page(source, config, markup, problems) for source in sources], problems.errors, problems.warnings
