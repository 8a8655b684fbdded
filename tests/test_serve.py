"""`build.py serve`: run as a user runs it, talked to over raw sockets and livereload's websocket."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest
from bs4 import BeautifulSoup
from conftest import ARTICLE, NOW, REPO, lay_out
from tornado import web
from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest
from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets
from tornado.websocket import WebSocketClientConnection, websocket_connect

from kiln.errors import SiteError
from kiln.pipeline import Options
from kiln.serve import PREVIEW, Preview, ServeOptions, _bind, _LiveReloadSocket, _PreviewFiles, host_allowed

SECRET = "title: Test Site"  # a line of site.yaml, which must never be served
DRAFT = "---\ntitle: Not yet\ndate: 2026-01-05\ndraft: true\n---\nA draft in progress.\n"
Result = TypeVar("Result")
WAIT = 15.0  # seconds; generous, for a loaded CI machine (latency is measured by scripts/serve_latency.py)


class Served:
    """A `build.py serve` process: its URL, what it printed, and a way to stop it."""

    def __init__(self, source: Path, *args: str) -> None:
        command = [sys.executable, str(REPO / "build.py"), "serve", "--source", str(source), "--now", NOW.isoformat()]
        self.process = subprocess.Popen(
            [*command, *(args or ("--port", "0"))],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            # Ctrl+C must work even when the tests run as a background job, whose shell made it ignore SIGINT
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.port = self._wait_for_url()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def _wait_for_url(self) -> int:
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            for line in self.lines:
                if line.startswith("Preview ") and " at http://" in line:
                    return int(line.rsplit(":", 1)[1].strip("/"))
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise AssertionError("serve printed no URL:\n" + "\n".join(self.lines))

    @property
    def output(self) -> str:
        """Return everything printed so far."""
        return "\n".join(self.lines)

    def stop(self) -> int:
        """Stop the server as Ctrl+C does; return its exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=WAIT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._reader.join(timeout=WAIT)
        assert self.process.stdout is not None
        self.process.stdout.close()
        return self.process.returncode


def http(port: int, target: str, host: str | None = None, method: str = "GET") -> tuple[int, str]:
    """Return the status and body of one raw HTTP request; the target is sent exactly as given."""
    request = f"{method} {target} HTTP/1.1\r\nHost: {host or f'127.0.0.1:{port}'}\r\nConnection: close\r\n\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=WAIT) as connection:
        connection.sendall(request.encode("latin-1"))
        chunks = []
        while chunk := connection.recv(65536):
            chunks.append(chunk)
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body.decode("utf-8", errors="replace")


async def listen(port: int, origin: str | None = None) -> WebSocketClientConnection:
    """Return a websocket that has greeted the server as livereload.js does."""
    headers = {"Origin": origin} if origin else {}
    socket_ = await websocket_connect(HTTPRequest(f"ws://127.0.0.1:{port}/livereload", headers=headers))
    await socket_.write_message(
        json.dumps({"command": "hello", "protocols": ["http://livereload.com/protocols/official-7"]})
    )
    hello = await asyncio.wait_for(socket_.read_message(), WAIT)
    assert isinstance(hello, str) and json.loads(hello)["command"] == "hello"
    await socket_.write_message(json.dumps({"command": "info", "url": f"http://127.0.0.1:{port}/", "plugins": {}}))
    # The server registers the page when it reads "info" and answers nothing; it reads one connection's messages
    # in order, so its answer to a second hello says that "info" has been read (no sleep to outrun).
    await socket_.write_message(json.dumps({"command": "hello", "protocols": []}))
    again = await asyncio.wait_for(socket_.read_message(), WAIT)
    assert isinstance(again, str) and json.loads(again)["command"] == "hello"
    return socket_


async def close(socket_: WebSocketClientConnection) -> None:
    """Close a websocket and wait until its connection is gone, so no socket is left open."""
    socket_.close()
    while await asyncio.wait_for(socket_.read_message(), WAIT) is not None:
        pass


def reload_after(port: int, change: Callable[[], None]) -> dict[str, object]:
    """Make a change while a browser listens; return the reload message it gets."""

    async def run() -> dict[str, object]:
        socket_ = await listen(port, f"http://127.0.0.1:{port}")
        try:
            change()
            while True:
                message = await asyncio.wait_for(socket_.read_message(), WAIT)
                assert isinstance(message, str), "the websocket closed"
                data: dict[str, object] = json.loads(message)
                if data["command"] == "reload":
                    return data
        finally:
            await close(socket_)

    return asyncio.run(run())


