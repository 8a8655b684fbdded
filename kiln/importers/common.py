"""What both importers share: the posts they make, their front matter checked, writing them, the summary."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import yaml

from ..authors import SLUG_SHAPED
from ..config import Config
from ..content import alias_problem
from ..errors import Problems, SiteError, warning_lines
from ..fields import NOT_XML, Fields
from ..load import CONTENT, read_config
from ..schema import Field, fields_for, read_value
from ..urls import slug_problem, slugify, split_url

_IMAGE = re.compile(r'!\[([^\]\n]*)\]\(<?([^)\s>]+)>?(?:\s+"[^"\n]*")?\)')  # ![alt](src "title")
SECTION_OF = {"article": "articles", "page": "pages"}
MAX_SLUG = 80  # characters; WordPress allows 200, which makes file names some systems refuse


@dataclass(frozen=True)
class Post:
    """One page to write: its kind, slug, front matter (in order), markdown text and the files of its bundle."""

    kind: str  # "article" or "page"
    slug: str
    front: dict[str, Any]
    body: str
    origin: str  # where it came from, for the summary: "post 12", or a file's path
    bundle: bool = False  # content/articles/<slug>/index.md, its files beside it
    files: tuple[tuple[str, bytes], ...] = ()  # (file name, bytes) in the bundle

    @property
    def path(self) -> Path:
        """Return where the post goes, relative to the source folder."""
        folder = Path(CONTENT, SECTION_OF[self.kind])
        return folder / self.slug / "index.md" if self.bundle else folder / f"{self.slug}.md"

    @property
    def url(self) -> str:
        """Return the site URL the post gets."""
        return f"/articles/{self.slug}/" if self.kind == "article" else f"/{self.slug}/"

    @property
    def other_path(self) -> Path:
        """Return where the same post would be in the other layout (a bundle or a single file)."""
        folder = Path(CONTENT, SECTION_OF[self.kind])
        return folder / f"{self.slug}.md" if self.bundle else folder / self.slug / "index.md"

    def text(self) -> str:
        """Return the file's text: front matter between --- lines, then the markdown."""
        front = yaml.safe_dump(self.front, sort_keys=False, allow_unicode=True, width=10_000, default_flow_style=None)
        return f"---\n{front}---\n{self.body}"


@dataclass
class Report:
    """What an import did: what it wrote, what it left and why, and what an editor should look at."""

    imported: list[Post] = field(default_factory=list)
    unchanged: list[Path] = field(default_factory=list)  # already imported by an earlier run, byte for byte
    skipped: dict[str, list[str]] = field(default_factory=dict)  # reason -> which
    not_imported: Counter[str] = field(default_factory=Counter)  # what an export holds that is not a page
    unmapped: Counter[str] = field(default_factory=Counter)  # front matter keys dropped -> how many files
    notes: list[SiteError] = field(default_factory=list)  # per file, for the editor

    def skip(self, reason: str, what: str) -> None:
        """Record a post left out, and why."""
        self.skipped.setdefault(reason, []).append(what)

    def note(self, path: Path, message: str) -> None:
        """Record something about a written file that an editor should look at."""
        self.notes.append(SiteError(message, path))

    def lines(self, verbose: bool = False) -> list[str]:
        """Return the summary, for people: counts, then what was left out, then what to look at."""
        kinds = Counter(post.kind for post in self.imported)
        drafts = sum(1 for post in self.imported if post.front.get("draft"))
        made = f"Imported {_count(kinds['article'], 'article')} and {_count(kinds['page'], 'page')} into content/"
        lines = [made + (f" ({drafts} as drafts)." if drafts else ".")]
        if self.unchanged:
            lines.append(f"Already imported, unchanged: {_count(len(self.unchanged), 'file')}.")
        for reason, which in self.skipped.items():
            shown = which if verbose else which[:5]
            more = f", and {len(which) - len(shown):,} more" if len(which) > len(shown) else ""
            lines.append(f"Skipped {len(which):,} ({reason}): {', '.join(shown)}{more}.")
        if self.not_imported:
            left = ", ".join(f"{_count(number, name)}" for name, number in sorted(self.not_imported.items()))
            lines.append(f"Not imported: {left}.")
        if self.unmapped:
            keys = ", ".join(f"`{key}` ({_count(number, 'file')})" for key, number in sorted(self.unmapped.items()))
            lines.append(f"Front matter not carried over (declare a field in site.yaml `fields:` to keep it): {keys}.")
        if self.notes:
            lines.append("To look at:")
            lines += warning_lines(self.notes, verbose, label="note: ")
        return lines


def _count(number: int, noun: str) -> str:
    """Return '1 article' or '1,042 articles'."""
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


def site_config(source: Path) -> Config:
    """Return the site's settings (the fields it declares decide what an import keeps); raise SiteError."""
    problems = Problems()
    config = read_config(source, problems, None)
    if config is None or problems.errors:
        raise problems.errors[0]
    return config


def make_slug(wanted: str, fallback: str, taken: set[str]) -> str:
    """Return a slug that is valid, short enough and not yet taken, made from `wanted` or else `fallback`."""
    slug = slugify(wanted)[:MAX_SLUG].strip("-") or slugify(fallback)[:MAX_SLUG].strip("-") or "post"
    if slug_problem(slug):
        slug = "post"
    unique, number = slug, 2
    while unique in taken:
        unique, number = f"{slug}-{number}", number + 1
    taken.add(unique)
    return unique


def clean_text(text: str) -> str:
    """Return text without the control characters a page may not hold (feed.xml would break)."""
    return NOT_XML.sub("", text)


