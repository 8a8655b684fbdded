"""Site -> output files: the Jinja environment, each page's template and metadata, feed and sitemap."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import json
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
import jinja2.meta
from markupsafe import Markup as Safe

from .authors import Person, person, reviewed_by, written_by
from .cache import RenderCache, generator_digest, read_checked, write_checked
from .cohorts import Upcoming, action, course_instances, offer, overall_status, upcoming
from .content import Page, Summary
from .errors import Problems, SiteError
from .images import cover_html
from .pool import spread
from .publish import page_policy
from .search import BUNDLE, KINDS, SEARCH_URL
from .site import Site, TagEntry, TagLink
from .urls import Urls, dest_for

TEMPLATES = "templates"
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
HOME_ARTICLES = 10  # the newest; the rest are one link away, so the home page stays light on a phone


@dataclass(frozen=True)
class Listing:
    """A page that lists programs and articles: the home page, the article list, a tag."""

    url: str
    title: str
    description: str
    articles: tuple[Summary, ...] = ()
    programs: tuple[Summary, ...] = ()
    tags: tuple[TagEntry, ...] = ()
    kind: str = "list"


@dataclass(frozen=True)
class SitemapEntry:
    """One URL of the sitemap, with when it last changed where that is known."""

    url: str
    modified: dt.datetime | None = None


@dataclass(frozen=True)
class Output:
    """One file to write: where it goes, and the template and values that make it."""

    url: str
    template: str
    values: dict[str, Any] = field(default_factory=dict)


def make_environment(source: Path, auto_reload: bool = True, compiled: Path | None = None) -> jinja2.Environment:
    """Return the Jinja environment: strict about undefined names, escaping everything it inserts.

    A build compiles each template once and never looks again; serve's environment (auto_reload) checks each
    template's file before using it, so an edited template is compiled afresh. With `compiled`, a folder of the
    build cache, Jinja keeps each compiled template there and loads it instead of compiling while its source
    is unchanged (Jinja checks that itself).
    """
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(source / TEMPLATES),
        bytecode_cache=_CompiledTemplates(compiled) if compiled is not None else None,
        auto_reload=auto_reload,
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


References = tuple[str | None, ...] | None  # the templates a template names; None where that cannot be known


class _CompiledTemplates(jinja2.BytecodeCache):
    """Compiled templates in a folder of the build cache, each checksummed like the other cache files.

    Jinja itself compiles afresh when a template's source changed; the checksum covers what Jinja cannot tell,
    a damaged file, whose code would otherwise run as it is.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        data = read_checked(self.folder / bucket.key)
        if data is not None:
            bucket.bytecode_from_string(data)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        write_checked(self.folder, bucket.key, bucket.bytecode_to_string())

    def references(self, environment: jinja2.Environment, name: str, text: bytes) -> References:
        """Return the templates a template names, kept here by its text's hash: parsing them all takes ~15 ms."""
        file = "references-" + hashlib.sha256(name.encode()).hexdigest()[:32]
        digest = hashlib.sha256(f"{jinja2.__version__}\0".encode() + text).hexdigest()
        kept = read_checked(self.folder / file)
        try:
            stored, found = json.loads(kept) if kept is not None else (None, None)
        except (ValueError, TypeError):
            stored = None
        if stored == digest and (found is None or type(found) is list and all(_a_name(item) for item in found)):
            return None if found is None else tuple(found)
        found = _referenced(environment, text)
        write_checked(self.folder, file, json.dumps([digest, found]).encode())
        return found


