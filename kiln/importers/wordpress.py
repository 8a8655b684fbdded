"""A WordPress export (WXR, from Tools -> Export) -> articles and pages in content/. Entry point: import_wordpress."""

from __future__ import annotations

import datetime as dt
import html
import re
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote, urlsplit
from xml.etree.ElementTree import Element, ParseError

import defusedxml
import defusedxml.ElementTree

from ..content import alias_problem
from ..errors import SiteError
from ..pool import spread
from ..urls import slugify
from .common import Post, Report, checked_front, clean_text, make_slug, site_config, write_posts
from .html import Context, Converted, address, to_markdown

MAX_EXPORT_BYTES = 512 * 2**20
MAX_IMAGE_BYTES = 20 * 2**20
MAX_NAME_BYTES = 200  # a folder name the old URL needs; file systems stop at 255
IMAGE_SECONDS = 10.0
IMAGE_TYPES = (".jpg", ".jpeg", ".png", ".gif", ".webp", ".avif")  # not .svg: an SVG may hold a script
KINDS = {"post": "article", "page": "page"}
SKIPPED_TYPES = {"attachment": "attachment page", "nav_menu_item": "menu item", "revision": "revision"}
RESERVED_PAGE_SLUGS = {"articles", "programs", "tags", "static", "feed", "sitemap"}
_BLOCK = re.compile(r"<(?:br|/?(?:p|div|li|h[1-6]|blockquote)\b)[^>]*>", re.I)
_TAG = re.compile(r"<[^>]+>")
_COMMENT = re.compile(r"<!--[\s\S]*?-->")
_SHORTCODE = re.compile(r"\[/?[a-zA-Z][^\]]*\]")


@dataclass(frozen=True)
class Item:
    """One <item> of the export, as text: a post, a page, an attachment, a menu item…"""

    values: dict[str, str]  # "wp:post_type", "title", "content:encoded"… -> text
    terms: tuple[tuple[str, str], ...]  # (taxonomy, name): categories, tags, post formats
    comments: int

    def get(self, name: str) -> str:
        """Return a child element's text, or ''."""
        return self.values.get(name, "")

    @property
    def id(self) -> str:
        """Return the post id."""
        return self.get("wp:post_id")

    @property
    def type(self) -> str:
        """Return the post type: post, page, attachment, nav_menu_item…"""
        return self.get("wp:post_type")

    @property
    def status(self) -> str:
        """Return publish, future, draft, pending, private, trash…"""
        return self.get("wp:status")


@dataclass(frozen=True)
class Export:
    """What the import reads of an export: its items and its authors' display names by login."""

    items: tuple[Item, ...]
    authors: dict[str, str] = field(default_factory=dict)


def import_wordpress(export: Path, source: Path, download_images: bool = False) -> Report:
    """Write the export's posts and pages into SOURCE/content; return what was done. Raise SiteError."""
    config = site_config(source)
    read = read_export(export)
    report = Report()
    for item in read.items:
        report.not_imported["comment"] += item.comments
    wanted = [item for item in read.items if _importable(item, report)]
    slugs = _slugs(wanted)
    links = {key: url for item in wanted for key, url in _old_addresses(item, slugs[item.id])}
    attachments = {item.id: item.get("wp:attachment_url") for item in read.items if item.type == "attachment"}
    children: dict[str, list[str]] = {}
    for item in read.items:
        if item.type == "attachment":
            children.setdefault(item.get("wp:post_parent"), []).append(item.get("wp:attachment_url"))

    def convert(chunk: list[Item]) -> list[Body]:
        return [
            _convert(item, Context(links, attachments, tuple(children.get(item.id, []))), download_images)
            for item in chunk
        ]

    # Converting HTML is most of an import's time: on every core when there are many posts.
    bodies = spread(convert, wanted, weight=lambda item: len(item.get("content:encoded")))
    posts = []
    for item, body in zip(wanted, bodies, strict=True):
        post = _post(item, slugs[item.id], body, read.authors, report)
        extra = {"sticky": True} if item.get("wp:is_sticky") == "1" else {}
        posts.append(replace(post, front=checked_front(post.front, extra, post.kind, config, report, post.path)))
    write_posts(source, posts, report)
    return report


