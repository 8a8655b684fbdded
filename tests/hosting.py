"""What a static host does with `_headers` (Netlify, Cloudflare Pages): the headers each path is served with.

Shared by the browser tests and scripts/lighthouse.py, so that both measure the pages as visitors get them.
"""

from __future__ import annotations

import http.server
from urllib.parse import urlsplit


def header_rules(text: str) -> list[tuple[str, dict[str, str]]]:
    """Return a _headers file's rules in order: (path pattern, {header: value})."""
    rules: list[tuple[str, dict[str, str]]] = []
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        if line.startswith(" "):
            name, _, value = line.strip().partition(": ")
            rules[-1][1][name] = value
        else:
            rules.append((line.strip(), {}))
    return rules


def covers(pattern: str, path: str) -> bool:
    """Return whether a _headers path pattern matches a path (a * at the end matches anything)."""
    return path.startswith(pattern[:-1]) if pattern.endswith("*") else path == pattern


def headers_for(rules: list[tuple[str, dict[str, str]]], path: str) -> dict[str, str]:
    """Return the headers the rules give a path (a trailing * matches anything); a header given twice fails."""
    found: dict[str, str] = {}
    for pattern, values in rules:
        if covers(pattern, path):
            for name, value in values.items():
                assert name not in found, f"two rules of _headers set {name} for {path}"
                found[name] = value
    return found


class HeadersHost(http.server.SimpleHTTPRequestHandler):
    """Serves files with the headers `rules` (a _headers file's) give each path, recording them in `sent`."""

    rules: list[tuple[str, dict[str, str]]] = []
    sent: dict[str, dict[str, str]] = {}

    def end_headers(self) -> None:
        """Add the headers _headers gives this path."""
        path = urlsplit(self.path).path
        self.sent[path] = values = headers_for(self.rules, path)
        for name, value in values.items():
            self.send_header(name, value)
        super().end_headers()
