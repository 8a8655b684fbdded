"""A Jekyll, Hugo, Hexo or Eleventy posts folder -> articles and pages in content/. Entry point: import_markdown."""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path, PurePosixPath
from typing import Any

from ..content import MAX_FILE_BYTES, decode
from ..errors import Problems, SiteError
from ..fields import load_mapping
from .common import Post, Report, checked_front, clean_text, make_slug, site_config, write_posts

SUFFIXES = (".md", ".markdown")
MAX_RESOURCE_BYTES = 20 * 2**20
# Other generators' names for our fields; `categories` and `tags` both become tags.
RENAMED = {
    "title": "title",
    "date": "date",
    "description": "description",
    "excerpt": "description",
    "summary": "description",
    "lastmod": "updated",
    "modified": "updated",
    "last_modified_at": "updated",
    "updated": "updated",
    "author": "author",
    "authors": "author",
    "slug": "slug",
    "aliases": "aliases",
    "redirect_from": "aliases",
    "draft": "draft",
    "image": "image",
}
TAG_KEYS = ("categories", "category", "tags", "tag")
DROPPED = {"layout", "type", "published", "permalink", "url", "weight", "comments", "toc"}  # said by other fields
_DATED_NAME = re.compile(r"(\d{4})-(\d\d)-(\d\d)-(.+)")
_LOOSE_DATE = re.compile(r"(\d{4}-\d\d-\d\d)[ T](\d\d:\d\d(?::\d\d)?)(?:\.\d+)?\s*(?:([+-]\d\d):?(\d\d)|(Z|UTC))?\s*")
_HIGHLIGHT = re.compile(r"\{%-?\s*highlight\s+([\w+-]+)[^%]*%\}\n?([\s\S]*?)\{%-?\s*endhighlight\s*-?%\}")
_POST_URL = re.compile(r"\{%-?\s*post_url\s+(\S+?)\s*-?%\}")
_RAW = re.compile(r"\{%-?\s*(?:end)?raw\s*-?%\}")
_FIGURE = re.compile(r"\{\{[<%]\s*figure\s+([^}]*?)\s*[>%]\}\}")
_ASSET_IMG = re.compile(r"\{%\s*asset_img\s+(\S+)\s*([^%]*?)\s*%\}")
_REF = re.compile(r"\{\{<\s*(?:rel)?ref\s+\"?([^\"\s>]+)\"?\s*>\}\}")
_ATTRIBUTE = re.compile(r"(\w+)=\"([^\"]*)\"")
_TEMPLATE = re.compile(r"\{%.*?%\}|\{\{[<%].*?[>%]\}\}|\{\{.*?\}\}")


def import_markdown(folder: Path, source: Path) -> Report:
    """Write the folder's markdown posts into SOURCE/content; return what was done. Raise SiteError."""
    config = site_config(source)
    if not folder.is_dir():
        raise SiteError("the folder to import does not exist", folder, None, "expected a folder of markdown posts")
    report = Report()
    read = [read_post(path, folder, report) for path in _posts(folder, report)]
    found = [entry for entry in read if entry is not None]
    taken: dict[str, set[str]] = {"article": set(), "page": set()}
    slugs = {path: _slug(front, path, taken) for path, front, _ in found}
    urls = {_stem(path): _url(front, slugs[path]) for path, front, _ in found}
    posts = []
    for path, front, body in found:
        post = _post(path, folder, front, body, slugs[path])
        extra = {key: value for key, value in front.items() if key not in (*RENAMED, *TAG_KEYS, *DROPPED)}
        checked = checked_front(post.front, extra, post.kind, config, report, post.path)
        posts.append(replace(post, front=checked, body=_body(post.body, urls, report, post.path)))
    write_posts(source, posts, report)
    return report


def _posts(folder: Path, report: Report) -> Iterator[Path]:
    """Yield the markdown files under the folder, in name order; skip section lists and hidden folders."""
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if path.is_symlink() or not path.is_file() or path.suffix.lower() not in SUFFIXES:
            continue
        if any(part.startswith(".") for part in relative.parts):
            continue
        if path.name.lower() in ("_index.md", "readme.md"):
            report.not_imported["section list or read-me file"] += 1
            continue
        yield path


