"""Search at build time: which pages the index holds, its determinism, its cache, and `search: false`.

The browser side (results, filters, the policy) is in test_search_browser.py.
"""

from __future__ import annotations

import gzip
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import CONFIG, NOW, Run, snapshot, soup
from test_publish import Build, Site, header_rules
from test_serve import WAIT, Served, http, reload_after, served  # noqa: F401  (served is a fixture)

from kiln import search
from kiln.pipeline import Options
from kiln.publish import CSP
from kiln.search import CBOR_PREFIX, canonical, cbor_decode, cbor_encode
from kiln.serve import Preview

TAGS = ("trust", "sleep", "anxiety", "grief", "work", "family", "money", "repair")


def article(slug: str, day: int, tags: tuple[str, ...], text: str, extra: str = "") -> dict[str, str]:
    """Return one article's source file."""
    front = f"title: {slug.title()}\ndate: 2026-01-{day:02d}\ntags: [{', '.join(tags)}]\n{extra}"
    return {f"content/articles/{slug}.md": f"---\n{front}---\n{text}\n"}


FILES: dict[str, str | bytes] = {
    **{
        key: value
        for index in range(12)
        for key, value in article(
            f"post-{index}", index + 1, (TAGS[index % 8], TAGS[(index * 3) % 8]), f"Words of post {index}."
        ).items()
    },
    **article("draft", 20, ("trust",), "A draft about quillaberry.", "draft: true\n"),
    "content/articles/later.md": "---\ntitle: Later\ndate: 2027-01-05\n---\nA future post about marmalade.\n",
    **article("moved", 21, ("trust",), "An article about zephyrine.", "aliases: [/old-moved/]\n"),
    "content/programs/group.md": (
        "---\ntitle: A group\ndescription: Join us.\nsteps: [Find the harbourlight.]\n---\nX.\n"
    ),
    "content/pages/about.md": "---\ntitle: About\ndescription: Who we are.\n---\nWho we are.\n",
}


def fragments(output: Path) -> dict[str, dict[str, Any]]:
    """Return what the index holds of each page, by its URL."""
    found = {}
    for path in (output / "pagefind/fragment").iterdir():
        data = json.loads(gzip.decompress(path.read_bytes()).removeprefix(CBOR_PREFIX))
        found[data["url"]] = data
    return found


def index_files(output: Path) -> dict[str, bytes]:
    """Return the files of the search index."""
    return {name: data for name, data in snapshot(output).items() if name.startswith("pagefind/")}


def test_only_published_content_pages_are_indexed(site: Site, build: Build, tmp_path: Path) -> None:
    source = site(FILES)
    assert build(source, "--base-url", "https://example.org/sub/").code == 0
    output = source / "site"
    found = fragments(output)
    assert set(found) == {f"/articles/post-{n}/" for n in range(12)} | {
        "/articles/moved/",
        "/programs/group/",
        "/about/",
    }
    assert (output / "old-moved/index.html").is_file() and (output / "search/index.html").is_file()
    moved = found["/articles/moved/"]
    assert "zephyrine" in moved["content"] and moved["meta"] == {
        "title": "Moved",
        "kind": "Article",
        "date": "21 January 2026",
        "datetime": "2026-01-21T00:00:00+00:00",
    }
    assert moved["filters"] == {"kind": ["Article"], "tag": ["trust"]}
    assert "harbourlight" in found["/programs/group/"]["content"]
    assert found["/programs/group/"]["filters"] == {"kind": ["Program"]}
    # a preview with drafts indexes the drafts and future articles it shows
    assert build(source, "--drafts", "--output", str(tmp_path / "preview")).code == 0
    assert {"/articles/draft/", "/articles/later/"} <= set(fragments(tmp_path / "preview"))


def test_two_builds_give_the_same_index_files(site: Site, build: Build, tmp_path: Path) -> None:
    source = site(FILES)
    outputs = [tmp_path / f"out{n}" for n in range(3)]
    for output in outputs:
        assert build(source, "--no-cache", "--output", str(output)).code == 0
    first = index_files(outputs[0])
    assert len([name for name in first if name.startswith("pagefind/filter/")]) == 2
    for output in outputs[1:]:
        assert index_files(output) == first


