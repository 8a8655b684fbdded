"""`check`: render the site in memory, then check links, images, headings, metadata and signup links.

Nothing is written but the external-link cache. Each finding points into the markdown file where the thing it is
about was written; what a template wrote is reported in the rendered page (output folder, line).
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import re
import urllib.error
import urllib.request
from collections import defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

from .cohorts import upcoming
from .config import CONFIG_NAME
from .content import DESCRIPTION_LIMIT, Page
from .errors import Problems, SiteError
from .fields import load_mapping
from .pipeline import Options, Rendered, render
from .readability import Readability, measure
from .site import Site
from .urls import Urls, dest_for, split_url

TITLE_LIMIT = 70
PLACEHOLDER_HOSTS = ("example.com", "example.org", "example.net")
PLACEHOLDER_TEXT = "TODO"
LINK_ATTRIBUTES = ("href", "src", "poster")
SKIPPED_SCHEMES = ("mailto", "tel", "data")
CACHE_FILE = Path(".kiln-cache") / "links.json"
CACHE_HOURS = 24
USER_AGENT = "kiln-check/1 (link checker of a static site)"


@dataclass(frozen=True)
class CheckOptions:
    """What `check` is asked to do beyond the default checks."""

    strict: bool = False  # warnings count as errors
    readability: bool = False  # the report carries every article's readability, for a table
    external: bool = False  # fetch external links
    timeout: float = 10.0  # seconds per external request
    workers: int = 4  # external requests at once


@dataclass(frozen=True)
class Report:
    """What `check` found: errors, warnings and how many pages it looked at."""

    errors: tuple[SiteError, ...]
    warnings: tuple[SiteError, ...]
    pages: int
    readability: tuple[tuple[str, Readability], ...] = ()  # (article file, figures), when asked for


@dataclass
class Document:
    """One rendered HTML page, read for what check needs: links, ids, headings and images, with their lines."""

    links: list[tuple[str, int, str]] = field(default_factory=list)  # (url, line, tag)
    ids: set[str] = field(default_factory=set)
    headings: list[tuple[int, str, int]] = field(default_factory=list)  # (level, text, line)
    images: list[tuple[str, str | None, int]] = field(default_factory=list)  # (src, alt, line)


class _Reader(HTMLParser):
    """Fills a Document from HTML."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.document = Document()
        self._heading: tuple[int, int, list[str]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        line = self.getpos()[0]
        values = {name: value or "" for name, value in attrs}
        for name in ("id", "name") if tag == "a" else ("id",):
            if values.get(name):
                self.document.ids.add(values[name])
        for name in LINK_ATTRIBUTES:
            if name in values and not (tag == "link" and "preconnect" in values.get("rel", "")):
                self.document.links.append((values[name].strip(), line, tag))
        if "srcset" in values:
            for candidate in values["srcset"].split(","):
                if candidate.strip():
                    self.document.links.append((candidate.split()[0], line, tag))
        if tag == "img":
            self.document.images.append((values.get("src", ""), dict(attrs).get("alt"), line))
        if re.fullmatch(r"h[1-6]", tag):
            self._heading = (int(tag[1]), line, [])

    def handle_data(self, data: str) -> None:
        if self._heading is not None:
            self._heading[2].append(data)

    def handle_endtag(self, tag: str) -> None:
        if self._heading is not None and tag == f"h{self._heading[0]}":
            level, line, parts = self._heading
            self.document.headings.append((level, " ".join("".join(parts).split()), line))
            self._heading = None


def read_document(html: str) -> Document:
    """Return what check needs from one HTML page."""
    reader = _Reader()
    reader.feed(html)
    reader.close()
    return reader.document


class Places:
    """Says where a finding should point: the markdown line that wrote it, else the rendered page and line."""

    def __init__(self, options: Options, site: Site) -> None:
        self.source = options.source
        output = options.output_folder
        self.output = output.relative_to(options.source) if output.is_relative_to(options.source) else output
        self.pages = {dest_for(page.url): page for page in site.all_pages}
        self._texts: dict[Path, list[str]] = {}

    def page(self, name: str) -> Page | None:
        """Return the content page an output file was rendered from, if it was."""
        return self.pages.get(name)

    def lines(self, page: Page) -> list[str]:
        """Return a content file's lines."""
        if page.src_path not in self._texts:
            try:
                text = (self.source / page.src_path).read_bytes().decode("utf-8-sig", errors="replace")
            except OSError:
                text = ""
            self._texts[page.src_path] = text.replace("\r\n", "\n").split("\n")
        return self._texts[page.src_path]

    def find(self, name: str, html_line: int, needles: Iterable[str], body_only: bool = True) -> tuple[Path, int]:
        """Return the markdown file and line holding one of the needles, else the rendered file and line."""
        page = self.page(name)
        if page is not None:
            lines = self.lines(page)
            start = _body_start(lines) if body_only else 0
            for needle in needles:
                if not needle:
                    continue
                for number in range(start, len(lines)):
                    if needle in lines[number]:
                        return page.src_path, number + 1
        return self.output / name, html_line

    def is_markdown(self, path: Path) -> bool:
        """Return whether a place found is in a content file rather than a rendered page."""
        return path.suffix == ".md"


def _body_start(lines: list[str]) -> int:
    """Return the index of the first line after the front matter."""
    if not lines or lines[0].strip() != "---":
        return 0
    for number in range(1, len(lines)):
        if lines[number].strip() in ("---", "..."):
            return number + 1
    return 0


def check_site(options: Options, check: CheckOptions, fetch: Callable[[str, float], int | str] | None = None) -> Report:
    """Return every finding about the site rendered in memory; raise BuildFailed when it does not build."""
    rendered = render(options)
    problems = Problems(warnings=list(rendered.warnings))
    places = Places(options, rendered.site)
    documents = {
        name: read_document(data.decode("utf-8", errors="replace"))
        for name, data in sorted(rendered.files.items())
        if name.endswith(".html")
    }
    external: dict[str, tuple[Path, int]] = {}
    template_findings: dict[tuple[str, bool], list[SiteError]] = defaultdict(list)
    for name, document in documents.items():
        findings = Problems()
        _check_links(name, document, rendered, documents, places, findings, external)
        _check_images(name, document, places, findings)
        _check_headings(name, document, places, findings)
        for is_error, found in ((True, findings.errors), (False, findings.warnings)):
            for finding in found:
                if finding.path is not None and places.is_markdown(finding.path):
                    (problems.errors if is_error else problems.warnings).append(finding)
                else:  # the same template mistake shows on many pages: say it once
                    template_findings[(finding.message, is_error)].append(finding)
    for (_, is_error), found in template_findings.items():
        first = found[0]
        more = f"; the same on {len(found) - 1} other page{'s' if len(found) > 2 else ''}" if len(found) > 1 else ""
        hint = (first.hint or "written by a template, not in the markdown") + more
        (problems.errors if is_error else problems.warnings).append(
            SiteError(first.message, first.path, first.line, hint)
        )
    _check_metadata(rendered.site, problems)
    _check_programs(options, rendered.site, problems)
    _check_authors(rendered.site, problems)
    _check_reviews(rendered.site, problems)
    figures = _check_readability(rendered.site, places, problems)
    if check.external and external:
        _check_external(options.source, external, check, problems, fetch or fetch_status)
    errors = _unique(problems.errors)
    warnings = _unique(problems.warnings)
    if check.strict:
        errors, warnings = _unique(errors + warnings), []
    return Report(
        tuple(sorted(errors, key=_order)),
        tuple(sorted(warnings, key=_order)),
        len(documents),
        figures if check.readability else (),
    )


def _unique(findings: list[SiteError]) -> list[SiteError]:
    """Return findings without repeats, in their order."""
    return list(dict.fromkeys(findings))


def _order(finding: SiteError) -> tuple[str, int, str]:
    """Return the order findings are printed in: by file, then line."""
    return (finding.path.as_posix() if finding.path else "", finding.line or 0, finding.message)


def _check_links(
    name: str,
    document: Document,
    rendered: Rendered,
    documents: dict[str, Document],
    places: Places,
    findings: Problems,
    external: dict[str, tuple[Path, int]],
) -> None:
    """Record links and asset references that lead nowhere in the site, and gather the external ones."""
    urls = Urls(rendered.site.config.base_url)
    page_url = urls.path("/" + name.removesuffix("index.html"))
    for value, line, _ in document.links:
        parts = split_url(value)
        if parts is None:
            where = places.find(name, line, _needles(value, urls))
            findings.error("link is not a valid address", *where, f"expected a URL or a site path, got {value!r}")
            continue
        scheme = parts.scheme.lower()
        if not value or value == "#" or scheme in SKIPPED_SCHEMES:
            continue
        if value.startswith("#"):
            if unquote(value[1:]) not in document.ids:
                _missing_fragment(name, value, unquote(value[1:]), document, line, places, findings, urls)
            continue
        absolute = value.startswith("//") or scheme in ("http", "https")
        if absolute and not value.startswith(urls.base_url):
            external.setdefault(value.split("#", 1)[0], places.find(name, line, _needles(value, urls)))
            continue
        origin = urls.base_url.removesuffix(urls.base_path)  # scheme and host: links to our own address are ours
        resolved = urlsplit(urljoin("http://site" + page_url, value.removeprefix(origin) if absolute else value))
        path = unquote(resolved.path)
        if not path.startswith(urls.base_path):
            where = places.find(name, line, _needles(value, urls))
            findings.error("link leaves the site", *where, f"expected a path under {urls.base_path}, got {value!r}")
            continue
        target = _target(path.removeprefix(urls.base_path), rendered.files)
        if target is None:
            where = places.find(name, line, _needles(value, urls))
            findings.error(
                "link to a page or file that does not exist", *where, f"expected a page of the site, got {value!r}"
            )
            continue
        fragment = unquote(resolved.fragment)
        if fragment and target in documents and fragment not in documents[target].ids:
            _missing_fragment(name, value, fragment, documents[target], line, places, findings, urls)


def _missing_fragment(
    name: str,
    value: str,
    fragment: str,
    target: Document,
    line: int,
    places: Places,
    findings: Problems,
    urls: Urls,
) -> None:
    """Record a link to a #fragment its page does not have, suggesting the closest heading id."""
    close = difflib.get_close_matches(fragment, sorted(target.ids), n=1)
    expected = f"expected an id such as #{close[0]}" if close else "expected the id of a heading on that page"
    findings.error(
        "link to a heading that does not exist",
        *places.find(name, line, _needles(value, urls)),
        f"{expected}, got {value!r}",
    )


def _needles(value: str, urls: Urls) -> list[str]:
    """Return how a link may have been written in markdown: as rendered, or without the base path."""
    needles = [value]
    if urls.base_path != "/" and value.startswith(urls.base_path):
        needles.append("/" + value.removeprefix(urls.base_path))
    if value.startswith(urls.base_url):
        needles.append("/" + value.removeprefix(urls.base_url))
    return needles


def _target(path: str, files: dict[str, bytes]) -> str | None:
    """Return the output file a site-relative path (without leading slash) is served from, or None."""
    path = path.lstrip("/")
    candidates = [path + "index.html"] if path == "" or path.endswith("/") else [path, path + "/index.html"]
    return next((candidate for candidate in candidates if candidate in files), None)


def _check_images(name: str, document: Document, places: Places, findings: Problems) -> None:
    """Record images without alternative text."""
    for src, alt, line in document.images:
        if alt is None or not alt.strip():
            where = places.find(name, line, [f"]({src}", src, src.rsplit("/", 1)[-1]])
            findings.warn(
                "image has no alt text",
                *where,
                f"expected a description for people who cannot see it, such as ![Two people talking]({src}), "
                f"got {'no alt attribute' if alt is None else 'an empty one'}",
            )


def _check_headings(name: str, document: Document, places: Places, findings: Problems) -> None:
    """Record pages without exactly one h1, and headings that skip a level."""
    ones = [heading for heading in document.headings if heading[0] == 1]
    if len(ones) != 1:
        line = ones[1][2] if len(ones) > 1 else 1
        needles = [f"# {ones[1][1]}"] if len(ones) > 1 else []
        findings.warn(
            "page has more than one h1" if ones else "page has no h1",
            *places.find(name, line, needles),
            f"expected exactly one top-level heading (the title), got {len(ones)}"
            + ("; use ## for sections" if len(ones) > 1 else ""),
        )
    previous = 0
    for level, text, line in document.headings:
        if previous and level > previous + 1:
            findings.warn(
                "heading skips a level",
                *places.find(name, line, [f"{'#' * level} {text}", text]),
                f"expected h{previous + 1} or higher after an h{previous}, got h{level} {text!r}",
            )
        previous = level


def _check_metadata(site: Site, problems: Problems) -> None:
    """Record missing, placeholder or long descriptions, long titles and titles two pages share."""
    seen: dict[str, Page] = {}
    for page in sorted(site.all_pages, key=lambda page: page.src_path.as_posix()):
        description_line = page.lines.get("description", 1)
        if "description" not in page.lines and page.kind == "author":
            pass  # an author is described by their bio's first sentence, and checked as an author
        elif "description" not in page.lines:
            problems.warn(
                "page has no `description`",
                page.src_path,
                1,
                "expected one sentence for search results and link previews, "
                "got none (the first paragraph is used instead)",
            )
        elif page.description.startswith(PLACEHOLDER_TEXT):
            problems.warn(
                "`description` is still the placeholder",
                page.src_path,
                description_line,
                f"expected one sentence about this page, got {page.description[:40]!r}...",
            )
        elif len(page.description) > DESCRIPTION_LIMIT:
            problems.warn(
                "`description` is too long for search results",
                page.src_path,
                description_line,
                f"expected at most {DESCRIPTION_LIMIT} characters, got {len(page.description)}",
            )
        if len(page.title) > TITLE_LIMIT:
            problems.warn(
                "`title` is too long for search results",
                page.src_path,
                page.lines.get("title", 1),
                f"expected at most {TITLE_LIMIT} characters, got {len(page.title)}",
            )
        key = page.title.casefold()
        if key in seen:
            problems.warn(
                "another page has the same title",
                page.src_path,
                page.lines.get("title", 1),
                f"expected titles that tell pages apart, got the title of {seen[key].src_path.as_posix()}",
            )
        seen.setdefault(key, page)


def _check_programs(options: Options, site: Site, problems: Problems) -> None:
    """Record placeholder signup forms and programs whose next start has passed."""
    config_line = _config_line(options.source, "signup_url")
    if site.config.signup_url and is_placeholder(site.config.signup_url):
        problems.warn(
            "`signup_url` is a placeholder",
            Path(CONFIG_NAME),
            config_line,
            f"expected the real signup form's address, got {site.config.signup_url!r}",
        )
    for program in site.programs:
        if "signup_url" in program.lines and program.signup_url and is_placeholder(program.signup_url):
            problems.warn(
                "`signup_url` is a placeholder",
                program.src_path,
                program.lines["signup_url"],
                f"expected the real signup form's address, got {program.signup_url!r}",
            )
        if program.price and program.price_amount is None:
            problems.warn(
                "`price` has no `price_amount`",
                program.src_path,
                program.lines.get("price", 1),
                f"expected `price_amount:` with the number in {program.price!r} (and `price_currency:`), "
                "for search engines, got none",
            )
        if program.cohorts and not any(c.status == "open" for c in upcoming(program, site.now, site.config.timezone)):
            problems.warn(
                "program has no upcoming open cohort",
                program.src_path,
                program.lines.get("cohorts", 1),
                f"expected a cohort with `status: open` starting after {site.now.date().isoformat()}, "
                f"got {_cohorts_seen(program, site.now)}",
            )
        if program.next_start is not None and program.next_start < site.now:
            problems.warn(
                "`next_start` is in the past",
                program.src_path,
                program.lines.get("next_start", 1),
                f"expected the date the next group starts, after {site.now.date().isoformat()}, "
                f"got {program.next_start.date().isoformat()}",
            )


def _cohorts_seen(program: Page, now: dt.datetime) -> str:
    """Return what a program's cohorts are, for a warning that none is upcoming and open."""
    later = [cohort for cohort in program.cohorts if cohort.start > now]
    if not later:
        return f"none after {program.cohorts[-1].start.date().isoformat()}"
    return ", ".join(f"{cohort.start.date().isoformat()} {cohort.status}" for cohort in later)


def _check_authors(site: Site, problems: Problems) -> None:
    """Record author pages that are still placeholders: a name, credentials or role starting with TODO."""
    for author in site.authors:
        marked = [name for name in ("name", "credentials", "role") if (getattr(author, name) or "").startswith("TODO")]
        if marked:
            problems.warn(
                "author is a placeholder",
                author.src_path,
                author.lines.get(marked[0], 1),
                f"expected the real person's {', '.join(marked)}, got {getattr(author, marked[0])!r}",
            )


def _check_reviews(site: Site, problems: Problems) -> None:
    """Record articles whose last review is older than `review_every_months`, or half given (who or when)."""
    months = site.config.review_every_months
    due = months_before(site.now.astimezone(site.config.timezone).date(), months)
    for article in site.articles:
        if article.reviewed_by is not None and article.reviewed is None:
            problems.warn(
                "`reviewed_by` has no `reviewed` date",
                article.src_path,
                article.lines.get("reviewed_by", 1),
                "expected `reviewed: 2026-11-30` with the day of the review, got none",
            )
        if article.reviewed is None:
            continue
        if article.reviewed_by is None:
            problems.warn(
                "`reviewed` has no `reviewed_by`",
                article.src_path,
                article.lines.get("reviewed", 1),
                "expected `reviewed_by:` with the slug of the author who reviewed it, got none",
            )
        if article.reviewed.date() < due:
            problems.warn(
                f"last review is more than {months} months old",
                article.src_path,
                article.lines.get("reviewed", 1),
                f"expected a review on or after {due.isoformat()} (review_every_months: {months}), "
                f"got {article.reviewed.date().isoformat()}",
            )


def months_before(day: dt.date, months: int) -> dt.date:
    """Return the same day some months earlier (the month's last day when it is shorter)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    for last in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month + 1, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("every month has 28 days")


def _check_readability(site: Site, places: Places, problems: Problems) -> tuple[tuple[str, Readability], ...]:
    """Record articles whose reading grade is above `reading_grade_max`; return every article's figures."""
    limit = site.config.reading_grade_max
    figures = []
    for article in sorted(site.articles, key=lambda page: page.src_path.as_posix()):
        found = measure(article.body)
        figures.append((article.src_path.as_posix(), found))
        if found.grade <= limit:
            continue
        longest = "; ".join(f"{_cut(sentence)!r} ({len(sentence.split())} words)" for sentence in found.longest)
        hardest = ", ".join(f"{word} ({count})" for word, count in found.hardest)
        needle = " ".join(found.longest[0].split()[:4]) if found.longest else ""
        path, line = places.find(dest_for(article.url), 1, [needle])
        problems.warn(
            f"reading grade {found.grade:.1f} is above {limit:g}",
            article.src_path,
            line if path == article.src_path else 1,
            f"expected grade {limit:g} or lower (reading_grade_max), got {found.grade:.1f}; shorten the longest "
            f"sentences: {longest}; and use shorter words than: {hardest}",
        )
    return tuple(figures)


def _cut(sentence: str) -> str:
    """Return a sentence's start, short enough to quote in a warning."""
    return sentence if len(sentence) <= 80 else sentence[:77].rsplit(" ", 1)[0] + "..."


def is_placeholder(url: str) -> bool:
    """Return whether a URL's host is one of the names reserved for examples (example.com and the like)."""
    parts = split_url(url)
    host = ((parts.hostname if parts else None) or "").lower().rstrip(".")
    return any(host == name or host.endswith("." + name) for name in PLACEHOLDER_HOSTS)


def _config_line(source: Path, key: str) -> int | None:
    """Return the line of a key in site.yaml, when it can be read."""
    try:
        text = (source / CONFIG_NAME).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return None
    loaded = load_mapping(text, Path(CONFIG_NAME), 1, Problems())
    return loaded[1].get(key) if loaded else None


def fetch_status(url: str, timeout: float) -> int | str:
    """Return the HTTP status of an external URL (HEAD, then GET where HEAD is refused), or why it failed."""
    for method in ("HEAD", "GET"):
        request = urllib.request.Request(url, method=method, headers={"User-Agent": USER_AGENT})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - http(s) only
                return int(response.status)
        except urllib.error.HTTPError as error:
            if method == "HEAD" and error.code not in (404, 410):
                continue  # many servers refuse or mishandle HEAD; ask again with GET
            return int(error.code)
        except (urllib.error.URLError, OSError, ValueError) as error:
            if method == "HEAD":
                continue
            reason = getattr(error, "reason", error)
            return f"no answer ({reason})"
    return "no answer"


def _check_external(
    source: Path,
    links: dict[str, tuple[Path, int]],
    check: CheckOptions,
    problems: Problems,
    fetch: Callable[[str, float], int | str],
) -> None:
    """Fetch external links a few at a time, reusing answers cached in the last day, and record broken ones."""
    cache_path = source / CACHE_FILE
    cache = _read_cache(cache_path)
    now = dt.datetime.now(dt.UTC)
    fresh = {url: status for url, (status, checked) in cache.items() if now - checked < dt.timedelta(hours=CACHE_HOURS)}
    wanted = sorted(url for url in links if url not in fresh)
    with ThreadPoolExecutor(max_workers=check.workers) as pool:
        answers = dict(zip(wanted, pool.map(lambda url: fetch(_absolute(url), check.timeout), wanted), strict=True))
    for url, answer in answers.items():
        if isinstance(answer, int) and answer < 400:  # only good answers are kept: a broken link is asked again
            cache[url] = (answer, now)
    _write_cache(cache_path, cache)
    for url in sorted(links):
        status = fresh.get(url, answers.get(url))
        if isinstance(status, int) and status < 400:
            continue
        path, line = links[url]
        got = f"HTTP {status}" if isinstance(status, int) else str(status)
        if status in (404, 410):
            problems.error("external link is broken", path, line, f"expected a page at {url}, got {got}")
        else:
            problems.warn("external link did not answer well", path, line, f"expected a page at {url}, got {got}")


def _absolute(url: str) -> str:
    """Return a scheme-relative URL as https."""
    return "https:" + url if url.startswith("//") else url


def _read_cache(path: Path) -> dict[str, tuple[int, dt.datetime]]:
    """Return the cached answers of external links and when they were given; an unreadable cache is empty."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    cache: dict[str, tuple[int, dt.datetime]] = {}
    for url, entry in data.items() if isinstance(data, dict) else ():
        try:
            checked = dt.datetime.fromisoformat(entry["checked"])
            if isinstance(entry["status"], int) and checked.tzinfo is not None:
                cache[str(url)] = (entry["status"], checked)
        except (TypeError, KeyError, ValueError):
            continue
    return cache


def _write_cache(path: Path, cache: dict[str, tuple[int, dt.datetime]]) -> None:
    """Save the answers of external links; a cache that cannot be written is simply not kept."""
    data = {url: {"status": status, "checked": checked.isoformat()} for url, (status, checked) in cache.items()}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    except OSError:
        pass
