"""The only code that writes the output folder: a staged copy swapped in whole, or nothing at all."""

from __future__ import annotations

import ctypes
import errno
import fcntl
import os
import shutil
import stat
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from .errors import BuildFailed, SiteError

MARKER = ".kiln-output"
MARKER_TEXT = b"This folder is made by build.py and replaced whole by each build.\n"
_RENAME_EXCHANGE = 2


@dataclass(frozen=True)
class Written:
    """How many files a build wrote afresh and how many it kept unchanged from the previous build."""

    changed: int
    unchanged: int


def check_output_folder(output: Path, source: Path) -> None:
    """Raise when the output folder is one a build must never replace."""
    target = output.resolve()
    source = source.resolve()
    forbidden = {Path("/"), Path.home().resolve(), source, *source.parents}
    if target in forbidden:
        raise BuildFailed(
            [
                SiteError(
                    f"refusing to build into {output}",
                    None,
                    None,
                    "expected a folder of its own such as site/, not the source, a parent of it, the home folder or /",
                )
            ]
        )
    if target.exists() and (not target.is_dir() or (any(target.iterdir()) and not (target / MARKER).exists())):
        raise BuildFailed(
            [
                SiteError(
                    f"refusing to replace {output}: it is not a previous build",
                    None,
                    None,
                    f"expected an empty folder or one with a {MARKER} file; "
                    "choose another --output or empty it yourself",
                )
            ]
        )


def write_output(files: dict[str, bytes], output: Path) -> Written:
    """Write every file into a staging folder beside the output, then swap it in at once."""
    output = output.absolute()
    output.parent.mkdir(parents=True, exist_ok=True)
    with _locked(output):
        _recover(output)
        staging = output.parent / f".{output.name}.staging"
        shutil.rmtree(staging, ignore_errors=True)  # left by a build that was killed
        differing = _differing(output, files)
        if differing == []:  # nothing to write: the swap would put back the very same files
            return Written(0, len(files))
        if differing is not None and len(differing) == 1:  # one rename replaces one file: atomic like the swap
            return _replace_one(differing[0], files[differing[0]], staging, output, len(files))
        try:
            written = _lay_out(files, staging, output)
            _swap(staging, output)
        except OSError as error:
            shutil.rmtree(staging, ignore_errors=True)
            raise BuildFailed(
                [
                    SiteError(
                        f"could not write the output: {error.strerror or error}",
                        _failed_file(error.filename, staging, output),
                        None,
                        f"the previous {output.name}/ is unchanged",
                    )
                ]
            ) from error
        shutil.rmtree(staging, ignore_errors=True)  # after the swap it holds the previous build
    return written


def write_changed(files: dict[str, bytes], output: Path, previous: dict[str, bytes] | None) -> Written:
    """Write into the output folder in place only what differs from the files last written there (`previous`).

    For the live preview, whose folder only this process writes: an edit rewrites a few files instead of laying
    out the whole site again. Each file is replaced in one step (a reader sees the old or the new bytes), but
    the site as a whole is not swapped at once, so builds that publish use write_output. Without a previous
    write, or when anything goes wrong, it falls back to write_output, which makes the folder exactly right.
    """
    output = output.absolute()
    if previous is None or not (output / MARKER).is_file():
        return write_output(files, output)
    changed = 0
    try:
        with _locked(output):
            for name, data in files.items():
                old = previous.get(name)
                if old is data or old == data:
                    continue
                target = output / _safe_relative(name)
                target.parent.mkdir(parents=True, exist_ok=True)
                temporary = target.parent / f".{target.name}.{os.getpid()}.tmp"
                temporary.write_bytes(data)
                temporary.replace(target)
                changed += 1
            for name in sorted(previous.keys() - files.keys(), reverse=True):
                target = output / _safe_relative(name)
                target.unlink(missing_ok=True)
                _remove_empty_folders(target.parent, output)
    except OSError:
        return write_output(files, output)
    return Written(changed, len(files) - changed)


def _remove_empty_folders(folder: Path, output: Path) -> None:
    """Remove a folder and its parents, up to the output folder, while they are empty."""
    while folder != output and folder.is_relative_to(output):
        try:
            folder.rmdir()
        except OSError:  # not empty (or already gone): the parents are not empty either
            return
        folder = folder.parent


def _failed_file(filename: object, staging: Path, output: Path) -> Path | None:
    """Return the file a write failed on, named as it would be in the output folder rather than in staging."""
    if not isinstance(filename, (str, bytes)) or not filename:
        return None
    path = Path(os.fsdecode(filename))
    if path == staging:
        return staging.parent  # the folder that refused the staging folder
    return output / path.relative_to(staging) if path.is_relative_to(staging) else path


