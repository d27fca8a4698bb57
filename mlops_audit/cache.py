"""A cache of per-file facts, so no content is analysed twice in one audit (a monorepo's projects share files) and
an audit of a repository that barely changed parses only what changed.

Records are keyed by the SHA-256 of the file's content, the codec (a module in a package or not, a notebook), the
tool version and `ANALYZER_VERSION`. In memory they are kept for the audit's lifetime. On disk, with a folder,
they are JSON (never pickle: a planted entry must not be able to run code), one file per entry under a
two-hex-character folder, looked up and written by the processes that parse (see `fill`). Writes are atomic, so
concurrent audits and processes are safe; an entry that cannot be read or decoded is a miss, never an error. After
a run that wrote entries, the oldest (by modification time) are deleted while the cache holds more than its
bounds. An inventory and the views made from it look each source's record up once, by path (`source_record`).
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from mlops_audit import __version__
from mlops_audit.analyzers.code import ANALYZER_VERSION
from mlops_audit.parallel import MIN_PARALLEL_WORK, map_parallel, release_memory

if TYPE_CHECKING:
    from mlops_audit.inventory import Inventory, RepoFile

MAX_BYTES = 200 * 1024 * 1024
MAX_ENTRIES = 50_000
MAX_ENTRY_BYTES = 64 * 1024 * 1024
SUFFIX = ".json"
SOURCES = "source records"  # an inventory's shared table: (path in the repository, codec name) -> record

T = TypeVar("T")


def default_cache_dir() -> Path:
    """`$XDG_CACHE_HOME/mlops-audit`, else `~/.cache/mlops-audit`."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    root = Path(base) if base and os.path.isabs(base) else Path.home() / ".cache"
    return root / "mlops-audit"


@dataclass(frozen=True)
class Codec(Generic[T]):
    """How one kind of per-file record is made from a file's text, written as JSON and read back. The functions
    are module-level, so the record can be made in another process."""

    name: str  # part of the key: "python", "python-package", "notebook"
    analyse: Callable[[str], T]
    encode: Callable[[T], Any]
    decode: Callable[[Any], T]  # raises KeyError, TypeError or ValueError on malformed data