def render_site(
    site: Site,
    templates: Templates,
    problems: Problems,
    assets: Mapping[str, str] | None = None,
    cache: RenderCache | None = None,
    meanwhile: Callable[[], None] | None = None,
    wanted: list[Output] | None = None,
) -> dict[str, bytes]:
    """Return rendered files, keyed by their path in the output folder; assets maps static files to fingerprints.

    Without `wanted`, every output of the site and robots.txt. Templates see only the values each output is
    given (and the site-wide settings), never the whole site, so an output's key covers everything it can show:
    with a cache, a file whose key is unchanged is not rendered again. `meanwhile` is work for this process
    while others render (see pool.spread).
    """
    urls = Urls(site.config.base_url)
    environment, source = templates.environment, templates.source
    # globals, not render arguments, so that imported macros see them too
    environment.globals.update(
        _helpers(site, urls),
        config=site.config,
        preview=site.preview,
        search=site.searchable,
        policy=page_policy(site),
        asset=asset_helper(urls, assets),
    )
    common = _common_key(site, assets)
    cache = cache or RenderCache(None)
    looked_up = not cache.empty()  # else the workers key what they render: nothing can be found, so no hurry

    def key_of(output: Output) -> str:
        return _output_key(common, templates.digest(output.template), output)

    files: dict[str, bytes | None] = {}
    missing: list[tuple[str | None, Output]] = []
    try:
        for output in outputs(site) if wanted is None else wanted:
            key = key_of(output) if looked_up else None
            files[dest_for(output.url)] = data = cache.get(key) if key is not None else None
            if data is None:
                missing.append((key, output))
    finally:
        cache.release()

    def render_chunk(chunk: list[tuple[str | None, Output]]) -> list[tuple[str, bytes | None, str, list[SiteError]]]:
        """Render some outputs; return their keys, bytes (None where a template failed) and the bytes' SHA-256."""
        local = Problems()
        rendered: list[tuple[str, bytes | None, str, list[SiteError]]] = []
        for key, output in chunk:
            key = key or key_of(output)
            before = len(local.errors)
            text = _render_one(output, environment, source, local)
            data = None if text is None else text.encode("utf-8")
            digest = hashlib.sha256(data).hexdigest() if data is not None else ""  # for the cache, while in parallel
            rendered.append((key, data, digest, local.errors[before:]))
        return rendered

    known = {(error.path, error.line, error.message) for error in problems.errors}
    results = spread(render_chunk, missing, weight=lambda job: _weight(job[1]), meanwhile=meanwhile)
    for (_, output), (key, data, digest, errors) in zip(missing, results, strict=True):
        files[dest_for(output.url)] = data
        if data is not None:
            cache.remember(key, data, digest)
        for error in errors:  # a mistake in a shared template is reported once, not once per page
            if (error.path, error.line, error.message) not in known:
                known.add((error.path, error.line, error.message))
                problems.errors.append(error)
    done = {dest: data for dest, data in files.items() if data is not None}
    if wanted is None:
        done["robots.txt"] = robots(site, urls).encode("utf-8")
    return done


def _weight(output: Output) -> int:
    """Return about how long an output takes to render, in article pages: lists cost by their length."""
    page = output.values.get("page")
    if isinstance(page, Listing):
        return 1 + (len(page.articles) + len(page.programs) + len(page.tags)) // 4
    return 1 + len(output.values.get("entries", ())) // 2  # a feed holds whole articles; a sitemap, lines


def _common_key(site: Site, assets: Mapping[str, str] | None) -> hashlib._Hash:
    """Return a hash of what every output depends on: settings, assets, the generator."""
    return hashlib.sha256(
        repr((site.config, site.preview, site.searchable, sorted((assets or {}).items()), generator_digest())).encode()
    )


class Templates:
    """The templates of one build: the environment that compiles them, and the hash of each together with every
    template it extends, includes or imports, at any depth.

    An edited template so changes the key of the outputs that use it and of no other. A template that names
    another by a variable, or that does not parse, is keyed by all templates: nothing can be missed.
    """

    def __init__(self, environment: jinja2.Environment, source: Path) -> None:
        self.environment = environment
        self.source = source
        self.folder = source / TEMPLATES
        self.memo: dict[str, str] = {}
        self.read: dict[str, bytes] = {}  # base.html and the partials are shared: read each once

    def digest(self, name: str) -> str:
        """Return the hash of a template and everything it references."""
        if name not in self.memo:
            names = self._closure(name)
            digest = hashlib.sha256()
            for member in sorted(names) if names is not None else self._all():
                digest.update(member.encode() + b"\0" + self._bytes(member) + b"\0")
            self.memo[name] = digest.hexdigest()
        return self.memo[name]

    def prepare(self) -> None:
        """Hash and compile every template now (the build runs this while Markdown keeps the other cores busy).

        A template that does not compile is left for rendering to report, with the page that uses it.
        """
        for name in self._all():
            self.digest(name)
            try:
                self.environment.get_template(name)
            except (jinja2.TemplateError, UnicodeDecodeError):
                continue

    def _closure(self, name: str) -> set[str] | None:
        """Return the names a template reaches, itself included; None when that cannot be known."""
        seen: set[str] = set()
        waiting = [name]
        while waiting:
            current = waiting.pop()
            if current in seen:
                continue
            seen.add(current)
            referenced = self._references(current)
            if referenced is None or None in referenced:
                return None
            waiting.extend(str(reference) for reference in referenced)
        return seen

    def _references(self, name: str) -> References:
        """Return the templates one template names (None for a name made at run time); None if it does not parse."""
        compiled = self.environment.bytecode_cache
        if isinstance(compiled, _CompiledTemplates):
            return compiled.references(self.environment, name, self._bytes(name))
        return _referenced(self.environment, self._bytes(name))

    def _all(self) -> list[str]:
        """Return every file under templates/, by name."""
        return sorted(path.relative_to(self.folder).as_posix() for path in self.folder.rglob("*") if path.is_file())

    def _bytes(self, name: str) -> bytes:
        """Return a template file's bytes (empty when it is missing, which rendering reports)."""
        if name not in self.read:
            path = self.folder / name
            self.read[name] = path.read_bytes() if path.is_file() else b""
        return self.read[name]


