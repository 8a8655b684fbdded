"""What a static host does with `_headers` (Netlify, Cloudflare Pages): the headers each path is served with.

Shared by the browser tests and scripts/lighthouse.py, so that both measure the pages as visitors get them.
"""

from __future__ import annotations


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


def headers_for(rules: list[tuple[str, dict[str, str]]], path: str) -> dict[str, str]:
    """Return the headers the rules give a path (a trailing * matches anything); a header given twice fails."""
    found: dict[str, str] = {}
    for pattern, values in rules:
        if pattern == path or (pattern.endswith("*") and path.startswith(pattern[:-1])):
            for name, value in values.items():
                assert name not in found, f"two rules of _headers set {name} for {path}"
                found[name] = value
    return found
