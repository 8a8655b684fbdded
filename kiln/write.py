"""The only code that writes the output folder: a staged copy swapped in whole, or nothing at all."""

from __future__ import annotations

import ctypes
import errno
import fcntl
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from .errors import BuildFailed, SiteError

MARKER = ".kiln-output"
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
    for name in sorted(files):
        relative = _safe_relative(name)
        data = files[name]
        target = staging / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        previous = output / relative
        if _same_bytes(previous, data):
            try:
                os.link(previous, target)
                unchanged += 1
                continue
            except OSError:
                pass  # a file system without hard links: write a copy
        try:
            target.write_bytes(data)
        except OSError as error:  # a failed write() names no file; say which one it was
            raise OSError(error.errno, error.strerror, str(target)) from error
        changed += 1
    marker = b"This folder is made by build.py and replaced whole by each build.\n"
    if _same_bytes(output / MARKER, marker):  # linked like any unchanged file, so sync tools see nothing new
        with suppress(OSError):
            os.link(output / MARKER, staging / MARKER)
    if not (staging / MARKER).exists():
        (staging / MARKER).write_bytes(marker)
    return Written(changed, unchanged)


def _safe_relative(name: str) -> Path:
    """Return an output file name as a relative path, refusing any that could leave the output folder."""
    path = PurePosixPath(name)
    if path.is_absolute() or not path.parts or any(part in ("..", ".", "") for part in path.parts) or "\\" in name:
        raise ValueError(f"output path {name!r} would leave the output folder")
    return Path(*path.parts)


def _same_bytes(path: Path, data: bytes) -> bool:
    """Return whether a file exists with exactly these bytes."""
    try:
        return path.stat().st_size == len(data) and path.read_bytes() == data
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