def checked_front(
    front: dict[str, Any], extra: dict[str, Any], kind: str, config: Config, report: Report, path: Path
) -> dict[str, Any]:
    """Return the front matter with only values the build accepts; extra keys kept where site.yaml declares them.

    Each value is read by the schema's own reader, so what the import writes builds: a value the build would
    refuse is left out and noted, and an undeclared key is counted for the summary.
    """
    schema = {schema_field.name: schema_field for schema_field in fields_for(kind, config.fields)}
    kept: dict[str, Any] = {}
    for name, value in (*front.items(), *extra.items()):
        if value is None or value == [] or value == "":
            continue
        schema_field = schema.get(name)
        if schema_field is None:
            report.unmapped[name] += 1
        elif name == "aliases":
            kept[name] = [alias for alias in value if not alias_problem(alias)]
        elif _fits(schema_field, value, config):
            kept[name] = _plain(value)
        else:
            report.note(path, f"`{name}` was left out: the build would refuse {str(value)[:60]!r}")
    return kept


def _fits(schema_field: Field, value: Any, config: Config) -> bool:
    """Return whether the build reads the value without a problem."""
    problems = Problems()
    fields = Fields({schema_field.name: value}, {schema_field.name: 1}, Path("import"), problems, first_line=1)
    read_value(fields, schema_field, config.timezone)
    return not problems.errors


def _plain(value: Any) -> Any:
    """Return a value YAML writes plainly: dates as ISO 8601 text."""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def free_aliases(posts: list[Post]) -> list[Post]:
    """Return the posts without aliases that another post's URL or an earlier post's alias already takes."""
    taken = {post.url for post in posts}
    freed = []
    for post in posts:
        aliases = [alias for alias in post.front.get("aliases", []) if alias not in taken]
        taken.update(aliases)
        front = {key: value for key, value in post.front.items() if key != "aliases"}
        freed.append(replace(post, front=front | ({"aliases": aliases} if aliases else {})))
    return freed


def write_posts(source: Path, posts: list[Post], report: Report) -> None:
    """Write each post and its files into content/, never replacing a file: a clash is skipped and reported."""
    content = (source / CONTENT).resolve()
    for post in free_aliases(posts):
        post = _without_missing_images(_with_author(post, source, report), report)
        if missing := _missing(post):
            report.skip(missing, post.origin)
            report.notes = [note for note in report.notes if note.path != post.path]  # nothing there to look at
            continue
        target = (source / post.path).resolve()
        if content not in target.parents:  # slugs are made safe; this holds whatever a bug might let through
            report.skip("its name would leave content/", post.origin)
            continue
        text = post.text().encode("utf-8")
        wanted = [(post.path, text), *((post.path.parent / name, data) for name, data in post.files)]
        if all(_same(source / path, data) for path, data in wanted):
            report.unchanged.append(post.path)
            continue
        clash = next((path for path, data in wanted if _differs(source / path, data)), None)
        if clash is None and (source / post.other_path).exists():
            clash = post.other_path
        if clash is not None:
            report.skip("a different file is already there", f"{clash.as_posix()} (from {post.origin})")
            continue
        for path, data in wanted:
            if not (source / path).exists():
                (source / path).parent.mkdir(parents=True, exist_ok=True)
                with (source / path).open("xb") as handle:  # "x": never replaces a file, even one made meanwhile
                    handle.write(data)
        report.imported.append(post)


def _with_author(post: Post, source: Path, report: Report) -> Post:
    """Return the post with an `author` the build accepts: a login such as `admin` names an author page, if any.

    The build reads an `author` written like a slug as an author page's slug, and refuses one with no page: a
    login with no page there is written as a plain name instead, and noted.
    """
    author = post.front.get("author")
    if not isinstance(author, str) or not SLUG_SHAPED.match(author):
        return post
    if (source / CONTENT / "authors" / f"{author}.md").is_file():
        return post
    name = author.replace("-", " ").title()
    report.note(
        post.path,
        f"`author: {author}` names no author page, so it was written as the name {name!r}; "
        f"to give it a page, add content/authors/{author}.md and write `author: {author}`",
    )
    return replace(post, front=post.front | {"author": name})


def _without_missing_images(post: Post, report: Report) -> Post:
    """Return the post with each image that would be beside it but is not replaced by its description, noted.

    The build refuses a page whose image is missing; an old post often names pictures the export does not hold.
    """
    present = {name for name, _ in post.files}
    missing: list[str] = []

    def keep(match: re.Match[str]) -> str:
        alt, src = match.group(1), match.group(2)
        parts = split_url(src)
        if parts is None or parts.scheme or parts.netloc or src.startswith("/") or unquote(parts.path) in present:
            return match.group(0)
        missing.append(src)
        return f"*{alt}*" if alt.strip() else ""

    body = _IMAGE.sub(keep, post.body)
    if not missing:
        return post
    report.note(
        post.path,
        f"{len(missing)} picture{'s' if len(missing) > 1 else ''} not found with the post "
        f"({', '.join(missing[:3])}); each was replaced by its description: add the file beside the post "
        "and put the image back",
    )
    return replace(post, body=body)


def _missing(post: Post) -> str:
    """Return what a post lacks that the build requires, or ''."""
    if post.kind == "article" and "date" not in post.front:
        return "no date the build can read"
    if "title" not in post.front and not post.body.lstrip().startswith("# "):
        return "no title, and no `# heading` to take it from"
    return ""


def _differs(path: Path, data: bytes) -> bool:
    """Return whether a file exists and holds other bytes."""
    return path.exists() and not _same(path, data)


def _same(path: Path, data: bytes) -> bool:
    """Return whether a file exists and holds exactly these bytes."""
    try:
        return path.is_file() and path.stat().st_size == len(data) and path.read_bytes() == data
    except OSError:
        return False