def read_post(path: Path, folder: Path, report: Report) -> tuple[Path, dict[str, Any], str] | None:
    """Return a post's path, front matter (keys as written) and body, or None after noting why it cannot be read."""
    origin = path.relative_to(folder).as_posix()
    if path.stat().st_size > MAX_FILE_BYTES:
        report.skip(f"larger than the build accepts, {MAX_FILE_BYTES // 2**20} MiB", origin)
        return None
    problems = Problems()
    text = decode(path.read_bytes(), Path(origin), problems)
    if text is None:
        report.skip("not UTF-8 text", origin)
        return None
    front, body = _split(text, Path(origin), problems)
    if problems.errors or front is None:
        report.skip("its front matter does not parse", f"{problems.errors[0] if problems.errors else origin}")
        return None
    if "_drafts" in path.relative_to(folder).parts:  # Jekyll's drafts: posts without a date, dated by their file
        front.setdefault("draft", True)
        front.setdefault("date", dt.date.fromtimestamp(path.stat().st_mtime).isoformat())
    return path, front, body


def _split(text: str, path: Path, problems: Problems) -> tuple[dict[str, Any] | None, str]:
    """Return the front matter (YAML, TOML between +++, or Hexo's without a first ---) and the body."""
    lines = text.split("\n")
    if lines[0].strip() == "+++":
        end = next((n for n, line in enumerate(lines[1:], 1) if line.strip() == "+++"), None)
        if end is None:
            return None, text
        try:
            return tomllib.loads("\n".join(lines[1:end])), "\n".join(lines[end + 1 :])
        except tomllib.TOMLDecodeError as error:
            problems.error(f"TOML does not parse: {error}", path, 1)
            return None, text
    start = 1 if lines[0].strip() == "---" else 0
    end = next((n for n, line in enumerate(lines[start:], start) if n and line.strip() in ("---", "...")), None)
    if end is None or (start == 0 and not re.match(r"[A-Za-z_][\w-]*:", lines[0])):
        return {}, text  # no front matter: the file name and a leading # heading say what they can
    loaded = load_mapping("\n".join(lines[start:end]), path, start + 1, problems)
    return (loaded[0] if loaded else None), "\n".join(lines[end + 1 :])


def _stem(path: Path) -> str:
    """Return how other posts name this one: its file name without suffix (a bundle: its folder's name)."""
    return path.parent.name if path.stem == "index" else path.stem


def _slug(front: dict[str, Any], path: Path, taken: dict[str, set[str]]) -> str:
    """Return the post's slug: `slug`, else the permalink's last part, else the file name without its date."""
    permalink = _permalink(front)
    from_link = PurePosixPath(permalink.split("?")[0]).stem
    named = _DATED_NAME.match(_stem(path))
    wanted = str(front.get("slug") or from_link or (named.group(4) if named else _stem(path)))
    kind = "article" if front.get("date") or named else "page"
    if named and not front.get("date"):
        front["date"] = f"{named.group(1)}-{named.group(2)}-{named.group(3)}"
    return make_slug(wanted, str(front.get("title") or "post"), taken[kind])


def _permalink(front: dict[str, Any]) -> str:
    """Return the post's old path from `permalink` or `url`, or '' when it has placeholders (`:title`, `{{ }}`)."""
    permalink = front.get("permalink") or front.get("url")
    if not isinstance(permalink, str) or any(char in permalink for char in ":{%"):
        return ""
    return permalink.strip()


def _url(front: dict[str, Any], slug: str) -> str:
    """Return the new URL of a post."""
    return f"/articles/{slug}/" if front.get("date") else f"/{slug}/"


