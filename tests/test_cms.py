"""The browser editor: its config made from the schema, /admin/ in the build, and the local backend of serve."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from bs4 import BeautifulSoup
from conftest import CONFIG, REPO, Run, lay_out, run
from hosting import covers
from hypothesis import given, settings
from hypothesis import strategies as st
from test_publish import header_rules
from test_serve import Served, http

from kiln import cms, content, schema
from kiln.cms_backend import Backend, Refused, form_order, tidy_entry
from kiln.config import Cms, Config, parse_config
from kiln.content import Source, parse_page
from kiln.errors import Problems
from kiln.fields import NOT_XML
from kiln.markup import Markup
from kiln.publish import CSP
from kiln.schema import Field, fields_for
from kiln.urls import Urls

CMS_YAML = "cms:\n  backend: github\n  repo: our-org/our-site\n  branch: main\n"
INSTALLED = (REPO / cms.DIST / cms.SCRIPT).is_file()
needs_bundle = pytest.mark.skipif(not INSTALLED, reason=f"{cms.PACKAGE} is not installed: run `npm ci`")


def config_of(text: str) -> tuple[Config | None, Problems]:
    """Return the Config of a site.yaml text, with the problems met."""
    problems = Problems()
    return parse_config(text, Path("site.yaml"), problems), problems


def site_config(extra: str = CMS_YAML) -> Config:
    """Return the tests' site settings plus extra lines."""
    config, problems = config_of(CONFIG + extra)
    assert config is not None, problems.errors
    return config


def with_bundle(root: Path) -> Path:
    """Give a laid-out site the repository's node_modules, where `npm ci` put the editor's script."""
    (root / "node_modules").symlink_to(REPO / "node_modules")
    return root


# --- site.yaml's cms: -------------------------------------------------------------------------------------


def test_cms_settings_are_read_with_their_defaults() -> None:
    config = site_config("cms:\n  backend: github\n  repo: our-org/our-site\n")
    assert config.cms == Cms("github", "our-org/our-site", "main", None, False)
    assert site_config("").cms is None


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ("cms: github\n", "site.yaml:9: `cms` must be a mapping"),
        ("cms:\n  backend: github\n", "site.yaml:9: `cms.repo` is required"),
        ("cms:\n  backend: wordpress\n  repo: a/b\n", "site.yaml:9: `cms.backend` is not a backend the editor"),
        ("cms:\n  backend: github\n  repo: just-a-name\n", "site.yaml:9: `cms.repo` is not a repository"),
        ("cms:\n  backend: github\n  repo: a/b\n  auth_url: http://auth.example.org\n", "site.yaml:9: `auth_url`"),
    ],
)
def test_wrong_cms_settings_are_errors_at_their_line(lines: str, message: str) -> None:
    config, problems = config_of(CONFIG + lines)
    assert config is None
    assert any(error.format().startswith(message) for error in problems.errors), [e.format() for e in problems.errors]


# --- the config, field by field ---------------------------------------------------------------------------


def collections(config: Config) -> dict[str, dict[str, Any]]:
    """Return the generated config's collections by name."""
    return {found["name"]: found for found in cms.cms_config(config)["collections"]}


def test_one_collection_per_section_of_content() -> None:
    found = collections(site_config())
    assert list(found) == list(content.SECTIONS)
    for section, kind in content.SECTIONS.items():
        assert found[section]["folder"] == f"content/{section}"
        assert found[section]["label_singular"] == kind.capitalize()
    assert found["articles"]["path"] == "{{slug}}/index"  # a new article is a page bundle
    assert "path" not in found["programs"]


