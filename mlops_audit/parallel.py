"""Work spread over processes, on every core the process may use: the per-file analysis of a large repository
(`map_parallel`), the assessments of a monorepo's projects (`fork_map`), and one piece of work done meanwhile,
such as reading the git history (`start`).

A pool costs tens of milliseconds to start and its results must be copied back, so small batches run in this
process. A pool that cannot start or loses a worker (a memory limit, say) falls back to this process too.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from functools import partial
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")
C = TypeVar("C")

MIN_PARALLEL_WORK = 1_000_000  # total size (bytes of source) below which the work runs in this process
MAX_WORKERS = 8
CHUNKS_PER_WORKER = 16  # smaller chunks balance uneven files and the end of the work; fewer cost less to hand over
FORK = sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods()


def workers() -> int:
    """The cores this process may run on, at most MAX_WORKERS."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_WORKERS))


def map_parallel(function: Callable[[T], R], items: Iterable[T], count: int, size: int) -> list[R]:
    """`[function(item) for item in items]`, in a process pool when `size`, the items' total size as known before
    they are made (bytes of source), reaches MIN_PARALLEL_WORK. `count` is how many items there are at most.
    Items are handed over as they are made, so the workers start on the first while the rest are read.
    `function` must be a module-level function and the items and results picklable."""
    cores = workers()
    items = iter(items)
    if cores < 2 or count < 2 * cores or size < MIN_PARALLEL_WORK:
        return [function(item) for item in items]
    handed: list[T] = []

    def hand_over() -> Iterator[T]:
        for item in items:
            handed.append(item)
            yield item

    try:
        with ProcessPoolExecutor(cores, mp_context=_context()) as pool:
            return list(pool.map(function, hand_over(), chunksize=max(1, count // (cores * CHUNKS_PER_WORKER))))
    except (BrokenProcessPool, OSError):
        return [function(item) for item in itertools.chain(handed, items)]


def fork_map(function: Callable[[C, T], R], context: C, items: Sequence[T]) -> list[R]:
    """`[function(context, item) for item in items]`, shared between this process and forked ones when the platform
    can fork and there are cores to spare: each process takes the next item not taken yet, so a long item does
    not hold the others back. The forked processes inherit `context` as it is in memory (never pickled, so it may be
    large or hold what cannot be pickled); only their results are copied back, all at once when they run out of
    items. An item taken by a process that fails is done here."""
    count = min(workers(), len(items))
    if count < 2 or not FORK:
        return [function(context, item) for item in items]
    fork = multiprocessing.get_context("fork")
    try:
        taken = fork.Value("i", 0)  # how many items were taken, in order
    except OSError:  # no shared memory to count in
        return [function(context, item) for item in items]
    others = [start(partial(_all_taken, function, items, taken), context) for _ in range(count - 1)]
    results = dict(_take(function, context, items, taken))
    for other in others:
        results.update(other() or ())  # nothing from a process that failed: what it took is done below
    return [results[index] if index in results else function(context, items[index]) for index in range(len(items))]


def _take(function: Callable[[C, T], R], context: C, items: Sequence[T], taken: Any) -> Iterator[tuple[int, R]]:
    """(index, result) of each item this process takes, until none is left."""
    while True:
        with taken.get_lock():
            index = taken.value
            taken.value += 1
        if index >= len(items):
            return
        yield index, function(context, items[index])


def _all_taken(function: Callable[[C, T], R], items: Sequence[T], taken: Any, context: C) -> list[tuple[int, R]]:
    return list(_take(function, context, items, taken))


def start(function: Callable[[C], R], context: C) -> Callable[[], R | None]:
    """Start `function(context)` in a forked process, where the platform forks and a core is to spare, so that it
    runs while this process does other work. The function returned waits for the result: None when there is none
    (no fork, or the process failed), and the caller then does the work itself. The forked process inherits
    `context` and starts no thread here, so later forks stay safe."""
    if not FORK or workers() < 2:
        return lambda: None
    fork = multiprocessing.get_context("fork")
    receiver, sender = fork.Pipe(duplex=False)
    try:
        process = fork.Process(target=_send_result, args=(sender, function, context), daemon=True)
        process.start()
    except OSError:
        receiver.close()
        return lambda: None
    finally:
        sender.close()

    def result() -> R | None:
        try:
            return receiver.recv()  # type: ignore[no-any-return]
        except (EOFError, OSError):  # the process ended without a result
            return None
        finally:
            receiver.close()
            process.join()

    return result


def _send_result(sender: Any, function: Callable[[C], R], context: C) -> None:
    try:
        sender.send(function(context))
    except Exception:  # no result: the caller does the work itself
        pass
    finally:
        sender.close()


def release_memory() -> None:
    """Give the heap pages a large batch freed (the texts it read, the buffers of its results) back to the
    system, where the C library can (glibc's `malloc_trim`): forked workers then start smaller."""
    import ctypes  # here: small audits never need it

    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _context() -> multiprocessing.context.BaseContext:
    """Fork on Linux: workers start at once, with the tool's modules already imported. Elsewhere the platform's
    default (macOS's system libraries are not safe to fork)."""
    return multiprocessing.get_context("fork" if FORK else None)
