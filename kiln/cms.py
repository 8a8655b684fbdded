"""The browser editor at /admin/: Decap CMS, its config made from the front matter schema, and the files it needs.

The config is derived, never written by hand: one collection per section of content/ (content.SECTIONS), one
form field per schema field of that kind (schema.fields_for, the site's own fields included), each with the
widget, requirement and pattern that match what the build accepts. The CMS's script is not kept in the
repository (5.9 MB in 95 files): it is copied from node_modules, where `npm ci` puts the exact version pinned in
package.json and package-lock.json (whose sha512 npm checks), and only when site.yaml has `cms:`.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import os
from pathlib import Path
from typing import Any

import yaml

from .config import Cms, Config
from .content import BUNDLE_STEM, SECTIONS
from .errors import Problems
from .schema import Field, fields_for
from .urls import SLUG_PATTERN

PACKAGE = "decap-cms"
VERSION = "3.16.3"  # the same as package.json; the build refuses another installed version
DIST = Path("node_modules") / PACKAGE / "dist"
SCRIPT = "decap-cms.js"  # the entry point; it loads its chunks (NNN.decap-cms.js) from the same folder
ADMIN = "admin"
MEDIA_FOLDER = "static/images"  # where pictures go, except those of a bundle's text (the build publishes static/)
BUNDLED = ("article",)  # kinds whose new pages are folders with an index.md
# Fields the form leaves out: their rules are more than a pattern can say. The form keeps them as they are.
NOT_IN_FORM = frozenset({"aliases"})
# A character the build accepts in front matter and text (fields.NOT_XML are the ones it refuses), written
# with escapes that JavaScript's patterns and Python's read alike.
CONTROLS = "\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\ufffe\\uffff"
CHAR = f"[^{CONTROLS}]"
VISIBLE = f"[^\\s{CONTROLS}]"  # and not a space: what makes a required text more than blank
HTTPS_URL = f"https://[A-Za-z0-9.-]+(:[0-9]{{1,5}})?([/?#]{VISIBLE}*)?"  # plain host names: stricter than the build
HTTPS = f"^{HTTPS_URL}$"
SITE_PATH_OR_HTTPS = f"^(/[^/\\s{CONTROLS}]{VISIBLE}*|{HTTPS_URL})$"
# What the editor needs, and nothing else: its own scripts (one of its libraries compiles JSON schemas with
# `new Function`, hence 'unsafe-eval'), the styles its components inject, pictures from the repository (blob:
# and data: previews of uploads, and the drafts it backs up in blob: URLs), GitHub's API, and its preview frame.
ADMIN_CSP = (
    "default-src 'none'; script-src 'self' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob: https:; font-src 'self' data:; connect-src 'self' blob: https://api.github.com; "
    "frame-src 'self' blob:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
CONTROL_RULE = "Only letters, digits, spaces and punctuation (a control character was pasted in)"
LOCAL_API = "/api/v1"  # where `serve --cms` answers Decap's local-backend protocol


def admin_files(source: Path, config: Config, styles: str, problems: Problems) -> dict[str, bytes]:
    """Return the files of /admin/ (page, config, the CMS's script and chunks), or {} without `cms:`."""
    if config.cms is None:
        return {}
    bundle = read_bundle(source, config, problems)
    if not bundle:
        return {}
    files = {f"{ADMIN}/{name}": data for name, data in bundle.items()}
    preview = f"CMS.registerPreviewStyle({json.dumps(styles)});\n"
    files[f"{ADMIN}/preview.js"] = preview.encode("utf-8")
    files[f"{ADMIN}/config.yml"] = config_yaml(config).encode("utf-8")
    files[f"{ADMIN}/index.html"] = admin_page(config, bundle[SCRIPT])
    return files


def read_bundle(source: Path, config: Config, problems: Problems) -> dict[str, bytes]:
    """Return the CMS's script and its chunks from node_modules, or {} after recording why they are missing."""
    folder = source / DIST
    hint = f"`cms:` in site.yaml needs {PACKAGE} {VERSION} from npm: run `npm ci` in {source}"
    try:
        installed = json.loads((folder.parent / "package.json").read_text(encoding="utf-8")).get("version")
        names = sorted(name for name in os.listdir(folder) if name.endswith(f".{SCRIPT}") or name == SCRIPT)
    except (OSError, ValueError):
        problems.error(f"the browser editor's script is missing ({DIST.as_posix()})", None, None, hint)
        return {}
    if installed != VERSION or SCRIPT not in names:
        problems.error(
            f"the browser editor's script is not the pinned version (expected {VERSION}, got {installed})",
            None,
            None,
            hint,
        )
        return {}
    return {name: (folder / name).read_bytes() for name in names}


def admin_page(config: Config, script: bytes) -> bytes:
    """Return /admin/index.html: noindex, the config's address, and the script with its integrity hash."""
    digest = base64.b64encode(hashlib.sha384(script).digest()).decode("ascii")
    title = html.escape(config.title)
    return (
        "<!doctype html>\n"
        f'<html lang="{html.escape(config.language)}">\n'
        "<head>\n"
        '<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="robots" content="noindex">\n'
        f"<title>Edit {title}</title>\n"
        '<link rel="icon" href="data:,">\n'
        '<link href="config.yml" type="text/yaml" rel="cms-config-url">\n'
        "</head>\n"
        "<body>\n"
        f'<script src="{SCRIPT}" integrity="sha384-{digest}"></script>\n'
        '<script src="preview.js"></script>\n'
        "</body>\n"
        "</html>\n"
    ).encode()


def config_yaml(config: Config, local_url: str | None = None) -> str:
    """Return Decap CMS's config.yml for the site (with the local backend's address when serve answers it)."""
    data = cms_config(config)
    if local_url is not None:  # the local backend saves straight to the folder: no pull requests to review
        data = {"local_backend": {"url": local_url}, **{k: v for k, v in data.items() if k != "publish_mode"}}
    header = "# Made by build.py from kiln/schema.py and site.yaml; do not edit: it is rewritten by every build.\n"
    return header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=1000)


