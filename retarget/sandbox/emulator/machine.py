"""Run one function of a linked program in Unicorn, as a caller following the ABI would.

A ``Machine`` is built once per program and reused for many calls; each call starts from the
same state: data sections restored, heap and buffers unmapped, stack and every register
poisoned except the arguments.
"""

from __future__ import annotations

import struct
from collections import Counter
from collections.abc import Callable, Sequence
from itertools import pairwise

from unicorn import unicorn_const as ucc
from unicorn import x86_const
from unicorn.unicorn_py3.unicorn import Uc, UcContext, UcError

from retarget.isa.abi import (
    RISCV_LP64D,
    ArgLocation,
    Scalar,
    ValueKind,
    assign_arguments,
    extend_narrow,
)
from retarget.isa.disasm import count_insns
from retarget.sandbox.emulator.arch import engine_arch
from retarget.sandbox.emulator.heap import Heap
from retarget.sandbox.emulator.layout import (
    BUFFER_MAX,
    CALLER_FRAME,
    EXTERN_DATA_BASE,
    EXTERN_DATA_SLOT,
    MAX_BUFFERS,
    PAGE,
    RETURN_ADDRESS,
    STACK_CANARY,
    STACK_SIZE,
    STACK_TOP,
    STUB_BASE,
    STUB_SLOT,
    TLS_BASE,
    buffer_address,
    buffer_slot_of,
    page_down,
    page_up,
)
from retarget.sandbox.emulator.libc import MODELS, LibcModel, ModelFault, ModelTrap
from retarget.sandbox.emulator.loader import Program
from retarget.sandbox.emulator.native import (
    SIZE_BITS,
    BlockTrace,
    RegisterBlock,
    native_trace_available,
)
from retarget.sandbox.emulator.outcome import (
    ArgValue,
    CallSetup,
    EndKind,
    ExternalCall,
    RunEnd,
    RunOutcome,
)
from retarget.sandbox.emulator.watchdog import WATCHDOG

STACK_POISON = b"\xcc"
BUFFER_POISON = b"\x7b"
CALLER_POISON = b"\x5b"
_U64 = (1 << 64) - 1


def poison(index: int) -> int:
    """A distinct, non-canonical 64-bit value per register: dereferencing it faults."""
    return 0xDEAD_0000_0000_0000 | (index << 36) | (0xBAD << 20) | (index * 0x111)


