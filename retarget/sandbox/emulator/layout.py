"""The fixed address-space layout shared by every emulated run, on every ISA.

Buffers, heap blocks and data sections sit at the same addresses on both sides of a comparison,
so pointers a function stores or passes on compare equal when the behaviour is equal.
"""

from __future__ import annotations

PAGE = 0x1000

RETURN_ADDRESS = 0x0020_0000
"""The caller's return address: a mapped page that execution stops at."""
STUB_BASE = 0x0030_0000
"""One 16-byte slot per external function; each holds the ISA's return instruction."""
STUB_SLOT = 16
STUB_LIMIT = 0x0001_0000
EXTERN_DATA_BASE = 0x0038_0000
"""Unmapped addresses given to external *data* symbols: touching one means "unverifiable"."""
EXTERN_DATA_SLOT = 0x100
TEXT_BASE = 0x0040_0000
DATA_BASE = 0x0200_0000
TLS_BASE = 0x0300_0000
"""Thread pointer target (x86 %fs, AArch64 TPIDR_EL0, RISC-V tp): holds the stack canary."""
STACK_CANARY = 0x2F8A_61C4_9D3B_0E57
HEAP_BASE = 0x1000_0000
HEAP_LIMIT = 0x1000_0000 + 0x1000_0000
HEAP_MAX_BLOCK = 0x0100_0000
BUFFER_BASE = 0x4000_0000
BUFFER_SLOT = 0x0100_0000
"""Each argument buffer owns one slot; it ends flush against the slot's unmapped guard page."""
BUFFER_MAX = BUFFER_SLOT - 2 * PAGE
MAX_BUFFERS = 32
STACK_TOP = 0x7FFF_0000
STACK_SIZE = 0x0004_0000
"""Below the stack lies an unmapped guard page, so overflow faults rather than corrupts."""
CALLER_FRAME = 0x200
"""Bytes above the arguments that belong to the caller and must come back untouched."""


def page_down(value: int) -> int:
    return value & ~(PAGE - 1)


def page_up(value: int) -> int:
    return (value + PAGE - 1) & ~(PAGE - 1)


def buffer_address(slot: int, size: int, align: int) -> int:
    """Where buffer ``slot`` of ``size`` bytes starts: its end touches the guard page."""
    end = BUFFER_BASE + slot * BUFFER_SLOT + BUFFER_MAX
    return (end - max(size, 1)) & ~(max(align, 1) - 1)


def buffer_slot_of(address: int) -> int | None:
    if BUFFER_BASE <= address < BUFFER_BASE + MAX_BUFFERS * BUFFER_SLOT:
        return (address - BUFFER_BASE) // BUFFER_SLOT
    return None


def linker_script() -> str:
    """Places code, read-only data and writable data at the layout's fixed bases."""
    return f"""
SECTIONS
{{
  . = {TEXT_BASE:#x};
  .text : {{ *(.text.unlikely .text.unlikely.*) *(.text.startup .text.startup.*)
            *(.text.hot .text.hot.*) *(.text .text.*) }}
  . = ALIGN({PAGE:#x});
  .rodata : {{ *(.rodata .rodata.* .srodata .srodata.*) }}
  .got : {{ *(.got.plt) *(.igot.plt) *(.got) *(.igot) }}
  . = {DATA_BASE:#x};
  .data : {{ *(.data .data.* .sdata .sdata.*) }}
  .bss : {{ *(.bss .bss.* .sbss .sbss.* COMMON) }}
  /DISCARD/ : {{ *(.comment) *(.note.GNU-stack) *(.eh_frame) *(.eh_frame_hdr) }}
}}
"""
