"""The build cache: a warm build gives exactly what a clean build gives, whatever changed in between."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import PROGRAM, Run, snapshot

from kiln.cache import CACHE_FOLDER

Site = Callable[..., Path]
Build = Callable[..., Run]
CACHE_FILE = Path(CACHE_FOLDER) / "pages.json"
NEW_ARTICLE = "---\ntitle: New\ndate: 2026-02-01\n---\nHi\n"


def sources() -> dict[str, str]:
    """Return a small site with tags, a program box and related articles."""
    files = {
        f"content/articles/post-{n}.md": f"---\ntitle: Post {n}\ndate: 2026-01-{n:02d}\n"
        f"tags: [trust, {'couples' if n % 2 else 'work'}]\nprogram: p\n---\n## Part\n\nText {n} [x](/programs/p/).\n"
        for n in range(1, 6)
    }
    files["content/programs/p.md"] = PROGRAM
    files["content/pages/about.md"] = "---\ntitle: About\n---\nAbout us.\n"
    return files


def clean_build(source: Path, build: Build, output: Path) -> dict[str, bytes]:
    """Return what a build with no cache writes."""
    result = build(source, "--output", str(output), "--no-cache")
    assert result.code == 0, result.err
    return snapshot(output)


def assert_warm_equals_clean(source: Path, build: Build, tmp_path: Path) -> None:
    """Build with the cache into site/ and without it elsewhere; the two must be byte-identical."""
    warm = build(source)
    assert warm.code == 0, warm.err
    assert snapshot(source / "site") == clean_build(source, build, tmp_path / "clean")


def test_warm_build_is_byte_identical_to_a_cold_one(site: Site, build: Build, tmp_path: Path) -> None:
    source = site(sources())
    assert build(source).code == 0
    cached = json.loads((source / CACHE_FILE).read_text())
    assert len(cached["entries"]) == 7
    assert_warm_equals_clean(source, build, tmp_path)


def test_warm_build_reuses_the_cache_instead_of_parsing(
    site: Site, build: Build, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = site(sources())
    assert build(source).code == 0
    import kiln.pool

    def refuse(*args: object) -> object:
        raise AssertionError("a cached page was parsed again")

    monkeypatch.setattr(kiln.pool, "parse_page", refuse)
    assert build(source).code == 0


@pytest.mark.parametrize(
    "change",
    [
        ("article body", lambda s: _append(s / "content/articles/post-3.md", "\nA new line.\n")),
        ("article title", lambda s: _replace(s / "content/articles/post-2.md", "Post 2", "Second post")),
        ("article tags", lambda s: _replace(s / "content/articles/post-4.md", "trust, work", "grief")),
        ("program", lambda s: _replace(s / "content/programs/p.md", "A program", "A renamed program")),
        ("template", lambda s: _replace(s / "templates/base.html", "Skip to content", "Skip to the text")),
        ("site.yaml", lambda s: _replace(s / "site.yaml", "title: Test Site", "title: Renamed Site")),
        ("time zone", lambda s: _replace(s / "site.yaml", "Europe/London", "America/New_York")),
        ("static file", lambda s: _append(s / "static/style.css", "\nbody { color: red; }\n")),
        ("deleted article", lambda s: (s / "content/articles/post-5.md").unlink()),
        ("renamed article", lambda s: (s / "content/articles/post-1.md").rename(s / "content/articles/first.md")),
        (
            "new article",
            lambda s: _append(s / "content/articles/new.md", NEW_ARTICLE),
        ),
    ],
    ids=lambda change: change[0],
)
def test_any_change_gives_what_a_clean_build_gives(
    site: Site, build: Build, tmp_path: Path, change: tuple[str, Callable[[Path], object]]
) -> None:
    source = site(sources())
    assert build(source).code == 0
    change[1](source)
    assert_warm_equals_clean(source, build, tmp_path)


@pytest.mark.parametrize(
    "damage",
    [
        b"",
        b"{not json",
        b'{"format": 1, "generator": "someone else", "entries": {}}',
        b"\x00\xff\x00garbage",
        b"[]",
    ],
    ids=["empty", "truncated", "foreign", "binary", "wrong shape"],
)
def test_a_damaged_or_foreign_cache_is_ignored_and_rebuilt(
    site: Site, build: Build, tmp_path: Path, damage: bytes
) -> None:
    source = site(sources())
    assert build(source).code == 0
    (source / CACHE_FILE).write_bytes(damage)
    assert_warm_equals_clean(source, build, tmp_path)
    assert json.loads((source / CACHE_FILE).read_text())["format"] == 1


def test_a_tampered_entry_is_not_trusted(site: Site, build: Build, tmp_path: Path) -> None:
    source = site(sources())
    assert build(source).code == 0
    data = json.loads((source / CACHE_FILE).read_text())
    for entry in data["entries"].values():
        entry["page"]["words"] = "many"  # the wrong type: the entry must be parsed afresh
        entry["page"]["title"] = {"$": "Path", "path": "/etc/passwd"}
    (source / CACHE_FILE).write_text(json.dumps(data))
    assert_warm_equals_clean(source, build, tmp_path)


def test_warnings_are_repeated_on_a_warm_build(site: Site, build: Build) -> None:
    source = site({"content/articles/a.md": "---\ntitle: A\ndate: 2026-01-01\ntitel: x\n---\nText.\n"})
    first = build(source)
    second = build(source)
    assert "unknown field `titel`" in first.err
    assert first.err == second.err


def _append(path: Path, text: str) -> None:
    """Add text to the end of a file (making it if needed)."""
    with path.open("a", encoding="utf-8") as handle:
        handle.write(text)


def _replace(path: Path, old: str, new: str) -> None:
    """Replace text in a file, which must contain it."""
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def rendered_urls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record the URL of every output that is rendered by Jinja (not taken from the cache) from now on."""
    import kiln.render

    seen: list[str] = []
    original = kiln.render._render_one

    def recording(output: kiln.render.Output, *args: object) -> str | None:
        seen.append(output.url)
        return original(output, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(kiln.render, "_render_one", recording)
    return seen


def test_a_warm_build_renders_nothing(site: Site, build: Build, monkeypatch: pytest.MonkeyPatch) -> None:
    source = site(sources())
    assert build(source).code == 0
    seen = rendered_urls(monkeypatch)
    assert build(source).code == 0
    assert seen == []


def test_an_edited_article_rerenders_exactly_the_pages_that_show_it(
    site: Site, build: Build, monkeypatch: pytest.MonkeyPatch
) -> None:
    from conftest import soup

    source = site(sources())
    assert build(source).code == 0
    showing_it = {
        "/" + page.relative_to(source / "site").parent.as_posix() + "/"
        for page in (source / "site/articles").rglob("index.html")
        if any(a["href"] == "/articles/post-3/" for a in soup(page).select(".related a"))
    }
    assert showing_it  # post-3 shares tags with the others, so some list it as related
    seen = rendered_urls(monkeypatch)
    _append(source / "content/articles/post-3.md", "\nOne more sentence.\n")
    assert build(source).code == 0
    # the sitemap shows URLs and dates only, which a body edit leaves as they were; /tags/ lists tag members
    expected = {"/articles/post-3/", "/", "/articles/", "/tags/", "/tags/trust/", "/tags/couples/", "/feed.xml"}
    assert set(seen) == expected | showing_it
    assert len(seen) == len(set(seen))


def test_an_edited_template_rerenders_the_pages_using_it_and_matches_a_clean_build(
    site: Site, build: Build, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = site(sources())
    assert build(source).code == 0
    seen = rendered_urls(monkeypatch)
    _replace(source / "templates/program.html", "<h1>", '<h1 class="renamed">')
    assert build(source).code == 0
    assert "/programs/p/" in seen
    monkeypatch.undo()
    assert_warm_equals_clean(source, build, tmp_path)
