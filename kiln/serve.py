"""The live preview: builds with drafts into .preview/, serves only that folder, reloads the browser on each save.

The only module that imports livereload. livereload's own watcher polls every 800 ms and drops changes that come
within 3 s of a reload; ours is event-driven (inotify through watchfiles) and sends the reload the moment the
rebuild is written.
"""

from __future__ import annotations

import datetime as dt
import errno
import html
import ipaddress
import os
import re
import socket
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jinja2
import watchfiles
from livereload import Server  # type: ignore[import-untyped]
from livereload.handlers import LiveReloadHandler, LiveReloadJSHandler  # type: ignore[import-untyped]
from livereload.server import LiveScriptInjector  # type: ignore[import-untyped]
from livereload.watcher import Watcher  # type: ignore[import-untyped]
from tornado import web
from tornado.httpserver import HTTPServer
from tornado.httputil import split_host_and_port
from tornado.ioloop import IOLoop

from .cache import open_caches
from .cms import ADMIN_CSP, LOCAL_API
from .cms_backend import Backend, CmsApi, CmsConfig
from .config import CONFIG_NAME
from .errors import BuildFailed, Problems, SiteError, warning_lines
from .load import SourceMemo, read_config
from .pipeline import Options, Rendered, render, rerender
from .render import make_environment
from .search import BUNDLE, Indexing, start_index
from .write import check_output_folder, write_changed

PREVIEW = ".preview"  # inside the source folder, git-ignored; the build goes to .preview/site/
WATCHED_FOLDERS = ("content", "templates", "static")
WILDCARD_HOSTS = ("0.0.0.0", "::", "")
LOCAL_NAMES = ("localhost", "127.0.0.1", "::1")
PORTS_TO_TRY = 20
# watchfiles looks for events every STEP_MS and hands them over once a look finds no new file among them, so a
# save reaches the rebuild 1-2 steps after it happens. An editor's save (truncate and write, or write a temporary
# file and rename it) takes well under a millisecond, so 10 ms still groups it into one change.
STEP_MS = 10
SETTLE_SECONDS = 1.0  # how long after a rebuild, with no change since, the confirming build and cache store run
EXCERPT_LINES = 2  # lines shown before and after the line of an error
INDEX_POLL_SECONDS = 0.05  # how often the server looks whether Pagefind has finished the search index
BACKGROUND_NICENESS = 10  # Pagefind's priority in serve: below the rebuilds that a save starts
# livereload's own snippet: load livereload.js from the host and port the page came from.
LIVE_SCRIPT = (
    b'<script>(function(){var s=document.createElement("script");'
    b'var port=window.location.port||(window.location.protocol=="https:"?443:80);'
    b's.src="//"+window.location.hostname+":"+port+"/livereload.js?port="+port;'
    b"document.head.appendChild(s);})();</script>"
)


@dataclass(frozen=True)
class ServeOptions:
    """What `serve` is asked to do."""

    source: Path
    host: str = "127.0.0.1"
    port: int = 8000
    fixed_port: bool = False  # --port given: a busy port is an error rather than a reason to take the next one
    drafts: bool = True
    now: dt.datetime | None = None
    cms: bool = False  # answer the browser editor's local backend at /api/v1 (loopback only)


def serve(options: ServeOptions) -> int:
    """Build the preview, serve it until Ctrl+C, rebuilding and reloading the browser on every change."""
    if options.cms and options.host.lower().strip("[]") not in LOCAL_NAMES:
        raise SiteError(
            "--cms writes files for whoever can reach the server, so it listens only on this computer",
            None,
            None,
            f"expected --host 127.0.0.1, localhost or ::1 with --cms, got {options.host!r}",
        )
    if options.cms and _without_editor(options.source):
        raise SiteError(
            "--cms has no editor to serve: site.yaml has no `cms:` section",
            None,
            None,
            "add one (backend, repo, branch) as docs/editing-in-the-browser.md shows",
        )
    sockets, port = _bind(options)
    if port != options.port and options.port != 0:
        print(f"Port {options.port} is busy; using {port} instead.", flush=True)
    url = f"http://{_url_host(options.host)}:{port}/"
    preview = Preview(
        Options(
            source=options.source,
            output=options.source / PREVIEW / "site",
            base_url=url,
            drafts=options.drafts,
            now=options.now,
            preview=True,
        )
    )
    preview.rebuild(())
    indexing = preview.index_later()
    if indexing is not None:
        preview.write_index(indexing)
    preview.persist()
    if options.host in WILDCARD_HOSTS:
        print(
            f"Warning: listening on {options.host or 'every address'}: anyone on your network can see this preview, "
            "drafts included. Use the default --host 127.0.0.1 to keep it to this computer.",
            flush=True,
        )
    shown = "with drafts" if options.drafts else "without drafts (--no-drafts)"
    print(f"Preview {shown} at {url}", flush=True)
    if options.cms:
        print(f"Edit in the browser at {url}admin/ (it saves into content/ and static/images/).", flush=True)
    print(f"Built into {PREVIEW}/site/ (never site/). Press Ctrl+C to stop.", flush=True)
    watcher = _Watcher(options.source, preview)
    try:
        _PreviewServer(watcher, sockets, preview, options.host, options.cms).serve(port=port, host=options.host)
    finally:
        watcher.stop()
        if preview.indexing is not None:
            preview.indexing.stop()  # Pagefind and its folder go with the server
        for listener in sockets:
            listener.close()
    return 0


