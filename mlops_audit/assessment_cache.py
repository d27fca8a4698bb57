"""The assessment of an unchanged repository, kept from the audit before: an audit that finds nothing changed
reads every file once to be sure, then reports at once without analysing or judging anything.

The key covers everything an assessment depends on: the tool itself (its code and its rule packs), the options
(extra packs by content), the shown root, every listed file's path, size, kind, roles and content (the text
the analyzers read, or the first bytes of a binary), the listing's notes, and the git history's identity (HEAD,
every ref, and the size and time of the object store's files and of the shallow boundary). The assessment is
stored as JSON through the facts cache's folder, and read back into the model's dataclasses by their type
hints; an entry that does not decode is a miss.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import os
import types
from collections.abc import Mapping
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union, get_args, get_origin, get_type_hints

import git

from mlops_audit import __version__
from mlops_audit.inventory import Inventory, open_repo
from mlops_audit.model import Assessment
from mlops_audit.rule_files import builtin_pack_paths

if TYPE_CHECKING:
    from mlops_audit.audit import AuditOptions

BINARY_HEAD = 4096  # the most any analyzer reads of a file that is not text
MAX_STAMPS = 200_000  # object-store files stamped one by one; beyond, their count stands for them


def assessment_key(inventory: Inventory, options: AuditOptions, root: str) -> str:
    digest = hashlib.sha256(f"assessment\0{_tool_digest()}\0{root}\0".encode())
    _options(digest, options)
    with inventory.unnoted():  # the audit notes what its analyzers could not read, not what this hash read
        for file in inventory.files:
            digest.update(f"\0{file.path}\0{file.size}\0{file.kind}\0{','.join(file.roles)}\0{file.tracked}\0".encode(
                "utf-8", "surrogateescape"))
            text = inventory.read_text(file.path)
            if text is not None:
                digest.update(text.encode("utf-8", "surrogatepass"))
            else:
                digest.update(b"\1" + (inventory.read_bytes(file.path, BINARY_HEAD) or b""))
    for note in sorted(inventory.notes):
        digest.update(f"\0{note}".encode("utf-8", "surrogateescape"))
    digest.update(_history(inventory).encode("utf-8", "surrogateescape"))
    return digest.hexdigest()


def assessment_to_data(assessment: Assessment) -> dict[str, Any]:
    return dataclasses.asdict(assessment)


def assessment_from_data(data: Any) -> Assessment:
    """The Assessment of `assessment_to_data`; raises KeyError, TypeError or ValueError when malformed."""
    found = _decode(Assessment, data)
    if not isinstance(found, Assessment):
        raise TypeError("not an assessment")
    return found


@functools.lru_cache(maxsize=1)
def _tool_digest() -> str:
    """The tool's version, code and built-in rule packs: an edited install is a new tool."""
    digest = hashlib.sha256(__version__.encode())
    package = Path(__file__).resolve().parent
    for path in sorted([*package.rglob("*.py"), *builtin_pack_paths()]):
        digest.update(str(path.relative_to(package.parent)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _options(digest: Any, options: AuditOptions) -> None:
    digest.update(repr((options.select, options.ignore, options.suppress)).encode("utf-8", "surrogateescape"))
    for pack in options.extra_packs:
        try:
            content = Path(pack).read_bytes()
        except OSError as error:
            content = f"unreadable: {error}".encode()
        digest.update(f"\0{pack}\0".encode("utf-8", "surrogateescape") + content)


def _history(inventory: Inventory) -> str:
    """HEAD, every ref, and the size and time of every file of the object store and of the shallow boundary: what
    the history analyzer reads follows from them (an object lost or damaged under unchanged refs shows too)."""
    if inventory.git_root is None:
        return "\0no git"
    try:
        repo = open_repo(inventory.git_root)
    except (git.GitError, OSError, ValueError) as error:
        return f"\0{error}"
    try:
        head = repo.git.rev_parse("--verify", "--quiet", "HEAD")
        refs = repo.git.for_each_ref("--format=%(objectname) %(refname)")
        git_dir = Path(repo.git_dir)
        return f"\0{head}\0{refs}\0{_stamp(git_dir / 'shallow')}\0{_object_store(Path(repo.common_dir) / 'objects')}"
    except (git.GitError, OSError, ValueError) as error:
        return f"\0{error}"
    finally:
        repo.close()


def _object_store(folder: Path) -> str:
    """Every file of the object store by path, size and modification time (never read, never followed)."""
    stamps = []
    for current, folders, files in os.walk(folder):
        folders.sort()
        stamps.extend(f"{os.path.relpath(os.path.join(current, name), folder)}:{_stamp(Path(current, name))}"
                      for name in sorted(files))
        if len(stamps) > MAX_STAMPS:
            return f"{len(stamps)}+ files"
    return "\n".join(stamps)


def _stamp(path: Path) -> str:
    try:
        status = path.lstat()
    except OSError:
        return "-"
    return f"{status.st_mode:o}:{status.st_size}:{status.st_mtime_ns}"


def _decode(hint: Any, data: Any) -> Any:
    """`data` (decoded JSON) as a value of type `hint`: dataclasses by field, tuples, dicts, enums, optionals."""
    origin = get_origin(hint)
    if origin in (Union, types.UnionType):
        options = [option for option in get_args(hint) if option is not type(None)]
        if data is None:
            return None
        return _decode(options[0], data) if len(options) == 1 else data
    if origin is tuple:
        arguments = get_args(hint)
        if len(arguments) == 2 and arguments[1] is Ellipsis:
            return tuple(_decode(arguments[0], item) for item in _list(data))
        return tuple(_decode(argument, item) for argument, item in zip(arguments, _list(data), strict=True))
    if origin in (dict, Mapping):
        if not isinstance(data, dict):
            raise TypeError("expected an object")
        return {key: _decode(get_args(hint)[1], value) for key, value in data.items()}
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        if not isinstance(data, dict):
            raise TypeError(f"expected an object for {hint.__name__}")
        hints = _hints(hint)
        return hint(**{field.name: _decode(hints[field.name], data[field.name]) for field in dataclasses.fields(hint)})
    if isinstance(hint, type) and issubclass(hint, Enum):
        return hint(data)
    if hint is float and isinstance(data, int) and not isinstance(data, bool):
        return float(data)
    if hint in (str, int, float, bool) and not isinstance(data, hint):
        raise TypeError(f"expected {hint.__name__}")
    return data


@functools.lru_cache(maxsize=None)
def _hints(kind: type) -> dict[str, Any]:
    return get_type_hints(kind)


def _list(data: Any) -> list[Any]:
    if not isinstance(data, list):
        raise TypeError("expected an array")
    return data