@pytest.mark.parametrize("kind", schema.KINDS)
def test_every_field_of_the_schema_is_in_the_form_in_schema_order(kind: str) -> None:
    config = site_config()
    section = next(section for section, of in content.SECTIONS.items() if of == kind)
    form = collections(config)[section]["fields"]
    expected = [field for field in fields_for(kind, config.fields) if field.name not in cms.NOT_IN_FORM]
    assert [entry["name"] for entry in form] == [field.name for field in expected] + ["body"]
    for entry, field in zip(form, expected, strict=False):
        assert entry["required"] is field.required, field.name
        assert entry["hint"].startswith(field.help.replace("`", "")), field.name
        assert entry["widget"] == expected_widget(field), field.name
        if field.type == "entries":
            assert [inner["name"] for inner in entry["fields"]] == [inner.name for inner in field.entries]
            assert [inner["required"] for inner in entry["fields"]] == [inner.required for inner in field.entries]
        if field.type == "choice":
            assert entry["options"] == list(field.choices)
        if field.type == "integer":
            assert (entry["value_type"], entry["min"]) == ("int", field.minimum)
        if field.limit is not None:
            assert entry["pattern"][0] == f"^{cms.CHAR}{{0,{field.limit}}}$"
        if field.type == "date":
            assert entry["format"] == "YYYY-MM-DD"
            assert ("default" in entry) is field.required
        if field.type == "datetime":  # the build reads "2027-01-12 18:00" in the site's time zone
            assert entry["format"] == "YYYY-MM-DD HH:mm"
        if field.type == "urls":
            assert entry["field"]["pattern"][0] == cms.HTTPS
    assert (form[-1]["name"], form[-1]["widget"], form[-1]["pattern"][0]) == ("body", "markdown", f"^{cms.CHAR}*$")


def expected_widget(field: Field) -> str:
    """Return the widget a field's type calls for."""
    if field.ref is not None:
        return "relation"
    return {
        "text": "string",
        "markdown": "markdown",
        "slug": "string",
        "bool": "boolean",
        "integer": "number",
        "number": "number",
        "date": "datetime",
        "datetime": "datetime",
        "list": "list",
        "urls": "list",
        "currency": "string",
        "url": "string",
        "image": "image",
        "alt": "string",
        "choice": "select",
        "entries": "list",
    }[field.type]


def test_draft_is_on_for_new_pages_and_no_other_switch_is() -> None:
    for section, found in collections(site_config()).items():
        switches = {entry["name"]: entry["default"] for entry in found["fields"] if entry["widget"] == "boolean"}
        has_draft = any(field.name == "draft" for field in fields_for(content.SECTIONS[section]))
        assert switches == ({"draft": True} if has_draft else {})  # an author is never a draft


def test_program_is_a_choice_among_the_programs() -> None:
    program = next(entry for entry in collections(site_config())["articles"]["fields"] if entry["name"] == "program")
    assert program["collection"] == "programs"
    assert program["value_field"] == "{{slug}}"


def test_the_sites_own_fields_are_in_the_form() -> None:
    config = site_config(CMS_YAML + "fields:\n  reading_level: number\n  audience: {type: list, for: [article]}\n")
    found = collections(config)
    articles = [entry["name"] for entry in found["articles"]["fields"]]
    assert articles[-3:] == ["reading_level", "audience", "body"]
    assert [entry["name"] for entry in found["programs"]["fields"]][-2:] == ["reading_level", "body"]


def test_authors_are_a_collection_and_bylines_a_choice_among_them() -> None:
    found = collections(site_config())
    assert found["authors"]["folder"] == "content/authors"
    assert found["authors"]["identifier_field"] == "name"
    names = [entry["name"] for entry in found["authors"]["fields"]]
    assert names == [field.name for field in fields_for("author") if field.name not in cms.NOT_IN_FORM] + ["body"]
    for name in ("author", "reviewed_by"):
        entry = next(entry for entry in found["articles"]["fields"] if entry["name"] == name)
        assert (entry["widget"], entry["collection"], entry["display_fields"]) == ("relation", "authors", ["name"])


def test_a_new_kind_of_page_and_fields_naming_it_need_no_change_to_the_editor(monkeypatch: pytest.MonkeyPatch) -> None:
    """A `venue` kind in content/venues/, and a field naming a venue, become a collection and a choice."""
    monkeypatch.setitem(content.SECTIONS, "venues", "venue")
    monkeypatch.setattr(schema, "KINDS", (*schema.KINDS, "venue"))
    monkeypatch.setattr(
        schema,
        "FIELDS",
        (
            *schema.FIELDS[:1],
            Field("title", "text", ("venue",), "the venue's name", required=True),
            *schema.FIELDS[1:],
            Field("venue", "slug", ("program",), "where it meets", ref="venue"),
        ),
    )
    found = collections(site_config())
    assert found["venues"]["folder"] == "content/venues"
    assert [entry["name"] for entry in found["venues"]["fields"]] == ["title", "body"]
    venue = next(entry for entry in found["programs"]["fields"] if entry["name"] == "venue")
    assert (venue["widget"], venue["collection"]) == ("relation", "venues")
    assert form_order("content/venues/hall.md", site_config())[0] == ("title",)


