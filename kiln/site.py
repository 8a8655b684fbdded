"""Pages -> Site: what is published, the lists, tags and related articles. No I/O here."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import itertools
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

from .authors import check_author_refs
from .config import Config
from .content import Page
from .errors import Problems
from .urls import dest_for, slugify

# URLs the generator makes itself; a content page may not take them.
RESERVED = (
    "/",
    "/articles/",
    "/programs/",
    "/tags/",
    "/404.html",
    "/feed.xml",
    "/sitemap.xml",
    "/robots.txt",
    "/search/",
)
RESERVED_PREFIXES = ("/tags/", "/static/", "/pagefind/")
RELATED_COUNT = 3
# Device names Windows reserves, with or without an extension: a file so named breaks a checkout or upload there.
WINDOWS_RESERVED = frozenset(
    {"con", "prn", "aux", "nul", *(f"com{n}" for n in range(10)), *(f"lpt{n}" for n in range(10))}
)
WINDOWS_FORBIDDEN = frozenset('<>:"|?*')
MAX_TAGS_COMPARED = 8  # combinations grow as 2^n; articles rarely carry more tags than this
_BACKSLASH_OR_CONTROL = re.compile(r"[\x00-\x1f\x7f\\]")


@dataclass(frozen=True)
class Tag:
    """A tag and the published articles that carry it, newest first."""

    name: str
    slug: str
    articles: tuple[Page, ...]

    @property
    def url(self) -> str:
        """Return the tag page's site-relative URL."""
        return f"/tags/{self.slug}/"

    @property
    def entry(self) -> TagEntry:
        """Return the tag as the list of all tags shows it."""
        return TagEntry(self.name, self.url, len(self.articles))


@dataclass(frozen=True)
class TagEntry:
    """A tag as the list of all tags shows it: its name, its page and how many articles carry it."""

    name: str
    url: str
    count: int


@dataclass(frozen=True)
class TagLink:
    """How a page names one of its tags: the usual spelling and the tag page's URL."""

    name: str
    url: str


@dataclass(frozen=True)
class Site:
    """Everything that is published, gathered before anything is rendered."""

    config: Config
    articles: tuple[Page, ...]  # newest first
    programs: tuple[Page, ...]  # by title
    pages: tuple[Page, ...]  # by URL
    tags: tuple[Tag, ...]  # by name
    related: dict[str, tuple[Page, ...]]  # article URL -> related articles
    now: dt.datetime
    preview: bool
    authors: tuple[Page, ...] = ()  # by URL
    next_change: tuple[dt.datetime, Path] | None = None  # the next future article or cohort start, and its file

    @property
    def all_pages(self) -> tuple[Page, ...]:
        """Return every content page: programs, articles, then plain pages."""
        return self.programs + self.articles + self.pages + self.authors

    @functools.cached_property
    def authors_by_slug(self) -> dict[str, Page]:
        """Return the author pages by slug."""
        return {author.slug: author for author in self.authors}

    @property
    def searchable(self) -> bool:
        """Return whether the site has search: on in site.yaml, and a page to find (Pagefind needs one)."""
        return self.config.search and bool(self.all_pages)

    def program(self, slug: str | None) -> Page | None:
        """Return the published program with this slug, if any."""
        return next((program for program in self.programs if program.slug == slug), None)

    def tag_of(self, name: str) -> Tag:
        """Return the Tag a name written in front matter belongs to."""
        slug = slugify(name)
        return next(tag for tag in self.tags if tag.slug == slug)

    def tag_link(self, name: str) -> TagLink:
        """Return the link to the tag a name written in front matter belongs to."""
        tag = self.tag_of(name)
        return TagLink(tag.name, tag.url)

    def status(self, page: Page) -> str | None:
        """Return why a page would not be published ('draft', 'scheduled'), or None."""
        if page.draft:
            return "draft"
        if page.date is not None and page.date > self.now:
            return "scheduled"
        return None


def replace_pages(site: Site, new: dict[Path, Page]) -> Site:
    """Return the site with pages swapped for new versions of them (by source path) wherever they appear."""
    if not new:
        return site

    def swap(pages: tuple[Page, ...]) -> tuple[Page, ...]:
        return tuple(new.get(page.src_path, page) for page in pages)

    return dataclasses.replace(
        site,
        articles=swap(site.articles),
        programs=swap(site.programs),
        pages=swap(site.pages),
        authors=swap(site.authors),
        tags=tuple(Tag(tag.name, tag.slug, swap(tag.articles)) for tag in site.tags),
        related={url: swap(pages) for url, pages in site.related.items()},
    )