def _a_name(item: object) -> bool:
    """Return whether a kept reference is a template's name, or None for a name made at run time."""
    return item is None or type(item) is str


@functools.lru_cache(maxsize=256)
def _referenced(environment: jinja2.Environment, text: bytes) -> References:
    """Return the templates a template's text names; None if it does not parse (remembered: serve asks each save)."""
    try:
        return tuple(jinja2.meta.find_referenced_templates(environment.parse(text.decode("utf-8"))))
    except (UnicodeDecodeError, jinja2.TemplateSyntaxError):
        return None


def _output_key(common: hashlib._Hash, templates: str, output: Output) -> str:
    """Return the key of one output: the common hash, its templates, its URL and its values."""
    digest = common.copy()
    digest.update(repr((templates, output.template, output.url, fingerprint(output.values))).encode())
    return digest.hexdigest()


def fingerprint(value: Any) -> Any:
    """Return a value reduced to plain data for hashing; a page stands for itself by its key."""
    kind = type(value)
    if kind is Page:
        if not value.key:
            raise ValueError(f"page {value.src_path} has no key")
        return value.key
    if kind is Summary:
        return value.key
    if value is None or kind in (str, int, float, bool):
        return value
    if kind in (tuple, list):
        return [fingerprint(item) for item in value]
    if kind is dt.datetime:
        return value.isoformat()
    if kind is dict:
        return sorted((str(key), fingerprint(item)) for key, item in value.items())
    if dataclasses.is_dataclass(kind):
        return (kind.__name__, [fingerprint(getattr(value, name)) for name in _field_names(kind)])
    raise TypeError(f"cannot fingerprint a {kind.__name__}")


@functools.cache
def _field_names(kind: type) -> tuple[str, ...]:
    """Return a dataclass's field names."""
    return tuple(field.name for field in dataclasses.fields(kind))


def _render_one(output: Output, environment: jinja2.Environment, source: Path, problems: Problems) -> str | None:
    """Return one rendered page, or None after recording the template's problem (once per template line)."""
    known = {(error.path, error.line, error.message) for error in problems.errors}
    before = len(problems.errors)
    try:
        template = environment.get_template(output.template)
        return template.render(output.values)
    except jinja2.TemplateSyntaxError as error:
        problems.error(
            f"template does not parse: {error.message}", _template_path(error.filename, source), error.lineno
        )
    except jinja2.TemplateNotFound as error:
        problems.error(
            f"template {error.name} is missing",
            Path(TEMPLATES) / str(error.name),
            None,
            f"expected a file {TEMPLATES}/{error.name}",
        )
    except jinja2.UndefinedError as error:
        path, line = _template_frame(source)
        problems.error(
            f"template uses something that does not exist: {error.message}",
            path,
            line,
            "check the spelling against the names the templates receive (see docs/editors.md)",
        )
    # the same mistake in a shared template would otherwise be reported once per page
    new = problems.errors[before:]
    del problems.errors[before:]
    problems.errors.extend(e for e in new if (e.path, e.line, e.message) not in known)
    return None


