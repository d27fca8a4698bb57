"""The cache folder's entries: JSON values by key, in one SQLite database (`facts.sqlite3`), so a run that stores
thousands of records writes one file in one transaction rather than a file per record.

Each process and thread opens its own connection (a connection must not cross a fork); readers do not wait for a
writer (write-ahead log). Values are JSON text, read back with `json.loads`: never unpickled, so a planted entry
cannot run code. A database that cannot be opened, read or written (a file planted in its place, a folder without
write access, a lock held too long) makes lookups misses and stores no-ops; one that is not a database at all is
made anew, and one of another schema emptied. The cache is an optimisation, never a source of errors.
"""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import threading
import time
from pathlib import Path
from typing import Any

DATABASE = "facts.sqlite3"
MAX_ENTRY_BYTES = 64 * 1024 * 1024  # a larger value is neither stored nor read back
BUSY_SECONDS = 5.0  # how long a write waits for another run's to end before the cache gives up on it
SCHEMA = 1  # the database's `user_version` this code reads and writes; a database of another is emptied first
TABLE = "CREATE TABLE entries (key TEXT PRIMARY KEY, version TEXT NOT NULL, size INTEGER NOT NULL, value TEXT NOT NULL)"

_connections: dict[tuple[int, int, Path], sqlite3.Connection | None] = {}


def read(folder: Path, version: str, key: str) -> Any:
    """The JSON value stored under `key` by this `version` of the tool; raises LookupError when there is none and
    ValueError (or RecursionError) when it does not parse."""
    connection = _connection(folder)
    if connection is None:
        raise LookupError(key)
    try:
        row = connection.execute(
            "SELECT value FROM entries WHERE key = ? AND version = ? AND length(CAST(value AS BLOB)) <= ?",
            (key, version, MAX_ENTRY_BYTES),
        ).fetchone()
    except sqlite3.Error:
        row = None
    if row is None or not isinstance(row[0], str):
        raise LookupError(key)
    return json.loads(row[0])


def write(folder: Path, version: str, entries: list[tuple[str, str]]) -> int:
    """Store (key, JSON text) entries in one transaction; how many were stored (none when the database cannot be
    written)."""
    entries = [(key, text) for key, text in entries if len(text) <= MAX_ENTRY_BYTES]
    connection = _connection(folder) if entries else None
    if connection is None:
        return 0
    try:
        with connection:  # one transaction (the connection commits nothing by itself), rolled back on an error
            connection.execute("BEGIN IMMEDIATE")
            connection.executemany(
                "INSERT OR REPLACE INTO entries (key, version, size, value) VALUES (?, ?, ?, ?)",
                [(key, version, len(text), text) for key, text in entries],
            )
    except sqlite3.Error:
        return 0
    return len(entries)


def prune(folder: Path, max_bytes: int, max_entries: int) -> int:
    """Delete the oldest entries (first written, or rewritten) while the database holds more than `max_entries`
    or more than `max_bytes` of values (as their sizes say: the values themselves are not read); the number
    deleted."""
    connection = _connection(folder)
    if connection is None:
        return 0
    try:
        count, total = connection.execute("SELECT COUNT(*), COALESCE(SUM(size), 0) FROM entries").fetchone()
        if count <= max_entries and total <= max_bytes:
            return 0
        last, deleted = None, 0
        sizes = connection.execute("SELECT rowid, size FROM entries ORDER BY rowid").fetchall()
        for rowid, size in sizes:
            if count <= max_entries and total <= max_bytes:
                break
            last, deleted, count, total = rowid, deleted + 1, count - 1, total - size
        connection.execute("DELETE FROM entries WHERE rowid <= ?", (last,))
        connection.executescript("PRAGMA incremental_vacuum;")  # every freed page back to the disk (one a step)
    except sqlite3.Error:
        return 0
    return deleted


def _connection(folder: Path) -> sqlite3.Connection | None:
    key = (os.getpid(), threading.get_ident(), folder)
    if key not in _connections:
        _connections[key] = _open(folder)
    return _connections[key]


def _open(folder: Path) -> sqlite3.Connection | None:
    """The folder's database, made when missing (and made anew when the file is not one); None when it cannot be
    used, or when it is a symlink (planted to lead writes elsewhere)."""
    path = folder / DATABASE
    for _ in range(2):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            made = not os.path.lexists(path)
            if not made and not stat.S_ISREG(os.lstat(path).st_mode):
                return None
            connection = sqlite3.connect(path, timeout=BUSY_SECONDS, isolation_level=None, check_same_thread=False)
            try:
                connection.execute("PRAGMA auto_vacuum = INCREMENTAL")  # effective only before the table exists
                _write_ahead(connection)
                if connection.execute("PRAGMA user_version").fetchone()[0] != SCHEMA:
                    _make_table(connection)
            except sqlite3.OperationalError:  # locked, read-only, full
                connection.close()
                return None
            except sqlite3.DatabaseError:  # not a database: ours to replace
                connection.close()
                path.unlink()
                continue
            if made:
                _remove_file_entries(folder)
            return connection
        except (OSError, sqlite3.Error):
            return None
    return None


def _write_ahead(connection: sqlite3.Connection) -> None:
    """Log writes ahead, where the file system allows it. The switch needs the database to itself and does not wait
    for it as other statements do: while another process or thread sets up the same new database, it is tried
    again, for as long as a write would wait."""
    deadline = time.monotonic() + BUSY_SECONDS
    while True:
        try:
            connection.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as error:
            if str(error) != "database is locked" or time.monotonic() > deadline:
                raise  # not a lock (a read-only file, say), or one held too long
            time.sleep(0.01)


def _make_table(connection: sqlite3.Connection) -> None:
    """The entries table of this SCHEMA, made in place of any other (checked again under the write lock, as another
    run may be making it too)."""
    with connection:
        connection.execute("BEGIN IMMEDIATE")
        if connection.execute("PRAGMA user_version").fetchone()[0] != SCHEMA:
            connection.execute("DROP TABLE IF EXISTS entries")
            connection.execute(TABLE)
            connection.execute(f"PRAGMA user_version = {SCHEMA}")


def _remove_file_entries(folder: Path) -> None:
    """Delete the entries earlier versions of the tool kept one file each (`ab/<key>.json` in two-hex-character
    folders); symlinks are never followed."""
    try:
        subfolders = [item for item in os.scandir(folder) if len(item.name) == 2 and item.is_dir(follow_symlinks=False)]
    except OSError:
        return
    for subfolder in subfolders:
        try:
            for item in os.scandir(subfolder.path):
                entry = item.name.endswith(".json") or item.name.startswith(".tmp-")  # or a write left unfinished
                if entry and item.is_file(follow_symlinks=False):
                    os.unlink(item.path)
            os.rmdir(subfolder.path)
        except OSError:
            continue
