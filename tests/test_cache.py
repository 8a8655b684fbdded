"""The build cache: a warm build gives exactly what a clean build gives, whatever changed in between."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import CONFIG, PROGRAM, Run, snapshot, soup, write_files

from kiln import cache
from kiln.cache import (
    CACHE_FOLDER,
    FORMAT,
    INDEX_FILE,
    MAGIC,
    PAGES_FILE,
    RENDERED_FILE,
    RENDERED_MAGIC,
    pack_pages,
    unpack_pages,
)
from kiln.write import MARKER, MARKER_TEXT, Written

Site = Callable[..., Path]
Build = Callable[..., Run]
CACHE_FILE = Path(CACHE_FOLDER) / PAGES_FILE
NEW_ARTICLE = "---\ntitle: New\ndate: 2026-02-01\n---\nHi\n"


@pytest.fixture(autouse=True)
def fresh_decoders() -> None:
    """Build the cache's decoders afresh in each test: they are remembered for the process, so a test would
    otherwise check the decoders an earlier test built (and mutation testing could not reach their builders)."""
    cache._decoder.cache_clear()


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


def without_search(files: dict[str, str]) -> dict[str, str]:
    """Return a site's files with search turned off, for tests that compare serve's folder with a clean build."""
    return files | {"site.yaml": CONFIG + "search: false\n"}


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
    cached = unpack_pages((source / CACHE_FILE).read_bytes())
    assert len(cached) == 7
    assert {entry["body"] for entry in cached.values()} >= {
        '<h2 id="part">Part</h2>\n<p>Text 3 <a href="/programs/p/">x</a>.</p>'
    }
    assert_warm_equals_clean(source, build, tmp_path)


def with_an_image(files: dict[str, str]) -> dict[str, str | bytes]:
    """Return a site's files with a photo in the about page, and a page with no text at all."""
    from photos import screenshot

    return files | {
        "content/pages/about.md": "---\ntitle: About\n---\nAbout us.\n\n![The room](/static/room.png)\n",
        "static/room.png": screenshot(300, 200),
        "content/pages/soon.md": "---\ntitle: Still to be written\n---\n",
    }


def test_warm_build_reuses_the_cache_instead_of_parsing_or_making_images(
    site: Site, build: Build, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kiln import imaging

    source = site(with_an_image(sources()))
    assert build(source).code == 0
    assert len(soup(source / "site/about/index.html").select("main picture")) == 1
    import kiln.pool

    def refuse(*args: object) -> object:
        raise AssertionError("a cached page was parsed again, or an image made again")

    monkeypatch.setattr(kiln.pool, "parse_page", refuse)
    monkeypatch.setattr(imaging, "make", refuse)
    assert build(source).code == 0
    assert build(source).code == 0  # and the build after it: what a build used stays in the cache


def test_no_cache_reads_no_cache_and_leaves_none(
    site: Site, build: Build, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = site(with_an_image(sources()))
    assert build(source, "--no-cache").code == 0
    assert not (source / CACHE_FOLDER).exists()
    assert build(source).code == 0
    cached = snapshot(source / CACHE_FOLDER)
    parsed, rendered = parsed_paths(monkeypatch), rendered_urls(monkeypatch)
    assert build(source, "--no-cache", "--output", str(tmp_path / "again")).code == 0
    pages = [name for name in snapshot(tmp_path / "again") if name.endswith(".html")]
    assert len(parsed) == 8 and len(rendered) >= len(pages) > 8  # every file parsed, every page rendered
    assert snapshot(source / CACHE_FOLDER) == cached


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


def built_with_damage(site: Site, build: Build, file: Path, damage: Callable[[bytes], bytes]) -> Path:
    """Build the small site, then change one of its cache files (a path under the source folder); return the source."""
    source = site(sources())
    assert build(source).code == 0
    path = source / file
    path.write_bytes(damage(path.read_bytes()))
    return source


def _damaged(data: bytes) -> bytes:
    """Return a cache file with one byte of a body changed, the checksum left as it was."""
    return data[:-5] + bytes([data[-5] ^ 0x20]) + data[-4:]


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: b"",
        lambda data: data[: len(data) // 2],  # truncated
        lambda data: b'{"format": 1, "generator": "someone else", "entries": {}}',  # the first format's JSON
        lambda data: b"\x00\xff\x00garbage",
        lambda data: MAGIC + b"\x00" * 40,
        _damaged,  # a flipped bit in a body: the checksum no longer matches
    ],
    ids=["empty", "truncated", "old format", "binary", "wrong shape", "flipped bit"],
)
def test_a_damaged_or_foreign_cache_is_ignored_and_rebuilt(
    site: Site, build: Build, tmp_path: Path, damage: Callable[[bytes], bytes]
) -> None:
    source = built_with_damage(site, build, CACHE_FILE, damage)
    assert_warm_equals_clean(source, build, tmp_path)
    assert len(unpack_pages((source / CACHE_FILE).read_bytes())) == 7


def test_a_warm_build_loads_the_compiled_templates_and_what_they_name_instead_of_parsing(
    site: Site, build: Build, monkeypatch: pytest.MonkeyPatch
) -> None:
    import jinja2

    source = site(sources())
    assert build(source).code == 0
    (source / CACHE_FOLDER / RENDERED_FILE).unlink()  # so that every page is keyed and rendered, from those templates

    def refuse(*args: object, **kwargs: object) -> object:
        raise AssertionError("a template in the cache was parsed or compiled again")

    monkeypatch.setattr(jinja2.Environment, "compile", refuse)
    monkeypatch.setattr(jinja2.Environment, "parse", refuse)  # which templates each names is kept too
    result = build(source)
    assert result.code == 0, result.err


def _changed_text(data: bytes) -> bytes:
    """Return a compiled template whose text differs, still code Jinja loads and runs, its checksum left as it was."""
    return data.replace(b"<!doctype html>", b"<!DOCTYPE HTML>")


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: b"",
        lambda data: data[: len(data) // 2],
        lambda data: b"\x00\xff\x00garbage",
        _damaged,
        _changed_text,
    ],
    ids=["empty", "truncated", "binary", "flipped bit", "changed text"],
)
def test_damaged_compiled_templates_are_compiled_again(
    site: Site, build: Build, tmp_path: Path, damage: Callable[[bytes], bytes]
) -> None:
    source = site(sources())
    assert build(source).code == 0
    compiled = sorted((source / CACHE_FOLDER / "templates").iterdir())
    assert compiled  # Jinja keeps the compiled templates in the build cache
    datas = [path.read_bytes() for path in compiled]
    assert any(damage(data) != data for data in datas)
    for path, data in zip(compiled, datas, strict=True):
        path.write_bytes(damage(data))
    (source / CACHE_FOLDER / RENDERED_FILE).unlink()  # so that every page is rendered, from those templates
    assert_warm_equals_clean(source, build, tmp_path)


