"""The front matter schema: one table of field definitions, read by parsing, `new`, the docs and the CMS.

Each `Field` says which kinds of page have it, its type, whether it is required, what applies when it is
absent and one line of help. Parsing reads every field of a page's kind by its type (`read_fields`), and the
same rows make the README's front matter table (`markdown_table`) and the skeleton `new` writes (`skeleton`).
Fields a site declares in site.yaml (`fields:`) are appended to the table and reach templates as
`page.extra.<name>`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from .fields import Fields

KINDS = ("article", "program", "page")
ALL = KINDS
# What each type is called for people (README, error hints), and the types a site may declare in site.yaml.
TYPE_NAMES = {
    "text": "text",
    "markdown": "markdown text",
    "bool": "true/false",
    "integer": "whole number",
    "number": "number",
    "date": "date",
    "list": "list of texts",
    "url": "`https://` URL",
    "image": "`/static/…` path or `https://` URL",
    "slug": "lower-case text",
    "choice": "one of a few words",
    "entries": "list of entries",
}
CUSTOM_TYPES = {"text": "text", "number": "number", "bool": "bool", "date": "date", "list": "list", "url": "url"}
CUSTOM_NAME = re.compile(r"[a-z][a-z0-9_]{0,39}\Z")


@dataclass(frozen=True)
class Field:
    """One front matter field: who has it, of what type, and what an editor is told about it."""

    name: str
    type: str  # a key of TYPE_NAMES
    kinds: tuple[str, ...]
    help: str  # one line: what the field does
    example: str = ""  # a value as written in YAML
    required: bool = False
    default: str | None = None  # what applies when the field is absent, said for people
    rule: str | None = None  # a limit beyond the type, said for people
    minimum: int | None = None  # integer: the smallest value accepted
    limit: int | None = None  # text: the length `check` warns above (the build accepts longer)
    choices: tuple[str, ...] = ()  # choice: the accepted words
    entries: tuple[Field, ...] = ()  # entries: the fields of each entry
    starter: bool = False  # `new` writes it into the skeleton, empty, for the editor to fill in
    custom: bool = False  # declared in site.yaml; reaches templates as page.extra.<name>
    ref: str | None = None  # the kind of page whose slug the value names (the CMS offers a choice of them)

    @property
    def type_name(self) -> str:
        """Return the type as people call it, with the entries' fields for a list of entries."""
        if self.type == "entries":
            names = [f"`{entry.name}`" + ("" if entry.required else " (optional)") for entry in self.entries]
            return "list of " + ", ".join(names)
        if self.ref is not None:
            return f"a {self.ref}'s slug"
        if self.type == "choice":
            return " or ".join(f"`{choice}`" for choice in self.choices)
        return TYPE_NAMES[self.type]


FIELDS: tuple[Field, ...] = (
    Field(
        "title",
        "text",
        ALL,
        "the page's heading and `<title>`; a text that starts with `# A heading` may leave it out",
        "A clear title",
        required=True,
    ),
    Field(
        "description",
        "text",
        ALL,
        "search results and link previews",
        "How to rebuild trust after a fight.",
        default="the first paragraph",
        limit=160,
        rule="at most 160 characters",
    ),
    Field("draft", "bool", ALL, "not published; shown in `serve` with a banner", "true", default="false"),
    Field(
        "slug",
        "slug",
        ALL,
        "the last part of the URL",
        "trust-after-a-fight",
        default="from the file name",
        rule="letters, digits and hyphens",
    ),
    Field(
        "aliases",
        "list",
        ALL,
        "old URLs that now lead to this page",
        "[/old-trust-article/]",
        rule="each starting with /",
    ),
    Field(
        "date",
        "date",
        ("article",),
        "publication date; a future date publishes on that day",
        "2026-11-27",
        required=True,
    ),
    Field("updated", "date", ("article", "page"), "when the text last changed meaningfully", "2026-12-02"),
    Field("author", "text", ("article",), "who wrote it", "Dana Reyes", default="`author` in site.yaml"),
    Field("tags", "list", ("article",), "topic pages at `/tags/<tag>/`", "[trust, communication]", starter=True),
    Field("image", "image", ("article",), "the picture for link previews", "/static/trust.jpg"),
    Field(
        "program",
        "slug",
        ("article",),
        "shows a box that leads to that program's page",
        "dbt-skills-group",
        ref="program",
    ),
    Field(
        "signup_url",
        "url",
        ("program",),
        "the signup form",
        "https://forms.example.org/dbt",
        default="`signup_url` in site.yaml",
    ),
    Field("duration_weeks", "integer", ("program",), "length, in weeks", "12", minimum=1, starter=True),
    Field("schedule", "text", ("program",), "when the group meets", "Tuesdays, 6–7:30 pm ET", starter=True),
    Field("format", "text", ("program",), "how it runs", "Live online group", starter=True),
    Field("price", "text", ("program",), "what it costs", "$60 a week", starter=True),
    Field("next_start", "date", ("program",), "when the next group starts", "2027-01-12", starter=True),
    Field("facilitator", "text", ("program",), "who leads it", "Dana Reyes, LCSW", starter=True),
    Field(
        "skills",
        "entries",
        ("program",),
        '"Skills you will practise"',
        "- name: Mindfulness",
        entries=(
            Field("name", "text", (), "the skill", "Mindfulness", required=True),
            Field("summary", "text", (), "one sentence about it", "Noticing what is happening now."),
        ),
    ),
    Field("steps", "list", ("program",), '"How joining works"', "- Enrol on the form."),
)


