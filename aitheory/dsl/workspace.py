"""Scratch arrays reused from block to block, so a long enumeration does not page in new memory per block.

An enumeration tabulates thousands of blocks of ~10^5 programs each (:mod:`aitheory.dsl.behaviour`). Each block
needs the same scratch arrays (token codes, actions, statuses, keys, weights, a hash table): about 140 bytes per
program. Allocated anew per block, they are large enough that the C allocator maps them fresh from the kernel
and unmaps them on free, so every block pays a page fault per 4 KiB touched (the 36-bit run of issue 15: 31.8
million faults, 70 of its 292 CPU seconds in the kernel). A :class:`Workspace` keeps one growing buffer per name
and hands out views of it, so after the first block of the largest size no block allocates or faults again.

Views handed out by :meth:`Workspace.array` are overwritten by the next request of the same name: a result that
outlives the block must be copied out (the behaviour rows are, by fancy indexing). One workspace per thread
(:func:`thread_workspace`); worker processes each have their own.
"""

from __future__ import annotations

import threading

import numpy as np

__all__ = ["Workspace", "thread_workspace"]


class Workspace:
    """Named scratch buffers that only grow; ``array(name, shape, dtype)`` is a view of buffer ``name``."""

    def __init__(self) -> None:
        self._buffers: dict[str, np.ndarray] = {}

    def array(self, name: str, shape: tuple[int, ...], dtype: np.dtype | type) -> np.ndarray:
        """An uninitialised C-contiguous array of ``shape`` and ``dtype`` on buffer ``name`` (grown if too small,
        to the size asked: block sizes change rarely, so growth is rare)."""
        dt = np.dtype(dtype)
        nbytes = int(np.prod(shape, dtype=np.int64)) * dt.itemsize
        buf = self._buffers.get(name)
        if buf is None or buf.nbytes < nbytes:
            # int64 storage: every view starts 8-byte aligned, whatever its dtype
            buf = np.empty((nbytes + 7) // 8, dtype=np.int64)
            self._buffers[name] = buf
        return buf.view(np.uint8)[:nbytes].view(dt).reshape(shape)

    def full(self, name: str, shape: tuple[int, ...], value: int, dtype: np.dtype | type) -> np.ndarray:
        """:meth:`array` filled with ``value``."""
        out = self.array(name, shape, dtype)
        out.fill(value)
        return out

    def kept(self, name: str, shape: tuple[int, ...], value: int, dtype: np.dtype | type) -> np.ndarray:
        """A view of buffer ``name`` (its own name space: never shared with :meth:`array`) whose every element is
        ``value`` when the buffer is created or grown, not refilled on later calls: the caller must restore every
        element it changes to ``value`` before it returns (the hash table of
        :func:`aitheory.dsl.behaviour.group_rows` clears only the slots it used)."""
        dt = np.dtype(dtype)
        key = f"kept:{name}:{dt.str}:{value}"
        n = int(np.prod(shape, dtype=np.int64))
        buf = self._buffers.get(key)
        if buf is None or buf.shape[0] < n:
            buf = np.full(n, value, dtype=dt)
            self._buffers[key] = buf
        return buf[:n].reshape(shape)

    @property
    def nbytes(self) -> int:
        """Bytes held by all buffers."""
        return sum(b.nbytes for b in self._buffers.values())


_LOCAL = threading.local()


def thread_workspace() -> Workspace:
    """The workspace of the calling thread (created on first use; a forked worker starts from a copy of its
    parent's, which it then owns)."""
    ws = getattr(_LOCAL, "workspace", None)
    if ws is None:
        ws = _LOCAL.workspace = Workspace()
    return ws
