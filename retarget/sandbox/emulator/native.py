"""Native fast paths around the Unicorn C library: a block-trace hook written in C and batched
register reads.

Coverage needs every executed block. A Python block hook costs about a microsecond per block,
several times the emulation itself on short blocks, so the hook is a four-line C function that
appends ``address << 16 | size`` to a buffer; Python reads the buffer once per run. The C file
is compiled on first use with the host's C compiler and cached by content; without a compiler
the machine falls back to a Python hook (same results, slower) and says so once.
"""

from __future__ import annotations

import ctypes
import hashlib
import logging
import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from functools import cache
from pathlib import Path

from unicorn.unicorn_py3.unicorn import Uc, UcError, uclib

log = logging.getLogger(__name__)

UC_HOOK_BLOCK = 1 << 3

_SOURCE = r"""
#include <stdint.h>
/* Open-addressing tables of executed blocks (key: address << 16 | size, with a hit count)
   and of edges between consecutive blocks (key: previous address << 32 | address). Each
   table remembers which slots it used, so reset and export cost O(distinct), not O(size). */
typedef struct {
    uint64_t *keys; uint64_t *counts; uint32_t *used; uint64_t mask; uint64_t nused;
    uint64_t limit; uint64_t dropped;
} rt_table;
typedef struct { rt_table blocks; rt_table edges; uint64_t prev; } rt_cov;

static void add(rt_table *t, uint64_t key) {
    uint64_t i = (key * 0x9E3779B97F4A7C15ull) >> 20 & t->mask;
    while (t->keys[i] != 0 && t->keys[i] != key) i = (i + 1) & t->mask;
    if (t->keys[i] == 0) {
        if (t->nused >= t->limit) { t->dropped++; return; }
        t->keys[i] = key;
        t->used[t->nused++] = (uint32_t)i;
    }
    t->counts[i]++;
}

void rt_on_block(void *uc, uint64_t address, uint32_t size, void *user) {
    rt_cov *c = (rt_cov *)user;
    add(&c->blocks, (address << 16) | (size & 0xffffu));
    if (c->prev) add(&c->edges, (c->prev << 32) | (address & 0xffffffffu));
    c->prev = address;
}

static void clear(rt_table *t) {
    for (uint64_t j = 0; j < t->nused; j++) {
        t->keys[t->used[j]] = 0;
        t->counts[t->used[j]] = 0;
    }
    t->nused = 0;
    t->dropped = 0;
}

void rt_reset(rt_cov *c) { clear(&c->blocks); clear(&c->edges); c->prev = 0; }

/* Writes key, count pairs of the used slots to out (2 * nused words). */
void rt_export(const rt_table *t, uint64_t *out) {
    for (uint64_t j = 0; j < t->nused; j++) {
        out[2 * j] = t->keys[t->used[j]];
        out[2 * j + 1] = t->counts[t->used[j]];
    }
}
"""

SIZE_BITS = 16
EDGE_BITS = 32


class _Table(ctypes.Structure):
    _fields_ = (
        ("keys", ctypes.POINTER(ctypes.c_uint64)),
        ("counts", ctypes.POINTER(ctypes.c_uint64)),
        ("used", ctypes.POINTER(ctypes.c_uint32)),
        ("mask", ctypes.c_uint64),
        ("nused", ctypes.c_uint64),
        ("limit", ctypes.c_uint64),
        ("dropped", ctypes.c_uint64),
    )


class _Coverage(ctypes.Structure):
    _fields_ = (("blocks", _Table), ("edges", _Table), ("prev", ctypes.c_uint64))


class TableStore:
    """Owns the memory behind one ``_Table``."""

    def __init__(self, table: _Table, slots: int) -> None:
        self.keys = (ctypes.c_uint64 * slots)()
        self.counts = (ctypes.c_uint64 * slots)()
        self.used = (ctypes.c_uint32 * slots)()
        table.keys = ctypes.cast(self.keys, ctypes.POINTER(ctypes.c_uint64))
        table.counts = ctypes.cast(self.counts, ctypes.POINTER(ctypes.c_uint64))
        table.used = ctypes.cast(self.used, ctypes.POINTER(ctypes.c_uint32))
        table.mask = slots - 1
        table.limit = slots * 3 // 4


