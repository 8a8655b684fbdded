"""Rendered files -> what static hosts want too: fingerprinted assets, _headers, _redirects, alias pages, robots."""

from __future__ import annotations

import hashlib
import html
import posixpath
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from .cms import ADMIN, ADMIN_CSP
from .content import Page
from .errors import Problems
from .site import Site
from .urls import Urls, dest_for

HASH_LENGTH = 8
# Theme files get fingerprinted copies; images and documents keep only the name content links to.
THEME_SUFFIXES = (".css", ".js", ".mjs", ".svg", ".ico", ".woff", ".woff2", ".ttf", ".otf")
YEAR = 365 * 24 * 60 * 60
IMMUTABLE = f"public, max-age={YEAR}, immutable"
PREVIEW_ROBOTS = "User-agent: *\nDisallow: /\n"
# The pages load only same-origin CSS, fonts and images (content may show https images); they run no script.
# The JSON-LD <script> is a data block, which browsers never execute, so script-src does not apply to it.
# connect-src 'self' grants nothing to a page that runs no script, but audits that fetch from within the page
# need it: Lighthouse reads robots.txt so, and without it scores every page's SEO 92 ("unable to download").
CSP = (
    "default-src 'none'; connect-src 'self'; style-src 'self'; img-src 'self' https:; font-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
# With search on, every page's header holds a form that GETs /search/; the search page runs our script and
# Pagefind's, which compiles WebAssembly, starts a worker (script-src covers it) and fetches the index's files.
SEARCH_FORM_CSP = CSP.replace("form-action 'none'", "form-action 'self'")
SEARCH_CSP = SEARCH_FORM_CSP.replace(
    "default-src 'none';",
    "default-src 'none'; script-src 'self' 'wasm-unsafe-eval';",
)
SEARCH_FOLDERS = ("search", "pagefind")  # the search page and Pagefind's files, under SEARCH_CSP
CSP_HEADER = "Content-Security-Policy"
SECURITY_HEADERS = (
    (CSP_HEADER, CSP),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "strict-origin-when-cross-origin"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=(), usb=()"),
    ("X-Frame-Options", "DENY"),
)
_CSS_URL = re.compile(r"""url\(\s*(["']?)([^"')\s]+)\1\s*\)""")


@dataclass(frozen=True)
class Assets:
    """The static files as published: each under its own name, theme files also under one carrying their hash."""

    files: dict[str, bytes]  # output path -> bytes
    names: dict[
        str, str
    ]  # site-relative URL -> the URL pages use, e.g. /static/style.css -> /static/style.1a2b3c4d.css
    immutable: tuple[str, ...] = ()  # other fingerprinted files (images' variants), cached for a year too


def fingerprint(
    static: dict[str, bytes], images: dict[str, bytes] | None = None, immutable: tuple[str, ...] = ()
) -> Assets:
    """Return the static files plus a copy of each theme file named after its content, to be cached for a year.

    `images` are the files made of pages' images (they replace a static original of the same name: stripped).
    """
    files = dict(static) | (images or {})
    names = {"/" + name: "/" + name for name in static}
    theme = [name for name in static if name.lower().endswith(THEME_SUFFIXES)]
    # stylesheets last, so that the fonts and images they point to already have their new names
    for name in sorted(theme, key=lambda name: (name.endswith(".css"), name)):
        data = static[name]
        if name.endswith(".css"):
            data = _point_css_at_fingerprints(name, data, names)
        hashed = fingerprinted_name(name, data)
        files[hashed] = data
        names["/" + name] = "/" + hashed
    return Assets(files, names, immutable)


def fingerprinted_name(name: str, data: bytes) -> str:
    """Return a file name with the first hex digits of its content's SHA-256 before the extension."""
    folder, base = posixpath.split(name)
    stem, dot, suffix = base.partition(".")
    digest = hashlib.sha256(data).hexdigest()[:HASH_LENGTH]
    return posixpath.join(folder, f"{stem}.{digest}{dot}{suffix}")


def _point_css_at_fingerprints(name: str, data: bytes, names: dict[str, str]) -> bytes:
    """Return a stylesheet whose relative url(...) references use the fingerprinted names of those files."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return data
    folder = posixpath.dirname(name)

    def replace(match: re.Match[str]) -> str:
        quote, reference = match.group(1), match.group(2)
        parts = urlsplit(reference)
        if parts.scheme or parts.netloc or not parts.path or reference.startswith(("/", "#")):
            return match.group(0)
        target = "/" + posixpath.normpath(posixpath.join(folder, parts.path))
        if names.get(target, target) == target:
            return match.group(0)
        new = posixpath.relpath(names[target][1:], folder or ".")
        return f"url({quote}{parts._replace(path=new).geturl()}{quote})"

    return _CSS_URL.sub(replace, text).encode("utf-8")


def host_files(site: Site, files: dict[str, bytes], assets: Assets, problems: Problems) -> dict[str, bytes]:
    """Return the files to add to the rendered site for static hosts: alias pages, _redirects, _headers, robots."""
    urls = Urls(site.config.base_url)
    aliases = _aliases(site, files, problems)
    extra = {dest_for(alias): alias_page(site, urls, page) for alias, page in aliases.items()}
    extra["_redirects"] = redirects(urls, aliases).encode("utf-8")
    if site.preview:
        extra["robots.txt"] = PREVIEW_ROBOTS.encode("utf-8")
    rules = policies(site, [*files, *extra, "_headers"])
    extra["_headers"] = headers(urls, assets, site.preview, rules).encode("utf-8")
    return extra


def _aliases(site: Site, files: dict[str, bytes], problems: Problems) -> dict[str, Page]:
    """Return each old URL with the page it now leads to, recording those that another file or alias takes."""
    pages = {dest_for(page.url).lower(): page for page in site.all_pages}
    taken = {name.lower() for name in files}
    folders = {parent for name in taken for parent in _parents(name)}
    found: dict[str, Page] = {}
    claimed: dict[str, Page] = {}
    for page in sorted(site.all_pages, key=lambda page: page.src_path.as_posix()):
        for alias in page.aliases:
            key = dest_for(alias).lower()
            owner = pages.get(key) or claimed.get(key)
            # a file where the alias needs a folder (/feed.xml/), or a folder where it needs a file, is taken too
            if owner is not None or key in taken | folders or not taken.isdisjoint(_parents(key)):
                where = f"{owner.src_path.as_posix()} has" if owner else "the site makes a file at"
                problems.error(
                    f"alias {alias} is already taken",
                    page.src_path,
                    page.lines.get("aliases", 1),
                    f"{where} that URL; remove it from `aliases`",
                )
                continue
            claimed[key] = page
            taken.add(key)
            folders.update(_parents(key))
            found[alias] = page
    return dict(sorted(found.items()))


def _parents(name: str) -> set[str]:
    """Return the folders an output file lies in, such as {'a', 'a/b'} for 'a/b/index.html'."""
    parts = name.split("/")[:-1]
    return {"/".join(parts[: end + 1]) for end in range(len(parts))}


def alias_page(site: Site, urls: Urls, page: Page) -> bytes:
    """Return the small page served at an old URL: it sends readers and search engines on to the new one."""
    target = html.escape(urls.absolute(page.url))
    title = html.escape(page.title)
    return (
        "<!doctype html>\n"
        f'<html lang="{html.escape(site.config.language)}">\n'
        "<head>\n"
        '<meta charset="utf-8">\n'
        f"<title>{title}</title>\n"
        f'<link rel="canonical" href="{target}">\n'
        '<meta name="robots" content="noindex">\n'
        f'<meta http-equiv="refresh" content="0; url={target}">\n'
        "</head>\n"
        "<body>\n"
        f'<p>This page has moved to <a href="{target}">{title}</a>.</p>\n'
        "</body>\n"
        "</html>\n"
    ).encode()


def redirects(urls: Urls, aliases: dict[str, Page]) -> str:
    """Return _redirects for Netlify and Cloudflare Pages: a permanent redirect from each old URL."""
    lines = ["# Old URLs of pages (their `aliases`), made by build.py."]
    lines += [f"{urls.path(alias)} {urls.path(page.url)} 301" for alias, page in aliases.items()]
    return "\n".join(lines) + "\n"


def headers(urls: Urls, assets: Assets, preview: bool, policies: dict[str, str] | None = None) -> str:
    """Return _headers for Netlify and Cloudflare Pages: security headers everywhere, a year's cache for assets.

    With search or the browser editor, some folders need a policy of their own (`policies`: each top-level file
    or folder rule with its policy). The hosts cannot say "everywhere but /search/", and they join, not replace,
    a header two rules give one path; so the policy is then given per top-level file and folder, each by
    exactly one rule.
    """
    lines = [
        "# Made by build.py. No two rules set the same header: the hosts differ in how they merge them.",
        "# Pages and unfingerprinted files keep the hosts' default, public, max-age=0, must-revalidate.",
        "/*",
        *(f"  {name}: {value}" for name, value in SECURITY_HEADERS if policies is None or name != CSP_HEADER),
    ]
    if preview:
        lines.append("  X-Robots-Tag: noindex")
    for rule, policy in (policies or {}).items():
        lines += ["", urls.path(rule), f"  {CSP_HEADER}: {policy}"]
        if rule == f"/{ADMIN}/*" and not preview:
            lines.append("  X-Robots-Tag: noindex")
    for hashed in sorted({url for plain, url in assets.names.items() if url != plain} | set(assets.immutable)):
        lines += ["", urls.path(hashed), f"  Cache-Control: {IMMUTABLE}"]
    return "\n".join(lines) + "\n"


def page_policy(site: Site) -> str | None:
    """Return the policy the 404 page carries in a <meta> element; None in a preview (serve adds its script).

    Hosts answer any missing URL with 404.html, and with search or the editor on, `_headers` gives no policy to a
    URL under a top-level name the site does not have. The meta element keeps that page under the pages' policy
    on every host; frame-ancestors is left out, since browsers ignore it there (X-Frame-Options still holds).
    """
    if site.preview:
        return None
    policy = SEARCH_FORM_CSP if site.searchable else CSP
    return "; ".join(part for part in policy.split("; ") if not part.startswith("frame-ancestors"))


def policies(site: Site, names: list[str]) -> dict[str, str] | None:
    """Return each top-level rule of the site with its Content-Security-Policy, or None when /* can hold one.

    Search puts a form in every page's header (so pages may submit to /search/), and its page and Pagefind's
    files run script; the browser editor's /admin/ has a policy of its own.
    """
    search, editor = site.searchable, site.config.cms is not None
    if not search and not editor:
        return None
    pages = SEARCH_FORM_CSP if search else CSP
    tops = {name.split("/")[0]: "/" in name for name in names}
    if search:
        tops |= dict.fromkeys(SEARCH_FOLDERS, True)
    if editor:
        tops[ADMIN] = True
    found = {"/": pages}
    for top, folder in sorted(tops.items()):
        special = SEARCH_CSP if top in SEARCH_FOLDERS else ADMIN_CSP if top == ADMIN and editor else pages
        found[f"/{top}/*" if folder else f"/{top}"] = special
    return found
