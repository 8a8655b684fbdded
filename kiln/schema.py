"""The front matter schema: one table of field definitions, read by parsing, `new`, the docs and the CMS.

Each `Field` says which kinds of page have it, its type, whether it is required, what applies when it is
absent and one line of help. Parsing reads every field of a page's kind by its type (`read_fields`), and the
same rows make the front matter table of docs/editors.md (`markdown_table`) and the skeleton `new` writes (`skeleton`).
Fields a site declares in site.yaml (`fields:`) are appended to the table and reach templates as
`page.extra.<name>`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from .fields import Fields
from .urls import https_problem, split_url

KINDS = ("article", "program", "page", "author")
ALL = KINDS
PAGES = ("article", "program", "page")  # what has a title; an author has a name instead
# What each type is called for people (docs, error hints), and the types a site may declare in site.yaml.
TYPE_NAMES = {
    "text": "text",
    "markdown": "markdown text",
    "bool": "true/false",
    "integer": "whole number",
    "number": "number",
    "date": "date",
    "datetime": "date and time",
    "list": "list of texts",
    "urls": "list of `https://` URLs",
    "currency": "three-letter currency code",
    "url": "`https://` URL",
    "image": "file beside the text, `/static/…` path or `https://` URL",
    "alt": "text (`''` for a decorative picture)",
    "slug": "lower-case text",
    "choice": "one of a few words",
    "entries": "list of entries",
}
CUSTOM_TYPES = {"text": "text", "number": "number", "bool": "bool", "date": "date", "list": "list", "url": "url"}
CUSTOM_NAME = re.compile(r"[a-z][a-z0-9_]{0,39}\Z")
CURRENCY = re.compile(r"[A-Z]{3}\Z")


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
            names = [
                f"`{entry.name}`"
                + ("" if entry.type == "text" else f" ({entry.type_name})")
                + ("" if entry.required else " (optional)")
                for entry in self.entries
            ]
            return "list of " + ", ".join(names)
        if self.ref is not None:
            return f"{'an' if self.ref[0] in 'aeiou' else 'a'} {self.ref}'s slug"
        if self.type == "choice":
            return " or ".join(f"`{choice}`" for choice in self.choices)
        return TYPE_NAMES[self.type]


FIELDS: tuple[Field, ...] = (
    Field(
        "title",
        "text",
        PAGES,
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
    Field("draft", "bool", PAGES, "not published; shown in `serve` with a banner", "true", default="false"),
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
    Field(
        "author",
        "text",
        ("article",),
        'who wrote it: "Written by …" near the top, linked to the author\'s page',
        "dana-reyes",
        default="`author` in site.yaml",
        rule="or a plain name such as `Dana Reyes`, which has no page",
        ref="author",
    ),
    Field(
        "reviewed_by",
        "slug",
        ("article",),
        'who checked it: "Reviewed by Name, Credentials, on date" near the top',
        "sam-okafor",
        ref="author",
    ),
    Field("reviewed", "date", ("article",), "when that review was done (`check` warns when it gets old)", "2026-11-30"),
    Field("tags", "list", ("article",), "topic pages at `/tags/<tag>/`", "[trust, communication]", starter=True),
    Field("image", "image", ("article",), "the picture at the top and in link previews", "bench.jpg"),
    Field(
        "image_alt",
        "alt",
        ("article",),
        "what `image` shows, for people who cannot see it; `''` when it is only decoration",
        "Two people talking on a park bench",
    ),
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
    Field("price_amount", "number", ("program",), "the price as a number, for search engines", "60"),
    Field(
        "price_currency",
        "currency",
        ("program",),
        "the price's currency, for search engines",
        "USD",
        default="USD",
        rule="such as USD or EUR",
    ),
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
    Field(
        "cohorts",
        "entries",
        ("program",),
        'the groups that start: upcoming ones are listed with "Add to calendar", started ones hidden',
        "- start: 2027-01-12 18:00",
        entries=(
            Field(
                "start",
                "datetime",
                (),
                "the first meeting (site's time zone unless an offset is given)",
                "2027-01-12 18:00",
                required=True,
            ),
            Field(
                "status",
                "choice",
                (),
                "whether seats are left",
                "open",
                required=True,
                choices=("open", "waitlist", "full"),
            ),
            Field("note", "text", (), "one line shown beside it", "Two seats left"),
        ),
    ),
    Field("session_minutes", "integer", ("program",), "how long one meeting lasts (for calendars)", "90", minimum=1),
    Field(
        "waitlist_url",
        "url",
        ("program",),
        '"Join the waitlist" when no cohort is open',
        "https://forms.example.org/dbt-waitlist",
        default="the signup form",
    ),
    Field(
        "faq",
        "entries",
        ("program",),
        "questions and answers, shown as headed questions",
        "- q: Do I need a camera?",
        entries=(
            Field("q", "text", (), "the question", "Do I need a camera?", required=True),
            Field(
                "a", "markdown", (), "the answer, in markdown", "It helps, but you can join by phone.", required=True
            ),
        ),
    ),
    Field("name", "text", ("author",), "the person's name, as bylines show it", "Dana Reyes", required=True),
    Field("credentials", "text", ("author",), "degrees and licences after the name", "LCSW"),
    Field("role", "text", ("author",), "what they do", "Clinical social worker"),
    Field("photo", "image", ("author",), "their picture on their page", "dana-reyes.jpg"),
    Field(
        "links",
        "urls",
        ("author",),
        "a licence lookup, a professional profile",
        "[https://www.example.org/licence/123]",
    ),
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


EMPTY: dict[str, Any] = {"bool": False, "list": (), "urls": (), "entries": ()}


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
    """Return an image reference: a file beside the markdown file, a site path such as /static/x.jpg, or https."""
    value = fields.text(field.name)
    parts = split_url(value) if value is not None else None
    if value is None or parts is not None and not parts.scheme and not parts.netloc:
        return value  # a local file, or none: images.py finds and checks it
    return fields.https_url(field.name)


def _alt(fields: Fields, field: Field, zone: ZoneInfo) -> str | None:
    """Return a text alternative: '' when the front matter says, with an empty text, that the image is decorative."""
    value = fields.data[field.name]
    if isinstance(value, str) and not value.strip():
        return ""
    return fields.text(field.name)


def _datetime(fields: Fields, field: Field, zone: ZoneInfo) -> dt.datetime | None:
    """Return a date with a time of day; a date alone is refused (midnight is rarely meant)."""
    value = fields.data[field.name]
    if (
        isinstance(value, dt.date)
        and not isinstance(value, dt.datetime)
        or (isinstance(value, str) and len(value.strip()) <= len("2027-01-12"))
    ):
        fields.wrong(field.name, "has no time of day", "expected a date and time such as 2027-01-12 18:00")
        return None
    return fields.date(field.name, zone, required=field.required)


def _urls(fields: Fields, field: Field, zone: ZoneInfo) -> tuple[str, ...]:
    """Return a list of https URLs."""
    found = []
    for url in fields.text_list(field.name):
        if problem := https_problem(url):
            fields.problems.error(
                f"`{fields.prefix}{field.name}` lists an unsafe link", fields.path, fields.line(field.name), problem
            )
        else:
            found.append(url)
    return tuple(found)


def _currency(fields: Fields, field: Field, zone: ZoneInfo) -> str | None:
    """Return a three-letter ISO 4217 currency code."""
    value = fields.text(field.name)
    if value is not None and not CURRENCY.match(value):
        fields.wrong(field.name, "is not a currency code", "expected three capital letters such as USD or EUR")
        return None
    return value


READERS: dict[str, Callable[[Fields, Field, ZoneInfo], Any]] = {
    "text": lambda fields, field, zone: fields.text(field.name, required=field.required, example=field.example),
    "markdown": lambda fields, field, zone: fields.text(field.name, required=field.required, example=field.example),
    "slug": lambda fields, field, zone: fields.text(field.name, required=field.required, example=field.example),
    "bool": lambda fields, field, zone: fields.boolean(field.name),
    "integer": lambda fields, field, zone: fields.integer(field.name, field.minimum or 0),
    "number": lambda fields, field, zone: fields.number(field.name),
    "date": lambda fields, field, zone: fields.date(field.name, zone, required=field.required),
    "datetime": _datetime,
    "urls": _urls,
    "currency": _currency,
    "list": lambda fields, field, zone: fields.text_list(field.name),
    "url": lambda fields, field, zone: fields.https_url(field.name),
    "choice": lambda fields, field, zone: fields.choice(field.name, field.choices),
    "image": _image,
    "alt": _alt,
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