def cms_config(config: Config) -> dict[str, Any]:
    """Return the whole CMS config as data: backend, media folder, one collection per section."""
    assert config.cms is not None
    data: dict[str, Any] = {"backend": backend(config.cms), "site_url": config.base_url}
    if config.cms.editorial_workflow:
        data["publish_mode"] = "editorial_workflow"
    data |= {
        "media_folder": MEDIA_FOLDER,
        "public_folder": "/" + MEDIA_FOLDER,  # a site path, as `image:` and links in the text take it
        "slug": {"encoding": "ascii", "clean_accents": True, "sanitize_replacement": "-"},
        "collections": [collection(section, kind, config) for section, kind in SECTIONS.items()],
    }
    return data


def backend(cms: Cms) -> dict[str, Any]:
    """Return the backend section: which repository and branch the editor reads and writes."""
    found: dict[str, Any] = {"name": cms.backend, "repo": cms.repo, "branch": cms.branch}
    if cms.auth_url is not None:
        found["base_url"] = cms.auth_url.rstrip("/")
    return found


def collection(section: str, kind: str, config: Config) -> dict[str, Any]:
    """Return the collection of one section of content/: its folder, how new files are named, its form."""
    found: dict[str, Any] = {
        "name": section,
        "label": section.capitalize(),
        "label_singular": kind.capitalize(),
        "folder": f"content/{section}",
        "extension": "md",
        "format": "frontmatter",
        "create": True,
        "identifier_field": identifier(kind),
        "slug": "{{slug}}",
    }
    if kind in BUNDLED:  # the page is a folder, and the pictures of its text go beside it
        found |= {"path": "{{slug}}/" + BUNDLE_STEM, "media_folder": "", "public_folder": ""}
    fields = [form_field(field) for field in fields_for(kind, config.fields) if field.name not in NOT_IN_FORM]
    body = {"label": "Text", "name": "body", "widget": "markdown", "pattern": [f"^{CHAR}*$", CONTROL_RULE]}
    found["fields"] = [*fields, body]
    return found


def identifier(kind: str) -> str:
    """Return the field that names a page of a kind: its title, or an author's name."""
    return "title" if any(field.name == "title" for field in fields_for(kind)) else "name"