def fields_for(kind: str, custom: Iterable[Field] = ()) -> tuple[Field, ...]:
    """Return the fields a kind of page has: ours in table order, then the site's own."""
    return tuple(field for field in (*FIELDS, *custom) if kind in field.kinds)


def field_named(name: str) -> Field:
    """Return one of our fields by name."""
    return next(field for field in FIELDS if field.name == name)


def read_fields(fields: Fields, schema: Iterable[Field], zone: ZoneInfo) -> dict[str, Any]:
    """Return every field's value, read by its type; each wrong value becomes a problem at its line."""
    schema = tuple(schema)
    fields.warn_unknown(tuple(field.name for field in schema))
    return {field.name: read_value(fields, field, zone) for field in schema}


def read_value(fields: Fields, field: Field, zone: ZoneInfo) -> Any:
    """Return one field's value of its type, or its empty value when it is absent or wrong."""
    name = field.name
    if not fields.present(name):
        if field.required:
            fields.missing(name, field.example)
        return EMPTY.get(field.type)
    return READERS[field.type](fields, field, zone)


EMPTY: dict[str, Any] = {"bool": False, "list": (), "entries": ()}


def _entries(fields: Fields, field: Field, zone: ZoneInfo) -> tuple[dict[str, Any], ...]:
    """Return a list of small mappings, each entry's fields read by their own types."""
    value = fields.data[field.name]
    required = [entry.name for entry in field.entries if entry.required]
    if isinstance(value, list) and len(required) == 1 and all(isinstance(item, str) for item in value):
        value = [{required[0]: item} for item in value if item.strip()]  # `- Mindfulness` names the one required
    allowed = {entry.name for entry in field.entries}
    if not isinstance(value, list) or not all(
        isinstance(item, dict) and set(map(str, item)) <= allowed for item in value
    ):
        optional = [entry.name for entry in field.entries if not entry.required]
        expected = f"expected a list of entries with {', '.join(required)}" + (
            f" and optionally {', '.join(optional)}" if optional else ""
        )
        fields.wrong(name=field.name, what="has the wrong shape", expected=expected)
        return ()
    line = fields.line(field.name)
    found = []
    for number, item in enumerate(value, start=1):
        inner = Fields({str(k): v for k, v in item.items()}, {}, fields.path, fields.problems, line)
        inner = inner.within(f"{field.name}[{number}].")
        found.append({entry.name: read_value(inner, entry, zone) for entry in field.entries})
    return tuple(found)


def _image(fields: Fields, field: Field, zone: ZoneInfo) -> str | None:
    """Return an image reference: a site path such as /static/x.jpg, or an https URL."""
    value = fields.text(field.name)
    if value is None or value.startswith("/") and not value.startswith("//"):
        return value
    return fields.https_url(field.name)


