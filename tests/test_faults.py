"""Faults while writing: a full disk, a folder that refuses writes, a build killed at any moment, two builds at
once. Each leaves the previous site/ whole, says what happened, and the next build succeeds and cleans up."""

from __future__ import annotations

import os
import resource
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import ARTICLE, CONFIG, NOW, REPO, Run, snapshot

Site = Callable[..., Path]
Build = Callable[..., Run]

# Runs build.py as a user would, but dies (SIGKILL, which nothing can catch) or waits at a chosen moment.
HARNESS = r"""
import os, signal, sys, time
from pathlib import Path
import kiln.write as write

point, argv = sys.argv[1], sys.argv[2:]

def kill():
    os.kill(os.getpid(), signal.SIGKILL)

def after_calls(owner, name, calls, action):
    original = getattr(owner, name)
    count = [0]
    def wrapper(*args, **kwargs):
        count[0] += 1
        if count[0] == calls:
            action()
        return original(*args, **kwargs)
    setattr(owner, name, wrapper)

def hold():
    Path(os.environ["HOLDING"]).touch()
    while not Path(os.environ["RELEASE"]).exists():
        time.sleep(0.02)

def while_laying_out(calls, action):
    after_calls(write, "_lay_out", 1, lambda: after_calls(write, "_write_file", calls, action))

if point == "lay-out":  # some files of the new site written, the rest not
    while_laying_out(5, kill)
elif point == "swap":  # the new site complete, not yet swapped in
    after_calls(write, "_swap", 1, kill)
elif point == "cleanup":  # swapped in, the previous build still in the staging folder
    original = write._swap
    def swap_then_die(staging, output):
        original(staging, output)
        kill()
    write._swap = swap_then_die
elif point == "fallback-swap":  # a system without renameat2: killed between its two renames
    write._exchange = lambda first, second: False
    after_calls(Path, "rename", 2, kill)
elif point == "hold":  # hold the lock in the middle of writing until told to go on
    while_laying_out(3, hold)

from kiln.cli import main
sys.exit(main(argv))
"""


def command(source: Path, *extra: str) -> list[str]:
    """Return the build command line for a source folder."""
    return [sys.executable, str(REPO / "build.py"), "build", "--source", str(source), "--now", NOW.isoformat(), *extra]


def harness(point: str, source: Path) -> list[str]:
    """Return the command that builds a source folder and dies or waits at a point."""
    return [sys.executable, "-c", HARNESS, point, "--source", str(source), "--now", NOW.isoformat(), "--quiet"]


def environment(**extra: str) -> dict[str, str]:
    """Return the environment for a build subprocess: this one, with the repo importable."""
    return {**os.environ, "PYTHONPATH": str(REPO), **extra}


@pytest.fixture
def built(site: Site, build: Build) -> tuple[Path, dict[str, bytes]]:
    """Return a source folder built once, and site/ as that build left it; its next build changes every page."""
    source = site({f"content/articles/a{n}.md": ARTICLE.format(title=f"Article {n}", day=n) for n in range(1, 6)})
    assert build(source).code == 0
    before = snapshot(source / "site")
    (source / "site.yaml").write_text(CONFIG.replace("Test Site", "Renamed Site"), encoding="utf-8")
    return source, before


def leftovers(source: Path) -> list[str]:
    """Return what a build leaves beside site/ that only a build in progress should have."""
    return sorted(p.name for p in source.iterdir() if p.name in (".site.staging", ".site.previous"))


# --- a write that fails ----------------------------------------------------------------------------------------


def test_a_full_disk_leaves_the_previous_site_and_says_so(built: tuple[Path, dict[str, bytes]]) -> None:
    source, before = built
    (source / "static/big.bin").write_bytes(os.urandom(2 * 1024 * 1024))

    def limit_file_size() -> None:
        # writes past the limit fail with EFBIG, as on a full disk, instead of the signal ending the process
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (1024 * 1024, 1024 * 1024))

    result = subprocess.run(
        command(source), env=environment(), capture_output=True, text=True, preexec_fn=limit_file_size, timeout=60
    )
    assert result.returncode == 1, result.stderr
    assert (
        f"{source / 'site/static/big.bin'}: could not write the output: File too large "
        "(the previous site/ is unchanged)"
    ) in result.stderr.splitlines()
    assert snapshot(source / "site") == before
    assert leftovers(source) == []