def page(port: int, url: str) -> tuple[int, BeautifulSoup]:
    """Return the status and parsed HTML of a page of the preview."""
    status, body = http(port, url)
    return status, BeautifulSoup(body, "html.parser")


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Callable[..., Served]]:
    """Return a function that starts `serve` on a site laid out from {path: text}; stops them all afterwards."""
    started: list[Served] = []

    def start(files: dict[str, str | bytes], *args: str) -> Served:
        server = Served(lay_out(tmp_path / "src", files), *args)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def test_serve_shows_drafts_from_its_own_folder_and_never_writes_site(served: Callable[..., Served]) -> None:
    server = served({"content/articles/one.md": ARTICLE.format(title="One", day=1), "content/articles/draft.md": DRAFT})
    assert f"Preview with drafts at http://127.0.0.1:{server.port}/" in server.lines
    status, draft = page(server.port, "/articles/draft/")
    assert status == 200
    banner = draft.select_one(".status-banner")
    assert banner is not None and "draft" in banner.get_text()
    scripts = [script.get_text() for script in draft.find_all("script")]
    assert any("livereload.js" in script for script in scripts)
    status, home = page(server.port, "/")
    assert status == 200 and home.find("a", string="Not yet") is not None
    source = Path(server.process.args[4])  # type: ignore[index]
    assert (source / ".preview/site/articles/draft/index.html").is_file()
    assert not (source / "site").exists()
    assert server.stop() == 0


def test_no_drafts_previews_the_published_site(served: Callable[..., Served]) -> None:
    server = served({"content/articles/draft.md": DRAFT}, "--port", "0", "--no-drafts")
    assert f"Preview without drafts (--no-drafts) at http://127.0.0.1:{server.port}/" in server.lines
    status, missing = page(server.port, "/articles/draft/")
    assert status == 404
    assert missing.h1 is not None and missing.h1.get_text() == "Page not found"


def test_saving_an_article_reloads_the_browser_with_the_new_text(served: Callable[..., Served], tmp_path: Path) -> None:
    server = served({"content/articles/one.md": ARTICLE.format(title="One", day=1)})
    path = tmp_path / "src/content/articles/one.md"
    message = reload_after(server.port, lambda: path.write_text(path.read_text().replace("Some text", "Fresh words")))
    assert message["command"] == "reload"
    _, article = page(server.port, "/articles/one/")
    assert "Fresh words about One." in article.get_text()
    _, listing = page(server.port, "/tags/trust/")
    assert listing.find("a", string="One") is not None


def test_after_a_pause_the_edit_is_confirmed_and_the_cache_stored(
    served: Callable[..., Served], tmp_path: Path
) -> None:
    server = served({"content/articles/one.md": ARTICLE.format(title="One", day=1)})
    path = tmp_path / "src/content/articles/one.md"
    cache = tmp_path / "src/.kiln-cache/pages.bin"
    deadline = time.monotonic() + WAIT
    while not cache.exists() and time.monotonic() < deadline:  # the first build's caches, stored after a pause
        time.sleep(0.05)
    assert cache.exists(), f"the first build stored no cache within {WAIT} s"
    deadline = time.monotonic() + WAIT
    stored = cache.stat().st_mtime_ns
    reload_after(server.port, lambda: path.write_text(path.read_text().replace("Some text", "Other words")))
    while cache.stat().st_mtime_ns == stored and time.monotonic() < deadline:
        time.sleep(0.05)
    assert cache.stat().st_mtime_ns != stored, "the caches were not stored after the edit"
    assert b"Other words" in cache.read_bytes()
    _, article = page(server.port, "/articles/one/")
    assert "Other words about One." in article.get_text()