def _lay_out(files: dict[str, bytes], staging: Path, output: Path) -> Written:
    """Fill the staging folder: unchanged files are hard links to the previous build's, so they keep their times."""
    changed = unchanged = 0
    staging.mkdir()
    made = {str(staging)}
    for name in sorted(files):  # plain strings, not Paths: at thousands of files the difference shows
        relative = _safe_name(name)
        data = files[name]
        target = os.path.join(staging, relative)
        folder = os.path.dirname(target)
        if folder not in made:  # most folders hold one index.html: ask the system once per folder
            os.makedirs(folder, exist_ok=True)
            made.add(folder)
        previous = os.path.join(output, relative)
        if _same_bytes(previous, data):
            try:
                os.link(previous, target)
                unchanged += 1
                continue
            except OSError:
                pass  # a file system without hard links: write a copy
        _write_file(target, data)
        changed += 1
    marker = MARKER_TEXT
    if _same_bytes(output / MARKER, marker):  # linked like any unchanged file, so sync tools see nothing new
        with suppress(OSError):
            os.link(output / MARKER, staging / MARKER)
    if not (staging / MARKER).exists():
        (staging / MARKER).write_bytes(marker)
    return Written(changed, unchanged)


def _write_file(target: str, data: bytes) -> None:
    """Write one new file, naming it in the error if that fails (a failed write() names no file)."""
    try:
        with open(target, "wb") as handle:
            handle.write(data)
    except OSError as error:
        raise OSError(error.errno, error.strerror, target) from error


def _differing(output: Path, files: dict[str, bytes]) -> list[str] | None:
    """Return the files whose bytes differ in the output folder, or None unless it holds the same names (and marker).

    None also when it holds anything else (a link, an empty folder, a stray file): only a whole new build fits.
    """
    found: list[str] = []
    if not _list_files(str(output), "", found) or len(found) != len(files) + 1 or set(found) != {*files, MARKER}:
        return None
    differing: list[str] = []
    for name, data in ((MARKER, MARKER_TEXT), *files.items()):
        try:
            handle = os.open(os.path.join(output, name), os.O_RDONLY)
            try:
                same = os.read(handle, len(data) + 1) == data  # a regular file gives all it holds, up to the size
            finally:
                os.close(handle)
        except OSError:
            return None
        if not same:
            if name == MARKER:
                return None
            differing.append(name)
    return differing


def _replace_one(name: str, data: bytes, staging: Path, output: Path, total: int) -> Written:
    """Replace one file of the output folder in one step: written in full beside it first, then renamed over it."""
    target = output / _safe_relative(name)
    temporary = staging / "replacement"
    try:
        staging.mkdir()
        temporary.write_bytes(data)
        temporary.replace(target)
    except OSError as error:
        raise BuildFailed(
            [
                SiteError(
                    f"could not write the output: {error.strerror or error}",
                    staging.parent if error.filename == str(staging) else target,
                    None,
                    f"the previous {output.name}/ is unchanged",
                )
            ]
        ) from error
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return Written(1, total - 1)


def _list_files(folder: str, prefix: str, found: list[str]) -> bool:
    """Add the files under a folder, as output paths, to found; return False if it holds anything else.

    Anything else is a link, a special file or an empty folder: a new build would not have it, so it needs one.
    """
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return False
    if not entries and prefix:
        return False
    for entry in entries:
        name = prefix + entry.name
        if entry.is_symlink():
            return False
        if entry.is_dir():
            if not _list_files(entry.path, name + "/", found):
                return False
        elif entry.is_file():
            found.append(name)
        else:
            return False
    return True


def _safe_relative(name: str) -> Path:
    """Return an output file name as a relative path, refusing any that could leave the output folder."""
    return Path(_safe_name(name))


def _safe_name(name: str) -> str:
    """Return an output file name unchanged, refusing any that could leave the output folder."""
    if name.startswith("/") or "\\" in name or any(part in ("..", ".", "") for part in name.split("/")):
        raise ValueError(f"output path {name!r} would leave the output folder")
    return name


def _same_bytes(path: str | Path, data: bytes) -> bool:
    """Return whether a regular file (not a link to one, which a hard link would copy as a link) has these bytes."""
    try:
        info = os.lstat(path)
        if not stat.S_ISREG(info.st_mode) or info.st_size != len(data):
            return False
        with open(path, "rb") as handle:
            return handle.read() == data
    except OSError:
        return False


def _swap(staging: Path, output: Path) -> None:
    """Put the staging folder in the output's place; the previous build ends up in the staging path."""
    if not output.exists():
        staging.rename(output)
        return
    if _exchange(staging, output):
        return
    previous = output.parent / f".{output.name}.previous"
    output.rename(previous)
    staging.rename(output)
    previous.rename(staging)


def _exchange(first: Path, second: Path) -> bool:
    """Swap two folders in one step with Linux's renameat2, where the system has it."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd = -100
    result = renameat2(at_fdcwd, os.fsencode(first), at_fdcwd, os.fsencode(second), _RENAME_EXCHANGE)
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(second))


def _recover(output: Path) -> None:
    """Put back a previous build that a killed swap left aside."""
    previous = output.parent / f".{output.name}.previous"
    if previous.exists() and not output.exists():
        previous.rename(output)
    shutil.rmtree(previous, ignore_errors=True)


@contextmanager
def _locked(output: Path) -> Iterator[None]:
    """Hold a lock beside the output folder, so two builds never write it at once."""
    lock_path = output.parent / f".{output.name}.lock"
    with open(lock_path, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BuildFailed(
                [
                    SiteError(
                        f"another build is writing {output.name}/ right now",
                        None,
                        None,
                        "wait for it to finish, then build again",
                    )
                ]
            ) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
