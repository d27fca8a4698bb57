"""A cache of per-file facts, so no content is analysed twice in one audit (a monorepo's projects share files) and
an audit of a repository that barely changed parses only what changed.

Records are keyed by the SHA-256 of the file's content, the codec (a module in a package or not, a notebook), the
tool version and `ANALYZER_VERSION`. In memory they are kept for the audit's lifetime. On disk, with a folder,
they are JSON (never pickle: a planted entry must not be able to run code) in one database (`entry_store.py`),
looked up and encoded by the processes that parse, and written together, in one transaction, by this one (see
`fill`). Concurrent audits and processes are safe; an entry that cannot be read or decoded is a miss, never an
error. After a run that wrote entries, the oldest are deleted while the cache holds more than its bounds. An
inventory and the views made from it look each source's record up once, by path (`source_record`).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from mlops_audit import __version__, entry_store
from mlops_audit.analyzers.code import ANALYZER_VERSION
from mlops_audit.parallel import MIN_PARALLEL_WORK, map_parallel, release_memory

if TYPE_CHECKING:
    from mlops_audit.inventory import Inventory, RepoFile

MAX_BYTES = 200 * 1024 * 1024
MAX_ENTRIES = 50_000
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
            found, stored, encoded, _ = _stored_or_made((self.folder, self.version, codec, key, text, None))
            self._keep(key, found, stored)
            self._write([(key, encoded)] if encoded is not None else [])
        return self._records[key]

    def fill(
        self, work: Iterable[tuple[Codec[Any], str]], count: int, size: int, derive: Callable[[Any], Any] | None = None
    ) -> list[Any]:
        """The record of every (codec, text), in order. Those not made yet in this audit are looked up in the
        folder, or else made (and stored there), all together: in parallel processes when there is enough to do.
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
        fresh = []
        for key, (found, stored, encoded, derived) in zip(missing, made):
            self._keep(key, found, stored)
            if encoded is not None:
                fresh.append((key, encoded))
            if derive is not None:
                self.remember(derive, found.code, derived)
        self._write(fresh)
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

    def _keep(self, key: str, found: Any, stored: bool) -> None:
        """Keep a record for the audit, counting whether the folder had it."""
        self._records[key] = found
        if self.folder is not None:
            self.hits += stored
            self.misses += not stored

    def _write(self, entries: list[tuple[str, str]]) -> None:
        if self.folder is not None and entries:
            self.writes += entry_store.write(self.folder, self.version, entries)

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
        """Store a JSON-ready value; a value that cannot be written is simply not cached."""
        encoded = _encoded(value)
        self._write([(key, encoded)] if encoded is not None else [])

    def prune(self) -> int:
        """Delete the oldest entries while the cache is over its bounds; the number deleted. Only a run that wrote
        entries can have grown the cache, so the others skip the count."""
        if not self.writes or self.folder is None:
            return 0
        return entry_store.prune(self.folder, self.max_bytes, self.max_entries)


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


def _stored_or_made(
    job: tuple[Path | None, str, Codec[T], str, str, Callable[[Any], Any] | None]
) -> tuple[T, bool, str | None, Any]:
    """In a worker process or this one: the record of a text stored under its key in the cache folder, else made
    (with its JSON encoding, for the folder); with whether it was stored, and what `derive` makes of its code (None
    without one)."""
    folder, version, codec, key, text, derive = job
    found = _stored(folder, version, key, codec.decode)
    stored, encoded = found is not None, None
    if found is None:
        found = codec.analyse(text)
        if folder is not None:  # encoded for the folder (in memory only, there is nothing to store)
            encoded = _encoded(codec.encode(found))
    return found, stored, encoded, derive(found.code) if derive is not None else None


def _stored(folder: Path | None, version: str, key: str, decode: Callable[[Any], T]) -> T | None:
    """The decoded value stored under `key` in `folder`, or None when absent, stale or malformed."""
    if folder is None:
        return None
    try:
        return decode(entry_store.read(folder, version, key))
    except (LookupError, ValueError, TypeError, AttributeError, RecursionError):
        return None


def _encoded(value: Any) -> str | None:
    try:
        return json.dumps(value, separators=(",", ":"))
    except (TypeError, ValueError):
        return None
