"""Run Lighthouse 12 on every page type of the launch site, mobile and desktop; exit 1 below the budgets.

Usage: python3 scripts/lighthouse.py [--budget 100] [--reports DIR]

Builds the site (content/, site.yaml) into a temporary folder with its base URL set to a local server on
127.0.0.1, serves it from a thread, and runs node_modules/.bin/lighthouse (npm `lighthouse@12.2.3`, installed by
`npm ci`) against Debian's chromium (CHROME_PATH=/usr/bin/chromium) for the home, article, program, tag, 404 and
author pages, the search page showing results, and an article with photos (tests/photos.py's: a portrait phone
photo, a screenshot and a small image, added to a copy of the site). Prints one line of scores per page and form
factor; JSON reports go to --reports (default test-artifacts/lighthouse/).
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

from hosting import HeadersHost, header_rules  # noqa: E402
from photos import PHOTO_ARTICLE, photo_article  # noqa: E402

from kiln.cli import main as kiln  # noqa: E402
from kiln.pipeline import Options, render  # noqa: E402

LIGHTHOUSE = REPO / "node_modules" / ".bin" / "lighthouse"
CHROMIUM = "/usr/bin/chromium"
CHROME_FLAGS = (
    "--headless=new --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking"
    " --disable-component-update --disable-sync"
)
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
FORM_FACTORS = ("mobile", "desktop")


def page_types(source: Path) -> dict[str, str]:
    """Return the site-relative URL of one page of each type: home, article, program, tag, 404, author and search.

    The search page is measured with results shown: it searches for the longest word of the newest title.
    """
    site = render(Options(source=source)).site
    if not (site.articles and site.programs and site.tags and site.authors):
        raise SystemExit(
            "lighthouse: the site needs at least one article, program, tag and author to measure every page type"
        )
    types = {
        "home": "/",
        "article": site.articles[0].url,
        "program": site.programs[0].url,
        "tag": site.tags[0].url,
        "404": "/404.html",
        "author": site.authors[0].url,
        "photos": "/" + PHOTO_ARTICLE.removeprefix("content/").removesuffix("index.md"),
    }
    if site.searchable:
        word = max(re.findall(r"\w+", site.articles[0].title), key=len).lower()
        types["search"] = f"/search/?q={word}"
    return types


def with_photos(folder: Path) -> Path:
    """Return a copy of the launch site's source with the article with photos added."""
    for name in ("content", "templates", "static"):
        shutil.copytree(REPO / name, folder / name)
    shutil.copy(REPO / "site.yaml", folder / "site.yaml")
    for name, data in photo_article().items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return folder


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class HostHandler(HeadersHost):
    """Serves files with the headers the site's `_headers` gives each path, as Netlify and Cloudflare Pages do.

    So the policy is in force as visitors meet it: an audit it would block (Lighthouse fetches robots.txt from
    within the page) fails here too.
    """

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        """Say nothing."""


@contextmanager
def serving(folder: Path, port: int) -> Iterator[str]:
    """Serve a folder on 127.0.0.1 from a thread, with its _headers; yield its base URL."""
    rules = header_rules((folder / "_headers").read_text(encoding="utf-8"))
    handler = type("Handler", (HostHandler,), {"rules": rules, "sent": {}})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), functools.partial(handler, directory=folder))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def lighthouse(url: str, form_factor: str, report: Path) -> dict[str, float]:
    """Return the category scores (0 to 100) of one Lighthouse run, writing its JSON report."""
    command = [
        str(LIGHTHOUSE),
        url,
        "--quiet",
        "--output=json",
        f"--output-path={report}",
        f"--only-categories={','.join(CATEGORIES)}",
        f"--chrome-flags={CHROME_FLAGS}",
    ]
    if form_factor == "desktop":
        command.append("--preset=desktop")
    subprocess.run(command, check=True, env={**os.environ, "CHROME_PATH": CHROMIUM}, timeout=300)
    result = json.loads(report.read_text(encoding="utf-8"))
    if result.get("runtimeError"):
        raise SystemExit(f"lighthouse: {url}: {result['runtimeError'].get('message')}")
    return scores(result)


def scores(result: dict[str, Any]) -> dict[str, float]:
    """Return a report's category scores from 0 to 100, unrounded: 0.995 is 99.5, which misses a budget of 100."""
    return {name: 100 * (result["categories"][name]["score"] or 0) for name in CATEGORIES}


def below(scores: dict[str, float], budget: float) -> list[str]:
    """Return the categories whose score is below the budget."""
    return [name for name, score in scores.items() if score < budget]


def shown(score: float) -> str:
    """Return a score as Lighthouse's report shows it, with a decimal when it is not whole (99.5, not 100)."""
    return f"{score:5.0f}" if score == int(score) else f"{score:5.1f}"


def failing_audits(report: Path) -> list[str]:
    """Return the audits of a report that did not pass, to say why a score is short."""
    audits = json.loads(report.read_text(encoding="utf-8"))["audits"]
    return sorted(
        f"{name} ({audit.get('displayValue') or audit['score']})"
        for name, audit in audits.items()
        if audit.get("score") is not None
        and audit["score"] < 1
        and audit.get("scoreDisplayMode") in ("binary", "numeric", "metricSavings")
    )


def main(argv: list[str] | None = None) -> int:
    """Build, serve and measure the site; return 0 when every score meets the budget."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=100, help="lowest acceptable score in every category")
    parser.add_argument("--reports", type=Path, default=REPO / "test-artifacts" / "lighthouse")
    args = parser.parse_args(argv)
    if not LIGHTHOUSE.exists():
        raise SystemExit(f"lighthouse: {LIGHTHOUSE} is missing: run `npm ci` in {REPO}")
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"lighthouse: {CHROMIUM} is missing: apt-get install chromium")
    args.reports.mkdir(parents=True, exist_ok=True)
    port = free_port()
    short = []
    with tempfile.TemporaryDirectory() as temporary:
        output = Path(temporary) / "site"
        source = with_photos(Path(temporary) / "source")
        base = f"http://127.0.0.1:{port}/"
        if kiln(["build", "--source", str(source), "--output", str(output), "--base-url", base, "--quiet"]) != 0:
            return 1
        with serving(output, port) as root:
            for name, url in page_types(source).items():
                for form_factor in FORM_FACTORS:
                    report = args.reports / f"{name}-{form_factor}.json"
                    found = lighthouse(root + url, form_factor, report)
                    line = "  ".join(f"{category} {shown(score)}" for category, score in found.items())
                    print(f"{name:8} {form_factor:8} {line}  {url}", flush=True)
                    if below(found, args.budget):
                        short.append(f"{name} {form_factor}: {', '.join(failing_audits(report))}")
    for line in short:
        print(f"below budget {args.budget:g}: {line}", file=sys.stderr)
    return 1 if short else 0


if __name__ == "__main__":
    sys.exit(main())