def make_site(pages: list[Page], config: Config, problems: Problems, now: dt.datetime, drafts: bool) -> Site:
    """Return the Site made of the given pages, recording duplicate URLs and broken program references."""
    published = [page for page in pages if drafts or not (page.draft or (page.date and page.date > now))]
    _check_urls(published, problems)
    programs = tuple(sorted((p for p in published if p.kind == "program"), key=lambda p: (p.title, p.url)))
    _check_program_refs(published, {p.slug for p in programs}, {p.slug for p in pages if p.kind == "program"}, problems)
    articles = tuple(sorted((p for p in published if p.kind == "article"), key=_newest_first))
    authors = tuple(sorted((p for p in published if p.kind == "author"), key=lambda p: p.url))
    check_author_refs(published, {author.slug: author for author in authors}, problems)
    tags = _tags(articles, problems)
    return Site(
        config=config,
        articles=articles,
        programs=programs,
        pages=tuple(sorted((p for p in published if p.kind == "page"), key=lambda p: p.url)),
        tags=tags,
        related=_related(articles),
        now=now,
        preview=drafts,
        authors=authors,
        next_change=next_change(pages, now),
    )


def next_change(pages: list[Page], now: dt.datetime) -> tuple[dt.datetime, Path] | None:
    """Return when the published site next changes by itself (a future article, a cohort's start) and the file."""
    moments = [(page.date, page.src_path) for page in pages if page.date and page.date > now and not page.draft]
    moments += [
        (cohort.start, page.src_path)
        for page in pages
        if not page.draft
        for cohort in page.cohorts
        if cohort.start > now
    ]
    return min(moments, key=lambda moment: (moment[0], moment[1].as_posix()), default=None)


def _newest_first(page: Page) -> tuple[float, str]:
    """Return the sort key that puts the newest article first, ties by URL."""
    return (-(page.date.timestamp() if page.date else 0.0), page.url)


@functools.lru_cache(maxsize=65536)  # a pure function of the path, asked again for every page on every rebuild
def path_problem(dest: str) -> str | None:
    """Return why an output file path could leave the output folder or break on another system, or None."""
    if not dest or dest.startswith("/"):
        return f"expected a path inside the output folder, got {dest!r}"
    if _BACKSLASH_OR_CONTROL.search(dest):
        return f"expected no backslashes or control characters, got {dest!r}"
    for segment in dest.split("/"):
        if segment in ("", ".", ".."):
            return f"expected no empty, '.' or '..' parts, got {dest!r}"
        if segment.split(".")[0].rstrip(" ").lower() in WINDOWS_RESERVED:
            return f"expected no name Windows reserves (CON, PRN, AUX, NUL, COM0-9, LPT0-9), got {segment!r}"
        if WINDOWS_FORBIDDEN & set(segment) or segment.endswith((".", " ")):
            return f'expected no < > : " | ? * and no dot or space at the end of a name, got {segment!r}'
    return None


def check_static_names(files: dict[str, bytes], problems: Problems) -> None:
    """Record static files whose names some system cannot hold, or that differ from another only by case."""
    seen: dict[str, str] = {}
    for name in sorted(files):
        if problem := path_problem(name):
            problems.error("static file has a name that cannot be published", Path(name), None, problem)
        elif (other := seen.setdefault(name.lower(), name)) != name:
            problems.error(
                "static file name differs from another only by letter case",
                Path(name),
                None,
                f"expected names that differ in more than case; got {other} too, and on macOS and Windows "
                "one overwrites the other",
            )


def _check_paths(page: Page, problems: Problems) -> None:
    """Record a page whose URL or aliases would make a file that leaves the output folder or breaks elsewhere."""
    if problem := path_problem(dest_for(page.url)):
        problems.error(f"the URL {page.url} cannot be published", page.src_path, page.lines.get("slug", 1), problem)
    for alias in page.aliases:
        if problem := path_problem(dest_for(alias)):
            problems.error(f"alias {alias} cannot be published", page.src_path, page.lines.get("aliases", 1), problem)