def test_new_and_deleted_files_and_template_edits_are_picked_up(served: Callable[..., Served], tmp_path: Path) -> None:
    server = served({"content/articles/one.md": ARTICLE.format(title="One", day=1)})
    source = tmp_path / "src"
    two = source / "content/articles/two.md"
    reload_after(server.port, lambda: two.write_text(ARTICLE.format(title="Two", day=2)))
    assert page(server.port, "/articles/two/")[0] == 200
    _, home = page(server.port, "/")
    assert home.find("a", string="Two") is not None
    reload_after(server.port, two.unlink)
    assert page(server.port, "/articles/two/")[0] == 404
    template = source / "templates/article.html"
    reload_after(
        server.port, lambda: template.write_text(template.read_text().replace("<article", "<article data-edited"))
    )
    _, article = page(server.port, "/articles/one/")
    assert article.select_one("article[data-edited]") is not None
    config = source / "site.yaml"
    reload_after(server.port, lambda: config.write_text(config.read_text().replace("Test Site", "Renamed Site")))
    _, home = page(server.port, "/")
    assert home.title is not None and "Renamed Site" in home.title.get_text()


def test_a_build_error_is_shown_in_the_browser_until_fixed(served: Callable[..., Served], tmp_path: Path) -> None:
    server = served({"content/articles/one.md": ARTICLE.format(title="One", day=1)})
    path = tmp_path / "src/content/articles/one.md"
    good = path.read_text()
    broken = "---\ntitle: One <script>alert('x')</script>\ndate: tomorrow\ntags: [trust]\n---\nText.\n"
    reload_after(server.port, lambda: path.write_text(broken))
    status, body = http(server.port, "/articles/one/")
    assert status == 500
    shown = BeautifulSoup(body, "html.parser")
    assert "content/articles/one.md:3" in shown.get_text()
    assert "`date` is not a date" in shown.get_text()
    assert shown.select_one("pre .bad") is not None and "date: tomorrow" in shown.select_one("pre .bad").get_text()
    assert "<script>alert" not in body and "&lt;script&gt;alert" in body  # the file's lines are escaped
    assert "livereload.js" in body  # so that the page comes back by itself
    assert http(server.port, "/")[0] == 500  # every page shows the error
    reload_after(server.port, lambda: path.write_text(good))
    status, article = page(server.port, "/articles/one/")
    assert status == 200 and article.h1 is not None and article.h1.get_text() == "One"
    expected = (
        "content/articles/one.md:3: `date` is not a date (expected a date such as 2026-11-27, 2026-11-27 18:30 "
        "or 2026-11-27T18:30:00+01:00, got 'tomorrow')"
    )
    deadline = time.monotonic() + WAIT
    while "Fixed: the preview builds again" not in server.output and time.monotonic() < deadline:
        time.sleep(0.05)
    assert any(line.startswith("Fixed: the preview builds again (") for line in server.lines), server.output
    assert server.lines.count(expected) == 1
    assert "Traceback" not in server.output
    assert server.process.poll() is None


def test_a_broken_site_at_start_still_serves_the_error(served: Callable[..., Served]) -> None:
    server = served({"content/articles/one.md": "---\ntitle: One\n---\nNo date.\n"})
    status, body = http(server.port, "/")
    assert status == 500
    assert "content/articles/one.md:1: `date` is required" in BeautifulSoup(body, "html.parser").get_text()


@pytest.mark.parametrize(
    "target",
    [
        "/../site.yaml",
        "/%2e%2e/site.yaml",
        "/%2E%2E/%2E%2E/src/site.yaml",
        "/..%2fsite.yaml",
        "/static/../../site.yaml",
        "//etc/passwd",
        "/%2fetc%2fpasswd",
        "/.kiln-output",
        "/../../../../../../etc/passwd",
    ],
)
def test_only_files_of_the_preview_are_served(served: Callable[..., Served], target: str) -> None:
    server = served({})
    status, body = http(server.port, target)
    assert status in (403, 404)
    assert SECRET not in body and "root:" not in body


def test_requests_for_other_host_names_are_refused(served: Callable[..., Served]) -> None:
    server = served({})
    assert http(server.port, "/", host=f"attacker.example:{server.port}")[0] == 403
    assert http(server.port, "/livereload.js", host="attacker.example")[0] == 403
    assert http(server.port, "/", host=f"localhost:{server.port}")[0] == 200
    assert http(server.port, "/", host=f"127.0.0.1:{server.port}")[0] == 200


def test_the_websocket_refuses_other_origins(served: Callable[..., Served]) -> None:
    server = served({})

    async def connect(origin: str) -> None:
        request = HTTPRequest(f"ws://127.0.0.1:{server.port}/livereload", headers={"Origin": origin})
        await close(await websocket_connect(request))

    with pytest.raises(HTTPClientError) as refused:
        asyncio.run(connect("http://attacker.example"))
    assert refused.value.code == 403
    asyncio.run(connect(f"http://127.0.0.1:{server.port}"))