def test_the_backend_and_the_editorial_workflow_come_from_site_yaml() -> None:
    lines = "cms:\n  backend: github\n  repo: a/b\n  branch: live\n  auth_url: https://auth.example.org/\n"
    data = cms.cms_config(site_config(lines + "  editorial_workflow: true\n"))
    assert data["backend"] == {
        "name": "github",
        "repo": "a/b",
        "branch": "live",
        "base_url": "https://auth.example.org",
    }
    assert data["publish_mode"] == "editorial_workflow"
    local = yaml.safe_load(cms.config_yaml(site_config(lines + "  editorial_workflow: true\n"), "http://x/api/v1"))
    assert local["local_backend"] == {"url": "http://x/api/v1"} and "publish_mode" not in local


# --- validation parity: what the form accepts builds; what the build refuses, the form refuses ---------------


def build_problems(kind: str, name: str, value: Any, config: Config | None = None) -> list[str]:
    """Return the errors the build finds in a page of a kind whose field `name` has a value."""
    config = config or site_config()
    section = next(section for section, of in content.SECTIONS.items() if of == kind)
    data = {"title": "A title", "date": "2026-01-02"} | {name: value}
    text = "---\n" + yaml.safe_dump(data, allow_unicode=True) + "---\nText.\n"
    problems = Problems()
    parse_page(Source(Path(f"content/{section}/x.md"), text.encode()), config, Markup(Urls(config.base_url)), problems)
    return [error.format() for error in problems.errors]


def form_pattern(kind: str, name: str) -> re.Pattern[str]:
    """Return a form field's pattern (JavaScript's syntax, which these patterns share with Python's)."""
    section = next(section for section, of in content.SECTIONS.items() if of == kind)
    entry = next(entry for entry in collections(site_config())[section]["fields"] if entry["name"] == name)
    return re.compile(entry["pattern"][0])


PATTERNED = [
    ("program", "signup_url"),
    ("article", "slug"),
    ("article", "image"),
    ("article", "description"),
    ("article", "title"),
    ("program", "schedule"),
]


@pytest.mark.parametrize(("kind", "name"), PATTERNED)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_every_value_the_forms_pattern_accepts_builds(kind: str, name: str, data: st.DataObject) -> None:
    pattern = form_pattern(kind, name)
    value = data.draw(st.from_regex(pattern, fullmatch=True))
    assert build_problems(kind, name, value) == []


def test_the_forms_characters_are_the_ones_the_build_accepts() -> None:

    char = re.compile(cms.CHAR)
    assert [code for code in range(0x110000) if bool(char.match(chr(code))) == bool(NOT_XML.match(chr(code)))] == []


@pytest.mark.parametrize(
    ("kind", "name", "value"),
    [
        ("program", "signup_url", "http://forms.example.org/join"),
        ("program", "signup_url", "forms.example.org/join"),
        ("program", "signup_url", "https://"),
        ("program", "signup_url", "javascript:alert(1)"),
        ("article", "slug", "Trust After"),
        ("article", "slug", "trust/after"),
        ("article", "slug", "../etc"),
        ("article", "image", "http://example.org/a.jpg"),
        ("article", "image", "//evil.example/a.jpg"),
        ("article", "image", "javascript:alert(1)"),
        ("article", "title", "   "),
        ("article", "title", "Bell\x07"),
        ("program", "schedule", "Tuesdays\x1b"),
    ],
)
def test_a_value_the_build_refuses_is_refused_by_the_form(kind: str, name: str, value: str) -> None:
    assert build_problems(kind, name, value) != []
    assert form_pattern(kind, name).fullmatch(value) is None


def test_numbers_below_the_minimum_are_refused_by_both() -> None:
    form = collections(site_config())["programs"]["fields"]
    entry = next(entry for entry in form if entry["name"] == "duration_weeks")
    assert build_problems("program", "duration_weeks", entry["min"] - 1) != []
    assert build_problems("program", "duration_weeks", entry["min"]) == []


def test_a_required_field_left_empty_is_refused_by_both() -> None:
    title = next(entry for entry in collections(site_config())["pages"]["fields"] if entry["name"] == "title")
    assert title["required"] is True
    assert build_problems("page", "title", "") != []


