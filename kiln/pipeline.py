"""The build, top to bottom: load -> model -> render -> write."""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path

import jinja2

from .cache import CACHE_FOLDER, Caches, open_caches
from .cms import admin_files
from .cohorts import cached_calendars, calendar_jobs, make_calendars
from .config import Config
from .errors import Problems, SiteError
from .images import Images, dress, publish_images
from .load import read_bundles, read_config, read_source, read_sources, read_static
from .pool import parse_pages
from .publish import fingerprint, host_files
from .render import Templates, make_environment, outputs_showing_text, render_site
from .search import SEARCH_SCRIPT, start_index
from .site import Site, make_site, replace_pages
from .urls import Urls
from .write import Written, check_output_folder, write_output


@dataclass(frozen=True)
class Options:
    """What the command line asks of a build."""

    source: Path
    output: Path | None = None
    base_url: str | None = None
    drafts: bool = False
    now: dt.datetime | None = None  # what counts as "the future"; the real time unless a test says otherwise
    cache: bool = True  # reuse parsed pages from SOURCE/.kiln-cache when their inputs are unchanged
    preview: bool = False  # keep search engines out (every --drafts build is a preview too)

    @property
    def output_folder(self) -> Path:
        """Return the output folder: --output, or site/ inside the source folder."""
        return self.output if self.output is not None else self.source / "site"


@dataclass(frozen=True)
class Rendered:
    """A whole site rendered in memory, with the warnings met on the way."""

    site: Site
    files: dict[str, bytes]
    warnings: list[SiteError] = field(default_factory=list)
    assets: dict[str, str] = field(default_factory=dict)  # static files' paths -> their fingerprinted names
    images: Images = field(default_factory=Images)


def render(
    options: Options, environment: jinja2.Environment | None = None, caches: Caches | None = None, index: bool = True
) -> Rendered:
    """Return the whole site rendered in memory; raise BuildFailed with every error found.

    `serve` passes the same environment and caches to every rebuild, so unchanged templates are not compiled
    again and unchanged pages are neither parsed nor rendered again. Saving the caches is the caller's part.
    Without `index`, the search index is left out (serve makes it after the browser has reloaded).
    """
    caches = caches or open_caches(options.source, options.cache)
    caches.start()
    problems = Problems()
    config = read_config(options.source, problems, options.base_url)
    if config is None:
        problems.raise_errors()
    assert config is not None
    compiled = options.source / CACHE_FOLDER / "templates" if options.cache else None
    environment = environment or make_environment(options.source, auto_reload=False, compiled=compiled)
    templates = Templates(environment, options.source)
    # While other processes run Markdown, this one compiles the templates. The files' bytes are not kept once
    # parsed (at 5,000 articles they are 30 MB).
    pages = parse_pages(
        read_sources(options.source, problems, caches.sources), config, problems, caches.pages, templates.prepare
    )
    now = options.now or dt.datetime.now(dt.UTC)
    site = make_site(pages, config, problems, now, options.drafts)
    site = replace(site, preview=True) if options.preview else site
    site, images = publish_images(site, options.source, problems, caches.images)
    problems.raise_errors()
    # Pagefind indexes in its own process while this one renders
    indexing = start_index(site, caches.index) if index and site.searchable else None
    static = read_static(options.source, problems)
    if not site.searchable:
        static.pop(SEARCH_SCRIPT, None)  # only the search page runs it
    assets = fingerprint(static, images.files, images.immutable)
    calendars = calendar_jobs(site.programs, config, site.now)
    found = cached_calendars(calendars, caches.rendered) if not caches.rendered.empty() else {}
    try:  # while other processes render, this one stores the parsed pages
        files = render_site(site, templates, problems, assets.names, caches.rendered, caches.pages.save)
    except BaseException:
        if indexing is not None:
            indexing.stop()
        raise
    files.update(make_calendars(calendars, found, config, caches.rendered))
    files.update(assets.files)
    files.update(read_bundles(options.source, site.all_pages, files, problems))
    files[".nojekyll"] = b""
    if indexing is not None:
        files.update(indexing.files(problems))
    files.update(admin_files(options.source, config, _style_url(config, assets.names), problems))
    files.update(host_files(site, files, assets, problems))
    problems.raise_errors()
    return Rendered(site, files, problems.warnings, assets.names, images)


def _style_url(config: Config, assets: dict[str, str]) -> str:
    """Return the URL of the site's stylesheet as pages link it (the editor's preview uses it too)."""
    return Urls(config.base_url).path(assets.get("/static/style.css", "/static/style.css"))


def rerender(
    previous: Rendered, options: Options, environment: jinja2.Environment, caches: Caches, changed: Path
) -> Rendered | None:
    """Return the site again after an edit to one page's text, re-rendering only the outputs that show that text.

    For the live preview: the edit of an article's body is on screen without rebuilding the model or keying
    every output. None means the edit (or the previous build) may reach further, and a full render is needed:
    the file is new or gone, it has problems, or it changed a title, date, tag or anything else a list shows.
    """
    old = next((page for page in previous.site.all_pages if page.src_path == changed), None)
    if old is None or previous.warnings:
        return None
    problems = Problems()
    try:
        source = read_source(options.source, changed)
    except OSError:
        return None
    parsed = parse_pages([source], previous.site.config, problems, caches.pages)
    if problems.errors or problems.warnings or not parsed:
        return None
    new = dress(parsed[0], previous.images.pictures, Urls(previous.site.config.base_url))
    if new is None or not new.same_but_text(old):  # an image that was not there before needs a full build
        return None
    site = replace_pages(previous.site, {old.src_path: new})
    templates = Templates(environment, options.source)
    wanted = outputs_showing_text(site, new)
    files = previous.files | render_site(site, templates, problems, previous.assets, caches.rendered, wanted=wanted)
    return None if problems.errors else Rendered(site, files, [], previous.assets, previous.images)


def build(options: Options) -> tuple[Rendered, Written]:
    """Render the site, then swap it into the output folder; the previous output stays if anything fails."""
    check_output_folder(options.output_folder, options.source)
    caches = open_caches(options.source, options.cache)
    rendered = render(options, caches=caches)
    # the cache is good whether or not the output can be written; both are mostly the system's work, in parallel
    saving = threading.Thread(target=caches.save)
    saving.start()
    try:
        written = write_output(rendered.files, options.output_folder)
    finally:
        saving.join()
    return rendered, written
