"""Rows of numbers kept in one numpy array, read as the lists they replace.

A face track holds a row per keyframe (its frame, its box, its score, the rows that carry its
ends along the camera). As lists of Python numbers, each number is an object of its own: the
tracks of a 10-minute crowd took 231 MiB that way, for the whole render, against 47 MiB as
arrays (issue 29; once re-homed, ``core/heap.rehomed``). :class:`Rows` stores them in one array and reads like a list: row ``i`` is a
Python number (one column) or a list of them, iteration and slices give lists, ``np.asarray``
gives the array without a copy, and comparing with a list compares the values.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

import numpy as np


class Rows(Sequence):
    __slots__ = ("_a",)

    def __init__(self, values: Iterable = (), dtype=np.float64, width: int | None = None):
        a = np.asarray(values, dtype=dtype)
        if width is not None:
            a = a.reshape(-1, width)
        self._a = a

    @property
    def array(self) -> np.ndarray:
        return self._a

    def __len__(self) -> int:
        return len(self._a)

    def __getitem__(self, index):
        return self._a[index].tolist()

    def __iter__(self) -> Iterator:
        return iter(self._a.tolist())

    def __bool__(self) -> bool:
        return len(self._a) > 0

    def __array__(self, dtype=None, copy=None):
        """The array itself (``np.asarray``), or a copy when asked for one (``np.array``): a copy
        changed in place must not change the rows."""
        return self._a.astype(dtype or self._a.dtype, copy=bool(copy))

    def __eq__(self, other) -> bool:
        if isinstance(other, Rows):
            other = other._a.tolist()
        return isinstance(other, (list, tuple)) and self._a.tolist() == list(other)

    __hash__ = None

    def append(self, row) -> None:
        self._a = np.concatenate([self._a, np.asarray([row], self._a.dtype).reshape(1, *self._a.shape[1:])])

    def __iadd__(self, rows: Iterable) -> Rows:
        rows = list(rows)
        if rows:
            self._a = np.concatenate([self._a, np.asarray(rows, self._a.dtype).reshape(-1, *self._a.shape[1:])])
        return self

    def tolist(self) -> list:
        return self._a.tolist()

    def __repr__(self) -> str:
        return f"Rows({self._a.tolist()!r})"

    def __reduce__(self):
        return (_rebuild, (self._a,))


def _rebuild(array: np.ndarray) -> Rows:
    out = Rows.__new__(Rows)
    out._a = array
    return out
