"""A WordPress post's HTML -> clean markdown, with what could not be carried over said, never silently lost."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from bs4 import BeautifulSoup, Tag
from markdownify import MarkdownConverter

from ..fields import NOT_XML
from ..sanitize import sanitize

_BLOCK_COMMENT = re.compile(r"<!--\s*(/?)wp:([a-z0-9_/-]+)[\s\S]*?(/?)-->")
_COMMENT = re.compile(r"<!--[\s\S]*?-->")
_CAPTION = re.compile(r"\[(?:wp_)?caption\b[^\]]*\]([\s\S]*?)\[/(?:wp_)?caption\]")
_GALLERY = re.compile(r"\[gallery\b([^\]]*)\]")
_IDS = re.compile(r"""\bids\s*=\s*["']?([\d,\s]+)""")
_EMBED = re.compile(r"\[embed\b[^\]]*\]\s*(\S+?)\s*\[/embed\]")
_MEDIA = re.compile(
    r"""\[(audio|video|playlist)\b[^\]]*?\b(?:src|mp3|mp4|m4a|ogg|webm)\s*=\s*["']([^"']+)["'][^\]]*\](?:\[/\1\])?"""
)
# A shortcode: [name], [/name] or [name attr=...]; "[citation needed]" (words, no `=`) is left alone.
_SHORTCODE = re.compile(r"\[(/?)([a-zA-Z][\w-]*)((?:\s+[\w-]+\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s\]]+))*)\s*/?\]")
_BLOCK_TAG = re.compile(r"<(?:p|div|h[1-6]|ul|ol|table|blockquote|pre|figure|hr)\b", re.I)
_REMOVED_TAGS = re.compile(r"<(script|style|iframe|object|embed|form|input|button|select|textarea)\b", re.I)
_IFRAME = re.compile(r"""<iframe\b[^>]*?\bsrc\s*=\s*["']([^"']+)["'][^>]*>(?:[\s\S]*?</iframe>)?""", re.I)
_EVENT_ATTRIBUTE = re.compile(r"""<[a-z][^>]*\s(on[a-z]+)\s*=""", re.I)
_BLANK_LINES = re.compile(r"\n{3,}")
_EMPTY_PARAGRAPH = re.compile(r"<p\b[^>]*>(?:\s|&nbsp;|&#160;|<br\s*/?>)*</p>", re.I)
_ENTITY_START = re.compile(r"&(?=#?\w+;)")
_FOOTNOTE_MARK = "KILNFOOTNOTE{}KILN"


@dataclass(frozen=True)
class Converted:
    """A post's body as markdown, the images it shows, and what an editor should know about its conversion."""

    markdown: str
    images: tuple[str, ...]  # every image source, in order, as the markdown has it
    notes: tuple[str, ...]


@dataclass(frozen=True)
class Context:
    """What the conversion of one post may look up in the rest of the export."""

    links: Mapping[str, str]  # an old page's address (no scheme, no trailing /) -> its new site URL
    attachments: Mapping[str, str]  # an attachment's post id -> its file's URL
    children: tuple[str, ...] = ()  # the files attached to this post (a [gallery] without ids shows them)


def to_markdown(html: str, context: Context, image_name: Callable[[str], str] | None = None) -> Converted:
    """Return a WordPress post's HTML as markdown: sanitised, shortcodes and blocks converted or reported.

    `image_name` gives a downloaded image's file name in the page's bundle (or the URL to keep).
    """
    notes: list[str] = []
    if empty := len(_EMPTY_PARAGRAPH.findall(html)):
        notes.append(f"{empty} empty paragraph{'s' if empty > 1 else ''} removed")
    html = _blocks(html, notes)
    if not _BLOCK_TAG.search(html):  # written in the classic editor: blank lines make paragraphs
        html = autop(html)
    html = _shortcodes(html, context, notes)
    html = _unsafe(html, notes)
    soup = BeautifulSoup(sanitize(html), "html.parser")
    _empty_paragraphs(soup)
    footnotes = _footnotes(soup)
    images = _images(soup, image_name or str)
    _links(soup, context, notes)
    text = _Converter().convert_soup(soup)
    for number in range(1, len(footnotes) + 1):
        text = text.replace(_FOOTNOTE_MARK.format(number), f"[^{number}]")
    if footnotes:
        text += "\n\n" + "\n".join(f"[^{number}]: {note}" for number, note in enumerate(footnotes, start=1))
    text = NOT_XML.sub("", _BLANK_LINES.sub("\n\n", text)).strip()
    return Converted(text + "\n" if text else "", tuple(images), tuple(notes))


