"""scripts/lighthouse.py judges Lighthouse's scores as they are: 0.995 is below a budget of 100."""

from __future__ import annotations

import importlib.util
from types import ModuleType

import pytest
from conftest import REPO


def script() -> ModuleType:
    """Return scripts/lighthouse.py, imported as a module."""
    spec = importlib.util.spec_from_file_location("lighthouse_script", REPO / "scripts/lighthouse.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def report(**found: float | None) -> dict[str, object]:
    """Return the part of a Lighthouse JSON report the script reads, every category 1 unless given."""
    categories = {"performance": 1.0, "accessibility": 1.0, "best-practices": 1.0, "seo": 1.0}
    categories.update({name.replace("_", "-"): score for name, score in found.items()})
    return {"categories": {name: {"score": score} for name, score in categories.items()}}


@pytest.mark.parametrize(
    ("found", "short"),
    [
        ({}, []),
        ({"accessibility": 0.995}, ["accessibility"]),  # shown as 100 when rounded; it is 99.5
        ({"performance": 0.999, "seo": 0.5}, ["performance", "seo"]),
        ({"best_practices": None}, ["best-practices"]),  # a category Lighthouse could not score
    ],
)
def test_a_score_below_the_budget_fails_however_close(found: dict[str, float | None], short: list[str]) -> None:
    lighthouse = script()
    assert lighthouse.below(lighthouse.scores(report(**found)), 100) == short


def test_scores_are_printed_without_rounding_up() -> None:
    lighthouse = script()
    assert lighthouse.shown(100 * 0.995).strip() == "99.5"
    assert lighthouse.shown(100.0).strip() == "100"