def _without_editor(source: Path) -> bool:
    """Return whether site.yaml reads well and has no `cms:` (when it does not read, the preview shows why)."""
    config = read_config(source, Problems(), None)
    return config is not None and config.cms is None


def _bind(options: ServeOptions) -> tuple[list[socket.socket], int]:
    """Return listening sockets and their port: the one asked for, or the next free one unless --port was given."""
    last = options.port if options.fixed_port or options.port == 0 else options.port + PORTS_TO_TRY - 1
    for port in range(options.port, last + 1):
        try:
            sockets = _listen(options.host, port)
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                continue
            raise SiteError(
                f"cannot listen on {options.host}:{port}: {error.strerror or error}",
                None,
                None,
                f"expected an address of this computer for --host, got {options.host!r}",
            ) from None
        return sockets, sockets[0].getsockname()[1]
    tried = f"port {options.port} is" if last == options.port else f"ports {options.port} to {last} are"
    raise SiteError(
        f"{tried} already in use on {options.host}",
        None,
        None,
        "another preview may be running; stop it, or choose a free port with --port",
    )


def _listen(host: str, port: int) -> list[socket.socket]:
    """Return sockets listening on every address of host (all of them or none: a failure closes the others)."""
    infos = socket.getaddrinfo(host or None, port, socket.AF_UNSPEC, socket.SOCK_STREAM, 0, socket.AI_PASSIVE)
    sockets: list[socket.socket] = []
    try:
        for family, kind, protocol, _, address in dict.fromkeys(infos):
            listener = socket.socket(family, kind, protocol)
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                listener.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            if sockets and port == 0:  # the other addresses take the port the first one was given
                address = (address[0], sockets[0].getsockname()[1], *address[2:])
            try:
                listener.bind(address)
            except OSError as error:
                listener.close()
                if error.errno == errno.EADDRNOTAVAIL and len(infos) > 1:
                    continue  # e.g. ::1 on a machine without IPv6
                raise
            sockets.append(listener)
            listener.listen(128)
            listener.setblocking(False)
    except OSError:
        for listener in sockets:
            listener.close()
        raise
    if not sockets:
        raise OSError(errno.EADDRNOTAVAIL, "no address to listen on")
    return sockets


def _url_host(host: str) -> str:
    """Return how the URL to open names the host: a wildcard means this computer."""
    if host in WILDCARD_HOSTS:
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def host_allowed(header: str, listen_host: str) -> bool:
    """Return whether a request's Host header names this server, so a DNS-rebinding page cannot read the preview."""
    name = split_host_and_port(header.lower())[0].strip("[]")  # never raises: only digits are taken for the port
    if name in LOCAL_NAMES or name == listen_host.lower().strip("[]"):
        return True
    if listen_host in WILDCARD_HOSTS:
        try:  # other computers reach a wildcard address by one of its IP addresses, never by a name we can check
            ipaddress.ip_address(name)
        except ValueError:
            return False
        return True
    return False


