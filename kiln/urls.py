"""Slugs and URLs: the one place that turns names into URL parts and URLs into links."""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import SplitResult, parse_qsl, urlencode, urlsplit, urlunsplit

# Letters that Unicode does not decompose into a base letter plus accents.
_LETTERS = str.maketrans(
    {
        "ß": "ss",
        "æ": "ae",
        "Æ": "ae",
        "ø": "o",
        "Ø": "o",
        "œ": "oe",
        "Œ": "oe",
        "đ": "d",
        "Đ": "d",
        "ł": "l",
        "Ł": "l",
        "þ": "th",
        "Þ": "th",
        "ı": "i",
    }
)
_DIGIT_DOT = re.compile(r"(?<=[0-9])\.(?=[0-9])")
_NOT_SLUG = re.compile(r"[^a-z0-9\x00]+")
SLUG_PATTERN = re.compile(r"[a-z0-9]+(?:[-.][a-z0-9]+)*")


@functools.lru_cache(maxsize=4096)  # tags: a few names, each slugified for every article that carries it
def slugify(name: str) -> str:
    """Return a lower-case ASCII slug: accents dropped, runs of other characters turned into hyphens."""
    ascii_text = unicodedata.normalize("NFKD", name.translate(_LETTERS)).encode("ascii", "ignore").decode()
    kept_dots = _DIGIT_DOT.sub("\x00", ascii_text.lower())
    return _NOT_SLUG.sub("-", kept_dots).strip("-").replace("\x00", ".")


def slug_problem(slug: str) -> str | None:
    """Return what is wrong with an explicit slug, or None when it is valid."""
    if SLUG_PATTERN.fullmatch(slug):
        return None
    if "/" in slug or "\\" in slug:
        return "a slug is one URL segment and may not contain slashes"
    if ".." in slug:
        return "a slug may not contain '..'"
    if any(char.isspace() for char in slug):
        return "a slug may not contain spaces"
    if slug != slug.lower():
        return "a slug must be lower case"
    return "a slug may only use a-z, 0-9, hyphens and dots between them"


def split_url(url: str) -> SplitResult | None:
    """Return a URL's parts, or None when it cannot be a URL at all (such as a host in [] that is no IP address)."""
    try:
        return urlsplit(url)
    except ValueError:
        return None


def https_problem(url: str) -> str | None:
    """Return what is wrong with an external URL that must be https, or None."""
    parts = split_url(url)
    if parts is None:
        return f"expected an absolute https:// URL, got {url!r}, which is not a valid address"
    if parts.scheme.lower() != "https":
        shown = f"'{parts.scheme}:'" if parts.scheme else "no scheme"
        return f"expected an absolute https:// URL, got {shown}"
    if not parts.hostname or any(char.isspace() or ord(char) < 32 for char in url):
        return "expected an absolute https:// URL with a host name"
    return None


def with_utm(url: str, params: dict[str, str]) -> str:
    """Return url with UTM parameters added; parameters already in the URL are kept and win."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    present = {key for key, _ in query}
    query += [(key, value) for key, value in params.items() if key not in present]
    return urlunsplit(parts._replace(query=urlencode(query)))


@dataclass(frozen=True)
class Urls:
    """Makes every link of the site from a site-relative URL such as '/articles/x/'."""

    base_url: str  # absolute, ends with '/'

    @property
    def base_path(self) -> str:
        """Return the path the site is served under, such as '/' or '/trust/'."""
        return urlsplit(self.base_url).path or "/"

    def path(self, url: str) -> str:
        """Return the link to a site-relative URL, carrying the base path."""
        return self.base_path + url.lstrip("/")

    def absolute(self, url: str) -> str:
        """Return the absolute URL (scheme and host) of a site-relative URL."""
        return self.base_url + url.lstrip("/")


def dest_for(url: str) -> str:
    """Return the output file, relative to the output folder, that serves a site-relative URL."""
    relative = url.lstrip("/")
    return relative + "index.html" if relative == "" or relative.endswith("/") else relative
