"""One source file (bytes) -> Page: front matter checked, markdown rendered. No I/O here."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import html
import re
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any

from .config import Config
from .errors import Problems
from .fields import NOT_XML, Fields, load_mapping
from .markup import Heading, Markup, Unrenderable
from .sanitize import needs_sanitizing, sanitize
from .schema import fields_for, read_fields
from .urls import slug_problem, slugify, split_url

SECTIONS = {"articles": "article", "programs": "program", "pages": "page", "authors": "author"}
ALIAS_ENDINGS = ("/", ".html", ".htm")
DESCRIPTION_LIMIT = 160
MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_FRONT_MATTER_BYTES = 64 * 1024
WORDS_PER_MINUTE = 220
_FIRST_PARAGRAPH = re.compile(r"<p>(.*?)</p>", re.S)
_TAG = re.compile(r"<[^>]+>")


@dataclass(frozen=True)
class Skill:
    """One skill a program teaches."""

    name: str
    summary: str | None = None


@dataclass(frozen=True)
class Cohort:
    """One group of a program: when its first meeting is, and whether seats are left."""

    start: dt.datetime
    status: str  # open, waitlist or full
    note: str | None = None


@dataclass(frozen=True)
class Question:
    """One question of a program's FAQ, its answer rendered from markdown."""

    question: str
    answer: str  # HTML


@dataclass(frozen=True)
class Summary:
    """What a list or a box shows of a page, never its body: editing only the text leaves the lists alone."""

    kind: str
    url: str
    title: str
    description: str
    date: dt.datetime | None
    updated: dt.datetime | None
    reading_minutes: int
    duration_weeks: int | None
    format: str | None

    @functools.cached_property
    def key(self) -> str:
        """Return a hash of everything the summary holds (lists are keyed by it, so it is computed once)."""
        return hashlib.sha256(repr(self).encode("utf-8")).hexdigest()  # a dataclass's repr shows every field


@dataclass(frozen=True, kw_only=True)
class Page:
    """One content file, checked and rendered: an article, a program or a plain page."""

    kind: str
    src_path: Path
    url: str
    title: str
    description: str
    body: str
    headings: tuple[Heading, ...]
    words: int
    draft: bool = False
    date: dt.datetime | None = None
    updated: dt.datetime | None = None
    author: str | None = None
    tags: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()  # old URLs that now lead here
    image: str | None = None
    program: str | None = None
    signup_url: str | None = None
    duration_weeks: int | None = None
    schedule: str | None = None
    format: str | None = None
    price: str | None = None
    next_start: dt.datetime | None = None
    facilitator: str | None = None
    skills: tuple[Skill, ...] = ()
    steps: tuple[str, ...] = ()
    reviewed_by: str | None = None  # an author's slug
    reviewed: dt.datetime | None = None
    price_amount: str | None = None  # as written, for machines: "60" or "59.5"
    price_currency: str | None = None
    cohorts: tuple[Cohort, ...] = ()  # in order of start
    session_minutes: int | None = None
    waitlist_url: str | None = None
    faq: tuple[Question, ...] = ()
    name: str | None = None  # an author's; their page's title too
    credentials: str | None = None
    role: str | None = None
    photo: str | None = None
    links: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)  # the fields site.yaml declares, by name (None when unset)
    lines: dict[str, int] = field(default_factory=dict, compare=False, repr=False)
    key: str = field(default="", compare=False, repr=False)  # hash of everything the page was made from

    @property
    def slug(self) -> str:
        """Return the last segment of the page's URL."""
        return self.url.rstrip("/").rsplit("/", 1)[-1]

    @property
    def contents(self) -> tuple[Heading, ...]:
        """Return the sections for a table of contents: the level-2 headings, when there are three or more."""
        sections = tuple(heading for heading in self.headings if heading.level == 2)
        return sections if len(sections) >= 3 else ()

    @functools.cached_property
    def summary(self) -> Summary:
        """Return what lists and boxes show of this page."""
        return Summary(**{field.name: getattr(self, field.name) for field in dataclasses.fields(Summary)})

    def same_but_text(self, other: Page) -> bool:
        """Return whether another version of this page differs in its text alone, not in anything a list shows."""
        if self.summary != other.summary:
            return False
        return replace(self, body="", headings=(), words=0) == replace(other, body="", headings=(), words=0)

    @property
    def reading_minutes(self) -> int:
        """Return the reading time in whole minutes, at least one."""
        return max(1, round(self.words / WORDS_PER_MINUTE))