def outputs(site: Site) -> Iterator[Output]:
    """Yield every page the site publishes, with the template that renders it."""
    config = site.config
    tag_link = functools.cache(site.tag_link)  # each tag is named by hundreds of pages
    yield Output(
        "/",
        "home.html",
        {
            "page": Listing(
                "/",
                config.title,
                config.description,
                summaries(site.articles[:HOME_ARTICLES]),
                summaries(site.programs),
                kind="home",
            ),
            "more_articles": len(site.articles) > HOME_ARTICLES,
        },
    )
    yield Output(
        "/articles/",
        "list.html",
        {
            "page": Listing(
                "/articles/",
                "Articles",
                f"Every article from {config.organisation}, newest first.",
                summaries(site.articles),
            )
        },
    )
    yield Output(
        "/programs/",
        "list.html",
        {
            "page": Listing(
                "/programs/",
                "Programs",
                f"Programs and groups offered by {config.organisation}.",
                programs=summaries(site.programs),
            )
        },
    )
    yield Output(
        "/tags/",
        "tags.html",
        {
            "page": Listing(
                "/tags/", "Topics", "Every topic our articles cover.", tags=tuple(t.entry for t in site.tags)
            )
        },
    )
    for tag in site.tags:
        yield Output(
            tag.url,
            "list.html",
            {
                "page": Listing(
                    tag.url,
                    f"Articles about {tag.name}",
                    f"Articles from {config.organisation} about {tag.name}.",
                    summaries(tag.articles),
                )
            },
        )
    for page in site.all_pages:
        yield page_output(site, page, tag_link)
    yield Output(
        "/404.html",
        "404.html",
        {"page": Listing("/404.html", "Page not found", "We could not find the page you asked for.")},
    )
    if site.searchable:
        yield search_output(site)
    yield feed_output(site, tag_link)
    yield Output("/sitemap.xml", "sitemap.xml", {"entries": sitemap_entries(site)})


def search_output(site: Site) -> Output:
    """Return the search page's output: its form, with the topics and kinds a reader can narrow results to."""
    kinds = tuple(kind for kind in KINDS if any(page.kind == kind for page in site.all_pages))
    return Output(
        SEARCH_URL,
        "search.html",
        {
            "page": Listing(
                SEARCH_URL,
                "Search",
                f"Search every article and program from {site.config.organisation}.",
                tags=tuple(tag.entry for tag in site.tags),
                kind="search",
            ),
            "kinds": tuple((KINDS[kind], f"{KINDS[kind]}s") for kind in kinds),
            "bundle": f"/{BUNDLE}/",
        },
    )


def outputs_showing_text(site: Site, page: Page) -> list[Output]:
    """Return the outputs that show a page's text (its body and headings): its own page, and the feed if it is in.

    Every other output shows pages by their Summary; tests/test_cache.py checks that this stays so.
    """
    tag_link = functools.cache(site.tag_link)
    feed = feed_output(site, tag_link)
    in_feed = any(entry is page for entry in feed.values["entries"])
    return [page_output(site, page, tag_link)] + ([feed] if in_feed else [])


def page_output(site: Site, page: Page, tag_link: Callable[[str], TagLink]) -> Output:
    """Return the output of one content page, given all it shows of other pages and of the day it is built."""
    values: dict[str, Any] = {
        "page": page,
        "status": site.status(page),
        # summaries, not pages: editing only an article's text re-renders no page that merely lists it
        "related": summaries(site.related.get(page.url, ())),
        "program": program.summary if (program := site.program(page.program)) else None,
        "tags": tuple(dict.fromkeys(tag_link(name) for name in page.tags)),
    }
    if page.kind == "article":
        values["author"] = person(page.author, site.authors_by_slug)
        values["reviewer"] = person(page.reviewed_by, site.authors_by_slug)
    elif page.kind == "program":
        cohorts = upcoming(page, site.now, site.config.timezone)
        values["cohorts"] = cohorts
        values["actions"] = {
            where: action(page, cohorts, where, site.config.utm_source) for where in ("summary", "end")
        }
    elif page.kind == "author":
        values["written"] = summaries(written_by(page.slug, site.articles))
        values["reviewed"] = summaries(reviewed_by(page.slug, site.articles))
    return Output(page.url, f"{page.kind}.html", values)


def feed_output(site: Site, tag_link: Callable[[str], TagLink]) -> Output:
    """Return the Atom feed's output: the newest articles, whole."""
    entries = site.articles[: site.config.feed_size]
    return Output(
        "/feed.xml",
        "feed.xml",
        {
            "entries": entries,
            "categories": {entry.url: tuple(dict.fromkeys(tag_link(n).name for n in entry.tags)) for entry in entries},
            "updated": max((entry.updated or entry.date for entry in entries if entry.date), default=EPOCH),
        },
    )


