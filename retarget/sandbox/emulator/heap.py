"""A deterministic heap: the same sequence of requests yields the same addresses on any ISA."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from retarget.sandbox.emulator.layout import (
    HEAP_BASE,
    HEAP_LIMIT,
    HEAP_MAX_BLOCK,
    PAGE,
    page_up,
)

HEAP_POISON = 0xA5
"""Fresh malloc memory holds this byte, so reading it uninitialised is visible and repeatable."""


@dataclass
class Block:
    index: int
    address: int
    size: int
    map_start: int
    map_size: int


class Heap:
    """Each block has pages of its own and ends flush against an unmapped guard page."""

    def __init__(
        self,
        map_pages: Callable[[int, int], None],
        unmap_pages: Callable[[int, int], None],
        fill: Callable[[int, bytes], None],
    ) -> None:
        self._map = map_pages
        self._unmap = unmap_pages
        self._fill = fill
        self.blocks: dict[int, Block] = {}
        self._next = HEAP_BASE
        self._count = 0

    def reset(self) -> None:
        for block in self.blocks.values():
            self._unmap(block.map_start, block.map_size)
        self.blocks.clear()
        self._next = HEAP_BASE
        self._count = 0

    def malloc(self, size: int) -> int:
        if size > HEAP_MAX_BLOCK:
            return 0
        map_size = page_up(max(size, 16))
        if self._next + map_size > HEAP_LIMIT:
            return 0
        start = self._next
        self._map(start, map_size)
        address = (start + map_size - max(size, 16)) & ~15
        self._fill(address, bytes([HEAP_POISON]) * size)
        self.blocks[address] = Block(self._count, address, size, start, map_size)
        self._count += 1
        self._next = start + map_size + PAGE
        return address

    def free(self, address: int) -> bool:
        """False when ``address`` is not a live block (glibc would abort)."""
        block = self.blocks.pop(address, None)
        if block is None:
            return False
        self._unmap(block.map_start, block.map_size)
        return True

    def describe(self, address: int) -> str | None:
        if not HEAP_BASE <= address < HEAP_LIMIT:
            return None
        for block in self.blocks.values():
            if block.map_start <= address < block.map_start + block.map_size + PAGE:
                off = address - block.address
                return f"heap[{block.index}]" + (f"{off:+d}" if off else "")
        return f"heap:{address - HEAP_BASE:#x}"
