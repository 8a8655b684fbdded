"""Importers: posts from elsewhere into content/, outside the build (which never knows where a file came from).

`import_wordpress` reads a WordPress export (WXR); `import_markdown` a Jekyll, Hugo, Hexo or Eleventy folder.
Both write only new files under content/ and return a Report of what they did.
"""

from __future__ import annotations

from .markdown import import_markdown
from .wordpress import import_wordpress

__all__ = ["import_markdown", "import_wordpress"]