def test_the_websocket_refuses_a_page_whose_host_and_origin_are_both_foreign(served: Callable[..., Served]) -> None:
    # DNS rebinding: attacker.example resolves to 127.0.0.1, so the browser sends Host and Origin that agree
    server = served({})
    foreign = f"attacker.example:{server.port}"

    async def connect(host: str) -> None:
        headers = {"Host": host, "Origin": f"http://{host}"}
        await close(await websocket_connect(HTTPRequest(f"ws://127.0.0.1:{server.port}/livereload", headers=headers)))

    with pytest.raises(HTTPClientError) as refused:
        asyncio.run(connect(foreign))
    assert refused.value.code == 403
    asyncio.run(connect(f"localhost:{server.port}"))  # the same request from this computer's own name connects


def test_listening_on_every_address_warns(served: Callable[..., Served]) -> None:
    server = served({}, "--host", "0.0.0.0", "--port", "0")
    assert any(line.startswith("Warning: listening on 0.0.0.0: anyone on your network") for line in server.lines)
    assert http(server.port, "/")[0] == 200
    assert http(server.port, "/", host=f"192.0.2.7:{server.port}")[0] == 200  # reached by an address: allowed
    assert http(server.port, "/", host=f"attacker.example:{server.port}")[0] == 403


def test_a_busy_port_given_with_port_is_a_clear_error(site: Callable[..., Path]) -> None:
    source = site()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, str(REPO / "build.py"), "serve", "--source", str(source), "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=WAIT * 2,
            check=False,
        )
    assert done.returncode == 1
    assert done.stderr.splitlines()[0] == (
        f"port {port} is already in use on 127.0.0.1 "
        "(another preview may be running; stop it, or choose a free port with --port)"
    )
    assert not (source / ".preview").exists()


def test_a_busy_default_port_moves_to_the_next_free_one() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        try:
            sockets, bound = _bind(ServeOptions(source=Path("."), port=port))
        except SiteError:
            pytest.skip("the ports after a free one happened to be taken")
        for listener in sockets:
            listener.close()
        assert bound > port
        with pytest.raises(SiteError, match=f"port {port} is already in use"):
            _bind(ServeOptions(source=Path("."), port=port, fixed_port=True))


@pytest.mark.parametrize(
    ("header", "listen", "allowed"),
    [
        ("127.0.0.1:8000", "127.0.0.1", True),
        ("localhost:8000", "127.0.0.1", True),
        ("[::1]:8000", "127.0.0.1", True),
        ("LOCALHOST", "127.0.0.1", True),
        ("evil.example:8000", "127.0.0.1", False),
        ("127.0.0.1.evil.example", "127.0.0.1", False),
        ("192.168.1.9:8000", "0.0.0.0", True),
        ("evil.example", "0.0.0.0", False),
        ("preview.lan:8000", "preview.lan", True),
        ("[fe80::5]:8000", "[fe80::5]", True),
        ("127.0.0.1:port", "127.0.0.1", False),  # not a Host header at all
        ("[::1", "127.0.0.1", False),
        ("preview.lan:x", "0.0.0.0", False),
        ("", "127.0.0.1", False),
    ],
)
def test_host_allowed(header: str, listen: str, allowed: bool) -> None:
    assert host_allowed(header, listen) is allowed


# --- the Host and Origin checks, served from this process ------------------------------------------------------
# The same handlers as `serve`, so that a bug in them fails here too, and mutation testing (docs/testing.md), which
# sees only what runs in its own process, can tell which tests guard them.


def in_process(tmp_path: Path, listen_host: str, exchange: Callable[[int], Awaitable[Result]]) -> Result:
    """Serve a built preview with serve's handlers, listening as for --host listen_host; return exchange(port)."""
    source = lay_out(tmp_path / "src", {"content/articles/one.md": ARTICLE.format(title="One", day=1)})
    preview = Preview(Options(source=source, output=source / PREVIEW / "site", drafts=True, now=NOW, preview=True))
    assert preview.rebuild(())

    async def run() -> Result:
        sockets = bind_sockets(0, "127.0.0.1")
        app = web.Application(
            [
                (r"/livereload", _LiveReloadSocket),
                (r"/(.*)", _PreviewFiles, {"path": str(preview.folder), "default_filename": "index.html"}),
            ],
            listen_host=listen_host,
            preview=preview,
            log_function=lambda handler: None,
        )
        server = HTTPServer(app)
        server.add_sockets(sockets)
        try:
            return await exchange(sockets[0].getsockname()[1])
        finally:
            server.stop()
            await server.close_all_connections()

    return asyncio.run(run())


