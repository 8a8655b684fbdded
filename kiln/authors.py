"""Authors and reviewers: who wrote an article and who checked it, resolved against content/authors/. No I/O."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .content import Page
from .errors import Problems

# A value written like a slug names an author's page; anything else (capitals, spaces) is a plain name.
SLUG_SHAPED = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*\Z")


@dataclass(frozen=True)
class Person:
    """A writer or reviewer as an article shows them: their name, and their page when they have one."""

    name: str
    url: str | None = None
    credentials: str | None = None
    role: str | None = None

    @property
    def label(self) -> str:
        """Return the name with the credentials after it: "Dana Reyes, LCSW"."""
        return f"{self.name}, {self.credentials}" if self.credentials else self.name


def person(value: str | None, authors: Mapping[str, Page]) -> Person | None:
    """Return the Person an article's `author` or `reviewed_by` names: an author's page, or a plain name."""
    if value is None:
        return None
    page = authors.get(value)
    if page is None:
        return Person(value)
    return Person(page.title, page.url, page.credentials, page.role)


def check_author_refs(articles: Iterable[Page], authors: Mapping[str, Page], problems: Problems) -> None:
    """Record articles whose `author` or `reviewed_by` is written as a slug that no author page has."""
    known = ", ".join(sorted(authors)) or "none yet (add content/authors/<slug>.md)"
    for page in articles:
        author = page.author if "author" in page.lines else None
        if author is not None and author not in authors and SLUG_SHAPED.match(author):
            problems.error(
                "`author` names an author that does not exist",
                page.src_path,
                page.lines["author"],
                f"expected one of: {known} (or a name such as 'Dana Reyes', which has no page), got {author!r}",
            )
        if page.reviewed_by is not None and page.reviewed_by not in authors:
            problems.error(
                "`reviewed_by` names an author that does not exist",
                page.src_path,
                page.lines.get("reviewed_by", 1),
                f"expected one of: {known}, got {page.reviewed_by!r}",
            )


def written_by(slug: str, articles: Iterable[Page]) -> tuple[Page, ...]:
    """Return the articles an author wrote, in the order given (newest first)."""
    return tuple(article for article in articles if article.author == slug)


def reviewed_by(slug: str, articles: Iterable[Page]) -> tuple[Page, ...]:
    """Return the articles an author reviewed, in the order given (newest first)."""
    return tuple(article for article in articles if article.reviewed_by == slug)