def test_canonical_sorts_what_pagefind_writes_in_hash_map_order() -> None:
    def pack(value: Any) -> bytes:
        return gzip.compress(CBOR_PREFIX + cbor_encode(value))

    def output(tags: list[Any], filters: list[Any]) -> dict[str, bytes]:
        entry = {"version": "1.5.2", "languages": {"en": {"hash": "en_1", "wasm": "en", "page_count": 1}}}
        files = {name: name.encode() for name in search.SHIPPED if name != "pagefind-entry.json"}
        files["pagefind-entry.json"] = json.dumps(entry).encode()
        files["wasm.en.pagefind"] = b"wasm"
        files["pagefind.en_1.pf_meta"] = pack(["1.5.2", [["en_a", 3]], [], filters, [], []])
        files["filter/en_t.pf_filter"] = pack(["tag", tags])
        files["filter/en_k.pf_filter"] = pack(["kind", [["Article", [0]]]])
        return files

    one = canonical(output([["a", [0]], ["b", [1, 2]]], [["tag", "en_t"], ["kind", "en_k"]]))
    two = canonical(output([["b", [1, 2]], ["a", [0]]], [["kind", "en_k"], ["tag", "en_t"]]))
    assert one == two
    entry = json.loads(one["pagefind-entry.json"])
    meta, end = cbor_decode(gzip.decompress(one[f"pagefind.{entry['languages']['en']['hash']}.pf_meta"]), 12)
    assert [name for name, _ in meta[3]] == ["kind", "tag"]
    tag_file = one[f"filter/{meta[3][1][1]}.pf_filter"]
    assert cbor_decode(gzip.decompress(tag_file), 12)[0] == ["tag", [["a", [0]], ["b", [1, 2]]]]


@pytest.mark.parametrize(
    "value", [0, 23, 24, 255, 256, 65536, 2**32, -1, -500, "", "é" * 30, b"\x00", [], [1, ["a", [True, None]]], False]
)
def test_cbor_round_trips(value: Any) -> None:
    assert cbor_decode(cbor_encode(value)) == (value, len(cbor_encode(value)))


