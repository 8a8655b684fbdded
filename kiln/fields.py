"""YAML mappings with the line of every key, and typed readers that report problems by line."""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from .errors import Problems
from .urls import https_problem

try:  # libyaml's parser is several times faster; the pure-Python one behaves the same.
    from yaml import CSafeLoader as SafeLoader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader  # type: ignore[assignment]

MAX_DEPTH = 64
# Characters XML 1.0 forbids: one in a title or body would make feed.xml unreadable.
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
DATE_HINT = "expected a date such as 2026-11-27, 2026-11-27 18:30 or 2026-11-27T18:30:00+01:00"


def load_mapping(
    text: str, path: Path, first_line: int, problems: Problems
) -> tuple[dict[str, Any], dict[str, int]] | None:
    """Return a YAML mapping and the file line of each key, or None after recording why it cannot be read."""
    loader = SafeLoader(text)
    try:
        if (deep := _too_deep(text)) is not None:
            problems.error(
                "YAML is nested too deeply",
                path,
                first_line + deep,
                f"expected at most {MAX_DEPTH} levels of lists and mappings inside each other",
            )
            return None
        node = loader.get_single_node()
        if node is None:
            return {}, {}
        if not isinstance(node, yaml.MappingNode):
            problems.error(
                f"{'front matter' if path.suffix == '.md' else path.name} is not a mapping",
                path,
                first_line + node.start_mark.line,
                f"expected `key: value` lines, got {_node_kind(node)}",
            )
            return None
        if _has_alias(node):
            problems.error(
                "YAML anchors and aliases (& and *) are not allowed",
                path,
                first_line + node.start_mark.line,
                "write each value out in full",
            )
            return None
        data = loader.construct_document(node)
        lines = {str(key.value): first_line + key.start_mark.line for key, _ in node.value}
        for key, value in data.items():
            if _has_control(key) or _has_control(value):  # recorded, and read on: a field may say more
                problems.error(
                    "YAML value holds a control character",
                    path,
                    lines.get(str(key), first_line),
                    "expected text, got an escape such as \\x01 or \\0; delete it",
                )
    except yaml.MarkedYAMLError as error:
        line, got = _error_place(text, error)
        problems.error(
            f"YAML does not parse: {error.problem or error.context}",
            path,
            first_line + line,
            f"expected `key: value` lines, with quotes around values that contain ': ' or start with a symbol, "
            f"got {got}",
        )
        return None
    except yaml.YAMLError as error:
        problems.error(f"YAML does not parse: {error}", path, first_line)
        return None
    finally:
        loader.dispose()
    return {str(key): value for key, value in data.items()}, lines


def _error_place(text: str, error: yaml.MarkedYAMLError) -> tuple[int, str]:
    """Return the 0-based line a YAML error is about and that line's text, quoted for a message."""
    lines = text.split("\n")
    mark = error.problem_mark or error.context_mark
    if mark is None:
        return 0, "something else"
    left_open = error.context is not None and ("flow" in error.context or "quoted" in error.context)
    if mark.line >= len(lines) or not lines[mark.line].strip() or left_open:
        # a bracket or quote left open is noticed lines later; point at where it was opened
        if error.context_mark is None or error.context_mark.line >= len(lines):
            return min(mark.line, len(lines)), "the end of the block"
        mark = error.context_mark
    return mark.line, shown(lines[mark.line].strip())


def _too_deep(text: str) -> int | None:
    """Return the 0-based line where YAML nests deeper than MAX_DEPTH, or None; libyaml's composer would crash."""
    depth = 0
    try:
        for event in yaml.parse(text, Loader=SafeLoader):
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    return event.start_mark.line if event.start_mark else 0
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.MarkedYAMLError as error:
        # PyYAML 6.0.4 and later stop at a depth of their own; report it the same way
        if "nesting depth" in str(error.problem) and error.problem_mark is not None:
            return error.problem_mark.line
        raise
    return None