def without_root() -> list[str]:
    """Return the prefix that runs a command without root's power to write into any folder ([] when not root).

    `unshare --user` runs it in a user namespace of its own, where files of the real root are still its own but
    root's capabilities do not apply to them: a folder without write permission refuses it, as it refuses a user.
    """
    if os.geteuid() != 0:
        return []
    reason = "cannot run a build as root without root's powers"
    if shutil.which("unshare") is None:
        reason += ": unshare (util-linux) is missing"
    elif subprocess.run(["unshare", "--user", "true"], capture_output=True, timeout=60).returncode != 0:
        reason += ": this system refuses user namespaces"
    else:
        return ["unshare", "--user"]
    if os.environ.get("CI"):
        pytest.fail(reason)  # CI must run this test (.ci/run installs util-linux)
    pytest.skip(reason)


def test_a_folder_that_refuses_writes_leaves_the_previous_site(site: Site, build: Build, tmp_path: Path) -> None:
    source = site({"content/articles/a.md": ARTICLE.format(title="A", day=1)})
    output = tmp_path / "out/site"
    assert build(source, "--output", str(output)).code == 0
    before = snapshot(output)
    (source / "site.yaml").write_text(CONFIG.replace("Test Site", "Renamed Site"), encoding="utf-8")
    prefix = without_root()
    output.parent.chmod(0o555)  # where the new site would be staged beside the old one
    try:
        result = subprocess.run(
            [*prefix, *command(source, "--output", str(output))],
            env=environment(),
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        output.parent.chmod(0o755)
    assert result.returncode == 1, result.stderr
    assert (
        f"{output.parent}: could not write the output: Permission denied (the previous site/ is unchanged)"
    ) in result.stderr.splitlines()
    assert snapshot(output) == before
    assert leftovers(output.parent) == []


# --- a build killed at any moment ------------------------------------------------------------------------------


@pytest.mark.parametrize("point", ["lay-out", "swap", "cleanup", "fallback-swap"])
def test_a_killed_build_leaves_a_whole_site_and_the_next_build_cleans_up(
    built: tuple[Path, dict[str, bytes]], point: str
) -> None:
    source, before = built
    killed = subprocess.run(harness(point, source), env=environment(), capture_output=True, timeout=60)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    if point == "fallback-swap":
        # the one moment with no site/: the previous build is set aside, and the next build puts it back first
        assert not (source / "site").exists() and snapshot(source / ".site.previous") == before
    elif point == "cleanup":
        assert snapshot(source / "site") != before and (source / ".site.staging").exists()
    else:
        assert snapshot(source / "site") == before
    again = subprocess.run(command(source, "--quiet"), env=environment(), capture_output=True, text=True, timeout=60)
    assert again.returncode == 0, again.stderr
    after = snapshot(source / "site")
    assert b"Renamed Site" in after["index.html"] and b"Test Site" not in after["index.html"]
    assert set(after) == set(before)
    assert leftovers(source) == []


# --- two builds at once ----------------------------------------------------------------------------------------


def test_a_second_build_refuses_while_the_first_writes(
    built: tuple[Path, dict[str, bytes]], build: Build, tmp_path: Path
) -> None:
    source, before = built
    holding, release = tmp_path / "holding", tmp_path / "release"
    first = subprocess.Popen(
        harness("hold", source),
        env=environment(HOLDING=str(holding), RELEASE=str(release)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while not holding.exists():
            assert first.poll() is None and time.monotonic() < deadline, "the first build never started writing"
            time.sleep(0.02)
        second = build(source)
        assert second.code == 1
        assert (
            second.err.splitlines()[0]
            == "another build is writing site/ right now (wait for it to finish, then build again)"
        )
        assert snapshot(source / "site") == before
    finally:
        release.touch()
        _, err = first.communicate(timeout=60)
    assert first.returncode == 0, err
    after = snapshot(source / "site")
    assert b"Renamed Site" in after["index.html"] and set(after) == set(before)
    assert build(source).code == 0
    assert snapshot(source / "site") == after
    assert leftovers(source) == []