def form_field(field: Field) -> dict[str, Any]:
    """Return one form field: the widget for its type, whether it is required, its pattern and its help."""
    found: dict[str, Any] = {"label": label(field.name), "name": field.name, "required": field.required}
    found |= _relation(field, field.ref) if field.ref is not None else WIDGETS[field.type](field)
    own_default = "default" in found  # the form fills it in (draft: on for new pages), so say nothing else
    hint = field.help + (f" (default: {field.default})" if field.default and not own_default else "")
    found["hint"] = hint.replace("`", "")
    return found


def label(name: str) -> str:
    """Return a field's name as a form shows it: 'next_start' -> 'Next start'."""
    return name.replace("_", " ").capitalize()


def _text(field: Field) -> dict[str, Any]:
    """Return a one-line text box: not blank when required, within the length `check` holds it to."""
    if field.limit is not None:
        return {"widget": "string", "pattern": [f"^{CHAR}{{0,{field.limit}}}$", f"At most {field.limit} characters"]}
    if field.required:
        return {"widget": "string", "pattern": [f"^{CHAR}*{VISIBLE}{CHAR}*$", "Write something here"]}
    return {"widget": "string", "pattern": [f"^{CHAR}*$", CONTROL_RULE]}


def _relation(field: Field, ref: str) -> dict[str, Any]:
    """Return a choice among the slugs of another kind's pages (an author, a program)."""
    section = next(section for section, kind in SECTIONS.items() if kind == ref)
    return {
        "widget": "relation",
        "collection": section,
        "search_fields": [identifier(ref)],
        "display_fields": [identifier(ref)],
        "value_field": "{{slug}}",
    }


def _slug(field: Field) -> dict[str, Any]:
    """Return a text box held to the slug rule."""
    rule = f"Lower-case letters, digits and hyphens, such as {field.example}"
    return {"widget": "string", "pattern": [f"^{SLUG_PATTERN.pattern}$", rule]}


def _entries(field: Field) -> dict[str, Any]:
    """Return a list of small forms, one per entry, each with the entry's own fields."""
    return {"widget": "list", "fields": [form_field(entry) for entry in field.entries]}


def _picture(field: Field) -> dict[str, Any]:
    """Return a picture chooser: one of this site's pictures (/static/…) or an https address."""
    return {
        "widget": "image",
        "choose_url": True,
        "media_folder": "/" + MEDIA_FOLDER,
        "public_folder": "/" + MEDIA_FOLDER,
        "pattern": [SITE_PATH_OR_HTTPS, "A picture of this site (/static/…) or an address starting with https://"],
    }


WIDGETS: dict[str, Any] = {
    "text": _text,
    "markdown": lambda field: {"widget": "markdown"},
    "slug": _slug,
    "bool": lambda field: {"widget": "boolean", "default": field.name == "draft"},
    "integer": lambda field: {"widget": "number", "value_type": "int", "min": field.minimum or 0, "step": 1},
    "number": lambda field: {"widget": "number", "value_type": "float"},
    # A date alone: the build reads it in the site's time zone, whatever zone the editor's browser is in.
    "date": lambda field: {
        "widget": "datetime",
        "format": "YYYY-MM-DD",
        "date_format": "YYYY-MM-DD",
        "time_format": False,
        **({"default": "{{now}}"} if field.required else {}),
    },
    # A date and time, read by the build in the site's time zone, as the editor means it.
    "datetime": lambda field: {
        "widget": "datetime",
        "format": "YYYY-MM-DD HH:mm",
        "date_format": "YYYY-MM-DD",
        "time_format": "HH:mm",
    },
    "list": lambda field: {"widget": "list"},
    "urls": lambda field: {
        "widget": "list",
        "field": {
            "label": "Address",
            "name": "url",
            "widget": "string",
            "pattern": [HTTPS, "An address starting with https://"],
        },
    },
    "alt": _text,
    "currency": lambda field: {"widget": "string", "pattern": ["^[A-Z]{3}$", "Three capital letters, such as USD"]},
    "url": lambda field: {"widget": "string", "pattern": [HTTPS, "An address starting with https://"]},
    # The picture for link previews is a site path or an https URL (a page's own folder is not one of them).
    "image": _picture,
    "choice": lambda field: {"widget": "select", "options": list(field.choices)},
    "entries": _entries,
}