def test_a_warm_build_with_nothing_changed_does_not_run_pagefind(
    site: Site, build: Build, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = site(FILES)
    assert build(source).code == 0
    assert (source / ".kiln-cache/search.bin").is_file()
    before = snapshot(source / "site")

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("Pagefind ran")

    monkeypatch.setattr(search.subprocess, "Popen", refuse)
    assert build(source).code == 0
    assert snapshot(source / "site") == before


def test_a_changed_article_rewrites_only_part_of_the_index(site: Site, build: Build) -> None:
    source = site(FILES)
    assert build(source).code == 0
    output = source / "site"
    before = {name: os.stat(output / name).st_ino for name in index_files(output)}
    (source / "content/articles/post-3.md").write_text(
        "---\ntitle: Post-3\ndate: 2026-01-04\ntags: [grief]\n---\nNew words: kumquat.\n", encoding="utf-8"
    )
    assert build(source).code == 0
    after = {name: os.stat(output / name).st_ino for name in index_files(output)}
    assert "kumquat" in fragments(output)["/articles/post-3/"]["content"]
    kept = {name for name in after if before.get(name) == after[name]}
    for name in ("pagefind/pagefind.js", "pagefind/pagefind-worker.js", "pagefind/wasm.en.pagefind"):
        assert name in kept
    assert len([name for name in before if name.startswith("pagefind/fragment/") and name not in kept]) == 1


def test_search_false_turns_it_all_off(site: Site, build: Build, monkeypatch: pytest.MonkeyPatch) -> None:
    source = site({**FILES, "site.yaml": CONFIG + "search: false\n"})
    monkeypatch.setattr(search, "start_index", lambda *args: pytest.fail("indexed"))
    assert build(source).code == 0
    output = source / "site"
    assert not (output / "pagefind").exists() and not (output / "search").exists()
    assert not list((output / "static").glob("search*.js"))  # nothing would load it
    for page in output.rglob("*.html"):
        parsed = soup(page)
        assert not parsed.select("form, input, script[src]"), page
    assert header_rules((output / "_headers").read_text())["/*"]["Content-Security-Policy"] == CSP


def directives(policy: str) -> set[str]:
    """Return a Content-Security-Policy's directives."""
    return {part.strip() for part in policy.split(";") if part.strip()}


@pytest.mark.parametrize("searchable", [True, False])
def test_a_missing_url_is_answered_under_the_pages_policy_on_every_host(
    site: Site, build: Build, searchable: bool
) -> None:
    source = site({**FILES, "site.yaml": CONFIG + ("" if searchable else "search: false\n")})
    assert build(source).code == 0
    output = source / "site"
    rules = header_rules((output / "_headers").read_text())
    # what _headers gives a page, and so any URL under /articles/ (the host answers a missing one with 404.html)
    pages = rules["/articles/*" if searchable else "/*"]["Content-Security-Policy"]
    if searchable:  # /no-such-name gets no policy from _headers, and GitHub Pages reads no _headers at all
        assert "Content-Security-Policy" not in rules["/*"]
    head = soup(output / "404.html").head
    assert head is not None
    metas = head.select('meta[http-equiv="Content-Security-Policy"]')
    assert len(metas) == 1
    assert head.find_all("meta")[1] is metas[0]  # before anything it governs, right after the charset
    # browsers ignore frame-ancestors in a meta element (X-Frame-Options: DENY still stops framing)
    assert directives(str(metas[0]["content"])) == directives(pages) - {"frame-ancestors 'none'"}
    assert build(source, "--preview").code == 0  # serve's previews add the live-reload script to every page
    assert not soup(output / "404.html").select('meta[http-equiv="Content-Security-Policy"]')


def test_every_page_has_the_header_form_and_the_search_page_its_own(site: Site, build: Build) -> None:
    source = site(FILES)
    assert build(source, "--base-url", "https://example.org/sub/").code == 0
    output = source / "site"
    for page in output.rglob("*.html"):
        if page.parent.name == "old-moved":
            continue  # redirect pages
        forms = soup(page).select("form[role=search]")
        assert len(forms) == 1, page
        form = forms[0]
        assert form["action"] == "/sub/search/" and form.get("method") == "get"
        field = form.select_one("input[type=search][name=q]")
        assert field is not None and form.select_one(f"label[for={field['id']}]") is not None
    page = soup(output / "search/index.html")
    assert page.select_one("[role=status]#search-status") is not None
    assert [option["value"] for option in page.select("#search-kind option")] == ["", "Article", "Program", "Page"]
    assert "trust" in [option["value"] for option in page.select("#search-tag option")]
    assert page.select_one("#search")["data-bundle"] == "/sub/pagefind/"  # type: ignore[index]
    assert "/search/" not in (output / "sitemap.xml").read_text()


def test_a_failing_indexer_fails_the_build_and_leaves_the_site(
    site: Site, build: Build, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = site(FILES)
    assert build(source).code == 0
    before = snapshot(source / "site")
    (source / "content/articles/post-1.md").write_text(
        "---\ntitle: Post-1\ndate: 2026-01-02\n---\nChanged.\n", encoding="utf-8"
    )
    monkeypatch.setattr(search, "_executable", lambda: Path("/bin/false"))
    result: Run = build(source)
    assert result.code == 1
    assert "the search index could not be made: Pagefind exited with status 1" in result.err
    assert "search: false" in result.err
    assert snapshot(source / "site") == before


def test_serve_reloads_first_and_indexes_after(site: Site, tmp_path: Path) -> None:
    source = site(FILES)
    preview = Preview(Options(source=source, output=source / ".preview/site", drafts=True, now=NOW, preview=True))
    assert preview.rebuild(())
    indexing = preview.index_later()
    assert indexing is not None and preview.write_index(indexing)
    output = source / ".preview/site"
    assert "quillaberry" in fragments(output)["/articles/draft/"]["content"]  # the preview shows drafts: it finds them
    path = source / "content/articles/post-2.md"
    path.write_text(path.read_text().replace("Words of", "Kumquat words of"), encoding="utf-8")
    assert preview.rebuild(("content/articles/post-2.md",))  # what is written before the reload
    assert "Kumquat words" in (output / "articles/post-2/index.html").read_text()
    assert "Kumquat" not in fragments(output)["/articles/post-2/"]["content"]  # the last index, until the new one
    indexing = preview.index_later()  # after the reload
    assert indexing is not None and preview.write_index(indexing)
    assert "Kumquat" in fragments(output)["/articles/post-2/"]["content"]
    # a rebuild that comes while an index is being made gets its own: the older one is never written
    stale = preview.index_later()
    assert preview.rebuild(("content/articles/post-2.md",))
    newer = preview.index_later()
    assert stale is not None and newer is not None and not preview.write_index(stale)
    assert preview.write_index(newer)


def test_serve_updates_the_index_after_a_save(served: Callable[..., Served], tmp_path: Path) -> None:  # noqa: F811
    server = served(FILES)
    path = tmp_path / "src/content/articles/post-2.md"
    output = tmp_path / "src/.preview/site"
    message = reload_after(server.port, lambda: path.write_text(path.read_text().replace("Words of", "Kumquat of")))
    assert message["command"] == "reload"
    deadline = time.monotonic() + WAIT
    while "Kumquat" not in fragments(output)["/articles/post-2/"]["content"] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "Kumquat" in fragments(output)["/articles/post-2/"]["content"]
    status, body = http(server.port, "/pagefind/pagefind-entry.json")
    assert status == 200 and json.loads(body)["version"] == search.PAGEFIND_VERSION


def test_a_site_without_pages_has_no_search_until_its_first_page(site: Site, build: Build) -> None:
    source = site({})
    assert build(source).code == 0  # Pagefind cannot index nothing: there is no search to offer yet
    output = source / "site"
    assert not (output / "search").exists() and not (output / "pagefind").exists()
    assert soup(output / "404.html").select_one("form") is None
    (source / "content/pages").mkdir(parents=True)
    (source / "content/pages/about.md").write_text("---\ntitle: About\n---\nWho we are.\n", encoding="utf-8")
    assert build(source).code == 0
    assert soup(output / "404.html").select_one("form[role=search]") is not None  # not the cached 404 page
    assert set(fragments(output)) == {"/about/"}
