"""Hand the memory a long job has freed back to the system.

glibc keeps what a process frees in its heaps (one per thread that allocated), to reuse it: a job
that frees blocks of many sizes from several threads (the face analysis: decoded frames, resized
windows, the detector's outputs; Whisper's buffers) leaves holes that later blocks do not fill, and
its resident memory grows with its length although nothing it holds does (the face analysis of a
1080p crowd: about 36 MiB per minute of clip, measured in issue 29). ``malloc_trim`` returns the
free pages of every heap; called every few seconds of clip, it keeps the analysis flat, for a few
milliseconds each time.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import pickle
from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import TypeVar

T = TypeVar("T")


@lru_cache(maxsize=1)
def _libc():
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc if hasattr(libc, "malloc_trim") else None
    except OSError:
        return None


def trim() -> bool:
    """Return the free pages of the C heaps to the system; False where the C library is not glibc
    (nothing to do that way there)."""
    libc = _libc()
    if libc is None:
        return False
    libc.malloc_trim(0)
    return True


def trimmed(items: Iterable[T], every: int) -> Iterator[T]:
    """``items``, with the heaps trimmed (:func:`trim`) before the first and after every ``every``
    items: a long loop that frees as much as it allocates then keeps a flat footprint."""
    trim()
    for n, item in enumerate(items, 1):
        yield item
        if n % every == 0:
            trim()


def rehomed(value: T) -> T:
    """A copy of ``value`` made now, and the heaps trimmed. Python puts small objects in arenas of
    1 MiB and returns an arena to the system only once all its objects are gone: objects made
    while a large transient structure was alive (a clip's tracks, read from their JSON) sit among
    its freed holes and keep every arena it used. A copy made after it is gone fills few arenas,
    and the old ones then empty. The tracks of a 10-minute crowd held 187 MiB before, 47 after."""
    value = pickle.loads(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
    trim()
    return value