@dataclass(frozen=True)
class Source:
    """A content file as read from disk: its path relative to the source folder and its bytes."""

    src_path: Path
    data: bytes

    @property
    def kind(self) -> str:
        """Return 'article', 'program' or 'page', from the folder under content/."""
        return SECTIONS[self.src_path.parts[1]]


def parse_page(source: Source, config: Config, markup: Markup, problems: Problems) -> Page | None:
    """Return the Page a source file describes, or None after recording its problems."""
    path = source.src_path
    errors_before = len(problems.errors)
    if len(source.data) > MAX_FILE_BYTES:
        problems.error("file is too large", path, None, f"expected at most {MAX_FILE_BYTES // 2**20} MiB, got more")
        return None
    text = decode(source.data, path, problems)
    if text is None:
        return None
    split = split_front_matter(text, path, problems)
    if split is None:
        return None
    front, body, body_line = split
    if len(front.encode("utf-8")) > MAX_FRONT_MATTER_BYTES:
        size = f"{len(front.encode('utf-8')) / 1024:.0f} KiB"
        problems.error("front matter is too large", path, 1, f"expected at most 64 KiB, got {size}")
        return None
    loaded = load_mapping(front, path, 2, problems)
    if loaded is None:
        return None
    fields = Fields(loaded[0], loaded[1], path, problems, first_line=1)
    values = read_fields(fields, fields_for(source.kind, config.fields), config.timezone)
    try:
        rendered = markup.render(body)
        if "faq" in values:
            values["faq"] = tuple(_answer(entry, markup, config, fields) for entry in values["faq"])
    except Unrenderable as refused:
        problems.error(refused.message, path, body_line + refused.line - 1, refused.hint)
        return None
    if not config.unsafe_html and needs_sanitizing(body):
        rendered = replace(rendered, html=sanitize(rendered.html))
    for link in rendered.bad_links:
        problems.error(
            "link with an unsafe scheme" if split_url(link.strip()) else "link is not a valid address",
            path,
            body_line + body[: body.find(link)].count("\n"),
            f"expected an https://, mailto: or site link, got {link!r}",
        )
    page = Page(
        kind=source.kind,
        src_path=path,
        url=page_url(path, fields, values),
        body=rendered.html,
        headings=rendered.headings,
        words=len(_TAG.sub(" ", rendered.html).split()),
        lines=dict(loaded[1]),
        **_page_values(values, fields, config, rendered.html),
    )
    return page if len(problems.errors) == errors_before and not rendered.bad_links else None


def _answer(entry: dict[str, Any], markup: Markup, config: Config, fields: Fields) -> Question:
    """Return one FAQ entry with its answer rendered (and sanitised) like a body; raise Unrenderable."""
    text = entry["a"] or ""
    rendered = markup.render(text)
    answer = sanitize(rendered.html) if not config.unsafe_html and needs_sanitizing(text) else rendered.html
    for link in rendered.bad_links:
        fields.problems.error(
            "`faq` answer has a link with an unsafe scheme",
            fields.path,
            fields.line("faq"),
            f"expected an https://, mailto: or site link, got {link!r}",
        )
    return Question(entry["q"] or "", answer)


def _page_values(values: dict[str, Any], fields: Fields, config: Config, body_html: str) -> dict[str, Any]:
    """Return the Page's fields from the front matter's values: defaults applied, entries made objects."""
    extra = {field.name: values.pop(field.name) for field in config.fields if field.name in values}
    values.pop("slug")
    values["title"] = values.get("title") or values.get("name") or ""
    values["description"] = values["description"] or derive_description(body_html)
    values["aliases"] = _aliases(fields, values["aliases"])
    if "author" in values:
        values["author"] = values["author"] or config.author
    if "skills" in values:
        values["skills"] = tuple(Skill(entry["name"], entry["summary"]) for entry in values["skills"])
    if "cohorts" in values:
        cohorts = (Cohort(entry["start"], entry["status"], entry["note"]) for entry in values["cohorts"])
        values["cohorts"] = tuple(sorted((c for c in cohorts if c.start and c.status), key=lambda c: c.start))
    if values.get("price_amount") is not None:
        values["price_amount"] = str(values["price_amount"])
    if "price_currency" in values and values["price_amount"] is not None:
        values["price_currency"] = values["price_currency"] or "USD"
    if "signup_url" in values:
        values["signup_url"] = values["signup_url"] or config.signup_url
        if values["signup_url"] is None and not fields.present("signup_url"):
            fields.problems.error(
                "program has no signup link",
                fields.path,
                1,
                "expected `signup_url: https://...` here or a site-wide `signup_url` in site.yaml",
            )
    return values | {"extra": extra}


