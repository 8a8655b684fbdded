"""The command line: parse the arguments, run a command, print errors once, return the exit code."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from .errors import BuildFailed, SiteError
from .pipeline import Options, build

COMMANDS = ("build",)


def main(argv: Sequence[str] | None = None, default_source: Path | None = None) -> int:
    """Run the command line; return 0 when built, 1 on content or template errors, 2 on bad usage."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] not in (*COMMANDS, "-h", "--help"):
        args.insert(0, "build")
    parser = _parser(default_source or Path.cwd())
    try:
        options = parser.parse_args(args)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    try:
        return int(options.run(options))
    except BuildFailed as failure:
        _report(failure.warnings, failure.errors)
        print(
            f"Build failed with {_count(len(failure.errors), 'error')}; the previous output was left as it was.",
            file=sys.stderr,
        )
        return 1


def _parser(default_source: Path) -> argparse.ArgumentParser:
    """Return the argument parser with one sub-command per action."""
    parser = argparse.ArgumentParser(prog="build.py", description="Build the site from content/ and templates/.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    build_parser = commands.add_parser("build", help="build the site into the output folder (the default)")
    _site_options(build_parser, default_source)
    build_parser.add_argument("--quiet", action="store_true", help="print nothing but errors")
    build_parser.set_defaults(run=_build)
    return parser


def _site_options(parser: argparse.ArgumentParser, default_source: Path) -> None:
    """Add the options every command that reads the site shares."""
    parser.add_argument(
        "--source",
        type=Path,
        default=default_source,
        help="folder holding content/, templates/ and site.yaml (default: %(default)s)",
    )
    parser.add_argument("--output", type=Path, help="output folder (default: SOURCE/site)")
    parser.add_argument("--base-url", help="override base_url from site.yaml, e.g. for a preview deploy")
    parser.add_argument("--drafts", action="store_true", help="include drafts and future-dated articles")
    parser.add_argument(
        "--now",
        type=_moment,
        help="build as if it were this moment (ISO 8601), to preview what is published on a later day",
    )


def _moment(text: str) -> dt.datetime:
    """Return an aware datetime from the command line (UTC when no offset is given)."""
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an ISO 8601 date and time, got {text!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _build(args: argparse.Namespace) -> int:
    """Build the site and print one summary line."""
    started = time.perf_counter()
    options = Options(source=args.source, output=args.output, base_url=args.base_url, drafts=args.drafts, now=args.now)
    rendered, written = build(options)
    _report(rendered.warnings, [])
    if not args.quiet:
        pages = sum(1 for name in rendered.files if name.endswith(".html"))
        print(
            f"Built {_count(pages, 'page')} into {options.output_folder} "
            f"({written.changed} files changed, {written.unchanged} unchanged) "
            f"in {time.perf_counter() - started:.2f} s."
        )
    return 0


def _report(warnings: list[SiteError], errors: list[SiteError]) -> None:
    """Print warnings, then errors, one line each, to standard error."""
    for warning in warnings:
        print(warning.format("warning: "), file=sys.stderr)
    for error in errors:
        print(error, file=sys.stderr)


def _count(number: int, noun: str) -> str:
    """Return '1 page' or '3 pages'."""
    return f"{number} {noun}{'' if number == 1 else 's'}"
