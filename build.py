#!/usr/bin/env python3
"""The site's command line: `python build.py [build|serve|new|check] ...` (see README.md)."""

from __future__ import annotations

import sys
from pathlib import Path

from kiln.cli import main

if __name__ == "__main__":
    sys.exit(main(default_source=Path(__file__).resolve().parent))