def read_export(path: Path) -> Export:
    """Return the items of a WXR file, parsed by a hardened parser; raise SiteError for anything else."""
    try:
        size = path.stat().st_size
    except OSError as error:
        raise SiteError("the export cannot be read", path, None, error.strerror) from None
    if size > MAX_EXPORT_BYTES:
        raise SiteError(
            "the export is too large",
            path,
            None,
            f"expected at most {MAX_EXPORT_BYTES // 2**20} MiB, got {size / 2**20:.0f} MiB; "
            "export it in parts (Tools → Export can choose a date range)",
        )
    items: list[Item] = []
    authors: dict[str, str] = {}
    root = ""
    try:
        for element, is_root in _elements(path):
            tag = _name(element.tag)
            if is_root:
                root = tag
            elif tag == "item":
                items.append(_item(element))
                element.clear()  # keeps memory to what the posts' text needs
            elif tag == "wp:author":
                values = {_name(child.tag): (child.text or "") for child in element}
                authors[values.get("wp:author_login", "")] = values.get("wp:author_display_name", "")
    except ParseError as error:
        line, column = error.position
        raise SiteError(
            "the export is not well-formed XML", path, line, f"{_reason(str(error))} at column {column + 1}"
        ) from None
    except defusedxml.DefusedXmlException as error:
        raise SiteError(
            "the export declares entities or a document type, which a WordPress export never does",
            path,
            None,
            f"refused to read it: {type(error).__name__}; an entity expansion bomb or external entities look so",
        ) from None
    if root != "rss" or not any(item.get("wp:post_type") for item in items):
        raise SiteError(
            "the file is not a WordPress export",
            path,
            None,
            f"expected the XML file from Tools → Export, with <rss> and <item>s, got <{root or 'nothing'}>",
        )
    return Export(tuple(items), authors)


def _elements(path: Path) -> Iterator[tuple[Element, bool]]:
    """Yield each element of the file as its end tag is read (and True for the root)."""
    depth = 0
    for event, element in defusedxml.ElementTree.iterparse(
        str(path), events=("start", "end"), forbid_dtd=True, forbid_entities=True, forbid_external=True
    ):
        depth += 1 if event == "start" else -1
        if event == "end":
            yield element, depth == 0


def _reason(message: str) -> str:
    """Return expat's message without its own ': line x, column y'."""
    return message.split(":")[0]


NAMESPACES = (
    ("wordpress.org/export/", "excerpt", "excerpt"),
    ("wordpress.org/export/", "", "wp"),
    ("purl.org/rss/1.0/modules/content", "", "content"),
    ("purl.org/dc/elements", "", "dc"),
)


def _name(tag: str) -> str:
    """Return an element's name with the usual prefix: `wp:post_id`, `content:encoded`, `title`."""
    if not tag.startswith("{"):
        return tag
    uri, local = tag[1:].split("}", 1)
    for part, also, prefix in NAMESPACES:
        if part in uri and also in uri:
            return f"{prefix}:{local}"
    return local


def _item(element: Element) -> Item:
    """Return one <item> as text values, its terms and how many comments it had."""
    values: dict[str, str] = {}
    terms: list[tuple[str, str]] = []
    comments = 0
    for child in element:
        name = _name(child.tag)
        if name == "category":
            terms.append((child.get("domain", "category"), (child.text or "").strip()))
        elif name == "wp:comment":
            comments += 1
        elif name == "wp:postmeta":
            continue
        else:
            values[name] = child.text or ""
    return Item(values, tuple(terms), comments)


def _importable(item: Item, report: Report) -> bool:
    """Return whether an item becomes a page; count or list the others with why not."""
    if item.type not in KINDS:
        report.not_imported[SKIPPED_TYPES.get(item.type, f"`{item.type or 'unknown'}` item")] += 1
        return False
    if item.status in ("trash", "auto-draft", "inherit"):
        report.not_imported[f"{item.type} in the trash" if item.status == "trash" else f"{item.type} auto-draft"] += 1
        return False
    if item.get("wp:post_password"):
        report.skip("password-protected, not published here", f"{_title(item)!r} ({item.type} {item.id})")
        return False
    return True