def _flip_in_entry(data: bytes) -> bytes:
    """Return a render cache file with one byte of the last entry changed, its checksum left as it was."""
    return data[:-3] + bytes([data[-3] ^ 0x20]) + data[-2:]


def _huge_index_length(data: bytes) -> bytes:
    """Return a render cache file whose index claims to be an exabyte long (reading it would exhaust memory)."""
    place = len(RENDERED_MAGIC) + 32
    return data[:place] + (2**60).to_bytes(8, "big") + data[place + 8 :]


def _flip_in_index(data: bytes) -> bytes:
    """Return a render cache file with one byte of its index changed."""
    place = data.index(b'"entries"') + 3
    return data[:place] + bytes([data[place] ^ 0x01]) + data[place + 1 :]


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: b"",
        lambda data: data[: len(data) // 2],  # truncated: the entries past the cut are gone
        lambda data: b"\x00\xff\x00garbage",
        _flip_in_index,
        _flip_in_entry,
        _huge_index_length,
    ],
    ids=["empty", "truncated", "binary", "flipped bit in the index", "flipped bit in an entry", "huge length"],
)
def test_a_damaged_render_cache_is_survived(
    site: Site, build: Build, tmp_path: Path, damage: Callable[[bytes], bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    source = built_with_damage(site, build, Path(CACHE_FOLDER) / RENDERED_FILE, damage)
    seen = rendered_urls(monkeypatch)
    assert_warm_equals_clean(source, build, tmp_path)
    assert seen  # what could not be trusted was rendered again
    monkeypatch.undo()
    seen = rendered_urls(monkeypatch)
    assert build(source).code == 0
    assert seen == []  # and the cache was put right


Entries = dict[str, list[object]]


def _forged_render_cache(data: bytes, forge: Callable[[Entries, int], None]) -> bytes:
    """Return a render cache file whose index was changed by forge (given the index and where the entries start),
    under a valid checksum: a foreign file is data to check, never to trust, even when its checksum holds."""
    start = len(RENDERED_MAGIC) + 32 + 8
    size = int.from_bytes(data[start - 8 : start], "big")
    header, entries = json.loads(data[start : start + size]), data[start + size :]
    base = start + size
    for _ in range(5):  # the index's length moves where the entries start, which a forgery may point at
        forged = json.loads(json.dumps(header))
        forge(forged["entries"], base)
        head = json.dumps(forged).encode()
        if start + len(head) == base:
            break
        base = start + len(head)
    return RENDERED_MAGIC + hashlib.sha256(head).digest() + len(head).to_bytes(8, "big") + head + entries


def _first(entries: Entries) -> list[object]:
    return entries[sorted(entries)[0]]


def _at_the_magic(entries: Entries, base: int) -> None:
    """Point the first entry at the file's first bytes, before the entries, with their true SHA-256."""
    _first(entries)[:] = [-base, len(RENDERED_MAGIC), hashlib.sha256(RENDERED_MAGIC).hexdigest()]


def _beyond_the_end(entries: Entries, base: int) -> None:
    """Point the last entry past the file's end, where a read gives nothing, with the SHA-256 of nothing."""
    last = max(entries.values(), key=lambda entry: entry[0])  # type: ignore[arg-type,return-value]
    last[:] = [last[0] + last[1] + 100, 5, hashlib.sha256(b"").hexdigest()]  # type: ignore[operator]


@pytest.mark.parametrize(
    "forge",
    [
        lambda entries, base: _first(entries).__setitem__(1, 2**60),  # past the file's end
        _at_the_magic,  # a negative offset: the file's own magic, which would be published as a page
        _beyond_the_end,  # which would publish an empty page
        lambda entries, base: _first(entries).__setitem__(0, 0.0),  # a float: no place in a file
        lambda entries, base: _first(entries).__setitem__(1, float(_first(entries)[1])),  # type: ignore[arg-type]
    ],
    ids=["past the end", "before the entries", "beyond the end", "float offset", "float length"],
)
def test_a_render_cache_whose_checked_index_points_outside_its_entries_is_ignored(
    site: Site, build: Build, tmp_path: Path, forge: Callable[[Entries, int], None]
) -> None:
    source = built_with_damage(
        site, build, Path(CACHE_FOLDER) / RENDERED_FILE, lambda data: _forged_render_cache(data, forge)
    )
    assert_warm_equals_clean(source, build, tmp_path)


def pagefind_runs(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Record (in the returned list) each process started from now on in this process: Pagefind's runs."""
    import subprocess

    seen: list[object] = []
    original = subprocess.Popen

    def recording(command: object, *args: Any, **kwargs: Any) -> object:
        seen.append(command)
        return original(command, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(subprocess, "Popen", recording)
    return seen


def _forged_index(data: bytes, change: Callable[[dict[str, Any]], object]) -> bytes:
    """Return a search index cache file whose head was changed, under a valid checksum."""
    body = data[32:]
    size = int.from_bytes(body[:8], "big")
    head = json.loads(body[8 : 8 + size])
    changed = change(head)
    text = changed if isinstance(changed, bytes) else json.dumps(head).encode()
    body = len(text).to_bytes(8, "big") + text + body[8 + size :]
    return hashlib.sha256(body).digest() + body


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: b"",
        lambda data: data[: len(data) // 2],
        _damaged,  # a flipped bit in the last file: the checksum no longer matches
        lambda data: _forged_index(data, lambda head: head["files"].pop()),  # bytes left over
        lambda data: _forged_index(data, lambda head: head["files"][-1].__setitem__(1, head["files"][-1][1] + 1)),
        lambda data: _forged_index(data, lambda head: head["files"][0].__setitem__(1, -1)),
        lambda data: _forged_index(data, lambda head: b"[not json"),
        lambda data: _forged_index(data, lambda head: head.pop("key")),
    ],
    ids=["empty", "truncated", "flipped bit", "a file fewer", "a file too long", "negative", "not JSON", "no key"],
)
def test_a_damaged_search_index_cache_is_made_again(
    site: Site, build: Build, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: Callable[[bytes], bytes]
) -> None:
    source = built_with_damage(site, build, Path(CACHE_FOLDER) / INDEX_FILE, damage)
    runs = pagefind_runs(monkeypatch)
    assert_warm_equals_clean(source, build, tmp_path)
    assert len(runs) == 2  # by the warm build and the clean one
    runs.clear()
    assert_warm_equals_clean(source, build, tmp_path)
    assert len(runs) == 1  # by the clean build only: the cache was put right, and gives what Pagefind gave


def test_a_flipped_bit_costs_only_its_own_entry(site: Site, build: Build, monkeypatch: pytest.MonkeyPatch) -> None:
    source = built_with_damage(site, build, Path(CACHE_FOLDER) / RENDERED_FILE, _flip_in_entry)
    seen = rendered_urls(monkeypatch)
    assert build(source).code == 0
    assert len(seen) == 1


def test_a_build_that_changes_nothing_leaves_the_render_cache_file_alone(site: Site, build: Build) -> None:
    source = site(sources())
    assert build(source).code == 0
    cache = source / CACHE_FOLDER / RENDERED_FILE
    before = cache.stat()
    assert build(source).code == 0
    after = cache.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    _append(source / "content/articles/post-3.md", "\nOne more sentence.\n")
    assert build(source).code == 0
    assert cache.stat().st_ino != before.st_ino  # rewritten, in one step, with the new page


def _forged_pages(data: bytes, forge: Callable[[dict[str, Any]], None]) -> bytes:
    """Return a page cache file whose header was changed by forge, under a valid checksum."""
    rest = data[len(MAGIC) + 32 :]
    size = int.from_bytes(rest[:8], "big")
    header = json.loads(rest[8 : 8 + size])
    assert header["format"] == FORMAT
    forge(header)
    head = json.dumps(header).encode()
    return pack_raw(len(head).to_bytes(8, "big") + head + rest[8 + size :])


def test_a_cache_of_another_generator_is_ignored(
    site: Site, build: Build, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = built_with_damage(
        site, build, CACHE_FILE, lambda data: _forged_pages(data, lambda header: header.update(generator="elsewhere"))
    )
    seen = parsed_paths(monkeypatch)
    assert_warm_equals_clean(source, build, tmp_path)
    assert len(seen) == 7 * 2  # every page parsed again, by the warm build and by the clean one


def _bodies(change: Callable[[list[Any]], list[Any]]) -> Callable[[dict[str, Any]], None]:
    """Return a forgery that changes the place ([start, length]) of the second body in the file."""

    def forge(header: dict[str, Any]) -> None:
        entry = sorted(header["entries"].values(), key=lambda entry: entry["body"][0])[1]
        entry["body"] = change(entry["body"])

    return forge


@pytest.mark.parametrize(
    "forge",
    [
        _bodies(lambda body: [-body[1], body[1]]),  # negative: Python would count from the end of the bodies
        _bodies(lambda body: [body[0], -1]),  # negative: everything after the start but the last character
        _bodies(lambda body: [True, body[1]]),  # JSON true, which Python would take for 1
        _bodies(lambda body: [body[0], True]),
        _bodies(lambda body: [body[0], 2**60]),  # past the end
    ],
    ids=["negative start", "negative length", "true start", "true length", "past the end"],
)
def test_a_page_cache_whose_checked_header_places_a_body_outside_the_bodies_is_ignored(
    site: Site, build: Build, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, forge: Callable[[dict[str, Any]], None]
) -> None:
    source = built_with_damage(site, build, CACHE_FILE, lambda data: _forged_pages(data, forge))
    seen = parsed_paths(monkeypatch)
    assert_warm_equals_clean(source, build, tmp_path)
    assert len(seen) == 7 * 2  # not one body taken from a header that placed one outside


def pack_raw(rest: bytes) -> bytes:
    """Return a cache file around a header and bodies, with a valid checksum."""
    return MAGIC + hashlib.sha256(rest).digest() + rest


def parsed_paths(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record (in the returned list) each file parsed from now on, in this process."""
    import kiln.pool

    seen: list[str] = []
    original = kiln.pool.parse_page

    def recording(source: object, *args: object) -> object:
        seen.append(str(getattr(source, "src_path", "")))
        return original(source, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(kiln.pool, "parse_page", recording)
    return seen


@pytest.mark.parametrize(
    "tamper",
    [
        ("words", lambda fields: {**fields, "words": "many"}),  # the wrong type
        ("title", lambda fields: {**fields, "title": {"$": "Path", "path": "/etc/passwd"}}),
        ("draft", lambda fields: {**fields, "draft": 1}),  # an int is not a bool
        ("date", lambda fields: {**fields, "date": ["not a date", None]}),
        ("date cut short", lambda fields: {**fields, "date": ["2026-01-01T00:00:00+00:00"]}),  # no zone
        ("headings", lambda fields: {**fields, "headings": [[2, "part"]]}),  # a field missing
        ("one more", lambda fields: {**fields, "more": "a field Page does not have"}),
        ("one fewer", lambda fields: dict(list(fields.items())[:-1])),
    ],
    ids=lambda tamper: tamper[0],
)
def test_a_tampered_entry_is_not_trusted(
    site: Site,
    build: Build,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    tamper: tuple[str, Callable[[dict[str, object]], dict[str, object]]],
) -> None:
    from kiln.cache import _fields
    from kiln.content import Page

    source = site(sources())
    assert build(source).code == 0
    entries = unpack_pages((source / CACHE_FILE).read_bytes())
    names = [name for name, _ in _fields(Page)]
    for entry in entries.values():
        entry["page"] = list(tamper[1](dict(zip(names, entry["page"], strict=True))).values())
    (source / CACHE_FILE).write_bytes(pack_pages(entries))
    seen = parsed_paths(monkeypatch)
    assert build(source).code == 0
    assert len(seen) == 7  # parsed afresh, not taken from the tampered entries
    assert snapshot(source / "site") == clean_build(source, build, tmp_path / "clean")


def test_warnings_are_repeated_on_a_warm_build(site: Site, build: Build, monkeypatch: pytest.MonkeyPatch) -> None:
    source = site({"content/articles/a.md": "---\ntitle: A\ndate: 2026-01-01\ntitel: x\n---\nText.\n"})
    first = build(source)
    import kiln.pool

    def refuse(*args: object) -> object:
        raise AssertionError("a cached page was parsed again")

    monkeypatch.setattr(kiln.pool, "parse_page", refuse)  # the warning comes from the cache, with its page
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
    assert build(source).code == 0  # and the build after it: what a build read stays in the cache
    assert seen == []


def test_a_template_that_renders_nothing_is_cached_like_any_other(
    site: Site, build: Build, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = site(sources() | {"templates/page.html": "{# written later #}"})
    assert build(source).code == 0
    assert (source / "site/about/index.html").read_bytes() == b""
    seen = rendered_urls(monkeypatch)
    assert build(source).code == 0
    assert seen == []


def test_an_edited_article_text_rerenders_only_its_page_and_the_feed(
    site: Site, build: Build, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = site(sources())
    assert build(source).code == 0
    seen = rendered_urls(monkeypatch)
    _append(source / "content/articles/post-3.md", "\nOne more sentence.\n")
    assert build(source).code == 0
    # lists and "read next" boxes show a summary (title, date, description, reading time), which a short
    # edit of the text leaves as it was; the feed carries the full text
    assert sorted(seen) == ["/articles/post-3/", "/feed.xml"]
    monkeypatch.undo()
    assert_warm_equals_clean(source, build, tmp_path)


def test_an_edited_article_title_rerenders_exactly_the_pages_that_show_it(
    site: Site, build: Build, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
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
    _replace(source / "content/articles/post-3.md", "title: Post 3", "title: The third post")
    assert build(source).code == 0
    # the tag index shows names and counts only, and the sitemap URLs and dates: neither changes
    expected = {"/articles/post-3/", "/", "/articles/", "/tags/trust/", "/tags/couples/", "/feed.xml"}
    assert set(seen) == expected | showing_it
    assert len(seen) == len(set(seen))
    monkeypatch.undo()
    assert_warm_equals_clean(source, build, tmp_path)


def test_an_edited_template_rerenders_the_pages_using_it_and_matches_a_clean_build(
    site: Site, build: Build, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = site(sources())
    assert build(source).code == 0
    seen = rendered_urls(monkeypatch)
    _replace(source / "templates/program.html", "<h1>", '<h1 class="renamed">')
    assert build(source).code == 0
    assert seen == ["/programs/p/"]  # the only page program.html renders
    monkeypatch.undo()
    assert_warm_equals_clean(source, build, tmp_path)


def test_an_edited_partial_rerenders_every_page_that_imports_it(
    site: Site, build: Build, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = site(sources())
    assert build(source).code == 0
    seen = rendered_urls(monkeypatch)
    _replace(source / "templates/partials/macros.html", 'class="card"', 'class="card renamed"')
    assert build(source).code == 0
    # macros.html is imported by the lists, by articles (related) and by programs (signup button);
    # base.html, the feed and the sitemap do not import it
    rendered = set(seen)
    assert "/feed.xml" not in rendered and "/sitemap.xml" not in rendered and "/404.html" not in rendered
    assert {"/", "/articles/", "/programs/", "/articles/post-1/", "/programs/p/", "/tags/trust/"} <= rendered
    assert "/about/" not in rendered  # page.html imports no macros
    monkeypatch.undo()
    assert_warm_equals_clean(source, build, tmp_path)


def test_a_template_that_starts_importing_a_partial_is_rerendered_when_that_partial_changes(
    site: Site, build: Build, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = site(sources())
    assert build(source).code == 0  # the build cache now knows page.html names base.html only
    _replace(
        source / "templates/page.html", "{% block main %}", '{% import "partials/macros.html" as m %}{% block main %}'
    )
    assert build(source).code == 0
    seen = rendered_urls(monkeypatch)
    _replace(source / "templates/partials/macros.html", 'class="card"', 'class="card renamed"')
    assert build(source).code == 0
    assert "/about/" in seen  # page.html imports macros.html now: what it names was read again from its new text
    monkeypatch.undo()
    assert_warm_equals_clean(source, build, tmp_path)


def test_declared_fields_of_every_type_come_back_from_the_cache_without_parsing(
    site: Site, build: Build, monkeypatch: pytest.MonkeyPatch
) -> None:
    from test_schema import CUSTOM, SHOWN  # site.yaml declaring a field of each type, and a template showing them

    front = (
        "title: A\ndate: 2026-01-02\ncategory: Couples\nreading_level: 6.5\naudience: [partners, parents]\n"
        "featured: true\nlaunched: 2026-01-01 09:30\nsource: https://example.org/x\n"
    )
    source = site(
        {
            "site.yaml": CUSTOM,
            "templates/article.html": SHOWN,
            "content/articles/a.md": f"---\n{front}---\nT.\n",
            # a date with its own offset keeps it (no zone name to store)
            "content/articles/b.md": "---\ntitle: B\ndate: 2026-01-03 10:00:00+02:00\nreading_level: 7\n---\nT.\n",
        }
    )
    assert build(source).code == 0
    first = snapshot(source / "site")
    seen = parsed_paths(monkeypatch)
    (source / "templates/article.html").write_text(SHOWN + "<!-- again -->\n", encoding="utf-8")
    assert build(source).code == 0
    assert seen == []  # every value, of every type, decoded from the cache: nothing was parsed again
    for name in ("articles/a/index.html", "articles/b/index.html"):
        again = (source / "site" / name).read_text(encoding="utf-8")
        assert again == first[name].decode() + "<!-- again -->\n"


# --- the output folder: left alone when it holds exactly what a build makes ------------------------------------


@pytest.mark.parametrize(
    "damage",
    [
        ("nothing", lambda out: None),
        ("stray file", lambda out: (out / "articles/stray.html").write_text("stray")),
        ("empty folder", lambda out: (out / "articles/empty").mkdir()),
        ("same-size edit", lambda out: _flip_case(out / "articles/post-2/index.html")),
        ("deleted file", lambda out: (out / "feed.xml").unlink()),
        ("marker edited", lambda out: (out / ".kiln-output").write_text("x")),
        ("link instead of a file", lambda out: _link_in_place(out / "sitemap.xml")),
    ],
    ids=lambda damage: damage[0],
)
def test_an_unchanged_build_keeps_the_output_or_repairs_whatever_differs(
    site: Site, build: Build, tmp_path: Path, damage: tuple[str, Callable[[Path], object]]
) -> None:
    source = site(sources())
    assert build(source).code == 0
    page = source / "site/articles/post-3/index.html"
    inode = page.stat().st_ino
    damage[1](source / "site")
    assert_warm_equals_clean(source, build, tmp_path)
    assert page.stat().st_ino == inode  # an unchanged file is never rewritten
    assert not (source / ".site.staging").exists()


def _flip_case(path: Path) -> None:
    """Change a file's bytes but not its size."""
    data = path.read_bytes()
    path.write_bytes(data.replace(b"<html", b"<HTML", 1))


def _link_in_place(path: Path) -> None:
    """Replace a file by a symbolic link to a copy of it."""
    copy = path.with_name("copy-" + path.name)
    path.rename(copy)
    path.symlink_to(copy.name)


# --- serve: files re-read by stat, the preview folder written in place -----------------------------------------


def preview_of(source: Path) -> object:
    """Return serve's Preview of a source folder, built once."""
    from kiln.pipeline import Options
    from kiln.serve import PREVIEW, Preview

    preview = Preview(
        Options(source=source, output=source / PREVIEW / "site", base_url="http://127.0.0.1:8000/", drafts=True)
    )
    assert preview.rebuild(())
    indexed(preview)
    return preview


def indexed(preview: object) -> None:
    """Write the search index of the preview's last rebuild, as serve does once the editor pauses."""
    indexing = preview.index_later()  # type: ignore[attr-defined]
    assert indexing is None or preview.write_index(indexing)  # type: ignore[attr-defined]


def test_serve_keeps_what_it_rendered_from_one_rebuild_to_the_next(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    source = site(without_search(sources()))
    preview = preview_of(source)
    seen = rendered_urls(monkeypatch)
    for _ in range(3):
        assert preview.rebuild(())  # type: ignore[attr-defined]
        preview.persist()  # type: ignore[attr-defined]  # as serve does once the editor pauses
    assert seen == []


def clean_preview(source: Path, folder: Path) -> dict[str, bytes]:
    """Return what a fresh build with serve's options, and no cache, writes."""
    from kiln.pipeline import Options, build

    build(Options(source=source, output=folder, base_url="http://127.0.0.1:8000/", drafts=True, cache=False))
    return snapshot(folder)


@pytest.mark.parametrize(
    "change",
    [
        ("article body", lambda s: _append(s / "content/articles/post-3.md", "\nA new line.\n")),
        ("template", lambda s: _replace(s / "templates/base.html", "Skip to content", "Skip to the text")),
        ("deleted article", lambda s: (s / "content/articles/post-5.md").unlink()),
        ("renamed article", lambda s: (s / "content/articles/post-1.md").rename(s / "content/articles/first.md")),
        ("new article", lambda s: _append(s / "content/articles/new.md", NEW_ARTICLE)),
        ("static file", lambda s: _append(s / "static/style.css", "\nbody { color: red; }\n")),
    ],
    ids=lambda change: change[0],
)
def test_a_preview_rebuild_writes_what_a_clean_build_writes(
    site: Site, tmp_path: Path, capsys: pytest.CaptureFixture[str], change: tuple[str, Callable[[Path], object]]
) -> None:
    source = site(sources())
    preview = preview_of(source)
    change[1](source)
    assert preview.rebuild(())  # type: ignore[attr-defined]
    folder = source / ".preview/site"
    indexed(preview)
    assert snapshot(folder) == clean_preview(source, tmp_path / "clean")
    assert not (folder / "articles/post-5").exists() or (source / "content/articles/post-5.md").exists()


def inodes(folder: Path) -> dict[str, int]:
    """Return the inode of every file and folder under a folder, and of the folder itself ('')."""
    found = {"": folder.stat().st_ino}
    found.update({path.relative_to(folder).as_posix(): path.stat().st_ino for path in folder.rglob("*")})
    return found


@pytest.mark.parametrize(
    "change",
    [
        (
            "two titles",
            lambda s: [_replace(s / f"content/articles/post-{n}.md", "title: Post", "title: A") for n in (2, 3)],
        ),
        ("new article in a new folder", lambda s: write_files(s, {"content/articles/guides/deep/new.md": NEW_ARTICLE})),
        ("deleted article", lambda s: (s / "content/articles/post-5.md").unlink()),
    ],
    ids=lambda change: change[0],
)
def test_a_preview_rebuild_rewrites_in_place_only_the_files_that_changed(
    site: Site, tmp_path: Path, capsys: pytest.CaptureFixture[str], change: tuple[str, Callable[[Path], object]]
) -> None:
    # serve's folder is written in place (never swapped: the server keeps serving it) and a file whose bytes did
    # not change is not touched, so the browser's reload fetches nothing stale and nothing needlessly new
    source = site(without_search(sources()))  # serve writes the index after a pause: test_search.py
    preview = preview_of(source)
    folder = source / ".preview/site"
    before, old = inodes(folder), snapshot(folder)
    change[1](source)
    assert preview.rebuild(())  # type: ignore[attr-defined]
    new = snapshot(folder)
    assert new == clean_preview(source, tmp_path / "clean")
    after = inodes(folder)
    assert after[""] == before[""]  # the same folder, not a new one swapped in
    kept = {name for name in old.keys() & new.keys() if old[name] == new[name]}
    assert kept and {name for name in kept if after[name] != before[name]} == set()
    assert {name for name in new.keys() & old.keys() if new[name] != old[name] and after[name] == before[name]} == set()
    assert {name for name in after if name.startswith("articles/post-5")} == (
        set() if change[0] == "deleted article" else {name for name in before if name.startswith("articles/post-5")}
    )


@pytest.mark.parametrize("by_hand", [False, True])
def test_a_preview_writes_only_what_differs_and_counts_it(
    site: Site, capsys: pytest.CaptureFixture[str], by_hand: bool
) -> None:
    from kiln.write import write_changed

    source = site(sources())
    preview = preview_of(source)
    folder = source / ".preview/site"
    files = dict(preview.written)  # type: ignore[attr-defined]
    changed = {**files, "articles/post-1/index.html": b"one", "articles/new/index.html": b"two"}
    del changed["articles/post-2/index.html"]
    if by_hand:  # the page the edit removes was deleted from the folder already: nothing to delete, same count
        (folder / "articles/post-2/index.html").unlink()
    assert write_changed(changed, folder, files) == Written(2, len(changed) - 2)
    assert snapshot(folder) == {**changed, MARKER: MARKER_TEXT}
    assert not (folder / "articles/post-2").exists()


def test_a_long_running_preview_parses_only_what_changed_and_keeps_the_rest_cached(
    site: Site, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    source = site(without_search(sources()))  # serve writes the index after a pause: test_search.py
    preview_of(source).persist()  # type: ignore[attr-defined]  # serve stopped: its pages are in the cache
    seen = parsed_paths(monkeypatch)
    preview = preview_of(source)  # serve started again: it takes every page from the cache
    for name in ("post-3", "post-4", "post-3"):  # each rebuild takes the pages it has in memory, twice and more
        _append(source / f"content/articles/{name}.md", "\nA new line.\n")
        assert preview.rebuild((f"content/articles/{name}.md",))  # type: ignore[attr-defined]
        preview.confirm()  # type: ignore[attr-defined]  # as serve does once the editor pauses
        preview.persist()  # type: ignore[attr-defined]
    assert seen == [str(Path(f"content/articles/{name}.md")) for name in ("post-3", "post-4", "post-3")]
    seen.clear()
    preview_of(source)  # and again: the cache it left holds every page, those it took from memory too
    assert seen == []


def test_a_preview_folder_changed_by_hand_is_put_right(
    site: Site, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = site(without_search(sources()))  # serve writes the index after a pause: test_search.py
    preview = preview_of(source)
    page = source / ".preview/site/articles/post-3/index.html"
    page.unlink()
    (page / "stray").mkdir(parents=True)  # a folder where the page goes: writing it in place fails
    _append(source / "content/articles/post-3.md", "\nA new line.\n")
    assert preview.rebuild(("content/articles/post-3.md",))  # type: ignore[attr-defined]
    assert snapshot(source / ".preview/site") == clean_preview(source, tmp_path / "clean")


def test_a_second_preview_over_an_existing_preview_folder_rebuilds_it(
    site: Site, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = site(without_search(sources()))  # serve writes the index after a pause: test_search.py
    preview_of(source)  # serve stopped, then started again: the folder holds a preview, the new one knows nothing
    _append(source / "content/articles/post-3.md", "\nA new line.\n")
    preview = preview_of(source)
    assert snapshot(source / ".preview/site") == clean_preview(source, tmp_path / "clean")
    _append(source / "content/articles/post-4.md", "\nAnother line.\n")  # pages it took from the cache, again
    assert preview.rebuild(())  # type: ignore[attr-defined]
    assert snapshot(source / ".preview/site") == clean_preview(source, tmp_path / "clean-again")


def test_a_preview_rereads_a_file_whose_stat_changed_even_without_an_event(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    import os

    source = site(sources())
    preview = preview_of(source)
    article = source / "content/articles/post-2.md"
    before = article.stat()
    # the same size and modification time: only the change time (which no program can set) tells
    article.write_text(article.read_text().replace("Text 2", "Txet 2"))
    os.utime(article, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert article.stat().st_size == before.st_size
    assert preview.rebuild(())  # type: ignore[attr-defined]  # as if the watcher had missed the event
    assert b"Txet 2" in (source / ".preview/site/articles/post-2/index.html").read_bytes()


def test_a_preview_rereads_the_files_the_watcher_names(site: Site, capsys: pytest.CaptureFixture[str]) -> None:
    from kiln.load import SourceMemo

    source = site(sources())
    preview = preview_of(source)
    memo = preview.caches.sources  # type: ignore[attr-defined]
    assert isinstance(memo, SourceMemo) and len(memo.entries) == 7
    # a stale memory of one file (as a clock set back could make): the watcher's event still wins
    article = source / "content/articles/post-4.md"
    signature, old = memo.entries[article]
    _replace(article, "Text 4", "Fresh 4")
    memo.entries[article] = (_signature(article), old)
    assert preview.rebuild(("content/articles/post-4.md",))  # type: ignore[attr-defined]
    assert b"Fresh 4" in (source / ".preview/site/articles/post-4/index.html").read_bytes()


def _signature(path: Path) -> tuple[int, int, int, int, int]:
    """Return a file's stat signature as SourceMemo records it."""
    info = path.stat()
    return (info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino, info.st_dev)


def test_a_build_that_changes_one_file_replaces_just_that_file(site: Site, build: Build, tmp_path: Path) -> None:
    source = site(sources())
    _append(source / "site.yaml", "feed_size: 1\n")  # so the feed does not show the oldest article
    _append(source / "site.yaml", "search: false\n")  # nor the search index (test_search.py: what it rewrites)
    assert build(source).code == 0
    before = {path: path.stat().st_ino for path in (source / "site").rglob("*") if path.is_file()}
    page = source / "site/articles/post-1/index.html"
    _append(source / "content/articles/post-1.md", "\nA second paragraph.\n")  # shown on its own page only
    result = build(source)
    after = {path: path.stat().st_ino for path in (source / "site").rglob("*") if path.is_file()}
    assert result.code == 0 and f"(1 files changed, {len(after) - 2} unchanged)" in result.out  # not the marker
    assert [path for path in before if after[path] != before[path]] == [page]
    assert b"A second paragraph." in page.read_bytes()
    assert not (source / ".site.staging").exists()
    assert_warm_equals_clean(source, build, tmp_path)


# --- serve's quick path: an edit to one page's text re-renders only what shows that text ------------------------

ONE_FILE_CHANGES = [
    ("body", "post-3", lambda text: text + "\nA new line.\n", True),
    ("heading", "post-3", lambda text: text.replace("## Part", "## Part one\n\n## Part two\n\n## Part three"), True),
    ("newest article's body", "post-5", lambda text: text + "\nMore about it.\n", True),
    ("first paragraph (the description)", "post-5", lambda text: text.replace("Text 5", "Text five"), False),
    ("title", "post-2", lambda text: text.replace("title: Post 2", "title: Second post"), False),
    ("description", "post-2", lambda text: text.replace("Text 2", "Text 2 " + "long " * 40), False),
    ("date", "post-2", lambda text: text.replace("2026-01-02", "2026-01-09"), False),
    ("tags", "post-4", lambda text: text.replace("trust, work", "grief"), False),
    ("draft", "post-4", lambda text: text.replace("program: p", "program: p\ndraft: true"), False),
    ("program reference", "post-1", lambda text: text.replace("program: p\n", ""), False),
    ("a warning", "post-1", lambda text: text.replace("program: p", "program: p\ncolour: red"), False),
]


@pytest.mark.parametrize("change", ONE_FILE_CHANGES, ids=lambda change: change[0])
def test_a_preview_rebuild_of_one_edited_file_writes_what_a_clean_build_writes(
    site: Site, tmp_path: Path, capsys: pytest.CaptureFixture[str], change: tuple[str, str, Callable[[str], str], bool]
) -> None:
    _, name, edit, quick = change
    source = site(sources())
    preview = preview_of(source)
    path = source / f"content/articles/{name}.md"
    path.write_text(edit(path.read_text()))
    assert preview.rebuild((f"content/articles/{name}.md",))  # type: ignore[attr-defined]
    assert preview.quick is quick  # type: ignore[attr-defined]
    indexed(preview)
    assert snapshot(source / ".preview/site") == clean_preview(source, tmp_path / "clean")
    assert not preview.confirm()  # type: ignore[attr-defined]  # the full build after it finds nothing to change


@pytest.mark.parametrize("name", ["pages/about", "programs/p", "articles/post-3", "articles/post-4"])
def test_edits_one_after_another_each_write_what_a_clean_build_writes(
    site: Site, tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    # each quick rebuild starts from the site the previous one left, so what it swapped in must hold together
    source = site(without_search(sources()))  # serve writes the index after a pause: test_search.py
    preview = preview_of(source)
    for edit in range(1, 4):
        _append(source / f"content/{name}.md", f"\nEdit number {edit}.\n")
        assert preview.rebuild((f"content/{name}.md",))  # type: ignore[attr-defined]
        assert preview.quick  # type: ignore[attr-defined]
        assert snapshot(source / ".preview/site") == clean_preview(source, tmp_path / f"clean-{edit}")
    other = "content/articles/post-1.md"  # then a page the edits did not touch, which lists the edited one
    _append(source / other, "\nAnother edit.\n")
    assert preview.rebuild((other,))  # type: ignore[attr-defined]
    assert snapshot(source / ".preview/site") == clean_preview(source, tmp_path / "clean-other")


def test_an_error_in_the_edited_file_leaves_the_quick_path_for_a_full_report(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    source = site(sources())
    preview = preview_of(source)
    _replace(source / "content/articles/post-3.md", "2026-01-03", "someday")
    assert not preview.rebuild(("content/articles/post-3.md",))  # type: ignore[attr-defined]
    assert "content/articles/post-3.md:3: `date`" in capsys.readouterr().out


def test_a_full_build_after_the_quick_path_puts_right_whatever_it_missed(
    site: Site, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import kiln.pipeline

    source = site(sources())
    preview = preview_of(source)
    monkeypatch.setattr(kiln.pipeline, "outputs_showing_text", lambda site, page: [])  # a quick path gone wrong
    _append(source / "content/articles/post-3.md", "\nA new line.\n")
    assert preview.rebuild(("content/articles/post-3.md",))  # type: ignore[attr-defined]
    assert b"A new line" not in (source / ".preview/site/articles/post-3/index.html").read_bytes()
    assert preview.confirm()  # type: ignore[attr-defined]
    indexed(preview)
    assert snapshot(source / ".preview/site") == clean_preview(source, tmp_path / "clean")


def test_only_a_pages_own_output_and_the_feed_show_its_text(site: Site) -> None:
    # The quick path re-renders just these two after an edit to a page's text: every other output must show
    # pages by their Summary, which holds no text.
    from kiln.content import Page
    from kiln.pipeline import Options, render
    from kiln.render import outputs, outputs_showing_text

    source = site(sources())
    rendered = render(Options(source=source, cache=False))
    shown: dict[str, set[str]] = {}  # page URL -> the URLs of the outputs given that Page itself
    for output in outputs(rendered.site):
        for page in _pages_in(output.values):
            assert isinstance(page, Page)
            shown.setdefault(page.url, set()).add(output.url)
    assert set(shown) == {page.url for page in rendered.site.all_pages}
    for page in rendered.site.all_pages:
        expected = {output.url for output in outputs_showing_text(rendered.site, page)}
        assert page.url in shown[page.url] <= expected
    assert "/feed.xml" in shown[rendered.site.articles[0].url]


def _pages_in(value: object) -> list[object]:
    """Return every Page object inside a value, at any depth."""
    import dataclasses

    from kiln.content import Page

    if isinstance(value, Page):
        return [value]
    if isinstance(value, dict):
        return [page for item in value.values() for page in _pages_in(item)]
    if isinstance(value, (list, tuple)):
        return [page for item in value for page in _pages_in(item)]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [page for field in dataclasses.fields(value) for page in _pages_in(getattr(value, field.name))]
    return []