# --- /admin/ in the build ---------------------------------------------------------------------------------


@needs_bundle
def test_admin_is_published_only_with_cms(site: Callable[..., Path], build: Callable[..., Run]) -> None:
    without = site()
    assert build(without).code == 0
    assert not (without / "site" / "admin").exists()
    source = with_bundle(site({"site.yaml": CONFIG + CMS_YAML}))
    assert build(source).code == 0
    admin = source / "site" / "admin"
    page = BeautifulSoup((admin / "index.html").read_text(encoding="utf-8"), "html.parser")
    assert page.find("meta", attrs={"name": "robots"})["content"] == "noindex"
    script = page.find("script", src=cms.SCRIPT)
    assert script["integrity"].startswith("sha384-")
    assert (admin / cms.SCRIPT).read_bytes() == (REPO / cms.DIST / cms.SCRIPT).read_bytes()
    chunks = sorted(path.name for path in (REPO / cms.DIST).glob(f"*.{cms.SCRIPT}"))
    assert chunks and all((admin / name).is_file() for name in chunks)
    assert not list(admin.glob("*.map")) and not (admin / "cms.js").exists()
    assert yaml.safe_load((admin / "config.yml").read_text(encoding="utf-8")) == cms.cms_config(site_config())
    style = next(p.name for p in (source / "site" / "static").glob("style.*.css"))
    assert (admin / "preview.js").read_text(encoding="utf-8") == f'CMS.registerPreviewStyle("/static/{style}");\n'
    sitemap = (source / "site" / "sitemap.xml").read_text(encoding="utf-8")
    assert "/admin/" not in sitemap


@needs_bundle
def test_admin_has_its_own_policy_and_every_other_page_keeps_the_sites(
    site: Callable[..., Path], build: Callable[..., Run]
) -> None:

    source = with_bundle(site({"site.yaml": CONFIG + CMS_YAML}))
    assert build(source).code == 0
    rules = header_rules((source / "site" / "_headers").read_text(encoding="utf-8"))
    assert rules["/admin/*"] == {"Content-Security-Policy": cms.ADMIN_CSP, "X-Robots-Tag": "noindex"}
    assert "Content-Security-Policy" not in rules["/*"]
    published = [p.relative_to(source / "site").as_posix() for p in (source / "site").rglob("*") if p.is_file()]
    for name in published:
        if name.startswith(("_", ".")) or name.startswith("admin"):
            continue
        covering = [rule for rule in rules if covers(rule, "/" + name) and "Content-Security-Policy" in rules[rule]]
        assert [rules[rule]["Content-Security-Policy"] for rule in covering] == [CSP], name
    assert not any(covers(rule, "/admin/index.html") for rule in rules if rule not in ("/*", "/admin/*"))


@needs_bundle
def test_check_leaves_the_editor_alone(site: Callable[..., Path], capsys: pytest.CaptureFixture[str]) -> None:
    source = with_bundle(site({"site.yaml": CONFIG + CMS_YAML}))
    result = run(capsys, "check", "--source", str(source))
    assert "admin" not in result.out + result.err


def test_without_the_installed_script_the_build_says_how_to_get_it(
    site: Callable[..., Path], build: Callable[..., Run]
) -> None:
    source = site({"site.yaml": CONFIG + CMS_YAML})
    result = build(source)
    assert result.code == 1
    assert f"the browser editor's script is missing (node_modules/{cms.PACKAGE}/dist)" in result.err
    assert "run `npm ci`" in result.err
    assert not (source / "site").exists()


def test_another_installed_version_is_refused(site: Callable[..., Path], build: Callable[..., Run]) -> None:
    source = site({"site.yaml": CONFIG + CMS_YAML})
    dist = source / cms.DIST
    dist.mkdir(parents=True)
    (dist / cms.SCRIPT).write_text("/* another */", encoding="utf-8")
    (dist.parent / "package.json").write_text(json.dumps({"version": "3.0.0"}), encoding="utf-8")
    result = build(source)
    assert result.code == 1
    assert f"not the pinned version (expected {cms.VERSION}, got 3.0.0)" in result.err


def test_the_pinned_version_is_the_one_package_json_installs() -> None:
    package = json.loads((REPO / "package.json").read_text(encoding="utf-8"))
    lock = json.loads((REPO / "package-lock.json").read_text(encoding="utf-8"))
    assert package["devDependencies"][cms.PACKAGE] == cms.VERSION
    locked = lock["packages"][f"node_modules/{cms.PACKAGE}"]
    assert locked["version"] == cms.VERSION and locked["integrity"].startswith("sha512-")