def _slugs(items: list[Item]) -> dict[str, str]:
    """Return each item's slug: its own when it has one, else from its title; unique within its kind."""
    taken = {"article": set[str](), "page": set(RESERVED_PAGE_SLUGS)}
    return {
        item.id: make_slug(
            unquote(item.get("wp:post_name")), _title(item) or _first_words(item), taken[KINDS[item.type]]
        )
        for item in items
    }


def _new_url(item: Item, slug: str) -> str:
    """Return the site URL an item gets."""
    return f"/articles/{slug}/" if KINDS[item.type] == "article" else f"/{slug}/"


def _old_addresses(item: Item, slug: str) -> Iterator[tuple[str, str]]:
    """Yield (old address, new URL) for every address the old site gave the item: permalink and ?p= link."""
    new = _new_url(item, slug)
    for url in (item.get("link"), item.get("guid")):
        if url.strip():
            yield address(url.strip()), new


def _title(item: Item) -> str:
    """Return the item's title as text: entities decoded once (WordPress stores `&amp;` in titles)."""
    return " ".join(clean_text(html.unescape(item.get("title"))).split())


@dataclass(frozen=True)
class Body:
    """An item's text as markdown, with the images downloaded for its bundle and notes about them."""

    converted: Converted
    files: tuple[tuple[str, bytes], ...]
    notes: tuple[str, ...]


def _convert(item: Item, context: Context, download: bool) -> Body:
    """Return an item's HTML as markdown, its images downloaded when asked."""
    images = _Images(download)
    converted = to_markdown(item.get("content:encoded"), context, images.name)
    return Body(converted, tuple(images.files.items()), tuple(images.notes))


def _post(item: Item, slug: str, body: Body, authors: dict[str, str], report: Report) -> Post:
    """Return the Post an item becomes: front matter from its fields, markdown from its HTML."""
    kind = KINDS[item.type]
    converted = body.converted
    path_hint = Post(kind, slug, {}, "", "", bundle=bool(converted.images)).path
    notes = list(converted.notes)
    title = _title(item)
    if not title:
        title = _first_words(item) or f"Untitled {item.type} {item.id}"
        notes.append("had no title: the first words of its text became the title")
    front: dict[str, Any] = {"title": title}
    modified = _date(item, "wp:post_modified")
    date = _date(item, "wp:post_date") or modified  # an old draft may never have had a date of its own
    if kind == "article":
        front["date"] = date.isoformat() if date else None
        front["author"] = authors.get(item.get("dc:creator")) or item.get("dc:creator") or None
        front["tags"] = _tags(item, report)
    if modified and date and modified.replace(tzinfo=None) - date.replace(tzinfo=None) > dt.timedelta(minutes=1):
        front["updated"] = modified.isoformat()
    front["description"] = plain_text(item.get("excerpt:encoded")) or None
    front["slug"] = slug
    front["aliases"] = _aliases(item, slug)
    if not front["aliases"] and len(item.get("link").encode("utf-8")) > MAX_NAME_BYTES:
        notes.append(f"its old address is too long to redirect from: {item.get('link')[:60]}…")
    if item.status in ("draft", "pending", "private"):
        front["draft"] = True
        notes.append(f"was {item.status} on WordPress: imported as a draft")
    if item.status == "future" and date:
        notes.append(f"is scheduled: it publishes on {date.date().isoformat()}")
    notes += body.notes
    for note in dict.fromkeys(notes):
        report.note(path_hint, note)
    return Post(
        kind,
        slug,
        front,
        converted.markdown,
        f"{item.type} {item.id}",
        bundle=bool(converted.images),
        files=body.files,
    )


def plain_text(text: str) -> str:
    """Return an HTML excerpt as one line of text: blocks apart by a space, inline tags gone, entities decoded."""
    return " ".join(html.unescape(_TAG.sub("", _BLOCK.sub(" ", text))).split())


def _first_words(item: Item) -> str:
    """Return the first words of an item's text, for a missing title: at most eight, and 60 characters."""
    text = _SHORTCODE.sub(" ", _COMMENT.sub(" ", item.get("content:encoded")))
    return " ".join(plain_text(text).split()[:8])[:60].strip()