def summaries(pages: tuple[Page, ...]) -> tuple[Summary, ...]:
    """Return what lists show of each page."""
    return tuple(page.summary for page in pages)


def sitemap_entries(site: Site) -> list[SitemapEntry]:
    """Return every indexable URL: the lists, the tags and the content pages."""
    newest = site.articles[0].updated or site.articles[0].date if site.articles else None
    lists = [SitemapEntry(url, newest) for url in ("/", "/articles/", "/programs/", "/tags/")]
    tags = [SitemapEntry(tag.url, tag.articles[0].updated or tag.articles[0].date) for tag in site.tags]
    pages = [SitemapEntry(page.url, page.updated or page.date) for page in site.all_pages]
    return lists + tags + pages


def _helpers(site: Site, urls: Urls) -> dict[str, Any]:
    """Return the functions templates call to make links and metadata."""

    return {
        "url": urls.path,
        "absolute_url": urls.absolute,
        "structured_data": lambda page, **parts: structured_data(site, urls, page, **parts),
        "cover": lambda page: Safe(cover_html(page, urls)),
        "iso": iso,
        "long_date": long_date,
        "status": None,
    }


def asset_helper(urls: Urls, assets: Mapping[str, str] | None) -> Callable[[str], str]:
    """Return the template function asset(path): the link to a static file under its fingerprinted name."""

    def asset(path: str) -> str:
        """Return the link to a static file such as /static/style.css, by its fingerprinted name."""
        url = "/" + path.lstrip("/")
        if assets is None:
            return urls.path(url)
        if url not in assets:
            raise jinja2.UndefinedError(f"asset({path!r}) names no file in static/")
        return urls.path(assets[url])

    return asset


@functools.lru_cache(maxsize=4096)  # lists show the same dates again and again
def long_date(moment: dt.datetime) -> str:
    """Return a date as readers write it: 20 November 2026."""
    return f"{moment.day} {moment:%B %Y}"


@functools.lru_cache(maxsize=4096)
def iso(moment: dt.datetime) -> str:
    """Return a moment as ISO 8601 with its offset, to the second."""
    return moment.isoformat(timespec="seconds")