def _blocks(html: str, notes: list[str]) -> str:
    """Return the HTML without Gutenberg's block comments, noting blocks whose content WordPress makes itself."""
    dynamic = sorted({match.group(2) for match in _BLOCK_COMMENT.finditer(html) if match.group(3) == "/"})
    if dynamic:
        notes.append(
            f"block comment {', '.join(f'`wp:{name}`' for name in dynamic)} removed: WordPress made that content "
            "when it served the page, and the export does not hold it"
        )
    return _COMMENT.sub("", html)


def _shortcodes(html: str, context: Context, notes: list[str]) -> str:
    """Return the HTML with [caption], [gallery], [embed] and media shortcodes made HTML; note the others."""
    html = _CAPTION.sub(_caption, html)

    def gallery(match: re.Match[str]) -> str:
        ids = _IDS.search(match.group(1))
        urls = [context.attachments.get(i.strip(), "") for i in ids.group(1).split(",")] if ids else context.children
        if not all(urls) or not urls:
            notes.append("shortcode [gallery] names images the export does not hold; the missing ones are left out")
        return "".join(f'<p><img src="{_attribute(url)}" alt=""></p>' for url in urls if url)

    html = _GALLERY.sub(gallery, html)
    html = _EMBED.sub(lambda m: f'<p><a href="{_attribute(m.group(1))}">{m.group(1)}</a></p>', html)

    def media(match: re.Match[str]) -> str:
        notes.append(f"shortcode [{match.group(1)}] became a link to its file")
        return f'<p><a href="{_attribute(match.group(2))}">{match.group(1)}: {match.group(2)}</a></p>'

    html = _MEDIA.sub(media, html)
    found = list(_SHORTCODE.finditer(html))
    closed = {match.group(2) for match in found if match.group(1)}
    left = sorted({match.group(2) for match in found if _is_shortcode(match, closed)})
    if left:
        notes.append(f"shortcode {', '.join(f'[{name}]' for name in left)} cannot be converted; kept as text")
    return html


def _is_shortcode(match: re.Match[str], closed: set[str]) -> bool:
    """Return whether a bracketed name is a shortcode: with attributes, closed, or named like one ([sic] is not)."""
    name = match.group(2)
    return bool(match.group(1) or match.group(3)) or match.group(0).endswith("/]") or name in closed or "-" in name


def _caption(match: re.Match[str]) -> str:
    """Return a [caption] shortcode as its image, then its caption as a paragraph of its own."""
    inner = match.group(1)
    image = re.search(r"<a\b[^>]*>\s*<img\b[^>]*>\s*</a>|<img\b[^>]*>", inner)
    if image is None:
        return f"<p>{inner}</p>"
    caption = (inner[: image.start()] + inner[image.end() :]).strip()
    return f"<p>{image.group(0)}</p>" + (f"<p><em>{caption}</em></p>" if caption else "")


def _attribute(value: str) -> str:
    """Return a value safe inside a double-quoted HTML attribute."""
    return value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


def autop(text: str) -> str:
    """Return classic-editor text with paragraphs made HTML, as WordPress's wpautop does when it shows a post."""
    chunks = [chunk.strip() for chunk in re.split(r"\n\s*\n", text.replace("\r\n", "\n")) if chunk.strip()]
    return "\n".join(
        chunk if _BLOCK_TAG.match(chunk) else f"<p>{chunk.replace(chr(10), '<br>')}</p>" for chunk in chunks
    )


def _unsafe(html: str, notes: list[str]) -> str:
    """Return the HTML with iframes made links, noting what the sanitiser is about to remove."""

    def frame(match: re.Match[str]) -> str:
        notes.append("an embedded frame became a link to what it showed")
        return f'<p><a href="{_attribute(match.group(1))}">{match.group(1)}</a></p>'

    html = _IFRAME.sub(frame, html)
    removed = sorted({match.group(1).lower() for match in _REMOVED_TAGS.finditer(html)})
    if removed:
        notes.append(f"removed by the sanitiser: {', '.join(f'<{tag}>' for tag in removed)}")
    events = sorted({match.group(1).lower() for match in _EVENT_ATTRIBUTE.finditer(html)})
    if events:
        notes.append(f"removed by the sanitiser: {', '.join(f'{name}=' for name in events)} attributes")
    return html