def _date(item: Item, name: str) -> dt.datetime | None:
    """Return a local date of the item with its offset from UTC (from the _gmt twin), or None if unset."""
    try:
        local = dt.datetime.fromisoformat(item.get(name).strip())
    except ValueError:
        return None
    try:
        utc = dt.datetime.fromisoformat(item.get(f"{name}_gmt").strip())
    except ValueError:
        return local  # a draft has no UTC date yet: the site's time zone applies
    offset = round((local - utc).total_seconds() / 60)
    return local.replace(tzinfo=dt.timezone(dt.timedelta(minutes=offset)))


def _tags(item: Item, report: Report) -> list[str]:
    """Return categories and tags, as tags (without WordPress's default 'Uncategorized'), once each."""
    tags: dict[str, str] = {}
    for taxonomy, name in item.terms:
        text = " ".join(html.unescape(name).split())
        if taxonomy in ("category", "post_tag"):
            if text and text.lower() != "uncategorized":
                tags.setdefault(text.lower(), text)
        elif taxonomy != "post_format":
            report.unmapped[f"taxonomy {taxonomy}"] += 1
    return list(tags.values())


def _aliases(item: Item, slug: str) -> list[str]:
    """Return the old permalink's path as an alias, unless it is the new URL or cannot be one."""
    link = item.get("link").strip()
    path = urlsplit(link).path if link else ""
    if not path or path == "/" or urlsplit(link).query or path == _new_url(item, slug) or alias_problem(path):
        return []
    if any(len(part.encode("utf-8")) > MAX_NAME_BYTES for part in path.split("/")):
        return []  # no file system keeps a folder of that name; _post notes it
    return [path]


class _Images:
    """A post's images: each downloaded into its bundle when asked and possible, else kept as a link."""

    def __init__(self, download: bool) -> None:
        self.download = download
        self.files: dict[str, bytes] = {}
        self.names: dict[str, str] = {}
        self.notes: list[str] = []

    def name(self, url: str) -> str:
        """Return what the markdown calls an image: its file name in the bundle, or its URL."""
        if url in self.names:
            return self.names[url]
        name = url
        if not self.download:
            self.notes.append("images are links to the old site (import with --download-images to bring them in)")
        elif url.startswith(("https://", "http://")):
            name = self._fetch(url)
        self.names[url] = name
        return name

    def _fetch(self, url: str) -> str:
        """Return the file name of the downloaded image, or the URL after noting why it was not downloaded."""
        stem = PurePosixPath(unquote(urlsplit(url).path)).name
        suffix = PurePosixPath(stem).suffix.lower()
        if suffix not in IMAGE_TYPES:
            self.notes.append(f"image kept as a link: {url} (not one of {', '.join(IMAGE_TYPES)})")
            return url
        try:
            data = fetch(url)
        except (OSError, ValueError) as error:
            self.notes.append(f"image kept as a link: {url} could not be downloaded ({error})")
            return url
        base = slugify(PurePosixPath(stem).stem) or "image"
        name, number = f"{base}{suffix}", 2
        while name in self.files or name == "index.md":
            name, number = f"{base}-{number}{suffix}", number + 1
        self.files[name] = data
        return name


def fetch(url: str) -> bytes:
    """Return an image's bytes, with a time limit and a size limit; raise OSError or ValueError."""
    scheme = urlsplit(url).scheme
    if scheme not in ("http", "https"):
        raise ValueError(f"expected an http or https address, got {scheme!r}")
    request = urllib.request.Request(url, headers={"User-Agent": "kiln-import"})
    with urllib.request.urlopen(request, timeout=IMAGE_SECONDS) as response:  # noqa: S310 - scheme checked above
        data: bytes = response.read(MAX_IMAGE_BYTES + 1)
        kind = response.headers.get("Content-Type", "")
    if len(data) > MAX_IMAGE_BYTES:
        raise ValueError(f"larger than {MAX_IMAGE_BYTES // 2**20} MiB")
    if not kind.startswith("image/"):
        raise ValueError(f"the server sent {kind or 'no type'}, not an image")
    return data