def structured_data(
    site: Site,
    urls: Urls,
    page: Page | Listing,
    author: Person | None = None,
    reviewer: Person | None = None,
    cohorts: tuple[Upcoming, ...] = (),
) -> Safe:
    """Return the page's JSON-LD, escaped so no value can close the script element.

    Templates pass what a page shows of others (its author and reviewer, its upcoming cohorts) from the values
    the page is rendered with, so that its cache key covers them.
    """
    config = site.config
    publisher = {"@type": "Organization", "name": config.organisation, "url": config.base_url}
    data: dict[str, Any]
    if isinstance(page, Listing) or page.kind == "page":
        data = {
            "@type": "WebSite" if page.url == "/" else "WebPage",
            "name": page.title,
            "description": page.description,
            "url": urls.absolute(page.url),
            "publisher": publisher,
        }
    elif page.kind == "article":
        data = _article_page(page, urls, publisher, author, reviewer)
    elif page.kind == "author":
        data = _profile_page(page, urls)
    else:
        data = _course(page, urls, publisher, cohorts)
    payload = json.dumps({"@context": "https://schema.org", **data}, ensure_ascii=False, indent=None)
    return Safe(payload.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e"))


def _person(who: Person, urls: Urls, organisation: str) -> dict[str, Any]:
    """Return a schema.org Person (or the organisation) for a byline, with their page and credentials."""
    if who.url is None and who.name == organisation:
        return {"@type": "Organization", "name": who.name}
    data: dict[str, Any] = {"@type": "Person", "name": who.name}
    if who.url is not None:
        data = {
            "@type": "Person",
            "@id": urls.absolute(who.url) + "#person",
            "name": who.name,
            "url": urls.absolute(who.url),
        }
    if who.role:
        data["jobTitle"] = who.role
    if who.credentials:
        data["hasCredential"] = {"@type": "EducationalOccupationalCredential", "name": who.credentials}
    return data


def _article_page(
    page: Page, urls: Urls, publisher: dict[str, str], author: Person | None, reviewer: Person | None
) -> dict[str, Any]:
    """Return an article's WebPage: reviewed by someone on a date, its main entity the Article and its author."""
    assert page.date is not None
    url = urls.absolute(page.url)
    article: dict[str, Any] = {
        "@type": "Article",
        "@id": url + "#article",
        "headline": page.title,
        "description": page.description,
        "datePublished": iso(page.date),
        "dateModified": iso(page.updated or page.date),
        "author": _person(author or Person(page.author or publisher["name"]), urls, publisher["name"]),
        "publisher": publisher,
        "mainEntityOfPage": url,
        "keywords": list(page.tags),
    }
    if page.cover is not None and page.cover.og is not None:
        article["image"] = urls.absolute(page.cover.og.url)
    elif page.image:
        article["image"] = page.image if page.image.startswith("https:") else urls.absolute(page.image)
    data: dict[str, Any] = {
        "@type": "WebPage",
        "@id": url,
        "url": url,
        "name": page.title,
        "description": page.description,
        "mainEntity": article,
    }
    if reviewer is not None:
        data["reviewedBy"] = _person(reviewer, urls, publisher["name"])
    if page.reviewed is not None:
        data["lastReviewed"] = page.reviewed.date().isoformat()
    return data


def _profile_page(page: Page, urls: Urls) -> dict[str, Any]:
    """Return an author's ProfilePage, whose main entity is the Person that bylines link to."""
    url = urls.absolute(page.url)
    who = _person(Person(page.title, page.url, page.credentials, page.role), urls, "")
    who["description"] = page.description
    if page.cover is not None:  # the photo as images.py published it
        who["image"] = urls.absolute(page.cover.fallback.url)
    elif page.photo:
        who["image"] = page.photo if page.photo.startswith("https:") else urls.absolute(page.photo)
    if page.links:
        who["sameAs"] = list(page.links)
    return {"@type": "ProfilePage", "@id": url, "url": url, "name": page.title, "mainEntity": who}


def _course(page: Page, urls: Urls, provider: dict[str, str], cohorts: tuple[Upcoming, ...]) -> dict[str, Any]:
    """Return the schema.org Course of a program (a CourseInstance per upcoming cohort), and its FAQPage."""
    instances: list[dict[str, Any]] | dict[str, Any]
    if page.cohorts:
        instances = course_instances(page, cohorts)
    else:
        instances = {"@type": "CourseInstance", "courseMode": "Online"}
        if page.duration_weeks:
            instances["courseSchedule"] = {
                "@type": "Schedule",
                "repeatFrequency": "P1W",
                "repeatCount": page.duration_weeks,
            }
            instances["courseWorkload"] = f"P{page.duration_weeks}W"
        if page.next_start:
            instances["startDate"] = page.next_start.date().isoformat()
        if page.facilitator:
            instances["instructor"] = {"@type": "Person", "name": page.facilitator}
    url = urls.absolute(page.url)
    course = {
        "@type": "Course",
        "@id": url + "#course",
        "name": page.title,
        "description": page.description,
        "url": url,
        "provider": provider,
        "hasCourseInstance": instances,
        "offers": offer(page, overall_status(cohorts) if page.cohorts else None),
    }
    if not page.faq:
        return course
    faq = {
        "@type": "FAQPage",
        "@id": url + "#faq",
        "url": url,
        "mainEntity": [
            {"@type": "Question", "name": q.question, "acceptedAnswer": {"@type": "Answer", "text": q.answer}}
            for q in page.faq
        ],
    }
    return {"@graph": [course, faq]}


def robots(site: Site, urls: Urls) -> str:
    """Return robots.txt: everything may be crawled, and here is the sitemap."""
    return f"User-agent: *\nAllow: /\n\nSitemap: {urls.absolute('/sitemap.xml')}\n"


def _template_path(filename: str | None, source: Path) -> Path | None:
    """Return a template's path relative to the source folder."""
    if filename is None:
        return None
    path = Path(filename)
    return path.relative_to(source) if path.is_relative_to(source) else path


def _template_frame(source: Path) -> tuple[Path | None, int | None]:
    """Return the template file and line of the exception being handled, from its traceback."""
    traceback = sys.exc_info()[2]
    found: tuple[Path | None, int | None] = (None, None)
    templates = (source / TEMPLATES).resolve()
    while traceback is not None:
        filename = Path(traceback.tb_frame.f_code.co_filename)
        if filename.is_absolute() and filename.resolve().is_relative_to(templates):
            found = (_template_path(str(filename.resolve()), source.resolve()), traceback.tb_lineno)
        traceback = traceback.tb_next
    return found
