"""Reading and writing inside the repository: never through a symlink, never outside the root, always atomic."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


class UnsafePath(Exception):
    """The target leaves the repository or passes through a symlink; the scaffold leaves it to a person."""


def target(root: Path, relative: str) -> Path:
    """The real path of `relative` under `root`, refusing `..`, absolute paths and symlinks on the way."""
    parts = Path(relative).parts
    if Path(relative).is_absolute() or ".." in parts or not parts:
        raise UnsafePath(f"{relative}: not a path inside the repository")
    current = root
    for part in parts:
        current = current / part
        if current.is_symlink():
            raise UnsafePath(f"{relative}: {current.relative_to(root).as_posix()} is a symlink")
    return current


def read_text(root: Path, relative: str) -> str | None:
    """The file's text, or None when it does not exist; UnsafePath when it is no regular UTF-8 text file."""
    path = target(root, relative)
    if not path.exists():
        return None
    if not path.is_file():
        raise UnsafePath(f"{relative}: exists and is not a regular file")
    try:
        return path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, OSError) as error:
        raise UnsafePath(f"{relative}: cannot be read as text ({error})") from error


def write_atomic(root: Path, relative: str, text: str) -> None:
    """Write through a temporary file in the same folder, synced, then renamed over the target (keeping its mode)."""
    path = target(root, relative)
    path.parent.mkdir(parents=True, exist_ok=True)
    target(root, relative)  # the folders just made hold no symlink either
    mode = path.stat().st_mode & 0o7777 if path.exists() else 0o666 & ~_umask()
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current
