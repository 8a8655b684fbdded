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

COMMANDS = ("build", "serve", "new", "check")
DEFAULT_PORT = 8000


def main(argv: Sequence[str] | None = None, default_source: Path | None = None) -> int:
    """Run the command line; return 0 when done, 1 on content or template errors, 2 on bad usage."""
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
        print(options.failed.format(errors=_count(len(failure.errors), "error")), file=sys.stderr)
        return 1
    except SiteError as error:
        print(error, file=sys.stderr)
        return 1


def _parser(default_source: Path) -> argparse.ArgumentParser:
    """Return the argument parser with one sub-command per action."""
    parser = argparse.ArgumentParser(prog="build.py", description="Build the site from content/ and templates/.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    build_parser = commands.add_parser("build", help="build the site into the output folder (the default)")
    _site_options(build_parser, default_source)
    build_parser.add_argument("--quiet", action="store_true", help="print nothing but errors")
    build_parser.set_defaults(run=_build, failed="Build failed with {errors}; the previous output was left as it was.")
    _serve_parser(commands, default_source)
    _new_parser(commands, default_source)
    _check_parser(commands, default_source)
    return parser


def _serve_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser], default_source: Path) -> None:
    """Add `serve`: a live preview with drafts, in a folder of its own."""
    parser = commands.add_parser("serve", help="preview the site with drafts; the browser reloads on every save")
    _source_option(parser, default_source)
    _now_option(parser)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    parser.add_argument(
        "--port",
        type=_port,
        help=f"port to listen on (default: {DEFAULT_PORT}, or the next free one); 0 picks any free port",
    )
    parser.add_argument(
        "--no-drafts", dest="drafts", action="store_false", help="preview what would be published, without drafts"
    )
    parser.set_defaults(run=_serve, failed="The preview could not start: {errors}.")


def _new_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser], default_source: Path) -> None:
    """Add `new`: a new article or program from its front matter skeleton."""
    parser = commands.add_parser("new", help="start a new article or program (a draft), or an author's page")
    parser.add_argument("kind", choices=("article", "program", "author"), help="what to create")
    parser.add_argument("title", help='its title (an author\'s name), in quotes: "Trust after an argument"')
    _source_option(parser, default_source)
    _now_option(parser)
    parser.set_defaults(run=_new, failed="Nothing was created: {errors}.")


def _check_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser], default_source: Path) -> None:
    """Add `check`: build in memory and report broken links and page problems."""
    parser = commands.add_parser("check", help="build in memory and report links and page problems (writes nothing)")
    _site_options(parser, default_source)
    parser.add_argument("--strict", action="store_true", help="treat warnings as errors (exit 1), for CI")
    parser.add_argument(
        "--check-external", action="store_true", help="also fetch every external link (slow; needs the network)"
    )
    parser.add_argument(
        "--readability", action="store_true", help="print every article's reading grade, words and minutes to read"
    )
    parser.set_defaults(run=_check, failed="Check failed: the site does not build ({errors}).")


def _source_option(parser: argparse.ArgumentParser, default_source: Path) -> None:
    """Add --source."""
    parser.add_argument(
        "--source",
        type=Path,
        default=default_source,
        help="folder holding content/, templates/ and site.yaml (default: %(default)s)",
    )


def _now_option(parser: argparse.ArgumentParser) -> None:
    """Add --now."""
    parser.add_argument(
        "--now",
        type=_moment,
        help="act as if it were this moment (ISO 8601), to preview what is published on a later day",
    )


def _site_options(parser: argparse.ArgumentParser, default_source: Path) -> None:
    """Add the options every command that reads the site shares."""
    _source_option(parser, default_source)
    parser.add_argument("--output", type=Path, help="output folder (default: SOURCE/site)")
    parser.add_argument("--base-url", help="override base_url from site.yaml, e.g. for a preview deploy")
    parser.add_argument("--drafts", action="store_true", help="include drafts and future-dated articles (a preview)")
    parser.add_argument("--preview", action="store_true", help="noindex on every page; robots.txt disallows all")
    parser.add_argument("--no-cache", dest="cache", action="store_false", help="parse every file afresh")
    _now_option(parser)


def _moment(text: str) -> dt.datetime:
    """Return an aware datetime from the command line (UTC when no offset is given)."""
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an ISO 8601 date and time, got {text!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _port(text: str) -> int:
    """Return a TCP port number from the command line."""
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"expected a port number from 0 to 65535, got {text!r}")
    return int(text)


def _options(args: argparse.Namespace) -> Options:
    """Return the build Options the arguments ask for."""
    # An absolute source lets template errors be traced back to their file.
    return Options(
        source=args.source.absolute(),
        output=args.output,
        base_url=args.base_url,
        drafts=args.drafts,
        now=args.now,
        preview=args.preview,
        cache=getattr(args, "cache", True),
    )


def _build(args: argparse.Namespace) -> int:
    """Build the site and print one summary line."""
    started = time.perf_counter()
    options = _options(args)
    rendered, written = build(options)
    _report(rendered.warnings, [])
    if not args.quiet:
        pages = sum(1 for name in rendered.files if name.endswith(".html"))
        print(
            f"Built {_count(pages, 'page')} into {options.output_folder} "
            f"({written.changed} files changed, {written.unchanged} unchanged) "
            f"in {time.perf_counter() - started:.2f} s."
            + _next_change(rendered.site.next_change, rendered.site.config.timezone)
        )
    return 0


def _next_change(change: tuple[dt.datetime, Path] | None, zone: dt.tzinfo) -> str:
    """Return the summary's note of when the site next changes by itself, and which file makes it change."""
    if change is None:
        return ""
    moment, path = change
    return f" Next scheduled change: {moment.astimezone(zone):%Y-%m-%d %H:%M %Z} ({path.as_posix()})."


def _serve(args: argparse.Namespace) -> int:
    """Run the live preview until interrupted."""
    from .serve import ServeOptions, serve  # livereload and tornado load only for this command

    return serve(
        ServeOptions(
            source=args.source.absolute(),
            host=args.host,
            port=DEFAULT_PORT if args.port is None else args.port,
            fixed_port=args.port is not None,
            drafts=args.drafts,
            now=args.now,
        )
    )


def _new(args: argparse.Namespace) -> int:
    """Create a new content file and print its path."""
    from .scaffold import new_page

    path = new_page(args.source.absolute(), args.kind, args.title, args.now)
    print(f"Created {path.relative_to(args.source.absolute()).as_posix()}")
    if args.kind == "author":
        print(f"Fill in the details and the bio; articles name this author as `author: {path.stem}`.")
    else:
        print(
            "It is a draft: fill in the description, write, preview with `python build.py serve`, then remove `draft`."
        )
    return 0


def _check(args: argparse.Namespace) -> int:
    """Check the site in memory and print every finding; return 1 when there are errors."""
    from .check import CheckOptions, check_site

    check = CheckOptions(strict=args.strict, external=args.check_external, readability=args.readability)
    report = check_site(_options(args), check)
    _report(list(report.warnings), list(report.errors))
    if args.readability:
        from .readability import table

        print(table(list(report.readability)))
    summary = f"{_count(len(report.errors), 'error')}, {_count(len(report.warnings), 'warning')}"
    if report.errors:
        print(f"Check failed: {summary}.", file=sys.stderr)
        return 1
    print(f"Checked {_count(report.pages, 'page')}: {summary}.")
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