# --- saving tidily ----------------------------------------------------------------------------------------

ORDER = form_order("content/articles/x.md", None)
OLD = """\
---
# A comment above the title stays.
title:   "Trust, slowly"
date: 2026-11-20  # the day it went up
aliases: [/old-trust/]
tags: [trust]
---

The text.
"""


def test_an_unchanged_save_writes_nothing() -> None:
    sent = "---\ntitle: Trust, slowly\ndate: '2026-11-20'\ntags:\n  - trust\n---\nThe text.\n"
    assert tidy_entry(sent, OLD, ORDER) is None


def test_editing_the_body_changes_only_the_body() -> None:
    sent = "---\ntags:\n  - trust\ntitle: Trust, slowly\ndate: 2026-11-20\n---\nThe text, rewritten.\n"
    assert tidy_entry(sent, OLD, ORDER) == OLD.replace("The text.", "The text, rewritten.")


def test_a_changed_field_is_rewritten_in_our_style_and_the_others_keep_their_lines() -> None:
    sent = "---\ntitle: Trust, slowly\ndate: 2026-11-20\ntags: [trust, repair]\ndescription: ''\n---\nThe text.\n"
    assert tidy_entry(sent, OLD, ORDER) == OLD.replace("tags: [trust]", "tags: [trust, repair]")


def test_a_new_page_gets_our_order_and_style() -> None:
    sent = (
        "---\ntags:\n  - listening\ndraft: true\ndate: '2026-12-02'\ntitle: 'Listening: a start'\n"
        "image: ''\nprogram: ''\n---\nHello.\n"
    )
    expected = "---\ntitle: 'Listening: a start'\ndraft: true\ndate: 2026-12-02\ntags: [listening]\n---\nHello.\n"
    assert tidy_entry(sent, None, ORDER) == expected


def test_entries_are_written_as_a_block() -> None:
    order = form_order("content/programs/x.md", None)
    sent = "---\ntitle: Group\nskills: [{name: Mindfulness, summary: Noticing.}]\n---\nText.\n"
    expected = "---\ntitle: Group\nskills:\n- name: Mindfulness\n  summary: Noticing.\n---\nText.\n"
    assert tidy_entry(sent, None, order) == expected


# --- the local backend ------------------------------------------------------------------------------------


def test_the_backend_reads_and_writes_only_under_content_and_the_media_folder(tmp_path: Path) -> None:
    source = lay_out(tmp_path / "src", {"content/articles/a.md": OLD})
    backend = Backend(source)
    listed = backend.answer("entriesByFolder", {"folder": "content/articles", "extension": "md", "depth": 2})
    assert [entry["file"]["path"] for entry in listed] == ["content/articles/a.md"]
    assert listed[0]["data"] == OLD
    assert backend.answer("getMedia", {"mediaFolder": cms.MEDIA_FOLDER}) == []
    picture = {"path": "static/images/a.png", "content": "iVBORw0KGgo=", "encoding": "base64"}
    assert backend.answer("persistMedia", {"asset": picture})["name"] == "a.png"
    assert (source / "static/images/a.png").read_bytes() == b"\x89PNG\r\n\x1a\n"
    for path in ("site.yaml", "templates/base.html", "content/../site.yaml", "static/style.css", "/etc/passwd"):
        with pytest.raises(Refused):
            backend.answer("getEntry", {"path": path})
        with pytest.raises(Refused):
            backend.answer("persistEntry", {"entry": {"path": path, "raw": "x"}, "assets": []})
    with pytest.raises(Refused):
        backend.answer("deleteFile", {"path": "content/../templates/base.html"})
    assert (source / "templates/base.html").is_file()


def test_a_symbolic_link_out_of_the_site_is_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    source = lay_out(tmp_path / "src", {})
    (source / "content").mkdir(exist_ok=True)
    (source / "content" / "articles").symlink_to(outside)
    with pytest.raises(Refused, match="outside"):
        Backend(source).answer("persistEntry", {"entry": {"path": "content/articles/x.md", "raw": "x"}, "assets": []})
    assert list(outside.iterdir()) == []