def _aliases(fields: Fields, listed: tuple[str, ...]) -> tuple[str, ...]:
    """Return the page's old URLs as published (a name without extension is a folder), recording bad ones."""
    found: list[str] = []
    for alias in listed:
        if problem := alias_problem(alias):
            fields.problems.error(
                "`aliases` lists a URL that cannot be redirected",
                fields.path,
                fields.line("aliases"),
                f"{problem}, got {alias!r}",
            )
        else:
            found.append(alias if alias.lower().endswith(ALIAS_ENDINGS) else alias + "/")
    return tuple(dict.fromkeys(found))


def alias_problem(url: str) -> str | None:
    """Return what is wrong with an old URL listed in `aliases`, or None when it is a usable one."""
    if not url.startswith("/"):
        return "expected a site-relative URL starting with /"
    if any(char == "\\" or char.isspace() or ord(char) < 32 or ord(char) == 127 for char in url):
        return "expected no backslashes, spaces or control characters"
    if "?" in url or "#" in url:
        return "expected a path without ? or #"
    segments = url[1:].split("/")
    if any(segment in ("", ".", "..") for segment in segments[:-1]) or segments[-1] in (".", ".."):
        return "expected no empty, '.' or '..' segments"
    if "." in segments[-1] and not segments[-1].lower().endswith(ALIAS_ENDINGS):
        return "expected a folder URL such as /old-name/ or a page ending in .html"
    return None


def decode(data: bytes, path: Path, problems: Problems) -> str | None:
    """Return a file's text: UTF-8, a byte order mark dropped, line endings made LF."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        problems.error(
            "file is not UTF-8 text",
            path,
            line,
            f"expected UTF-8, got byte 0x{data[error.start]:02x} at byte offset {error.start}; save the file as UTF-8",
        )
        return None
    if bad := NOT_XML.search(text):
        problems.error(
            "file holds a control character",
            path,
            text.count("\n", 0, bad.start()) + 1,
            f"expected text, got U+{ord(bad.group()):04X}; delete it",
        )
        return None
    return text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def split_front_matter(text: str, path: Path, problems: Problems) -> tuple[str, str, int] | None:
    """Return the front matter, the body and the body's first line, or None after recording why not."""
    if not text.strip():
        problems.error(
            "file is empty", path, 1, "expected front matter between --- lines, then the text, got an empty file"
        )
        return None
    lines = text.split("\n")
    if lines[0].rstrip() != "---":
        problems.error(
            "file does not start with front matter", path, 1, f"expected a first line of ---, got {lines[0][:40]!r}"
        )
        return None
    for number, line in enumerate(lines[1:], start=1):
        if line.rstrip() in ("---", "..."):
            return "\n".join(lines[1:number]), "\n".join(lines[number + 1 :]), number + 2
    problems.error(
        "front matter never ends",
        path,
        1,
        "expected a closing --- line after the front matter, got the end of the file",
    )
    return None


def page_url(path: Path, fields: Fields, values: dict[str, Any]) -> str:
    """Return a page's site-relative URL, from its place under content/ and its slug."""
    section, *folders, name = PurePosixPath(path.as_posix()).parts[1:]
    slug = slugify(PurePosixPath(name).stem)
    explicit = values["slug"]
    if explicit is not None:
        if problem := slug_problem(explicit):
            fields.problems.error(
                "`slug` is not valid",
                path,
                fields.line("slug"),
                f"{problem}; expected something like {slugify(explicit) or 'my-page'!r}, got {explicit!r}",
            )
        else:
            slug = explicit
    slug = slug or slugify(values.get("title") or values.get("name") or "") or "page"
    parts = [slugify(folder) or "folder" for folder in folders] + [slug]
    prefix = "" if section == "pages" else f"{section}/"
    return "/" + prefix + "/".join(parts) + "/"


def derive_description(body_html: str) -> str:
    """Return the first paragraph's text, cut at a word boundary to fit in 160 characters."""
    match = _FIRST_PARAGRAPH.search(body_html)
    text = " ".join(html.unescape(_TAG.sub("", match.group(1))).split()) if match else ""
    if len(text) < DESCRIPTION_LIMIT:
        return text
    cut = text[: DESCRIPTION_LIMIT - 1].rsplit(" ", 1)[0].rstrip(",;:.-")
    return cut + "…"
