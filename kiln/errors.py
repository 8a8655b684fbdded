"""The one user-facing error type, and the list of them a stage raises."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class SiteError(Exception):
    """A problem an editor can fix: what is wrong, in which file, on which line."""

    message: str
    path: Path | None = None
    line: int | None = None
    hint: str | None = None

    def __str__(self) -> str:
        return self.format()

    def __reduce__(self) -> tuple[type[SiteError], tuple[str, Path | None, int | None, str | None]]:
        # Exceptions unpickle by setting attributes, which a frozen dataclass refuses: rebuild from the fields
        # instead, so that errors can come back from the workers that parse and render.
        return (SiteError, (self.message, self.path, self.line, self.hint))

    def format(self, label: str = "") -> str:
        """Return the error as one line: `path:line: message (hint)`, with an optional label after the place."""
        where = ""
        if self.path is not None:
            where = self.path.as_posix()
            if self.line is not None:
                where += f":{self.line}"
            where += ": "
        hint = f" ({self.hint})" if self.hint else ""
        return f"{where}{label}{self.message}{hint}"


@dataclass
class BuildFailed(Exception):
    """Every error of a stage, raised together so the editor sees them all at once."""

    errors: list[SiteError] = field(default_factory=list)
    warnings: list[SiteError] = field(default_factory=list)

    def __str__(self) -> str:
        return "\n".join(str(error) for error in self.errors)


@dataclass
class Problems:
    """Collects errors and warnings while a stage runs."""

    errors: list[SiteError] = field(default_factory=list)
    warnings: list[SiteError] = field(default_factory=list)

    def error(self, message: str, path: Path | None = None, line: int | None = None, hint: str | None = None) -> None:
        """Record an error."""
        self.errors.append(SiteError(message, path, line, hint))

    def warn(self, message: str, path: Path | None = None, line: int | None = None, hint: str | None = None) -> None:
        """Record a warning."""
        self.warnings.append(SiteError(message, path, line, hint))

    def raise_errors(self) -> None:
        """Raise every error recorded so far, if there is any."""
        if self.errors:
            raise BuildFailed(sorted(self.errors, key=_order), self.warnings)


def _order(error: SiteError) -> tuple[str, int, str]:
    """Give the order errors are reported in: by file, then line."""
    return (error.path.as_posix() if error.path else "", error.line or 0, error.message)


SHOWN_PLACES = 3  # places a grouped warning names before "…"


def warning_lines(warnings: list[SiteError], verbose: bool = False, label: str = "warning: ") -> list[str]:
    """Return the lines that report warnings: one per kind of problem, with its count and first places.

    A thousand posts from another generator share a few problems (an unknown `layout` in each): the editor
    needs one line for each, not one per file. A kind met in only a few places keeps a line per place, with its
    own hint; `verbose` gives every warning its own line.
    """
    if verbose:
        return [warning.format(label) for warning in sorted(warnings, key=_order)]
    groups: dict[str, list[SiteError]] = {}
    for warning in sorted(warnings, key=_order):
        groups.setdefault(warning.message, []).append(warning)
    lines: list[str] = []
    for group in groups.values():  # in the order of each kind's first place
        if len(group) > SHOWN_PLACES:
            lines.append(_grouped(group, label))
        else:  # as short as a grouped line would be, and each keeps its own hint
            lines += [warning.format(label) for warning in group]
    return lines


def _grouped(group: list[SiteError], label: str) -> str:
    """Return one line for warnings with the same message: how many files, the first few places, the hint."""
    files = len({warning.path for warning in group})
    in_files = f"{files:,} file{'' if files == 1 else 's'}"
    count = in_files if files == len(group) else f"{len(group):,} places in {in_files}"
    places = [SiteError("", warning.path, warning.line).format().removesuffix(": ") for warning in group]
    more = ", …" if len(places) > SHOWN_PLACES else ""
    hints = {warning.hint for warning in group}
    hint = f" ({group[0].hint})" if len(hints) == 1 and group[0].hint else ""
    return f"{label}{group[0].message} in {count}, e.g. {', '.join(places[:SHOWN_PLACES])}{more}{hint}"
