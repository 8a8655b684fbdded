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
from urllib.parse import urlsplit

from .config import Config
from .errors import Problems
from .fields import NOT_XML, Fields, load_mapping
from .markup import Heading, Markup, Unrenderable
from .picture import ImageRef, Picture
from .sanitize import needs_sanitizing, sanitize
from .urls import slug_problem, slugify, split_url

SECTIONS = {"articles": "article", "programs": "program", "pages": "page"}
COMMON = ("title", "description", "draft", "slug", "aliases")
ALIAS_ENDINGS = ("/", ".html", ".htm")
KNOWN = {
    "article": (*COMMON, "date", "updated", "author", "tags", "image", "image_alt", "program"),
    "program": (
        *COMMON,
        "signup_url",
        "duration_weeks",
        "schedule",
        "format",
        "price",
        "next_start",
        "skills",
        "steps",
        "facilitator",
    ),
    "page": (*COMMON, "updated"),
}
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
    image: str | None = None  # as written: beside the markdown file, under /static/, or an https URL
    image_alt: str | None = None  # "" when the front matter says the image is decorative
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
    images: tuple[ImageRef, ...] = ()  # the local images of the body, with their lines
    cover: Picture | None = None  # `image:` as published, once images.py has made it
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

    @property
    def signup_host(self) -> str | None:
        """Return the host name of the program's signup form, to tell readers where its button leads."""
        return urlsplit(self.signup_url).hostname if self.signup_url else None


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
    kind = source.kind
    fields = Fields(loaded[0], loaded[1], path, problems, first_line=1)
    fields.warn_unknown(KNOWN[kind])
    try:
        rendered = markup.render(body)
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
    common = dict(
        kind=kind,
        src_path=path,
        url=page_url(path, fields),
        body=rendered.html,
        title=fields.text("title", required=True, example="A clear title") or "",
        description=fields.text("description") or derive_description(rendered.html),
        headings=rendered.headings,
        words=len(_TAG.sub(" ", rendered.html).split()),
        draft=fields.boolean("draft"),
        aliases=_aliases(fields),
        images=_image_refs(rendered.images, body, body_line),
        lines=dict(loaded[1]),
    )
    page = _kind_fields(kind, fields, config, common)
    return page if len(problems.errors) == errors_before and not rendered.bad_links else None


def _kind_fields(kind: str, fields: Fields, config: Config, common: dict[str, object]) -> Page:
    """Return the Page with the fields its kind has."""
    zone = config.timezone
    if kind == "article":
        return Page(
            **common,  # type: ignore[arg-type]
            date=fields.date("date", zone, required=True),
            updated=fields.date("updated", zone),
            author=fields.text("author") or config.author,
            tags=fields.text_list("tags"),
            image=_image(fields),
            image_alt=fields.text("image_alt"),
            program=fields.text("program"),
        )
    if kind == "program":
        signup = fields.https_url("signup_url") or config.signup_url
        if signup is None and not fields.present("signup_url"):
            fields.problems.error(
                "program has no signup link",
                fields.path,
                1,
                "expected `signup_url: https://...` here or a site-wide `signup_url` in site.yaml",
            )
        skills = fields.mapping_list("skills", ("name",), ("summary",))
        return Page(
            **common,  # type: ignore[arg-type]
            signup_url=signup,
            duration_weeks=fields.integer("duration_weeks"),
            schedule=fields.text("schedule"),
            format=fields.text("format"),
            price=fields.text("price"),
            next_start=fields.date("next_start", zone),
            facilitator=fields.text("facilitator"),
            skills=tuple(Skill(item["name"], item.get("summary")) for item in skills),
            steps=fields.text_list("steps"),
        )
    return Page(**common, updated=fields.date("updated", zone))  # type: ignore[arg-type]


def _image(fields: Fields) -> str | None:
    """Return an image reference: a file beside the markdown file, a site path such as /static/x.jpg, or https."""
    value = fields.text("image")
    parts = split_url(value.strip()) if value is not None else None
    if value is None or parts is not None and not parts.scheme and not parts.netloc:
        return value  # a local file, or none: images.py finds and checks it
    return fields.https_url("image")


def _image_refs(sources: tuple[str, ...], body: str, body_line: int) -> tuple[ImageRef, ...]:
    """Return the body's local images with the line each is written on (found in order, from the last one)."""
    refs: list[ImageRef] = []
    start = 0
    for src in sources:
        found = body.find(src, start)
        start = found + len(src) if found >= 0 else start
        refs.append(ImageRef(src, body_line + body[: max(found, 0)].count("\n")))
    return tuple(refs)


def _aliases(fields: Fields) -> tuple[str, ...]:
    """Return the page's old URLs as published (a name without extension is a folder), recording bad ones."""
    found: list[str] = []
    for alias in fields.text_list("aliases"):
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


def page_url(path: Path, fields: Fields) -> str:
    """Return a page's site-relative URL, from its place under content/ and its slug."""
    section, *folders, name = PurePosixPath(path.as_posix()).parts[1:]
    if name.lower() == "index.md" and folders:  # a page bundle: the folder is the page, its images beside it
        name = folders.pop() + ".md"
    slug = slugify(PurePosixPath(name).stem)
    explicit = fields.text("slug")
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
    slug = slug or slugify(fields.text("title") or "") or "page"
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
