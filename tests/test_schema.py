"""The front matter schema: one table that parsing, `new`, the docs and site.yaml's own fields all follow."""

from __future__ import annotations

import dataclasses
import importlib.util
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from conftest import CONFIG, REPO, Run, run, soup

from kiln.content import Page
from kiln.schema import FIELDS, KINDS, fields_for, markdown_table

Site = Callable[..., Path]
Build = Callable[..., Run]

CUSTOM = (
    CONFIG
    + """\
fields:
  category: text
  reading_level: number
  audience: {type: list, for: [article], help: who the article is written for}
  featured: bool
  launched: date
  source: url
"""
)
# A template that shows what a page's own fields hold, so the test reads them as a reader of the page would.
SHOWN = """\
<!doctype html><html lang="en"><title>{{ page.title }}</title>
<dl>
{% for name, value in page.extra | dictsort %}<dt>{{ name }}</dt><dd class="{{ name }}">{{ value }}</dd>
{% endfor %}</dl>
"""


def test_every_field_of_a_kind_is_a_page_attribute() -> None:
    page_fields = {field.name for field in dataclasses.fields(Page)}
    for kind in KINDS:
        for field in fields_for(kind):
            assert field.name == "slug" or field.name in page_fields, f"{field.name} reaches no Page attribute"


def test_the_docs_front_matter_table_is_the_schemas() -> None:
    readme = (REPO / "docs" / "editors.md").read_text(encoding="utf-8")
    table = readme.split("<!-- fields:", 1)[1].split("\n", 1)[1].split("<!-- /fields -->", 1)[0]
    assert table == markdown_table(), "run `python scripts/fields_table.py --write` after changing kiln/schema.py"
    assert [line.split("`")[1] for line in table.splitlines()[2:]] == [field.name for field in FIELDS]