def test_persist_entry_tidies_and_a_new_bundle_builds(tmp_path: Path, build: Callable[..., Run]) -> None:
    source = lay_out(tmp_path / "src", {"content/articles/a.md": OLD})
    backend = Backend(source)
    sent = "---\ntitle: New one\ndraft: true\ndate: '2026-11-02'\ntags: [a]\n---\n## Part\n\n[Home](/)\n"
    backend.answer("persistEntry", {"entry": {"path": "content/articles/new-one/index.md", "raw": sent}, "assets": []})
    written = (source / "content/articles/new-one/index.md").read_text(encoding="utf-8")
    assert written.startswith("---\ntitle: New one\ndraft: true\ndate: 2026-11-02\n")
    assert build(source, "--drafts").code == 0
    assert (source / "site/articles/new-one/index.html").is_file()
    missing = backend.answer("getEntry", {"path": "content/articles/nothing/index.md"})
    assert missing == {"data": None, "file": {"path": "content/articles/nothing/index.md", "id": None}}


# --- serve --cms over HTTP --------------------------------------------------------------------------------


def post(port: int, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    """Return the status and body of one POST to the local backend."""
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    try:
        connection.request("POST", cms.LOCAL_API, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


@needs_bundle
def test_serve_answers_the_editor_only_with_cms_and_only_its_own_pages(tmp_path: Path) -> None:
    source = with_bundle(lay_out(tmp_path / "src", {"site.yaml": CONFIG + CMS_YAML}))
    info = json.dumps({"action": "info"}).encode()
    plain = Served(source, "--port", "0")
    try:
        own = {"Origin": f"http://127.0.0.1:{plain.port}", "Content-Type": "application/json"}
        assert post(plain.port, info, own)[0] != 200
    finally:
        plain.stop()
    server = Served(source, "--cms", "--port", "0")
    try:
        port = server.port
        own = {"Origin": f"http://127.0.0.1:{port}", "Content-Type": "application/json"}
        status, body = post(port, info, own)
        assert status == 200 and json.loads(body)["type"] == "local_fs"
        assert post(port, info, {**own, "Origin": "http://evil.example"})[0] == 403
        assert post(port, info, {"Content-Type": "application/json"})[0] == 403
        assert post(port, info, {**own, "Host": "evil.example"})[0] == 403
        assert post(port, info, {**own, "Content-Type": "text/plain"})[0] == 415
        escape = json.dumps({"action": "getEntry", "params": {"path": "content/../site.yaml"}}).encode()
        status, body = post(port, escape, own)
        assert status == 422 and b"title: Test Site" not in body
        status, page = http(port, "/admin/")
        assert status == 200 and "livereload" not in page
        status, settings = http(port, "/admin/config.yml")
        assert yaml.safe_load(settings)["local_backend"] == {"url": f"http://127.0.0.1:{port}{cms.LOCAL_API}"}
    finally:
        server.stop()


def test_cms_listens_only_on_this_computer(site: Callable[..., Path], capsys: pytest.CaptureFixture[str]) -> None:
    result = run(capsys, "serve", "--source", str(site()), "--cms", "--host", "0.0.0.0", "--port", "0")
    assert result.code == 1
    assert "--cms writes files for whoever can reach the server" in result.err


def test_the_publish_workflow_installs_the_script_only_for_a_site_with_cms() -> None:
    workflow = yaml.safe_load((REPO / ".github/workflows/publish.yml").read_text(encoding="utf-8"))
    names = [step.get("name") for step in workflow["jobs"]["build"]["steps"]]
    install = workflow["jobs"]["build"]["steps"][names.index("Install the browser editor's script")]
    assert names.index("Install the browser editor's script") < names.index("Build")
    assert "grep -q '^cms:' site.yaml" in install["run"] and "npm ci" in install["run"]


# --- page bundles: an article's folder and the pictures beside it -------------------------------------------


def test_new_articles_keep_the_pictures_of_their_text_beside_them() -> None:
    articles = collections(site_config())["articles"]
    assert (articles["media_folder"], articles["public_folder"]) == ("", "")  # the entry's own folder
    image = next(entry for entry in articles["fields"] if entry["name"] == "image")
    assert image["media_folder"] == image["public_folder"] == "/" + cms.MEDIA_FOLDER  # a site path, as it must be
    assert "media_folder" not in collections(site_config())["programs"]


PDF = b"%PDF-1.4 a handout"


def test_a_bundles_files_are_published_beside_it_and_its_pictures_through_images(
    site: Callable[..., Path], build: Callable[..., Run]
) -> None:
    source = site(
        {
            "content/articles/trust/index.md": (
                "---\ntitle: Trust\ndate: 2026-01-02\n---\n![Two people](photo.png)\n\n[The handout](notes.pdf)\n"
            ),
            "content/articles/trust/photo.png": _png(),
            "content/articles/trust/notes.pdf": PDF,
            "content/articles/later/index.md": "---\ntitle: Later\ndate: 2026-01-03\ndraft: true\n---\nSoon.\n",
            "content/articles/later/draft.pdf": PDF,
            "content/articles/flat.md": "---\ntitle: Flat\ndate: 2026-01-04\n---\nText.\n",
            "content/articles/notes.txt": "not beside a bundle",
        }
    )
    assert build(source).code == 0
    out = source / "site"
    assert (out / "articles/trust/notes.pdf").read_bytes() == PDF
    page = BeautifulSoup((out / "articles/trust/index.html").read_text(encoding="utf-8"), "html.parser")
    assert page.find("a", string="The handout")["href"] == "notes.pdf"
    # the picture is published resized and stripped by images.py, never as it is beside the page
    assert page.find("img", alt="Two people").find_parent("picture") is not None
    assert not (out / "articles/trust/photo.png").exists()
    assert not (out / "articles/later").exists()  # a draft's files wait with it
    assert not (out / "articles/notes.txt").exists() and (out / "articles/flat/index.html").is_file()
    assert build(source, "--drafts").code == 0
    assert (out / "articles/later/draft.pdf").read_bytes() == PDF


def _png() -> bytes:
    """Return a small real PNG."""
    from io import BytesIO

    from PIL import Image

    data = BytesIO()
    Image.new("RGB", (64, 48), (200, 120, 40)).save(data, "PNG")
    return data.getvalue()


def test_a_file_beside_a_bundle_cannot_replace_the_page(site: Callable[..., Path], build: Callable[..., Run]) -> None:
    source = site(
        {
            "content/articles/trust/index.md": "---\ntitle: Trust\ndate: 2026-01-02\n---\nText.\n",
            "content/articles/trust/INDEX.html": "<script>alert(1)</script>",
        }
    )
    result = build(source)
    assert result.code == 1
    assert (
        "content/articles/trust/INDEX.html: file beside the page cannot be published "
        "(expected a name the page's own files do not use, got 'INDEX.html')"
    ) in result.err


def test_a_renamed_bundle_moves_with_its_pictures(tmp_path: Path) -> None:
    source = lay_out(tmp_path / "src", {"content/articles/old/index.md": OLD, "content/articles/old/a.png": "png"})
    raw = OLD.replace("The text.", "New text.")
    entry = {"path": "content/articles/old/index.md", "newPath": "content/articles/new/index.md", "raw": raw}
    Backend(source).answer("persistEntry", {"dataFiles": [entry], "assets": []})
    assert not (source / "content/articles/old").exists()
    assert (source / "content/articles/new/a.png").read_text(encoding="utf-8") == "png"
    assert "New text." in (source / "content/articles/new/index.md").read_text(encoding="utf-8")


def test_links_in_content_are_not_listed_and_broken_front_matter_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "secret.md"
    outside.write_text("---\ntitle: secret\n---\n", encoding="utf-8")
    source = lay_out(tmp_path / "src", {"content/articles/a.md": OLD})
    (source / "content/articles/b.md").symlink_to(outside)
    backend = Backend(source)
    listed = backend.answer("entriesByFolder", {"folder": "content/articles", "extension": "md", "depth": 2})
    assert [entry["file"]["path"] for entry in listed] == ["content/articles/a.md"]
    with pytest.raises(Refused):
        backend.answer("getEntry", {"path": "content/articles/b.md"})
    with pytest.raises(Refused):
        backend.answer("persistEntry", {"entry": {"path": "content/articles/a.md", "raw": "---\n- a list\n---\n"}})


def test_cms_without_a_cms_section_says_what_to_add(
    site: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    result = run(capsys, "serve", "--source", str(site()), "--cms", "--port", "0")
    assert result.code == 1
    assert "--cms has no editor to serve: site.yaml has no `cms:` section" in result.err