READERS: dict[str, Callable[[Fields, Field, ZoneInfo], Any]] = {
    "text": lambda fields, field, zone: fields.text(field.name, required=field.required, example=field.example),
    "markdown": lambda fields, field, zone: fields.text(field.name, required=field.required, example=field.example),
    "slug": lambda fields, field, zone: fields.text(field.name, required=field.required, example=field.example),
    "bool": lambda fields, field, zone: fields.boolean(field.name),
    "integer": lambda fields, field, zone: fields.integer(field.name, field.minimum or 0),
    "number": lambda fields, field, zone: fields.number(field.name),
    "date": lambda fields, field, zone: fields.date(field.name, zone, required=field.required),
    "list": lambda fields, field, zone: fields.text_list(field.name),
    "url": lambda fields, field, zone: fields.https_url(field.name),
    "choice": lambda fields, field, zone: fields.choice(field.name, field.choices),
    "image": _image,
    "entries": _entries,
}


def parse_custom(fields: Fields) -> tuple[Field, ...]:
    """Return the fields site.yaml declares under `fields:`, each `name: type` or `name: {type:, for:, help:}`."""
    if not fields.present("fields"):
        return ()
    declared = fields.data["fields"]
    line = fields.line("fields")
    expected = f"expected `name: type` lines with a type among {', '.join(CUSTOM_TYPES)}"
    if not isinstance(declared, dict):
        fields.wrong(name="fields", what="must be a mapping of field names to types", expected=expected)
        return ()
    ours = {field.name for field in FIELDS}
    found: list[Field] = []
    for name, spec in declared.items():
        details = spec if isinstance(spec, dict) else {"type": spec}
        type_, kinds, help_ = details.get("type"), details.get("for", list(KINDS)), details.get("help", "")
        kinds = [kinds] if isinstance(kinds, str) else kinds
        problem = _custom_problem(str(name), type_, kinds, help_, set(details), ours)
        if problem:
            fields.problems.error(f"custom field `{name}` cannot be declared", fields.path, line, problem)
            continue
        found.append(
            Field(str(name), CUSTOM_TYPES[str(type_)], tuple(k for k in KINDS if k in kinds), help_ or "", custom=True)
        )
    return tuple(found)


def _custom_problem(name: str, type_: object, kinds: object, help_: object, keys: set[str], ours: set[str]) -> str:
    """Return what is wrong with one declared field, or '' when it can be used."""
    if not CUSTOM_NAME.match(name):
        return f"expected a name of lower-case letters, digits and _, starting with a letter, got {name!r}"
    if name in ours:
        return f"expected a name that is not one of ours (`{name}` already means something), got {name!r}"
    if not keys <= {"type", "for", "help"}:
        return f"expected only type, for and help, got {', '.join(sorted(keys - {'type', 'for', 'help'}))}"
    if type_ not in CUSTOM_TYPES:
        return f"expected a type among {', '.join(CUSTOM_TYPES)}, got {type_!r}"
    if not isinstance(kinds, list) or not kinds or not set(kinds) <= set(KINDS):
        return f"expected `for:` to list kinds among {', '.join(KINDS)}, got {kinds!r}"
    if not isinstance(help_, str):
        return f"expected `help:` to be one line of text, got {help_!r}"
    return ""


def markdown_table(custom: Iterable[Field] = ()) -> str:
    """Return the front matter table of the docs: one row per field, in table order."""
    rows = [
        "| field | for | required | type | example | what it does |",
        "|---|---|---|---|---|---|",
    ]
    for field in (*FIELDS, *custom):
        kinds = "all" if field.kinds == ALL else ", ".join(f"{kind}s" for kind in field.kinds)
        rule = f", {field.rule}" if field.rule else ""
        default = f" (default: {field.default})" if field.default else ""
        example = f"`{field.example}`" if field.example else ""
        required = "yes" if field.required else "no"
        rows.append(
            f"| `{field.name}` | {kinds} | {required} | {field.type_name}{rule} | {example} | {field.help}{default} |"
        )
    return "\n".join(rows) + "\n"


def skeleton(kind: str, values: Mapping[str, str], custom: Iterable[Field] = ()) -> str:
    """Return the front matter `new` writes: the given values, the starter fields empty, the rest as comments."""
    lines = ["---"]
    for field in fields_for(kind, custom):
        example = f", e.g. {field.example}" if field.example else ""
        if field.name in values:
            lines.append(f"{field.name}: {values[field.name]}")
        elif field.starter:
            lines.append(f"{field.name}:  # {field.help} ({field.type_name}{example})")
        elif not field.required:
            lines.append(f"# {field.name}:  {field.help} ({field.type_name}{example})")
    return "\n".join([*lines, "---"]) + "\n"