class FactsCache:
    """Per-file records in memory and, with a `folder`, as JSON under it; counts the folder's hits and misses."""

    def __init__(self, folder: Path | None = None, max_bytes: int = MAX_BYTES, max_entries: int = MAX_ENTRIES) -> None:
        self.folder = Path(folder) if folder is not None else None
        self.max_bytes = max_bytes
        self.max_entries = max_entries
        self.version = f"{__version__}/{ANALYZER_VERSION}"
        self.hits = 0
        self.misses = 0
        self.writes = 0
        self._records: dict[str, Any] = {}  # by entry key (a digest of the content): texts are not kept
        self._derived: dict[Callable[[Any], Any], dict[int, tuple[Any, Any]]] = {}

    def record(self, codec: Codec[T], text: str) -> T:
        """The record of `text`: analysed at most once per audit, and not at all when an earlier run stored it."""
        key = self.key(codec.name, text)
        if key not in self._records:
            self._keep(key, *_stored_or_made((self.folder, self.version, codec, key, text, None))[:3])
        return self._records[key]

    def fill(
        self, work: Iterable[tuple[Codec[Any], str]], count: int, size: int, derive: Callable[[Any], Any] | None = None
    ) -> list[Any]:
        """The record of every (codec, text), in order. Those not made yet in this audit are looked up in the
        folder, or else made and stored there, all together: in parallel processes when there is enough to do.
        `count` and `size` are how many texts there are at most, and how large all together: known before they are
        read, they decide whether processes are worth starting. `derive`, a module-level function of a record's
        `code`, is made where each of those records is (see `derived`)."""
        keys: list[str] = []
        missing: dict[str, Codec[Any]] = {}

        def unknown() -> Iterator[tuple[Path | None, str, Codec[Any], str, str, Callable[[Any], Any] | None]]:
            for codec, text in work:
                key = self.key(codec.name, text)
                keys.append(key)
                if key not in missing and key not in self._records:
                    missing[key] = codec
                    yield self.folder, self.version, codec, key, text, derive

        made = map_parallel(_stored_or_made, unknown(), count, size)  # `missing` is complete once this returns
        for key, (found, stored, wrote, derived) in zip(missing, made):
            self._keep(key, found, stored, wrote)
            if derive is not None:
                self.remember(derive, found.code, derived)
        if size >= MIN_PARALLEL_WORK:
            del made
            release_memory()
        return [self._records[key] for key in keys]

    def derived(self, compute: Callable[[Any], T]) -> Callable[[Any], T]:
        """`compute` of a record (or of any object), made once per object for the audit's lifetime."""
        memo = self._derived.setdefault(compute, {})

        def lookup(record: Any) -> T:
            entry = memo.get(id(record))
            if entry is None or entry[0] is not record:  # the entry holds its object, so an id is never reused
                entry = memo[id(record)] = (record, compute(record))
            return entry[1]

        return lookup

    def remember(self, compute: Callable[[Any], T], record: Any, value: T) -> None:
        """Keep `value` as `compute(record)`, made elsewhere (in a worker process)."""
        self._derived.setdefault(compute, {})[id(record)] = (record, value)

    def _keep(self, key: str, found: Any, stored: bool, wrote: bool) -> None:
        """Keep a record for the audit, counting whether the folder had it and whether it has it now."""
        self._records[key] = found
        if self.folder is not None:
            self.hits += stored
            self.misses += not stored
            self.writes += wrote

    def key(self, kind: str, text: str) -> str:
        """The entry key of a file's content analysed as `kind` ("python", "python-package", "notebook")."""
        digest = hashlib.sha256(f"{self.version}\0{kind}\0".encode())
        digest.update(text.encode("utf-8", "surrogatepass"))
        return digest.hexdigest()

    def get(self, key: str, decode: Callable[[Any], T]) -> T | None:
        """The decoded value stored under `key`, or None when absent, unreadable, stale or malformed."""
        value = _stored(self.folder, self.version, key, decode)
        self.hits += value is not None
        self.misses += value is None
        return value

    def put(self, key: str, value: Any) -> None:
        """Store a JSON-ready value atomically; a value that cannot be written is simply not cached."""
        self.writes += _store(self.folder, self.version, key, value)

    def prune(self) -> int:
        """Delete the oldest entries while the cache is over its bounds; the number deleted. Only a run that wrote
        entries can have grown the cache, so the others skip the scan."""
        if not self.writes or self.folder is None:
            return 0
        entries = sorted(self._entries())
        total = sum(size for _, size, _ in entries)
        count = len(entries)
        deleted = 0
        for _, size, path in entries:
            if total <= self.max_bytes and count <= self.max_entries:
                break
            if _remove(path):
                deleted += 1
            total -= size
            count -= 1
        return deleted

    def _entries(self) -> list[tuple[float, int, Path]]:
        """(modification time, size, path) of every entry."""
        found = []
        try:
            folders = [item for item in os.scandir(self.folder) if len(item.name) == 2 and item.is_dir()]
        except OSError:
            return []
        for folder in folders:
            try:
                items = [item for item in os.scandir(folder.path) if item.name.endswith(SUFFIX)]
            except OSError:
                continue
            for item in items:
                try:
                    status = item.stat(follow_symlinks=False)
                except OSError:  # deleted meanwhile by another run
                    continue
                found.append((status.st_mtime, status.st_size, Path(item.path)))
        return found


def source_record(cache: FactsCache, inventory: Inventory, path: str, codec: Codec[T]) -> T | None:
    """The record of the inventory's file at `path`, read and looked up once for the inventory and every view made
    from it; None when the file cannot be read."""
    known = inventory.shared(SOURCES)
    name = (inventory.origin(path), codec.name)
    if name not in known:
        text = inventory.read_text(path)
        if text is None:
            return None
        known[name] = cache.record(codec, text)
    return known[name]