class Machine:
    """One program mapped into one Unicorn engine."""

    def __init__(self, program: Program, trace: bool = True, native: bool | None = None) -> None:
        """``trace`` records blocks, edges and instruction counts; ``native`` picks the C hook
        for that (None: when it can be built) or the Python one (False)."""
        self.program = program
        self.isa = program.isa
        self.cc = program.isa.cc
        self.arch = engine_arch(program.isa)
        self.trace = trace
        self._want_native = native
        self.uc = Uc(self.arch.arch, self.arch.mode)
        self._regions: list[tuple[int, int, int]] = []
        self.heap = Heap(self._map_rw, self._unmap, self.uc.mem_write)
        self._buffers: list[tuple[int, int]] = []
        self._buffer_names: list[str] = []
        self._block_cache: dict[int, tuple[int, tuple[int, ...]]] = {}
        self._native: BlockTrace | None = None
        self._trace: list[int] = []
        self._end: RunEnd | None = None
        self._calls: list[ExternalCall] = []
        self._budget = 0
        self._map_image()
        self._install_hooks()
        self.arch.setup(self.uc)
        self._initial = self._poisoned_context()
        names = (*self.isa.gprs, *self.isa.fprs)
        self._initial_index = {name: i for i, name in enumerate(names)}
        self._saved_names = (*self.cc.callee_saved, *self.cc.callee_saved_fp,
                             self.cc.stack_pointer)  # fmt: skip
        self._saved = RegisterBlock(self.uc, [self.arch.regs[n] for n in self._saved_names])

    # --- memory map ------------------------------------------------------------------------
    def _map(self, start: int, size: int, perms: int) -> None:
        self.uc.mem_map(start, size, perms)
        self._regions.append((start, start + size, perms))

    def _map_rw(self, start: int, size: int) -> None:
        self._map(start, size, ucc.UC_PROT_READ | ucc.UC_PROT_WRITE)

    def _unmap(self, start: int, size: int) -> None:
        self.uc.mem_unmap(start, size)
        self._regions = [r for r in self._regions if r[0] != start]

    def _map_image(self) -> None:
        perms_by_page: dict[int, int] = {}
        for sec in self.program.sections:
            perm = ucc.UC_PROT_READ
            perm |= ucc.UC_PROT_WRITE if sec.writable else 0
            perm |= ucc.UC_PROT_EXEC if sec.executable else 0
            for page in range(page_down(sec.address), page_up(sec.address + sec.size), PAGE):
                perms_by_page[page] = perms_by_page.get(page, 0) | perm
        for page, perm in sorted(perms_by_page.items()):
            self._map(page, PAGE, perm)
        self._writable: list[tuple[int, bytes]] = []
        for sec in self.program.sections:
            data = sec.data or bytes(sec.size)
            self.uc.mem_write(sec.address, data)
            if sec.writable:
                self._writable.append((sec.address, data))
        exec_read = ucc.UC_PROT_READ | ucc.UC_PROT_EXEC
        self._map(RETURN_ADDRESS, PAGE, exec_read)
        self.uc.mem_write(RETURN_ADDRESS, self.isa.ret_insn * (PAGE // len(self.isa.ret_insn)))
        if self.program.stubs:
            stub_size = page_up(STUB_SLOT * len(self.program.stubs))
            self._map(STUB_BASE, stub_size, exec_read)
            for addr in self.program.stubs:
                self.uc.mem_write(addr, self.isa.ret_insn)
        self._map_rw(TLS_BASE, PAGE)
        # The canary sits where each ABI's stack protector reads it.
        for off in (0x28, 0x0, -0x7F0 & 0xFFF):
            self.uc.mem_write(TLS_BASE + off, struct.pack("<Q", STACK_CANARY))
        self._map_rw(STACK_TOP - STACK_SIZE, STACK_SIZE)

    # --- hooks -----------------------------------------------------------------------------
    def _install_hooks(self) -> None:
        uc = self.uc
        if self.trace:
            if self._want_native is not False and native_trace_available():
                # Distinct (block, size) keys and edges stay within a few per instruction.
                need = 4 * (len(self.program.insn_starts) + len(self.program.stubs) + 64)
                self._native = BlockTrace(uc, 1 << need.bit_length())
            else:
                uc.hook_add(ucc.UC_HOOK_BLOCK, self._on_block)
        if self.program.stubs:
            last = STUB_BASE + STUB_SLOT * len(self.program.stubs)
            uc.hook_add(ucc.UC_HOOK_CODE, self._on_stub, begin=STUB_BASE, end=last)
        uc.hook_add(ucc.UC_HOOK_INTR, self._on_interrupt)
        uc.hook_add(ucc.UC_HOOK_MEM_INVALID, self._on_invalid)
        if self.isa.name == "x86_64":
            for insn in (x86_const.UC_X86_INS_SYSCALL, x86_const.UC_X86_INS_SYSENTER):
                uc.hook_add(ucc.UC_HOOK_INSN, self._on_syscall, aux1=insn)

    def _on_block(self, uc: Uc, address: int, size: int, _: object) -> None:
        self._trace.append(address << SIZE_BITS | size)

    def _on_interrupt(self, uc: Uc, intno: int, _: object) -> None:
        if intno in self.arch.syscall_intnos:
            self._stop(RunEnd(EndKind.SYSCALL, "made a system call"))
            return
        what = self.arch.traps.get(intno, f"exception {intno}")
        self._stop(RunEnd(EndKind.TRAP, what))

    def _on_syscall(self, uc: Uc, _: object) -> None:
        self._stop(RunEnd(EndKind.SYSCALL, "made a system call"))

    def _on_invalid(
        self, uc: Uc, access: int, address: int, size: int, value: int, _: object
    ) -> bool:
        kind = {
            ucc.UC_MEM_READ_UNMAPPED: "read", ucc.UC_MEM_READ_PROT: "read",
            ucc.UC_MEM_WRITE_UNMAPPED: "write", ucc.UC_MEM_WRITE_PROT: "write",
        }.get(access, "fetch")  # fmt: skip
        self._end = self._fault_end(kind, address)
        return False

    def _fault_end(self, access: str, address: int) -> RunEnd:
        slot = (address - EXTERN_DATA_BASE) // EXTERN_DATA_SLOT
        externs = list(self.program.extern_data.values())
        if address >= EXTERN_DATA_BASE and slot < len(externs):
            sym = externs[slot]
            return RunEnd(EndKind.EXTERN_DATA, f"uses external data {sym!r}", symbol=sym)
        where = self.describe(address)
        return RunEnd(EndKind.FAULT, f"{access} of unmapped {where}", where, access)

    def _stop(self, end: RunEnd) -> None:
        if self._end is None:
            self._end = end
        self.uc.emu_stop()

    # --- external calls --------------------------------------------------------------------
    def _on_stub(self, uc: Uc, address: int, size: int, _: object) -> None:
        name = self.program.stubs.get(address)
        if name is None:
            return
        model = MODELS.get(name)
        if model is None:
            self._stop(
                RunEnd(EndKind.UNMODELLED, f"calls {name!r}, which has no model", symbol=name)
            )
            return
        args = self._read_args(model.params)
        try:
            result = model.run(_ModelMemory(self), *args)
        except ModelFault as fault:
            self._stop(self._fault_end(fault.access, fault.address))
            return
        except ModelTrap as trap:
            self._stop(RunEnd(EndKind.TRAP, f"{name}: {trap}"))
            return
        except (ArithmeticError, ValueError, MemoryError) as exc:
            # Arguments no model foresaw: the behaviour is unknown, so nothing can be claimed.
            detail = f"the model of {name!r} cannot run these arguments ({exc})"
            self._stop(RunEnd(EndKind.UNMODELLED, detail, symbol=name))
            return
        self._record_call(model, args, result)
        if model.returns is not None and result is not None:
            self._write_return(model.returns, result)

    def _record_call(self, model: LibcModel, args: list[int | float], result: object) -> None:
        shown = tuple(_show(p, a, self.describe) for p, a in zip(model.params, args, strict=True))
        ret = "" if model.returns is None else _show(model.returns, result, self.describe)
        self._calls.append(ExternalCall(model.name, shown, ret, model.observable))

    def _read_args(self, params: tuple[Scalar, ...]) -> list[int | float]:
        sp = self.reg(self.cc.stack_pointer)
        base = sp + (8 if self.cc.return_address is None else 0)
        out: list[int | float] = []
        for param, loc in zip(params, assign_arguments(self.cc, list(params)), strict=True):
            words = [self.reg(r) for r in loc.registers]
            words += [self._read_u64(base + off) for off in loc.stack_offsets]
            raw = words[0] | (words[1] << 64 if len(words) > 1 else 0)
            out.append(_decode(param, raw))
        return out

    def _write_return(self, scalar: Scalar, value: int | float) -> None:
        bits = _encode(scalar, value)
        regs = self.cc.fp_ret if scalar.kind is ValueKind.FP else self.cc.int_ret
        if scalar.kind is ValueKind.FP:
            self.reg_write(regs[0], self._fp_image(scalar, bits, 0))
        elif scalar.bits == 128:
            self.reg_write(regs[0], bits & _U64)
            self.reg_write(regs[1], bits >> 64)
        else:
            self.reg_write(regs[0], _extend_int(scalar, bits))

    # --- registers -------------------------------------------------------------------------
    def reg(self, name: str) -> int:
        return int(self.uc.reg_read(self.arch.regs[name]))

    def reg_write(self, name: str, value: int) -> None:
        self.uc.reg_write(self.arch.regs[name], value)

    def _read_u64(self, address: int) -> int:
        return int.from_bytes(self.uc.mem_read(address, 8), "little")

    def _poisoned_context(self) -> UcContext:
        for i, name in enumerate((*self.isa.gprs, *self.isa.fprs)):
            value = poison(i)
            if name in self.isa.fprs and self.isa.fp_reg_bits == 128:
                value |= poison(i + 64) << 64
            self.reg_write(name, value)
        return self.uc.context_save()

    def _fp_image(self, scalar: Scalar, bits: int, upper: int) -> int:
        """The register image of an FP scalar: NaN-boxed on RISC-V, upper bits ``upper``."""
        if scalar.bits == 32 and self.isa.nan_boxed_floats:
            return bits | 0xFFFF_FFFF_0000_0000
        mask = (1 << scalar.bits) - 1
        width = (1 << self.isa.fp_reg_bits) - 1
        return ((upper & width) & ~mask) | bits

    # --- a call ----------------------------------------------------------------------------
    def describe(self, address: int) -> str:
        """Symbolic form of an address, equal on both sides when the behaviour is equal."""
        slot = buffer_slot_of(address)
        if slot is not None and slot < len(self._buffers):
            start, _ = self._buffers[slot]
            off = address - start
            return self._buffer_names[slot] + (f"{off:+d}" if off else "")
        heap = self.heap.describe(address)
        if heap is not None:
            return heap
        if STACK_TOP - STACK_SIZE - PAGE <= address < STACK_TOP:
            return "stack"
        if address in self.program.stubs:
            return f"&{self.program.stubs[address]}"
        sym = self.program.symbolize(address)
        if sym is not None:
            return sym
        return self._constant_data(address) or f"{address:#x}"

    def _constant_data(self, address: int) -> str | None:
        """Read-only data has no stable address across ISAs: name it by its contents."""
        for sec in self.program.sections:
            if (
                sec.writable
                or sec.executable
                or not sec.address <= address < sec.address + sec.size
            ):
                continue
            data = sec.data[address - sec.address : address - sec.address + 64]
            text = data.split(b"\0", 1)[0]
            return f"const {text!r}" if b"\0" in data else f"const bytes {data.hex()}"
        return None

    def run(self, setup: CallSetup, budget: int = 1_000_000, timeout_ms: int = 2000) -> RunOutcome:
        """Call the function once with ``setup``; never raises for anything the code does."""
        self._reset(setup)
        self._budget = budget
        if self._native is not None:
            self._native.reset()
        call_sp = self._place_arguments(setup)
        token = WATCHDOG.arm(timeout_ms / 1000, self.uc.emu_stop)
        try:
            self.uc.emu_start(self.program.entry, RETURN_ADDRESS, count=budget)
        except UcError as err:
            if self._end is None:
                self._end = self._engine_error(err)
        finally:
            timed_out = WATCHDOG.disarm(token)
        if self._end is None:
            self._end = self._normal_end(timed_out, timeout_ms, budget)
        return self._collect(setup, call_sp)

    def _reset(self, setup: CallSetup) -> None:
        self._end = None
        self._calls = []
        self._trace = []
        self.heap.reset()
        wanted = [
            buffer_address(slot, len(b.data), b.align) for slot, b in enumerate(setup.buffers)
        ]
        # Unmapping flushes the engine's translated code, so a slot keeps its pages when the
        # next buffer there spans the same ones.
        for slot, (start, _) in enumerate(self._buffers):
            if slot >= len(wanted) or page_down(wanted[slot]) != page_down(start):
                self._unmap(page_down(start), self._buffer_map_size(start))
        kept = {
            slot for slot, (start, _) in enumerate(self._buffers)
            if slot < len(wanted) and page_down(wanted[slot]) == page_down(start)
        }  # fmt: skip
        self._buffers = []
        self._buffer_names = []
        for address, data in self._writable:
            self.uc.mem_write(address, data)
        self.uc.mem_write(STACK_TOP - STACK_SIZE, STACK_POISON * STACK_SIZE)
        self.uc.context_restore(self._initial)
        if len(setup.buffers) > MAX_BUFFERS:
            raise ValueError(f"at most {MAX_BUFFERS} buffers")
        for slot, buf in enumerate(setup.buffers):
            if len(buf.data) > BUFFER_MAX:
                raise ValueError(f"buffer {buf.name} larger than {BUFFER_MAX} bytes")
            start = wanted[slot]
            size = self._buffer_map_size(start)
            if slot in kept:
                # Bytes before the buffer on its first page must read as fresh poison again.
                self.uc.mem_write(page_down(start), BUFFER_POISON * (size - len(buf.data)))
            else:
                self._map_rw(page_down(start), size)
                self.uc.mem_write(page_down(start), BUFFER_POISON * (size - len(buf.data)))
            self.uc.mem_write(start, buf.data)
            self._buffers.append((start, len(buf.data)))
            self._buffer_names.append(buf.name)

    @staticmethod
    def _buffer_map_size(start: int) -> int:
        slot = buffer_slot_of(start)
        assert slot is not None
        return buffer_address(slot, 1, 1) + 1 - page_down(start)

    def _place_arguments(self, setup: CallSetup) -> int:
        scalars = [a.scalar for a in setup.args]
        locations = assign_arguments(self.cc, scalars)
        stack_bytes = max((max(loc.stack_offsets) + 8 for loc in locations if loc.stack_offsets),
                          default=0)  # fmt: skip
        align = self.cc.stack_align
        call_sp = (STACK_TOP - CALLER_FRAME - stack_bytes) & ~(align - 1)
        self.uc.mem_write(
            call_sp + stack_bytes, CALLER_POISON * (STACK_TOP - call_sp - stack_bytes)
        )
        for index, (arg, loc) in enumerate(zip(setup.args, locations, strict=True)):
            self._place_one(arg, loc, call_sp, index)
        entry_sp = call_sp
        if self.cc.return_address is None:
            entry_sp -= 8
            self.uc.mem_write(entry_sp, struct.pack("<Q", RETURN_ADDRESS))
        else:
            self.reg_write(self.cc.return_address, RETURN_ADDRESS)
        self.reg_write(self.cc.stack_pointer, entry_sp)
        self._call_sp = call_sp
        self._stack_bytes = stack_bytes
        return call_sp

    def _place_one(self, arg: ArgValue, loc: ArgLocation, call_sp: int, index: int) -> None:
        scalar = arg.scalar
        if scalar.kind is ValueKind.FP and loc.registers:
            upper = self.reg(loc.registers[0])
            self.reg_write(loc.registers[0], self._fp_image(scalar, arg.bits, upper))
            return
        words: list[int]
        if scalar.bits == 128:
            words = [arg.bits & _U64, (arg.bits >> 64) & _U64]
        else:
            words = [self._int_image(scalar, arg.bits, poison(100 + index))]
        for reg, word in zip(loc.registers, words, strict=False):
            self.reg_write(reg, word)
        for off, word in zip(loc.stack_offsets, words[len(loc.registers) :], strict=False):
            self.uc.mem_write(call_sp + off, struct.pack("<Q", word))

    def _int_image(self, scalar: Scalar, bits: int, garbage: int) -> int:
        """Narrow ints get poisoned upper bits unless the ABI defines them."""
        if scalar.kind is ValueKind.FP:
            return self._fp_image(scalar, bits, garbage) & _U64
        required = extend_narrow(self.cc, scalar, bits)
        if required is not None:
            return required
        if scalar.bits >= 64:
            return bits & _U64
        mask = (1 << scalar.bits) - 1
        return (garbage & ~mask & _U64) | (bits & mask)

    def _engine_error(self, err: UcError) -> RunEnd:
        pc = self.reg_pc()
        if err.errno in (ucc.UC_ERR_INSN_INVALID,):
            return RunEnd(EndKind.TRAP, f"invalid instruction at {self.describe(pc)} (SIGILL)")
        if err.errno == ucc.UC_ERR_EXCEPTION:
            return RunEnd(EndKind.TRAP, f"unhandled exception at {self.describe(pc)}")
        return RunEnd(EndKind.FAULT, f"{err} at pc {pc:#x}", self.describe(pc), "fetch")

    def reg_pc(self) -> int:
        return int(self.uc.reg_read(self.arch.pc))

    def _normal_end(self, timed_out: bool, timeout_ms: int, budget: int) -> RunEnd:
        if self.reg_pc() == RETURN_ADDRESS:
            return RunEnd(EndKind.RETURNED)
        if timed_out:
            return RunEnd(EndKind.TIMEOUT, f"ran past the {timeout_ms} ms wall-clock limit")
        return RunEnd(EndKind.BUDGET, f"ran past the budget of {budget} insns")

    # --- results ---------------------------------------------------------------------------
    def _block_info(self, key: int, starts: Sequence[int]) -> tuple[int, tuple[int, ...]]:
        address, size = key >> SIZE_BITS, key & ((1 << SIZE_BITS) - 1)
        info = (
            count_insns(starts, address, size),
            tuple(self.program.blocks.blocks_in(address, size)),
        )
        self._block_cache[key] = info
        return info

    def _collect(self, setup: CallSetup, call_sp: int) -> RunOutcome:
        assert self._end is not None
        out = RunOutcome(end=self._end, calls=self._calls)
        if self.trace:
            self._coverage(out)
        out.buffers = [bytes(self.uc.mem_read(start, size)) for start, size in self._buffers]
        out.globals = {
            g.name: bytes(self.uc.mem_read(g.address, g.size))
            for g in self.program.writable_globals
        }
        out.heap = [
            (b.address, bytes(self.uc.mem_read(b.address, b.size)))
            for b in self.heap.blocks.values()
        ]
        if out.end.kind is EndKind.RETURNED:
            self._check_return(setup, out, call_sp)
        return out

    def _coverage(self, out: RunOutcome) -> None:
        if self._native is not None:
            counts = self._native.blocks()
            edges = self._native.edges()
            if self._native.truncated:
                raise RuntimeError("coverage tables overflowed: too many distinct blocks")
        else:
            counts = Counter(self._trace)
            keys = [k >> SIZE_BITS for k in self._trace]
            edges = frozenset(pairwise(keys))
        starts = self.program.insn_starts
        blocks: set[int] = set()
        total = 0
        for key, hits in counts.items():
            info = self._block_cache.get(key) or self._block_info(key, starts)
            total += info[0] * hits
            blocks.update(info[1])
        # Block hooks fire on entry: a run stopped inside a block counts that block whole.
        # A budget stop is exact (the engine counted); a fault is counted up to its block's end.
        out.insns = self._budget if out.end.kind is EndKind.BUDGET else total
        out.blocks = frozenset(blocks)
        out.edges = edges

    def _check_return(self, setup: CallSetup, out: RunOutcome, call_sp: int) -> None:
        values = dict(zip(self._saved_names, self._saved.read(), strict=True))
        for name in self.cc.callee_saved:
            if values[name] != poison(self._initial_index[name]):
                out.abi_violations.append(f"callee-saved register {name} not restored")
        for name in self.cc.callee_saved_fp:
            if values[name] != poison(self._initial_index[name]) & _U64:
                out.abi_violations.append(
                    f"callee-saved register {name} (low 64 bits) not restored"
                )
        if values[self.cc.stack_pointer] != call_sp:
            delta = values[self.cc.stack_pointer] - call_sp
            out.abi_violations.append(f"stack pointer off by {delta:+d} bytes after return")
        frame = bytes(self.uc.mem_read(call_sp + self._stack_bytes,
                                       STACK_TOP - call_sp - self._stack_bytes))  # fmt: skip
        if frame.strip(CALLER_POISON):
            out.abi_violations.append("wrote into the caller's stack frame")
        if setup.returns is not None:
            out.return_bits = self._read_return(setup.returns, out)
            if setup.returns_pointer:
                out.return_target = (
                    "NULL" if out.return_bits == 0 else self.describe(out.return_bits)
                )

    def _read_return(self, scalar: Scalar, out: RunOutcome) -> int:
        if scalar.kind is ValueKind.FP:
            # Hardware NaN-boxes every single-precision write on RV64; Unicorn's RISC-V core
            # does not, so the box of a returned float is not checked here.
            raw = self.reg(self.cc.fp_ret[0])
            return raw & ((1 << scalar.bits) - 1)
        regs = self.cc.int_ret
        if scalar.bits == 128:
            return self.reg(regs[0]) | (self.reg(regs[1]) << 64)
        raw = self.reg(regs[0])
        value = raw & ((1 << scalar.bits) - 1)
        required = extend_narrow(self.cc, scalar, value)
        if required is not None and raw != required:
            out.abi_violations.append(
                f"{scalar.bits}-bit return value not extended as the {self.cc.name} ABI requires "
                f"({regs[0]} = {raw:#x}, expected {required:#x})"
            )
        return value


class _ModelMemory:
    """Memory as a libc model sees it: guarded by the same map and permissions as the code."""

    def __init__(self, machine: Machine) -> None:
        self._m = machine

    def _check(self, address: int, size: int, access: str) -> None:
        need = ucc.UC_PROT_WRITE if access == "write" else ucc.UC_PROT_READ
        pos, end = address, address + size
        while pos < end:
            region = next((r for r in self._m._regions if r[0] <= pos < r[1]), None)
            if region is None or not region[2] & need:
                raise ModelFault(pos, access)
            pos = region[1]

    def read(self, address: int, size: int) -> bytes:
        if size <= 0:
            return b""
        self._check(address, size, "read")
        return bytes(self._m.uc.mem_read(address, size))

    def write(self, address: int, data: bytes) -> None:
        if not data:
            return
        self._check(address, len(data), "write")
        self._m.uc.mem_write(address, data)

    def fill(self, address: int, byte: int, size: int) -> None:
        if size <= 0:
            return
        self._check(address, size, "write")
        self._m.uc.mem_write(address, bytes([byte]) * size)

    def cstring(self, address: int) -> bytes:
        out = bytearray()
        pos = address
        while True:
            chunk = self.read(pos, page_up(pos + 1) - pos)
            nul = chunk.find(b"\0")
            if nul >= 0:
                return bytes(out + chunk[:nul])
            out += chunk
            pos += len(chunk)

    def malloc(self, size: int) -> int:
        return self._m.heap.malloc(size)

    def free(self, address: int) -> None:
        if not self._m.heap.free(address):
            raise ModelTrap(f"free(): invalid pointer {self._m.describe(address)} (SIGABRT)")

    def block_size(self, address: int) -> int | None:
        block = self._m.heap.blocks.get(address)
        return None if block is None else block.size


def _decode(scalar: Scalar, raw: int) -> int | float:
    if scalar.kind is ValueKind.FP:
        if scalar.bits == 32:
            return float(struct.unpack("<f", struct.pack("<I", raw & 0xFFFF_FFFF))[0])
        return float(struct.unpack("<d", struct.pack("<Q", raw & _U64))[0])
    value = raw & ((1 << scalar.bits) - 1)
    if scalar.signed and value >> (scalar.bits - 1):
        value -= 1 << scalar.bits
    return value


def _encode(scalar: Scalar, value: int | float) -> int:
    if scalar.kind is ValueKind.FP:
        fmt = ("<f", "<I") if scalar.bits == 32 else ("<d", "<Q")
        return int(struct.unpack(fmt[1], struct.pack(fmt[0], float(value)))[0])
    return int(value) & ((1 << scalar.bits) - 1)


def _extend_int(scalar: Scalar, bits: int) -> int:
    """Full 64-bit image of an int result, valid under every ABI: extended by its type, and
    32-bit values sign-extended whatever their signedness (RV64's rule; others ignore the
    upper bits)."""
    required = extend_narrow(RISCV_LP64D, scalar, bits)
    return bits & _U64 if required is None else required


def _show(scalar: Scalar, value: object, describe: Callable[[int], str]) -> str:
    """An argument or result as text; pointer-sized unsigned values are symbolised."""
    if scalar.kind is ValueKind.FP:
        return repr(value)
    assert isinstance(value, int)
    if not scalar.signed and scalar.bits == 64 and value > 0xFFFF:
        return describe(value)
    return str(value)