async def websocket_status(port: int, host: str, origin: str, fetch_site: str | None = None) -> int:
    """Return 101 when the websocket accepts a page with this Host and Origin, else the refusal's status."""
    headers = {"Host": host, "Origin": origin, **({"Sec-Fetch-Site": fetch_site} if fetch_site else {})}
    request = HTTPRequest(f"ws://127.0.0.1:{port}/livereload", headers=headers)
    try:
        await close(await websocket_connect(request))
    except HTTPClientError as refused:
        return refused.code
    return 101


@pytest.mark.parametrize(
    ("host", "origin", "fetch_site", "status"),
    [
        ("127.0.0.1:{port}", "http://127.0.0.1:{port}", None, 101),
        ("localhost:{port}", "http://LOCALHOST:{port}", None, 101),
        ("LOCALHOST:{port}", "https://localhost:{port}", None, 101),
        ("attacker.example:{port}", "http://attacker.example:{port}", None, 403),  # DNS rebinding: both foreign
        ("127.0.0.1:{port}", "http://attacker.example", None, 403),
        ("127.0.0.1:{port}", "http://127.0.0.1:{port}.attacker.example", None, 403),
        ("127.0.0.1:{port}", "http://127.0.0.1", None, 403),
        ("127.0.0.1:{port}", "null", None, 403),
        # a browser that calls the request cross-site has tornado ask check_origin even when the names agree
        ("127.0.0.1:{port}", "http://127.0.0.1:{port}", "cross-site", 101),
        ("LOCALHOST:{port}", "https://localhost:{port}", "same-site", 101),
        ("127.0.0.1:{port}", "ftp://127.0.0.1:{port}", "cross-site", 403),
        ("127.0.0.1:{port}", "http://localhost:{port}", "cross-site", 403),
        ("127.0.0.1:{port}", "http://attacker.example", "cross-site", 403),
    ],
)
def test_the_websocket_accepts_only_pages_of_this_preview(
    tmp_path: Path, host: str, origin: str, fetch_site: str | None, status: int
) -> None:
    async def exchange(port: int) -> int:
        return await websocket_status(port, host.format(port=port), origin.format(port=port), fetch_site)

    assert in_process(tmp_path, "127.0.0.1", exchange) == status


def test_a_rebound_page_is_refused_even_when_the_browser_calls_it_same_origin(tmp_path: Path) -> None:
    # a browser on a rebound name sends Sec-Fetch-Site: same-origin, so no Origin check runs: the Host check must
    async def exchange(port: int) -> tuple[int, int]:
        foreign = f"attacker.example:{port}"
        refused = await websocket_status(port, foreign, f"http://{foreign}", "same-origin")
        local = f"127.0.0.1:{port}"
        return refused, await websocket_status(port, local, f"http://{local}", "same-origin")

    assert in_process(tmp_path, "127.0.0.1", exchange) == (403, 101)


@pytest.mark.parametrize(
    ("listen", "host", "status"),
    [
        ("127.0.0.1", "127.0.0.1:{port}", 200),
        ("127.0.0.1", "attacker.example:{port}", 403),
        ("127.0.0.1", "192.0.2.7:{port}", 403),
        ("0.0.0.0", "192.0.2.7:{port}", 200),
        ("0.0.0.0", "attacker.example:{port}", 403),
    ],
)
def test_pages_are_served_only_to_this_previews_host_names(tmp_path: Path, listen: str, host: str, status: int) -> None:
    async def exchange(port: int) -> tuple[int, str]:
        request = HTTPRequest(f"http://127.0.0.1:{port}/articles/one/", headers={"Host": host.format(port=port)})
        client = AsyncHTTPClient()
        try:
            response = await client.fetch(request, raise_error=False)
        finally:
            client.close()
        return response.code, response.body.decode()

    code, body = in_process(tmp_path, listen, exchange)
    assert code == status
    if status == 200:
        assert "Some text about One." in body
    else:
        assert body == "403 Host not allowed\n"  # what the browser shows, saying why