def test_fields_table_script_rewrites_only_the_table() -> None:
    spec = importlib.util.spec_from_file_location("fields_table", REPO / "scripts" / "fields_table.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    stale = "before\n<!-- fields: note -->\n| old | table |\n<!-- /fields -->\nafter\n"
    assert module.with_table(stale) == f"before\n<!-- fields: note -->\n{markdown_table()}<!-- /fields -->\nafter\n"


@pytest.mark.parametrize("kind", ["article", "program"])
def test_new_writes_every_field_of_its_kind_from_the_table(
    site: Site, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    source = site({"site.yaml": CUSTOM})
    assert run(capsys, "new", kind, "A title", "--source", str(source)).code == 0
    [path] = (source / "content").rglob("*.md")
    front = path.read_text(encoding="utf-8").split("---\n")[1]
    written = [line.lstrip("# ").split(":")[0] for line in front.splitlines()]
    assert written == [field.name for field in fields_for(kind, _declared(source))]
    values = yaml.safe_load(front)
    assert values["draft"] is True and values["title"] == "A title"


def test_new_author_writes_the_author_fields_from_the_table(site: Site, capsys: pytest.CaptureFixture[str]) -> None:
    source = site()
    assert run(capsys, "new", "author", "Dana Reyes", "--source", str(source)).code == 0
    path = source / "content" / "authors" / "dana-reyes.md"
    front = path.read_text(encoding="utf-8").split("---\n")[1]
    written = [line.lstrip("# ").split(":")[0] for line in front.splitlines()]
    assert written == [field.name for field in fields_for("author")]
    assert yaml.safe_load(front)["name"] == "Dana Reyes"
    assert run(capsys, "build", "--source", str(source)).code == 0
    assert (source / "site" / "authors" / "dana-reyes" / "index.html").is_file()


def _declared(source: Path) -> tuple[object, ...]:
    """Return the fields the test site's site.yaml declares, as the build reads them."""
    from kiln.config import parse_config
    from kiln.errors import Problems

    config = parse_config((source / "site.yaml").read_text(encoding="utf-8"), Path("site.yaml"), Problems())
    assert config is not None
    return config.fields


def test_declared_fields_reach_templates_as_page_extra(site: Site, build: Build) -> None:
    source = site(
        {
            "site.yaml": CUSTOM,
            "templates/article.html": SHOWN,
            "templates/page.html": SHOWN,
            "content/articles/a.md": (
                "---\ntitle: A\ndate: 2026-01-02\ncategory: Couples\nreading_level: 6.5\n"
                "audience: [partners, parents]\nfeatured: true\nlaunched: 2026-01-01 09:30\nsource: https://example.org/x\n---\nText.\n"
            ),
            "content/pages/about.md": "---\ntitle: About\ncategory: Us\n---\nText.\n",
        }
    )
    result = build(source)
    assert result.code == 0, result.err
    assert result.err == ""
    article = soup(source / "site/articles/a/index.html")
    shown = {dd["class"][0]: dd.get_text() for dd in article.select("dd")}
    assert shown == {
        "category": "Couples",
        "reading_level": "6.5",
        "audience": "('partners', 'parents')",
        "featured": "True",
        "launched": "2026-01-01 09:30:00+00:00",
        "source": "https://example.org/x",
    }
    about = soup(source / "site/about/index.html")
    # `audience` is for articles only; the others are on every kind, None where the page leaves them out
    assert {dd["class"][0]: dd.get_text() for dd in about.select("dd")} == {
        "category": "Us",
        "reading_level": "None",
        "featured": "False",
        "launched": "None",
        "source": "None",
    }


def test_declared_fields_are_type_checked_with_file_and_line(site: Site, build: Build) -> None:
    source = site(
        {
            "site.yaml": CUSTOM,
            "content/articles/a.md": (
                "---\ntitle: A\ndate: 2026-01-02\nreading_level: easy\nfeatured: yes please\nsource: http://x.org/\n"
                "audience: 5\n---\nT.\n"
            ),
        }
    )
    result = build(source)
    assert result.code == 1
    assert result.err.splitlines()[:4] == [
        "content/articles/a.md:4: `reading_level` must be a number (expected a number such as 3 or 7.5, got 'easy')",
        "content/articles/a.md:5: `featured` must be true or false (expected true or false, got 'yes please')",
        "content/articles/a.md:6: `source` is not a safe link (expected an absolute https:// URL, got 'http:')",
        "content/articles/a.md:7: `audience` must be a list of texts (expected a list such as [relationships, trust], "
        "got 5)",
    ]


def test_undeclared_fields_stay_a_warning_and_declared_ones_do_not_warn(site: Site, build: Build) -> None:
    source = site(
        {
            "site.yaml": CUSTOM,
            "content/articles/a.md": "---\ntitle: A\ndate: 2026-01-02\ncategory: x\nlayout: post\n---\nT.\n",
            "content/programs/p.md": "---\ntitle: P\naudience: [x]\n---\nT.\n",
        }
    )
    result = build(source)
    assert result.code == 0, result.err
    warnings = result.err.splitlines()
    assert len(warnings) == 2
    assert warnings[0].startswith("content/articles/a.md:5: warning: unknown field `layout` is ignored")
    # `audience` is declared for articles only
    assert warnings[1].startswith("content/programs/p.md:3: warning: unknown field `audience` is ignored")


@pytest.mark.parametrize(
    ("declared", "hint"),
    [
        ("  title: text", "expected a name that is not one of ours (`title` already means something), got 'title'"),
        ("  Category: text", "expected a name of lower-case letters, digits and _, starting with a letter"),
        ("  mood: colour", "expected a type among text, number, bool, date, list, url, got 'colour'"),
        ("  mood: {type: text, for: [post]}", "expected `for:` to list kinds among article, program, page"),
        ("  mood: {type: text, colour: red}", "expected only type, for and help, got colour"),
    ],
)
def test_a_bad_declaration_is_an_error_in_site_yaml(site: Site, build: Build, declared: str, hint: str) -> None:
    source = site({"site.yaml": CONFIG + "fields:\n" + declared + "\n"})
    result = build(source)
    assert result.code == 1
    name = declared.split(":")[0].strip()
    first = result.err.splitlines()[0]
    assert first.startswith(f"site.yaml:9: custom field `{name}` cannot be declared ({hint}")


def test_an_entry_of_a_list_names_its_place_when_wrong(site: Site, build: Build) -> None:
    source = site(
        {
            "content/programs/p.md": (
                "---\ntitle: P\nskills:\n  - name: Mindfulness\n  - name: Distress tolerance\n    summary: [a, b]\n"
                "---\nT.\n"
            )
        }
    )
    result = build(source)
    assert result.code == 1
    assert result.err.splitlines()[0] == (
        "content/programs/p.md:3: `skills[2].summary` must be text (expected text, got a list)"
    )