def cache_dir() -> Path:
    """Where built helpers live: ``RETARGET_CACHE_DIR``, else the user's cache directory."""
    explicit = os.environ.get("RETARGET_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "retarget"


@cache
def _library() -> ctypes.CDLL | None:
    if os.environ.get("RETARGET_NATIVE_TRACE", "1") == "0":
        return None
    digest = hashlib.sha256(_SOURCE.encode()).hexdigest()[:16]
    target = cache_dir() / f"blocktrace-{digest}.so"
    if not target.exists():
        compiler = shutil.which(os.environ.get("CC", "cc")) or shutil.which("gcc")
        if compiler is None:
            log.warning("no C compiler: block coverage uses the slower Python hook")
            return None
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
            src = Path(tmp) / "blocktrace.c"
            src.write_text(_SOURCE)
            out = Path(tmp) / target.name
            built = subprocess.run(
                [compiler, "-O2", "-shared", "-fPIC", "-o", str(out), str(src)],
                capture_output=True,
                text=True,
                check=False,
            )
            if built.returncode != 0:
                log.warning("building the block-trace hook failed: %s", built.stderr.strip())
                return None
            os.replace(out, target)  # atomic: concurrent builders race harmlessly
    return ctypes.CDLL(str(target))


def native_trace_available() -> bool:
    return _library() is not None


class BlockTrace:
    """Executed blocks and edges of each run of one engine, counted by the C hook.

    ``slots`` bounds the distinct blocks (and edges) one run may record; a run that exceeds
    three quarters of it is reported as truncated rather than miscounted.
    """

    def __init__(self, uc: Uc, slots: int = 1 << 14) -> None:
        lib = _library()
        if lib is None:
            raise RuntimeError("native block trace unavailable")
        self._lib = lib
        self._cov = _Coverage()
        self._stores = (TableStore(self._cov.blocks, slots), TableStore(self._cov.edges, slots))
        self._export = (ctypes.c_uint64 * (2 * slots))()
        callback = ctypes.cast(lib.rt_on_block, ctypes.c_void_p)
        handle = ctypes.c_size_t()
        status = uclib.uc_hook_add(
            uc._uch,
            ctypes.byref(handle),
            UC_HOOK_BLOCK,
            callback,
            ctypes.cast(ctypes.pointer(self._cov), ctypes.c_void_p),
            ctypes.c_uint64(1),
            ctypes.c_uint64(0),
        )
        if status != 0:
            raise UcError(status)

    def reset(self) -> None:
        self._lib.rt_reset(ctypes.byref(self._cov))

    @property
    def truncated(self) -> bool:
        return bool(self._cov.blocks.dropped or self._cov.edges.dropped)

    def _pairs(self, table: _Table) -> list[int]:
        self._lib.rt_export(ctypes.byref(table), self._export)
        return self._export[: 2 * table.nused]

    def blocks(self) -> dict[int, int]:
        """``address << 16 | size`` of each executed block -> times executed."""
        flat = self._pairs(self._cov.blocks)
        return dict(zip(flat[::2], flat[1::2], strict=True))

    def edges(self) -> frozenset[tuple[int, int]]:
        """(from block address, to block address) of each transfer between blocks."""
        flat = self._pairs(self._cov.edges)
        mask = (1 << EDGE_BITS) - 1
        return frozenset((key >> EDGE_BITS, key & mask) for key in flat[::2])


class RegisterBlock:
    """Reads a fixed list of registers (low 64 bits each) with one library call."""

    def __init__(self, uc: Uc, reg_ids: Sequence[int]) -> None:
        self._uc = uc
        count = len(reg_ids)
        self._ids = (ctypes.c_int * count)(*reg_ids)
        # 64 bytes per slot: wide enough for any vector register the ids might name.
        self._values = (ctypes.c_uint64 * (8 * count))()
        base = ctypes.addressof(self._values)
        self._ptrs = (ctypes.c_void_p * count)(*(base + 64 * i for i in range(count)))
        self._count = count

    def read(self) -> list[int]:
        status = uclib.uc_reg_read_batch(self._uc._uch, self._ids, self._ptrs, self._count)
        if status != 0:
            raise UcError(status)
        return list(self._values[::8])