class Preview:
    """The preview build: rebuilt on every change, remembering the last failure to show it in the browser."""

    def __init__(self, options: Options) -> None:
        self.options = options
        self.folder = options.output_folder
        self.environment: jinja2.Environment = make_environment(options.source)
        self.caches = open_caches(options.source, options.cache)  # kept in memory from one rebuild to the next
        self.caches.sources = SourceMemo()
        self.written: dict[str, bytes] | None = None  # what the preview folder holds, after the first rebuild
        self.index: dict[str, bytes] = {}  # the search index last written there, kept until the next one is made
        self.indexing: Indexing | None = None  # the search index being made for the last rebuild
        self.last: Rendered | None = None  # the last site built, for the quick path of an edit to a page's text
        self.quick = False  # the last rebuild took the quick path: a full one should confirm it
        self.unsaved = False
        self.failure: list[SiteError] = []
        self._shown: list[str] = []  # the problems last printed, so the same ones are not printed again

    def rebuild(self, changed: tuple[str, ...]) -> bool:
        """Build the preview into its folder; return whether it worked, printing new problems once."""
        started = time.perf_counter()
        previous = self.written
        try:
            check_output_folder(self.folder, self.options.source)
            assert self.caches.sources is not None
            self.caches.sources.forget(self.options.source / path for path in changed)  # re-read, whatever stat says
            quick = None
            if self.last is not None and previous is not None and len(changed) == 1:
                quick = rerender(self.last, self.options, self.environment, self.caches, Path(changed[0]))
            self.quick = quick is not None
            # the search index is made after the browser has reloaded (index_later); until then, the last one
            rendered = quick or render(self.options, self.environment, self.caches, index=False)
            if not rendered.site.searchable:
                self.index = {}
            files = rendered.files | self.index
            self.written = self.last = None  # until the write is done, the folder may be anything
            write_changed(files, self.folder, previous)
            self.written, self.last = files, rendered
            self.unsaved = True
        except BuildFailed as failure:
            self._fail(failure.errors, warning_lines(failure.warnings) + [error.format() for error in failure.errors])
            return False
        except Exception as error:  # a bug: the server stays up, the traceback is printed once
            problem = SiteError(
                f"the generator failed unexpectedly: {error!r}", None, None, "a bug in kiln; see the terminal"
            )
            self._fail([problem], ["".join(traceback.format_exception(error)).rstrip()])
            return False
        was_broken = bool(self.failure)
        self.failure = []
        self._say(warning_lines(rendered.warnings))
        took = f"{(time.perf_counter() - started) * 1000:.0f} ms"
        if was_broken:
            print(f"Fixed: the preview builds again ({took}).", flush=True)
        elif changed:
            print(f"Rebuilt after a change to {', '.join(changed)} in {took}.", flush=True)
        return True

    def index_later(self, background: bool = False) -> Indexing | None:
        """Start making the search index of the last rebuild, once the browser has reloaded; None if none is needed.

        In the background, Pagefind runs at a low priority, so that a rebuild after the next save comes first.
        """
        if self.indexing is not None:
            self.indexing.stop()  # made for an older rebuild
        self.indexing = None
        if self.last is not None and self.last.site.searchable:
            self.indexing = start_index(self.last.site, self.caches.index, BACKGROUND_NICENESS if background else 0)
        return self.indexing

    def write_index(self, indexing: Indexing) -> bool:
        """Wait for a search index and write it into the preview, unless a newer rebuild wants another one."""
        if indexing is not self.indexing or self.written is None:
            indexing.stop()
            return False
        self.indexing = None
        problems = Problems()
        index = indexing.files(problems)
        if problems.errors:
            self._say([error.format() for error in problems.errors])
            return False
        files = {name: data for name, data in self.written.items() if not name.startswith(f"{BUNDLE}/")} | index
        previous, self.written = self.written, None
        write_changed(files, self.folder, previous)
        self.written, self.index = files, index
        return True

    def confirm(self) -> bool:
        """After a quick rebuild, build in full (once the editor pauses); return whether the preview changed.

        The quick path is exact by design; this makes the preview the very site a build makes even if it were
        not, and lets the caches forget what the edit replaced.
        """
        if not self.quick:
            return False
        before = self.written
        return not self.rebuild(()) or self.written != before

    def persist(self) -> None:
        """Store the caches after a successful rebuild; called once the editor pauses, after the reload."""
        if self.unsaved:
            self.caches.save()
            self.unsaved = False

    def _fail(self, errors: list[SiteError], lines: list[str]) -> None:
        """Remember a failed build and print its problems, unless they are the ones printed last."""
        self.failure = errors
        if self._say(lines):
            print("The preview shows these errors until they are fixed; the server keeps running.", flush=True)

    def _say(self, lines: list[str]) -> bool:
        """Print lines unless they are the ones printed last; return whether they were printed."""
        if lines == self._shown:
            return False
        self._shown = lines
        for line in lines:
            print(line, flush=True)
        return bool(lines)

    def error_page(self) -> bytes:
        """Return the page the browser shows while the build is broken: every error and the lines it is about."""
        items = "\n".join(_error_item(error, self.options.source) for error in self.failure)
        count = f"{len(self.failure)} error{'' if len(self.failure) == 1 else 's'}"
        return ERROR_PAGE.format(count=count, items=items).encode("utf-8")


