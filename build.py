#!/usr/bin/env python3
"""The site's command line: `python build.py [build|serve|new|check] ...` (see README.md)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from kiln.cli import main

if __name__ == "__main__":
    code = main(default_source=Path(__file__).resolve().parent)
    # Everything is written, closed and reported: leave without taking apart the thousands of pages and files
    # still in memory, which would add tens of milliseconds to every build.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