def _check_urls(pages: list[Page], problems: Problems) -> None:
    """Record pages that would write the same URL (letter case ignored) or one the generator makes."""
    seen: dict[str, Page] = {}
    for page in sorted(pages, key=lambda p: p.src_path.as_posix()):
        _check_paths(page, problems)
        key = page.url.lower()
        line = page.lines.get("slug", 1)
        if key in seen:
            problems.error(
                f"two pages would be published at {page.url}",
                page.src_path,
                line,
                f"{seen[key].src_path.as_posix()} has that URL too; rename one file or set `slug:`",
            )
        elif (
            key in RESERVED
            or key.rstrip("/") in RESERVED
            or (page.kind == "page" and key.startswith(RESERVED_PREFIXES))
        ):
            problems.error(
                f"the URL {page.url} is made by the site itself",
                page.src_path,
                line,
                "expected another file name or `slug:`",
            )
        seen.setdefault(key, page)


def _check_program_refs(pages: list[Page], published: set[str], existing: set[str], problems: Problems) -> None:
    """Record articles whose `program` names no published program."""
    for page in pages:
        if page.program is not None and page.program not in published:
            why = (
                "that program is a draft or not yet published"
                if page.program in existing
                else (f"expected one of: {', '.join(sorted(published)) or 'no programs exist yet'}")
            )
            problems.error(
                "`program` names a program that does not exist",
                page.src_path,
                page.lines.get("program", 1),
                f"{why}, got {page.program!r}",
            )


def _tags(articles: tuple[Page, ...], problems: Problems) -> tuple[Tag, ...]:
    """Return the tags of the published articles, compared without letter case."""
    members: dict[str, list[Page]] = defaultdict(list)
    spellings: dict[str, Counter[str]] = defaultdict(Counter)
    for article in articles:
        slugs: set[str] = set()
        for name in dict.fromkeys(article.tags):
            slug = slugify(name)
            if not slug:
                problems.error(
                    "tag has no letters or digits",
                    article.src_path,
                    article.lines.get("tags", 1),
                    f"expected a word such as 'trust', got {name!r}",
                )
                continue
            if problem := path_problem(f"tags/{slug}/index.html"):
                problems.error("tag cannot be published", article.src_path, article.lines.get("tags", 1), problem)
                continue
            if slug not in slugs:  # "Trust" and "trust" on one article count once
                slugs.add(slug)
                members[slug].append(article)
            spellings[slug][name] += 1
    tags = [Tag(_usual(spellings[slug]), slug, tuple(pages)) for slug, pages in members.items()]
    return tuple(sorted(tags, key=lambda tag: (tag.name.casefold(), tag.slug)))


def _usual(counts: Counter[str]) -> str:
    """Return the spelling most articles use, ties broken alphabetically."""
    return min(counts, key=lambda name: (-counts[name], name))


def _related(articles: tuple[Page, ...]) -> dict[str, tuple[Page, ...]]:
    """Return, per article, up to three others that share most tags, newest first on ties."""
    tag_sets = [
        tuple(sorted({slugify(name) for name in article.tags} - {""}))[:MAX_TAGS_COMPARED] for article in articles
    ]
    holders = _holders(tag_sets)
    return {
        article.url: tuple(articles[other] for other in _best_matches(index, tag_sets[index], holders))
        for index, article in enumerate(articles)
    }


def _holders(tag_sets: list[tuple[str, ...]]) -> dict[tuple[str, ...], list[int]]:
    """Return, for every combination of tags some article has, the articles holding all of them, newest first."""
    holders: dict[tuple[str, ...], list[int]] = defaultdict(list)
    for index, tags in enumerate(tag_sets):
        for size in range(1, len(tags) + 1):
            for combination in itertools.combinations(tags, size):
                holders[combination].append(index)
    return holders


def _best_matches(index: int, tags: tuple[str, ...], holders: dict[tuple[str, ...], list[int]]) -> list[int]:
    """Return the articles sharing most tags with one article, newest first on ties; linear, not quadratic.

    Going from all its tags down to one, the articles holding a combination of k of them share at least k;
    every article sharing more was already taken at a higher k, unless enough had been found.
    """
    chosen: list[int] = []
    for size in range(len(tags), 0, -1):
        need = RELATED_COUNT - len(chosen)
        if need == 0:
            break
        candidates: set[int] = set()
        for combination in itertools.combinations(tags, size):
            fresh = (other for other in holders[combination] if other != index and other not in chosen)
            candidates.update(itertools.islice(fresh, need))  # lists are newest first: the first few suffice
        chosen += sorted(candidates)[:need]
    return chosen