ERROR_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>Build failed: {count}</title>
<style>
body {{ font: 16px/1.5 system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; padding: 0 1rem;
  color: #1d1a17; background: #fbf8f3; }}
h1 {{ color: #9b1c1c; font-size: 1.5rem; }}
li {{ margin-bottom: 1.5rem; }}
.where {{ font-family: ui-monospace, monospace; font-weight: bold; }}
.hint {{ color: #5c534a; }}
pre {{ background: #fff; border: 1px solid #ddd3c7; padding: .5rem 0; overflow-x: auto; }}
pre span {{ display: block; padding: 0 .75rem; }}
pre .bad {{ background: #fde2e2; }}
</style>
</head>
<body>
<main>
<h1>The site does not build: {count}</h1>
<p>Fix the file named below and save it; this page reloads by itself.</p>
<ol class="errors">
{items}
</ol>
</main>
</body>
</html>
"""


def _error_item(error: SiteError, source: Path) -> str:
    """Return one error as a list item: place, message, hint and an excerpt of its file, all escaped."""
    where = ""
    if error.path is not None:
        where = error.path.as_posix() + (f":{error.line}" if error.line is not None else "") + ":"
    parts = [f'<li><p><span class="where">{html.escape(where)}</span> {html.escape(error.message)}']
    if error.hint:
        parts.append(f'<br><span class="hint">{html.escape(error.hint)}</span>')
    parts.append("</p>")
    excerpt = _excerpt(source, error.path, error.line)
    if excerpt:
        parts.append(f"<pre>{excerpt}</pre>")
    parts.append("</li>")
    return "".join(parts)


def _excerpt(source: Path, path: Path | None, line: int | None) -> str:
    """Return the lines around an error's line, numbered and escaped, the line itself marked; '' when unknown."""
    if path is None or line is None:
        return ""
    full = path if path.is_absolute() else source / path
    try:
        lines = full.read_bytes().decode("utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    first, last = max(1, line - EXCERPT_LINES), min(len(lines), line + EXCERPT_LINES)
    width = len(str(last))
    return "".join(
        f"<span{' class=bad' if number == line else ''}>{number:>{width}}  {html.escape(lines[number - 1])}</span>"
        for number in range(first, last + 1)
    )


class _Guarded(web.RequestHandler):
    """Refuses requests whose Host header names another server (DNS rebinding)."""

    def prepare(self) -> None:
        if not host_allowed(self.request.host, self.settings["listen_host"]):
            raise web.HTTPError(403, reason="Host not allowed")

    def set_default_headers(self) -> None:
        self.set_header("Cache-Control", "no-store")
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Referrer-Policy", "no-referrer")


class _PreviewFiles(_Guarded, web.StaticFileHandler):
    """Serves the preview folder and nothing outside it; shows the build's errors while it is broken."""

    @property
    def preview(self) -> Preview:
        """Return the preview build this server shows."""
        preview: Preview = self.settings["preview"]
        return preview

    async def get(self, path: str, include_body: bool = True) -> None:
        if self.preview.failure:
            self.set_status(500)
            self.set_header("Content-Type", "text/html; charset=utf-8")
            self.finish(self.preview.error_page() if include_body else b"")
            return
        await super().get(path, include_body)

    def validate_absolute_path(self, root: str, absolute_path: str) -> str | None:
        real_root = os.path.realpath(root)
        real = os.path.realpath(absolute_path)
        if real != real_root and not real.startswith(real_root + os.sep):
            raise web.HTTPError(403, reason="Outside the preview")
        if any(part.startswith(".") for part in Path(os.path.relpath(real, real_root)).parts if part != "."):
            raise web.HTTPError(404)
        return super().validate_absolute_path(root, absolute_path)

    def set_default_headers(self) -> None:
        super().set_default_headers()
        if self.request.path.startswith("/admin/"):  # the published policy, so the preview proves it is enough
            self.set_header("Content-Security-Policy", ADMIN_CSP)

    def should_return_304(self) -> bool:
        return False  # the preview changes under the same names; always send the bytes

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        not_found = Path(self.root) / "404.html"
        if status_code == 404 and not_found.is_file():
            self.set_header("Content-Type", "text/html; charset=utf-8")
            self.finish(not_found.read_bytes())
            return
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.finish(f"{status_code} {self._reason}\n")


class _LiveReloadSocket(_Guarded, LiveReloadHandler):  # type: ignore[misc]
    """livereload's websocket, refusing pages from other origins (livereload itself accepts any)."""

    def check_origin(self, origin: str) -> bool:
        parts = urlsplit(origin)
        return parts.scheme in ("http", "https") and parts.netloc.lower() == self.request.host.lower()


class _LiveReloadScript(_Guarded, LiveReloadJSHandler):  # type: ignore[misc]
    """livereload.js, for allowed hosts only."""


class _Injector(LiveScriptInjector):  # type: ignore[misc]
    """Adds the live-reload snippet before </head> of every HTML page served."""

    script = LIVE_SCRIPT

    def __init__(self, request: Any) -> None:
        super().__init__(request)
        # The editor is not reloaded: a save would throw away what is on its screen, and its policy runs no
        # inline script.
        self.editor = request.path.startswith("/admin/")

    def transform_first_chunk(self, status_code: int, headers: Any, chunk: bytes, finishing: bool) -> Any:
        if self.editor:
            return status_code, headers, chunk
        return super().transform_first_chunk(status_code, headers, chunk, finishing)


class _Watcher(Watcher):  # type: ignore[misc]
    """livereload's watcher interface, fed by inotify events: a rebuild and a reload as soon as a file is saved."""

    def __init__(self, source: Path, preview: Preview) -> None:
        super().__init__()
        self.source = source
        self.preview = preview
        self._stop = threading.Event()
        self._restart = threading.Event()  # a watched folder appeared or vanished: watch the tree afresh
        self._threads: list[threading.Thread] = []
        self._settling: object | None = None  # the loop's timeout that will run _settle

    def start(self, callback: Callable[[], None]) -> bool:
        """Start watching in two threads; return True so livereload does not poll."""
        loop = IOLoop.current()

        def deliver(paths: tuple[str, ...]) -> None:
            loop.add_callback(self._changed, paths)

        for target in (self._watch_root, self._watch_folders):
            thread = threading.Thread(target=target, args=(deliver,), daemon=True, name=f"kiln-{target.__name__}")
            thread.start()
            self._threads.append(thread)
        return True

    def examine(self) -> tuple[str | None, float | None]:
        """Return nothing to do: changes arrive as events, never by polling."""
        return None, None

    def stop(self) -> None:
        """Stop both watching threads."""
        self._stop.set()
        self._restart.set()
        for thread in self._threads:
            thread.join(timeout=2)

    def _changed(self, paths: tuple[str, ...]) -> None:
        """Rebuild, then tell every connected browser to reload (on the server's loop)."""
        self.preview.rebuild(paths)
        self.filepath = paths[0] if paths else "*"
        css_only = paths and all(path.endswith(".css") for path in paths)
        LiveReloadHandler.reload_waiters(paths[0] if css_only else "*")
        # Confirming a quick rebuild, making the search index and storing the caches wait until the editor pauses,
        # so that none can hold up the next save (on a site of thousands of pages a full rebuild takes a few
        # hundred ms, the index a second or more).
        loop = IOLoop.current()
        if self._settling is not None:
            loop.remove_timeout(self._settling)
        self._settling = loop.call_later(SETTLE_SECONDS, self._settle)

    def _settle(self) -> None:
        """Once no file has changed for a moment: confirm a quick rebuild, start the search index, store the caches."""
        self._settling = None
        if self.preview.confirm():
            LiveReloadHandler.reload_waiters("*")
        self._index()
        self.preview.persist()

    def _index(self) -> None:
        """Make the search index of the last rebuild in another process, and write it once it is done."""
        indexing = self.preview.index_later(background=True)
        if indexing is None:
            return
        loop = IOLoop.current()

        def look() -> None:
            if indexing.done():
                self.preview.write_index(indexing)
            else:
                loop.call_later(INDEX_POLL_SECONDS, look)

        look()

    def _watch_root(self, deliver: Callable[[tuple[str, ...]], None]) -> None:
        """Watch the source folder itself (not below it) for site.yaml and for folders coming or going."""
        for changes in self._watch([self.source], recursive=False, stop=_AnyEvent(self._stop)):
            names = {Path(path).name for _, path in changes}
            if names & set(WATCHED_FOLDERS):
                self._restart.set()
            paths = self._relevant(changes)
            if paths:
                deliver(paths)

    def _watch_folders(self, deliver: Callable[[tuple[str, ...]], None]) -> None:
        """Watch content/, templates/ and static/ with everything below them, afresh whenever one comes or goes."""
        while not self._stop.is_set():
            self._restart.clear()
            folders = [self.source / name for name in WATCHED_FOLDERS if (self.source / name).is_dir()]
            if not folders:
                self._restart.wait()
                continue
            for changes in self._watch(folders, recursive=True, stop=_AnyEvent(self._stop, self._restart)):
                paths = self._relevant(changes)
                if paths:
                    deliver(paths)

    def _watch(self, paths: list[Path], recursive: bool, stop: _AnyEvent) -> Any:
        """Yield sets of changes under paths until stop is set."""
        try:
            yield from watchfiles.watch(
                *paths, recursive=recursive, step=STEP_MS, stop_event=stop, raise_interrupt=False, debug=False
            )
        except (OSError, RuntimeError) as error:  # a watched folder vanished: the caller watches afresh
            if not self._stop.is_set():
                print(f"Watching {', '.join(map(str, paths))} again after: {error}", flush=True)
                time.sleep(0.2)

    def _relevant(self, changes: set[tuple[watchfiles.Change, str]]) -> tuple[str, ...]:
        """Return the changed files a build reads, relative to the source folder, in a stable order."""
        found: set[str] = set()
        for _, path in changes:
            relative = Path(path).relative_to(self.source)
            parts = relative.parts
            if not parts or any(part.startswith(".") or part.endswith("~") for part in parts):
                continue
            if parts[0] in WATCHED_FOLDERS or relative.as_posix() == CONFIG_NAME:
                found.add(relative.as_posix())
        return tuple(sorted(found))


class _AnyEvent:
    """Set when any of its events is set (watchfiles stops on one event)."""

    def __init__(self, *events: threading.Event) -> None:
        self.events = events

    def is_set(self) -> bool:
        """Return whether any of the events is set."""
        return any(event.is_set() for event in self.events)


class _PreviewServer(Server):  # type: ignore[misc]
    """livereload's Server, serving the preview folder on sockets bound beforehand, with our guarded handlers."""

    def __init__(
        self, watcher: _Watcher, sockets: list[socket.socket], preview: Preview, host: str, cms: bool = False
    ) -> None:
        super().__init__(watcher=watcher)
        self.sockets = sockets
        self.preview = preview
        self.listen_host = host
        self.cms = cms

    def application(
        self, port: int, host: str, liveport: int | None = None, debug: bool | None = None, live_css: bool = True
    ) -> None:
        """Start serving: the websocket, livereload.js and the preview folder, each checking the Host header."""
        LiveReloadHandler.watcher = self.watcher
        LiveReloadHandler.live_css = live_css
        app = web.Application(
            [
                (r"/livereload", _LiveReloadSocket),
                (r"/livereload\.js", _LiveReloadScript),
                *(_cms_routes() if self.cms else []),
                (
                    r"/(.*)",
                    _PreviewFiles,
                    {"path": str(self.preview.folder), "default_filename": "index.html"},
                ),
            ],
            transforms=[_Injector],
            listen_host=self.listen_host,
            preview=self.preview,
            cms_backend=Backend(self.preview.options.source),
            static_hash_cache=False,
            log_function=_quiet,
        )
        HTTPServer(app).add_sockets(self.sockets)

    def _setup_logging(self) -> None:
        """Keep livereload's and tornado's request logs out of the editor's terminal."""


def _cms_routes() -> list[tuple[str, type[web.RequestHandler]]]:
    """Return the browser editor's local backend and config, behind the same Host check as the rest."""

    class Api(_Guarded, CmsApi):
        """The local backend's API."""

    class Settings(_Guarded, CmsConfig):
        """/admin/config.yml pointing the editor at this server."""

    return [(re.escape(LOCAL_API), Api), (r"/admin/config\.yml", Settings)]


def _quiet(handler: web.RequestHandler) -> None:
    """Log nothing per request."""