def fill_sources(
    cache: FactsCache,
    inventory: Inventory,
    sources: Iterable[tuple[RepoFile, Codec[Any]]],
    derive: Callable[[Any], Any] | None = None,
) -> None:
    """Make the records of the inventory's files (each with the codec that analyses it) that neither it nor a view
    made from it has looked up yet, those the cache lacks together, with what `derive` makes of their code (see
    `FactsCache.fill`); texts are read as needed, then let go."""
    known = inventory.shared(SOURCES)
    unread = []
    for file, codec in sources:
        name = (inventory.origin(file.path), codec.name)
        if name not in known:
            unread.append((file, codec, name))
    names: list[tuple[str, str]] = []

    def texts() -> Iterator[tuple[Codec[Any], str]]:
        for file, codec, name in unread:
            text = inventory.read_text(file.path)
            if text is not None:
                names.append(name)
                yield codec, text

    records = cache.fill(texts(), len(unread), sum(file.size for file, _, _ in unread), derive)
    known.update(zip(names, records))


def _read_regular(path: Path) -> bytes:
    """The bytes of a regular file, at most MAX_ENTRY_BYTES; OSError for anything else (a FIFO, a device, a
    symlink), never a wait or an endless read."""
    handle = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    try:
        if not stat.S_ISREG(os.fstat(handle).st_mode):
            raise OSError(f"{path} is not a regular file")
        with os.fdopen(handle, "rb", closefd=False) as stream:
            data = stream.read(MAX_ENTRY_BYTES + 1)
    finally:
        os.close(handle)
    if len(data) > MAX_ENTRY_BYTES:
        raise OSError(f"{path} is over {MAX_ENTRY_BYTES} bytes")
    return data


def _stored_or_made(
    job: tuple[Path | None, str, Codec[T], str, str, Callable[[Any], Any] | None]
) -> tuple[T, bool, bool, Any]:
    """In a worker process or this one: the record of a text stored under its key in the cache folder, else made
    and stored there; with whether it was stored before, whether it is now, and what `derive` makes of its code
    (None without one)."""
    folder, version, codec, key, text, derive = job
    if folder is None:  # in memory only: nothing to look up, and nothing to encode for storing
        found, stored, wrote = codec.analyse(text), False, False
    elif (found := _stored(folder, version, key, codec.decode)) is not None:
        stored, wrote = True, False
    else:
        found = codec.analyse(text)
        stored, wrote = False, _store(folder, version, key, codec.encode(found))
    return found, stored, wrote, derive(found.code) if derive is not None else None


def _stored(folder: Path | None, version: str, key: str, decode: Callable[[Any], T]) -> T | None:
    """The decoded value stored under `key` in `folder`, or None when absent, unreadable, stale or malformed."""
    try:
        entry = json.loads(_read_regular(_entry_path(folder, key)))
        if entry["key"] != key or entry["version"] != version:
            raise ValueError("stale entry")
        return decode(entry["value"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError):
        return None


def _store(folder: Path | None, version: str, key: str, value: Any) -> bool:
    """Store a JSON-ready value under `key` atomically; whether it was (a value that cannot be is not cached)."""
    try:
        path = _entry_path(folder, key)
        data = json.dumps({"key": key, "version": version, "value": value}, separators=(",", ":"))
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.parent.is_symlink():  # planted to lead writes elsewhere
            return False
        handle, temporary = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    except (OSError, TypeError, ValueError):
        return False
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(data)
        os.replace(temporary, path)
        return True
    except OSError:
        _remove(Path(temporary))
        return False


def _entry_path(folder: Path | None, key: str) -> Path:
    if folder is None:
        raise OSError("no cache folder")
    return folder / key[:2] / f"{key}{SUFFIX}"


def _remove(path: Path) -> bool:
    try:
        path.unlink()
        return True
    except OSError:
        return False
