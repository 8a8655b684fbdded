"""Print the docs' front matter table from the schema (kiln/schema.py); --write puts it into docs/editors.md.

tests/test_schema.py fails while the docs' table differs from this one: after changing a field, run
`python scripts/fields_table.py --write`.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kiln.schema import markdown_table  # noqa: E402 - after the path is set

DOC = Path(__file__).resolve().parent.parent / "docs" / "editors.md"
START = "<!-- fields:"
END = "<!-- /fields -->"


def with_table(text: str) -> str:
    """Return the page's text with the table between its markers made afresh."""
    head, rest = text.split(START, 1)
    marker, _ = rest.split("\n", 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}{marker}\n{markdown_table()}{END}{tail}"


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        DOC.write_text(with_table(DOC.read_text(encoding="utf-8")), encoding="utf-8")
    else:
        print(markdown_table(), end="")
