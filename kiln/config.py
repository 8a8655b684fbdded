"""site.yaml -> Config, with every problem reported together."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import Problems, SiteError
from .fields import Fields, load_mapping
from .schema import Field, parse_custom
from .urls import split_url

CONFIG_NAME = "site.yaml"
KNOWN = (
    "title",
    "organisation",
    "description",
    "base_url",
    "language",
    "timezone",
    "author",
    "signup_url",
    "utm_source",
    "disclaimer",
    "crisis_line",
    "feed_size",
    "unsafe_html",
    "fields",
    "review_every_months",
    "reading_grade_max",
    "cms",
    "search",
)
CMS_BACKENDS = ("github",)
CMS_KEYS = ("backend", "repo", "branch", "auth_url", "editorial_workflow")
_REPO = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+\Z")


@dataclass(frozen=True)
class Cms:
    """The browser editor's settings (site.yaml's `cms:`): where it reads and writes the site's files."""

    backend: str  # one of CMS_BACKENDS
    repo: str  # owner/name
    branch: str = "main"
    auth_url: str | None = None  # the OAuth service that signs editors in (https); None: the backend's default
    editorial_workflow: bool = False  # saves become pull requests that a reviewer merges


@dataclass(frozen=True)
class Config:
    """The site-wide settings an editor keeps in site.yaml."""

    title: str
    organisation: str
    description: str
    base_url: str
    language: str
    timezone: ZoneInfo
    author: str
    signup_url: str | None
    utm_source: str
    disclaimer: str | None
    crisis_line: str | None
    feed_size: int
    unsafe_html: bool = False  # true: writers' raw HTML is published as written, not sanitised
    fields: tuple[Field, ...] = ()  # front matter fields the site declares, appended to the schema's table
    review_every_months: int = 12  # `check` warns about an article whose last review is older
    reading_grade_max: float = 8.0  # `check` warns about an article whose reading grade is higher
    cms: Cms | None = None  # the browser editor at /admin/, when site.yaml has `cms:`
    search: bool = True  # false: no search page, header form or index


def parse_config(text: str, path: Path, problems: Problems, base_url: str | None = None) -> Config | None:
    """Return the Config that site.yaml's text describes, or None after recording its problems."""
    loaded = load_mapping(text, path, 1, problems)
    if loaded is None:
        return None
    fields = Fields(loaded[0], loaded[1], path, problems, first_line=1)
    fields.warn_unknown(KNOWN)
    title = fields.text("title", required=True, example="Our site")
    organisation = fields.text("organisation", required=True, example="Our organisation")
    description = fields.text("description", required=True, example="What the site is about, in one sentence.")
    url = _base_url(base_url, fields, problems, path)
    zone = _timezone(fields)
    signup_url = fields.https_url("signup_url")
    author = fields.text("author") or organisation
    config = Config(
        title=title or "",
        organisation=organisation or "",
        description=description or "",
        base_url=url or "",
        language=fields.text("language") or "en",
        timezone=zone,
        author=author or "",
        signup_url=signup_url,
        utm_source=fields.text("utm_source") or urlsplit(url or "").hostname or "website",
        disclaimer=fields.text("disclaimer"),
        crisis_line=fields.text("crisis_line"),
        feed_size=fields.integer("feed_size") or 20,
        unsafe_html=fields.boolean("unsafe_html"),
        fields=parse_custom(fields),
        review_every_months=fields.integer("review_every_months") or 12,
        reading_grade_max=float(_grade(fields)),
        cms=_cms(fields),
        search=fields.boolean("search", default=True),
    )
    return None if problems.errors else config


def _grade(fields: Fields) -> float:
    """Return the highest reading grade `check` accepts (default 8, what health-literacy guidance asks for)."""
    grade = fields.number("reading_grade_max")
    return 8.0 if grade is None else float(grade)


def normalise_base_url(url: str) -> str | None:
    """Return an absolute http(s) URL ending with '/', or None when it is not one."""
    parts = split_url(url.strip())
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        return None
    return url.strip().rstrip("/") + "/"


def _base_url(override: str | None, fields: Fields, problems: Problems, path: Path) -> str | None:
    """Return the base URL from --base-url or site.yaml, checked."""
    raw = override if override is not None else fields.text("base_url", required=True, example="https://example.org/")
    if raw is None:
        return None
    url = normalise_base_url(raw)
    if url is None:
        where = (None, None) if override is not None else (path, fields.line("base_url"))
        problems.errors.append(
            SiteError(
                "base URL is not an absolute http(s) URL",
                where[0],
                where[1],
                f"expected something like https://example.org/ or https://example.org/trust/, got {raw!r}",
            )
        )
    return url


def _timezone(fields: Fields) -> ZoneInfo:
    """Return the site's time zone (UTC unless site.yaml names one)."""
    name = fields.text("timezone") or "UTC"
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        fields.problems.error(
            "`timezone` is not a known time zone",
            fields.path,
            fields.line("timezone"),
            f"expected an IANA name such as Europe/London or America/New_York, got {name!r}",
        )
        return ZoneInfo("UTC")


def _cms(fields: Fields) -> Cms | None:
    """Return the browser editor's settings from `cms:`, or None when site.yaml has none."""
    if not fields.present("cms"):
        return None
    data = fields.data["cms"]
    if not isinstance(data, dict):
        fields.wrong("cms", "must be a mapping", "expected `backend:`, `repo:` and `branch:` lines under `cms:`")
        return None
    cms = Fields({str(key): value for key, value in data.items()}, {}, fields.path, fields.problems, fields.line("cms"))
    cms = cms.within("cms.")
    cms.warn_unknown(CMS_KEYS)
    backend = cms.text("backend", required=True, example="github")
    if backend is not None and backend not in CMS_BACKENDS:
        cms.wrong("backend", "is not a backend the editor can use", f"expected one of {', '.join(CMS_BACKENDS)}")
    repo = cms.text("repo", required=True, example="our-org/our-site")
    if repo is not None and not _REPO.match(repo):
        cms.wrong("repo", "is not a repository", "expected owner/name, such as our-org/our-site")
    branch = cms.text("branch") or "main"
    auth_url = cms.https_url("auth_url")
    workflow = cms.boolean("editorial_workflow")
    if backend not in CMS_BACKENDS or repo is None or not _REPO.match(repo):
        return None
    return Cms(backend, repo, branch, auth_url, workflow)
