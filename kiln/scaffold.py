"""`new`: a content file from its kind's front matter skeleton, never over an existing one."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from .errors import Problems, SiteError
from .load import CONTENT, read_config
from .schema import skeleton
from .urls import slugify

FOLDERS = {"article": "articles", "program": "programs", "author": "authors"}
DESCRIPTION_PLACEHOLDER = "TODO: say in one sentence what a reader gets from this page (at most 160 characters)."

# The body each kind starts with; the front matter comes from the schema (kiln/schema.py).
BODIES = {
    "article": """
Write the article here, in markdown. Start with a short paragraph that says what the reader will get from it.

## A first section

Use `##` headings for sections; three or more of them make a table of contents.
""",
    "program": """
## Who this program is for

Describe who the program is for and what they will get from it.
""",
    "author": """
A short bio: who they are, what they do, and why readers can trust what they write or review.
""",
}


def new_page(source: Path, kind: str, title: str, now: dt.datetime | None = None) -> Path:
    """Return the path of a new draft article or program (or an author's page), from its skeleton; never overwrite."""
    problems = Problems()
    config = read_config(source, problems, None)
    if config is None:
        problems.raise_errors()
    assert config is not None
    slug = slugify(title)
    if not title.strip() or not slug:
        raise SiteError(
            "the title has no letters or digits to make a file name from",
            None,
            None,
            f'expected a title such as "Trust after an argument", got {title!r}',
        )
    today = (now or dt.datetime.now(dt.UTC)).astimezone(config.timezone).date()
    path = source / CONTENT / FOLDERS[kind] / f"{slug}.md"
    values = {
        "title": _quoted(title.strip()),
        "description": _quoted(DESCRIPTION_PLACEHOLDER),
        "draft": "true",
        "date": today.isoformat(),
        "name": _quoted(title.strip()),  # an author's: `new author "Dana Reyes"`
    }
    text = skeleton(kind, values, config.fields) + BODIES[kind]
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with path.open("x", encoding="utf-8") as handle:  # "x": fails if the file exists, even in a race
            handle.write(text)
    except FileExistsError:
        raise SiteError(
            "file already exists; `new` never overwrites a file",
            path.relative_to(source),
            None,
            "edit that file, or choose another title",
        ) from None
    return path


def _quoted(text: str) -> str:
    """Return text as a double-quoted YAML string (JSON strings are YAML)."""
    return json.dumps(text, ensure_ascii=False)