def _post(path: Path, folder: Path, front: dict[str, Any], body: str, slug: str) -> Post:
    """Return the Post a file becomes, with its front matter mapped to ours and its bundle's files."""
    kind = "article" if front.get("date") else "page"
    mapped: dict[str, Any] = {}
    for key, value in front.items():
        ours = RENAMED.get(key)
        if ours == "author" and isinstance(value, list):
            value = ", ".join(map(str, value))
        if ours in ("date", "updated"):
            value = _date(value)
        if ours and ours not in mapped:
            mapped[ours] = value
    mapped["tags"] = _tags(front) if kind == "article" else None
    mapped["slug"] = slug
    permalink = _permalink(front)
    aliases = mapped.get("aliases") or []
    aliases = [str(alias) for alias in (aliases if isinstance(aliases, list) else [aliases])]
    if permalink:
        aliases.append(permalink if permalink.startswith("/") else "/" + permalink)
    mapped["aliases"] = [
        alias if alias.startswith("/") else "/" + alias for alias in aliases if alias != _url(front, slug)
    ]
    if front.get("published") is False:
        mapped["draft"] = True
    if kind == "page":
        mapped.pop("date", None)
    files = _resources(path) if path.stem == "index" else ()
    origin = path.relative_to(folder).as_posix()
    return Post(kind, slug, mapped, clean_text(body.lstrip("\n")), origin, bundle=bool(files), files=files)


def _date(value: Any) -> Any:
    """Return a date as ISO 8601 text when another generator wrote it its own way (`2019-04-02 10:30:00 +0200`)."""
    if not isinstance(value, str) or not (match := _LOOSE_DATE.fullmatch(value.strip())):
        return value
    day, time, hours, minutes, utc = match.groups()
    offset = "+00:00" if utc else (f"{hours}:{minutes}" if hours else "")
    return f"{day}T{time}{offset}"


def _tags(front: dict[str, Any]) -> list[str]:
    """Return categories and tags as one list of tags, once each (a text with commas is several)."""
    found: dict[str, str] = {}

    def add(value: Any) -> None:
        if isinstance(value, list):
            for item in value:
                add(item)
        elif isinstance(value, str | int | float) and not isinstance(value, bool):
            for tag in str(value).split(","):
                if tag.strip():
                    found.setdefault(tag.strip().lower(), tag.strip())

    for key in TAG_KEYS:
        add(front.get(key))
    return list(found.values())


def _resources(path: Path) -> tuple[tuple[str, bytes], ...]:
    """Return the files beside a bundle's index.md (its images), except other markdown files."""
    return tuple(
        (file.name, file.read_bytes())
        for file in sorted(path.parent.iterdir())
        if file.is_file()
        and not file.is_symlink()
        and file.suffix.lower() not in SUFFIXES
        and not file.name.startswith(".")
        and file.stat().st_size <= MAX_RESOURCE_BYTES
    )


def _body(body: str, urls: dict[str, str], report: Report, path: Path) -> str:
    """Return a body with the template tags we understand made markdown; note the ones left as text."""
    body = _HIGHLIGHT.sub(lambda m: f"```{m.group(1)}\n{m.group(2).rstrip()}\n```", body)
    body = _POST_URL.sub(lambda m: urls.get(PurePosixPath(m.group(1)).name, m.group(0)), body)
    body = _REF.sub(lambda m: urls.get(_stem(Path(m.group(1).split("#")[0])), m.group(0)), body)
    body = _RAW.sub("", body)
    body = _FIGURE.sub(_figure, body)
    body = _ASSET_IMG.sub(lambda m: f"![{m.group(2)}]({m.group(1)})", body)
    left = sorted({match.group(0)[:40] for match in _TEMPLATE.finditer(_without_code(body))})
    if left:
        report.note(path, f"template tags cannot be converted; kept as text: {', '.join(left[:3])}")
    return body


def _figure(match: re.Match[str]) -> str:
    """Return Hugo's figure shortcode as a markdown image, its caption beneath."""
    attributes = dict(_ATTRIBUTE.findall(match.group(1)))
    image = f"![{attributes.get('alt', '')}]({attributes.get('src', '')})"
    caption = attributes.get("caption") or attributes.get("title")
    return image + (f"\n\n*{caption}*" if caption else "")


def _without_code(body: str) -> str:
    """Return a body without fenced code blocks and inline code, where template tags are only text."""
    return re.sub(r"```[\s\S]*?```|`[^`\n]*`", "", body)