def _empty_paragraphs(soup: BeautifulSoup) -> None:
    """Remove paragraphs with neither text nor an image (the post's own are noted before; others are the
    parser's, from a shortcode's paragraphs inside the classic editor's)."""
    for paragraph in [p for p in soup.find_all("p") if not p.get_text().strip() and p.find("img") is None]:
        paragraph.decompose()


def _footnotes(soup: BeautifulSoup) -> list[str]:
    """Return the texts of WordPress's footnotes, their marks in the text replaced by placeholders."""
    listed = soup.find("ol", class_="wp-block-footnotes")
    if not isinstance(listed, Tag):
        return []
    numbers: dict[str, int] = {}
    texts: list[str] = []
    for item in listed.find_all("li", recursive=False):
        for back in item.find_all("a", href=re.compile(r"^#.*-link$")):
            back.decompose()
        numbers[str(item.get("id", ""))] = len(texts) + 1
        inner = "".join(str(child) for child in item.contents)
        texts.append(" ".join(str(_Converter().convert(inner)).split()))
    listed.decompose()
    for mark in soup.find_all("sup", class_="fn"):
        link = mark.find("a")
        target = str(link.get("href", "")).removeprefix("#") if isinstance(link, Tag) else ""
        mark.replace_with(_FOOTNOTE_MARK.format(numbers[target]) if target in numbers else mark.get_text())
    return texts


def _images(soup: BeautifulSoup, image_name: Callable[[str], str]) -> list[str]:
    """Return every image's source, made https and then named by `image_name`, rewriting each img's src."""
    found: list[str] = []
    for image in soup.find_all("img"):
        src = str(image.get("src", "")).strip()
        if not src:
            image.decompose()
            continue
        src = image_name(_upgrade(src))
        image["src"] = src
        found.append(src)
        for attribute in ("width", "height", "class", "id"):
            del image[attribute]
    return found


def _upgrade(url: str) -> str:
    """Return an http:// address as https://: the site's pages load images over https only."""
    return "https://" + url.removeprefix("http://") if url.startswith("http://") else url


def _links(soup: BeautifulSoup, context: Context, notes: list[str]) -> None:
    """Point links to the old site's pages at their new URLs; unwrap links to anchors that do not survive."""
    ids = {str(tag.get("id")) for tag in soup.find_all(re.compile(r"^h[1-6]$")) if tag.get("id")}
    for link in soup.find_all("a"):
        href = str(link.get("href", "")).strip()
        if href.startswith("#"):
            if href[1:] not in ids:
                link.unwrap()
                notes.append("a link to a part of the page that has no heading of that name became plain text")
            continue
        new = context.links.get(address(href))
        if new is not None:
            link["href"] = new


def address(url: str) -> str:
    """Return what names a page of the old site in `Context.links`: host, path without its last /, query."""
    parts = urlsplit(url)
    return f"{parts.netloc.lower()}{parts.path.rstrip('/')}" + (f"?{parts.query}" if parts.query else "")


class _Converter(MarkdownConverter):
    """markdownify, with our choices: ATX headings keeping their ids, - bullets, images in table cells."""

    def __init__(self, **options: Any) -> None:
        super().__init__(
            heading_style="ATX",
            bullets="-",
            newline_style="BACKSLASH",
            keep_inline_images_in=["td", "th", "a"],
            **options,
        )

    def escape(self, text: str, parent_tags: set[str]) -> str:
        """Return text outside code escaped for markdown: `<` and entities too, so `&lt;b&gt;` stays text."""
        text = str(super().escape(text, parent_tags))  # type: ignore[misc]
        return _ENTITY_START.sub("&amp;", text).replace("<", "&lt;")

    def convert_hN(self, n: int, el: Tag, text: str, parent_tags: set[str]) -> str:  # noqa: N802 - its name
        converted = str(super().convert_hN(n, el, text, parent_tags))  # type: ignore[misc]
        identifier = str(el.get("id", ""))
        if identifier and re.fullmatch(r"[A-Za-z][\w-]*", identifier) and converted.endswith("\n\n"):
            return converted.rstrip("\n") + f" {{#{identifier}}}\n\n"
        return converted

    def convert_img(self, el: Tag, text: str, parent_tags: set[str]) -> str:
        alt = " ".join(str(el.get("alt", "")).split()).replace("[", "\\[").replace("]", "\\]")
        src = str(el.get("src", ""))
        if any(char in src for char in " ()<>"):
            src = quote(src, safe=":/?#&=%@+,;~!$'*")
        if "_inline" in parent_tags and el.parent is not None and el.parent.name not in ("td", "th", "a"):
            return alt
        return f"![{alt}]({src})"
