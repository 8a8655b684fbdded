"""kiln: a small static site generator for articles and program pages."""

from __future__ import annotations

__version__ = "0.1.0"
