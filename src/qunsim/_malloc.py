"""Keep freed large buffers in the process heap (glibc only): the day's big temporaries are
reused the next day instead of being mapped afresh from the operating system.

A day at 10^6 members allocates some thirty arrays of a few MB (reading results, reply pairs,
draws, messages). By default glibc serves each allocation above its ``mmap`` threshold with
fresh pages from the kernel and returns them on ``free``: every day then pays a page fault
and the kernel's zeroing for every 4 KB page it writes (measured on this project's machine:
8 fresh arrays of 8 MB filled once cost 31 ms, the same arrays reused 2.4 ms). Raising the
``mmap`` threshold to 32 MB and the heap trim threshold to 1 GB (``mallopt``) keeps those
buffers in the heap for reuse. Results are unchanged (only where memory comes from); the
price is that a process keeps up to its peak day's temporaries mapped after the run.

It is applied once, when the first kernel module is imported, on Linux with glibc; set
``QUNSIM_MALLOC_TUNING=0`` in the environment to leave the allocator untouched.
"""

from __future__ import annotations

import os
import sys

__all__ = ["keep_freed_memory"]

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_done: bool | None = None


def keep_freed_memory() -> bool:
    """Apply the allocator settings (once per process); True if they are in effect."""
    global _done
    if _done is not None:
        return _done
    _done = False
    if os.environ.get("QUNSIM_MALLOC_TUNING", "1").strip() in ("0", "false", "no", "off"):
        return _done
    if not sys.platform.startswith("linux"):
        return _done
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        ok = libc.mallopt(_M_MMAP_THRESHOLD, 32 * 1024 * 1024) == 1
        ok = ok and libc.mallopt(_M_TRIM_THRESHOLD, 1 << 30) == 1
    except (OSError, AttributeError):  # not glibc (musl, ...): leave it
        return _done
    _done = bool(ok)
    return _done