def _has_control(value: object) -> bool:
    """Return whether a YAML value holds, at any depth, a character that XML forbids (feed.xml would break)."""
    if isinstance(value, str):
        return NOT_XML.search(value) is not None
    if isinstance(value, dict):
        return any(_has_control(key) or _has_control(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_has_control(item) for item in value)
    return False


def _has_alias(root: yaml.Node) -> bool:
    """Return whether a node tree uses one node twice, as aliases do."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            return True
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            stack.extend(part for pair in node.value for part in pair)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
    return False


def _node_kind(node: yaml.Node) -> str:
    """Return how an editor would call a YAML node's kind."""
    return "a list" if isinstance(node, yaml.SequenceNode) else "a single value"


def shown(value: object) -> str:
    """Return a value as an error message quotes it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value if len(value) <= 60 else value[:57] + "...")
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if value is None:
        return "nothing"
    return str(value)


@dataclass
class Fields:
    """Typed access to one mapping; each wrong value becomes a problem at its key's line."""

    data: Mapping[str, Any]
    lines: Mapping[str, int]
    path: Path
    problems: Problems
    first_line: int
    prefix: str = ""  # how keys are named in messages: "skills[2]." for the fields of an entry of a list

    def within(self, prefix: str) -> Fields:
        """Return the same reader naming its keys with a prefix, for the fields of one entry of a list."""
        return dataclasses.replace(self, prefix=prefix)

    def line(self, key: str) -> int:
        """Return the file line of a key, or of the mapping when the key is missing."""
        return self.lines.get(key, self.first_line)

    def wrong(self, name: str, what: str, expected: str) -> None:
        """Record that a key's value is wrong, quoting it."""
        self.problems.error(
            f"`{self.prefix}{name}` {what}", self.path, self.line(name), f"{expected}, got {shown(self.data[name])}"
        )

    def missing(self, key: str, example: str) -> None:
        """Record that a required key is absent."""
        self.problems.error(
            f"`{self.prefix}{key}` is required",
            self.path,
            self.first_line,
            f"expected a line such as `{key}: {example or '...'}`, got none",
        )

    def present(self, key: str) -> bool:
        """Return whether a key is set to something other than nothing."""
        return self.data.get(key) is not None

    def text(self, key: str, *, required: bool = False, example: str = "...") -> str | None:
        """Return a non-empty text value (numbers are taken as text)."""
        if not self.present(key):
            if required:
                self.missing(key, example)
            return None
        value = self.data[key]
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            self.wrong(key, "must be text", "expected text")
            return None
        text = str(value).strip()
        if not text:
            if required:
                self.missing(key, example)
            return None
        return text

    def boolean(self, key: str, default: bool = False) -> bool:
        """Return a true/false value."""
        if not self.present(key):
            return default
        value = self.data[key]
        if not isinstance(value, bool):
            self.wrong(key, "must be true or false", "expected true or false")
            return default
        return value

    def integer(self, key: str, minimum: int = 1) -> int | None:
        """Return a whole number of at least minimum."""
        if not self.present(key):
            return None
        value = self.data[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            self.wrong(key, "must be a whole number", f"expected a whole number of at least {minimum}")
            return None
        return value

    def number(self, key: str) -> int | float | None:
        """Return a number, whole or not."""
        if not self.present(key):
            return None
        value = self.data[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            self.wrong(key, "must be a number", "expected a number such as 3 or 7.5")
            return None
        return value

    def choice(self, key: str, choices: tuple[str, ...]) -> str | None:
        """Return one of a few accepted words."""
        value = self.text(key)
        if value is not None and value not in choices:
            self.wrong(key, "is not one of the accepted words", f"expected one of {', '.join(choices)}")
            return None
        return value

    def text_list(self, key: str) -> tuple[str, ...]:
        """Return a list of texts; one text alone is taken as a list of one."""
        if not self.present(key):
            return ()
        value = self.data[key]
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(
            isinstance(item, (str, int, float)) and not isinstance(item, bool) and str(item).strip() for item in value
        ):
            self.wrong(key, "must be a list of texts", "expected a list such as [relationships, trust]")
            return ()
        return tuple(str(item).strip() for item in value)

    def date(self, key: str, zone: ZoneInfo, *, required: bool = False) -> dt.datetime | None:
        """Return a date or date and time; one without an offset is taken in the site's time zone."""
        if not self.present(key):
            if required:
                self.missing(key, "2026-11-27")
            return None
        parsed = parse_date(self.data[key], zone)
        if parsed is None:
            self.wrong(key, "is not a date", DATE_HINT)
        return parsed

    def https_url(self, key: str) -> str | None:
        """Return an absolute https:// URL."""
        url = self.text(key)
        if url is not None and (problem := https_problem(url)):
            self.problems.error(f"`{key}` is not a safe link", self.path, self.line(key), problem)
            return None
        return url

    def warn_unknown(self, known: tuple[str, ...]) -> None:
        """Warn about keys that nothing reads, suggesting the closest known one."""
        for key in self.data:
            if key not in known:
                close = difflib.get_close_matches(key, known, n=1)
                hint = f"did you mean `{close[0]}`?" if close else f"known fields: {', '.join(known)}"
                self.problems.warn(f"unknown field `{key}` is ignored", self.path, self.line(key), hint)


def parse_date(value: object, zone: ZoneInfo) -> dt.datetime | None:
    """Return an aware datetime from a YAML date, datetime or ISO 8601 text, or None."""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=zone)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=zone)
    return None
