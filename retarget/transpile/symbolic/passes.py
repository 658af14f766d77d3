"""Rewrites of one x86 instruction's p-code op list before instruction selection: each takes
the ops and returns an equivalent list. Positions are kept (a removed op becomes a ``NOP``) so
the relative targets of internal branches stay right."""

from __future__ import annotations

from retarget.transpile.symbolic.lift import CONST, REG, TMP, Insn, Op, Var

FUSED_TEMP = 0xF000_0000
"""Offsets of temporaries the passes introduce (pypcode's own are far below)."""
NOP = Op("NOP", None, ())


def signed_value(value: int, size: int) -> int:
    bits = 8 * size
    value &= (1 << bits) - 1
    return value - (1 << bits) if value >> (bits - 1) else value


RAX_, RDX_ = Var(REG, 0x00, 8), Var(REG, 0x10, 8)


def wide_arithmetic(ins: Insn, ops: list[Op], previous: Insn | None) -> list[Op] | None:
    """The 128-bit shapes of 64-bit x86 arithmetic that have direct equivalents: cqo (rdx =
    sign of rax), one-operand mul/imul (rdx:rax = rax * src, high half by umulh/smulh), and
    div/idiv right after rdx was set to the extension of rax (xor edx, edx / cqo), which makes
    the 128-bit dividend a 64-bit one."""
    name = ins.text.split()[0] if ins.text else ""
    if name == "CQO":
        return [Op("INT_SRIGHT", RDX_, (RAX_, Var(CONST, 63, 8)))]
    if name in ("DIV", "IDIV"):
        return _narrow_division(name, ops, previous)
    if name not in ("MUL", "IMUL") or "," in ins.text:
        return None
    sources = [v for op in ops if op.code in ("INT_ZEXT", "INT_SEXT") and op.out is not None
               and op.out.size == 16 for v in op.ins if v != RAX_]  # fmt: skip
    if len(sources) != 1 or sources[0].size != 8:
        return None
    source = sources[0]
    high, low = Var(TMP, FUSED_TEMP - 2, 8), Var(TMP, FUSED_TEMP - 1, 8)
    code = "INT_MULHU" if name == "MUL" else "INT_MULHS"
    out = [Op(code, high, (RAX_, source)), Op("INT_MULT", low, (RAX_, source)),
           Op("COPY", RDX_, (high,)), Op("COPY", RAX_, (low,))]  # fmt: skip
    flags = {op.out for op in ops if op.out is not None and op.out.space == REG
             and op.out.offset >= 0x200}  # fmt: skip
    if flags:
        # CF = OF = "the high half is not just the extension of the low half".
        carry = Var(REG, 0x200, 1)
        extension = Var(TMP, FUSED_TEMP - 3, 8)
        if name == "MUL":
            out.append(Op("INT_NOTEQUAL", carry, (high, Var(CONST, 0, 8))))
        else:
            out.append(Op("INT_SRIGHT", extension, (low, Var(CONST, 63, 8))))
            out.append(Op("INT_NOTEQUAL", carry, (high, extension)))
        out.append(Op("COPY", Var(REG, 0x20B, 1), (carry,)))
    return out


def _narrow_division(name: str, ops: list[Op], previous: Insn | None) -> list[Op] | None:
    divides = [op for op in ops if op.code in ("INT_DIV", "INT_SDIV") and op.ins[0].size == 16]
    if not divides or previous is None:
        return None
    before = previous.text.replace(" ", "")
    extended = before == "CQO" if name == "IDIV" else before in ("XOREDX,EDX", "MOVEDX,0x0")
    if not extended:
        return None
    sources = [v for op in ops if op.code in ("INT_ZEXT", "INT_SEXT") and op.out is not None
               and op.out.size == 16 and op.ins[0] not in (RAX_, RDX_) for v in op.ins]  # fmt: skip
    if len(sources) != 1 or sources[0].size != 8:
        return None
    quotient, remainder = Var(TMP, FUSED_TEMP - 4, 8), Var(TMP, FUSED_TEMP - 5, 8)
    signed = name == "IDIV"
    out = ops_computing(tuple(ops), {sources[0]})  # a memory divisor: its address and load
    out += [Op("INT_SDIV" if signed else "INT_DIV", quotient, (RAX_, sources[0]), "x86div64"),
            Op("INT_SREM" if signed else "INT_REM", remainder, (RAX_, sources[0]), "x86div64"),
            Op("COPY", RAX_, (quotient,)), Op("COPY", RDX_, (remainder,))]  # fmt: skip
    return out


NARROWABLE = {"INT_ADD", "INT_SUB", "INT_MULT", "INT_AND", "INT_OR", "INT_XOR"}


def narrow_subpieces(ops: list[Op]) -> list[Op]:
    """``x = low part of (a op b)`` for +, -, *, &, |, ^ is ``x = low(a) op low(b)``: the wide
    operation (and the extensions feeding it, as in imul r32) is not needed. Positions are kept;
    what becomes unread is dropped by ``_drop_unread``."""
    out = list(ops)
    defs: dict[Var, int] = {
        op.out: i for i, op in enumerate(out) if op.out is not None and op.out.space == TMP
    }
    for i, op in enumerate(out):
        if op.code != "SUBPIECE" or op.out is None or op.ins[1].offset != 0:
            continue
        wide = op.ins[0]
        j = defs.get(wide)
        if j is None or j >= i or out[j].code not in NARROWABLE:
            continue
        if sum(wide in other.ins for other in out) != 1:
            continue
        size = op.out.size
        narrow = [_narrow(v, size, out, defs) for v in out[j].ins]
        if any(v is None for v in narrow):
            continue
        out[i] = Op(out[j].code, op.out, tuple(v for v in narrow if v is not None))
    return out


def _narrow(v: Var, size: int, ops: list[Op], defs: dict[Var, int]) -> Var | None:
    """``v``'s low ``size`` bytes as a varnode of that size, where one names them."""
    if v.space == CONST:
        return Var(CONST, v.offset & ((1 << (8 * size)) - 1), size)
    if v.space == REG and v.size >= size and v.offset < 0x100 and v.offset % 8 == 0:
        return Var(REG, v.offset, size)
    j = defs.get(v)
    if j is not None and ops[j].code in ("INT_SEXT", "INT_ZEXT") and ops[j].ins[0].size == size:
        source = ops[j].ins[0]
        return source if source.space != TMP else None
    return None


def drop_unread(ops: list[Op]) -> list[Op]:
    """Ops computing temporaries nothing reads any more become NOPs (positions kept)."""
    out = list(ops)
    changed = True
    while changed:
        changed = False
        read = {v for op in out for v in op.ins}
        for i, op in enumerate(out):
            if op.out is not None and op.out.space == TMP and op.out not in read:
                if op.code not in ("CALLOTHER", "LOAD"):
                    out[i] = Op("NOP", None, ())
                    changed = True
    return out


def fold_displacements(ops: list[Op]) -> list[Op]:
    """``t = a + c; LOAD/STORE [t]`` (t used nowhere else, a unchanged in between) addresses
    memory as ``[a + c]``: the addition disappears into the instruction's offset."""
    out = list(ops)
    for i, op in enumerate(out):
        if op.code not in ("INT_ADD", "INT_SUB") or op.out is None or op.out.space != TMP:
            continue
        base, const = op.ins
        if const.space != CONST or base.space == CONST or op.out.size != 8:
            continue
        value = signed_value(const.offset, 8)
        disp = value if op.code == "INT_ADD" else -value
        users = [j for j, later in enumerate(out) if op.out in later.ins]
        if len(users) != 1:
            continue
        j = users[0]
        user = out[j]
        if user.code not in ("LOAD", "STORE") or user.ins[1] != op.out or user.disp:
            continue
        if any(
            later.out is not None
            and later.out.space == base.space
            and later.out.offset < base.offset + base.size
            and base.offset < later.out.offset + later.out.size
            for later in out[i + 1 : j]
        ):
            continue
        ins = (user.ins[0], base, *user.ins[2:])
        out[j] = Op(user.code, user.out, ins, user.extra, disp)
        out[i] = Op("NOP", None, ())
    return out


def fuse_load_extension(ops: list[Op]) -> list[Op]:
    """``t = LOAD a; x = SEXT/ZEXT t`` (t used nowhere else) is one extending load, marked
    ``extra = "sext<size>"`` or ``"zext<size>"``."""
    out = list(ops)
    for i in range(len(out) - 1):
        load, ext = out[i], out[i + 1]
        temp = load.out
        if (
            load.code == "LOAD"
            and temp is not None
            and temp.space == TMP
            and temp.size < 8
            and ext.code in ("INT_SEXT", "INT_ZEXT")
            and ext.ins == (temp,)
            and ext.out is not None
            and ext.out.size <= 8
            and sum(temp in op.ins for op in out) == 1
        ):
            kind = "sext" if ext.code == "INT_SEXT" else "zext"
            out[i] = Op("NOP", None, ())  # keeps positions (internal branch offsets)
            out[i + 1] = Op("LOAD", ext.out, load.ins, f"{kind}{temp.size}", load.disp)
    return out


def fuse_zero_extension(ops: list[Op]) -> list[Op]:
    """``EAX = f(...); RAX = zext(EAX)`` (every 32-bit x86 write) computes f into a temporary
    and writes the whole register once, instead of merging 32 bits into it first."""
    out = list(ops)
    for i, first in enumerate(out):
        target = first.out
        later = [j for j in range(i + 1, len(out)) if out[j].code != "NOP"]
        if not later or target is None:
            continue
        j = later[0]
        second = out[j]
        if (
            target.space == REG
            and target.size == 4
            and target.offset < 0x100
            and target.offset % 8 == 0
            and second.code == "INT_ZEXT"
            and second.ins == (target,)
            and second.out == Var(REG, target.offset, 8)
        ):
            if first.code == "LOAD" and first.extra[:4] in ("", "zext"):  # these zero-extend
                out[i] = Op("LOAD", second.out, first.ins, first.extra or "zext4", first.disp)
                out[j] = NOP
                continue
            low = _low_half_source(first, out, i)
            if low is not None:
                # EAX = low half of t, t = f(...) where t's low half depends only on the
                # inputs' low halves: f computed straight into the register as a w32 op.
                k, source = low
                out[k] = Op(source.code, second.out, source.ins, "w32", source.disp)
                out[i] = NOP
                out[j] = NOP
                continue
            if first.code in W32_SAFE and not first.extra:
                # Computed straight into the full register, then its upper half cleared (or
                # by a 32-bit instruction that clears it anyway: see ``Lowering._op``).
                out[i] = Op(first.code, second.out, first.ins, "w32", first.disp)
                out[j] = NOP
                continue
            temp = Var(TMP, FUSED_TEMP + i, 4)
            out[i] = Op(first.code, temp, first.ins, first.extra, first.disp)
            out[j] = Op(second.code, second.out, (temp,), second.extra)
    return out


LOW_HALF_OPS = {"INT_ADD", "INT_SUB", "INT_MULT", "INT_AND", "INT_OR", "INT_XOR", "INT_NEGATE",
                "INT_2COMP", "INT_LEFT", "COPY"}  # fmt: skip
"""Ops whose result's low 32 bits depend only on the low 32 bits of the value inputs."""


def _low_half_source(first: Op, ops: list[Op], i: int) -> tuple[int, Op] | None:
    """For ``first`` = ``R32 = SUBPIECE t, 0`` with t (64-bit, read only here) computed by a
    LOW_HALF_OPS op that nothing between touches R in: (its index, the op)."""
    if first.code != "SUBPIECE" or first.ins[1].offset != 0 or first.ins[0].space != TMP:
        return None
    temp = first.ins[0]
    found = [k for k in range(i) if ops[k].out == temp]
    if len(found) != 1 or sum(temp in op.ins for op in ops) != 1:
        return None
    k = found[0]
    source = ops[k]
    container = _container(first.out) if first.out is not None else None
    if (
        source.code not in LOW_HALF_OPS
        or source.extra
        or temp.size != 8
        or container is None
        or any(_touches(op, container) for op in ops[k + 1 : i])
    ):
        return None
    # The op may read R itself: its handler reads every input before writing, except a
    # shift by a register amount (written, then the amount compared).
    if source.code == "INT_LEFT" and (source.ins[0].size != 8 or source.ins[1].space != CONST):
        return None
    return k, source


W32_SAFE = {"COPY", "INT_ADD", "INT_SUB", "INT_MULT", "INT_AND", "INT_OR", "INT_XOR",
            "INT_NEGATE", "INT_2COMP", "INT_LEFT", "INT_RIGHT", "INT_SRIGHT", "INT_ZEXT", "INT_SEXT", "SUBPIECE"}  # fmt: skip
"""Ops whose handlers size their work by the inputs, so a 32-bit result may be computed into
a 64-bit destination: the low 32 bits come out right."""


def ops_computing(ops: tuple[Op, ...], wanted: set[Var]) -> list[Op]:
    """The ops that compute ``wanted`` temporaries (in order); registers are read directly."""
    needed: list[Op] = []
    want = {v for v in wanted if v.space == TMP}
    for op in reversed(ops):
        if op.out is not None and op.out in want:
            needed.append(op)
            want.discard(op.out)
            want |= {v for v in op.ins if v.space == TMP}
    return list(reversed(needed))


def has_internal_branch(ops: list[Op]) -> bool:
    """Whether the instruction loops or skips within itself (rep prefixes, bit scans): its
    temporaries are then not single-assignment along every path."""
    return any(op.code in ("BRANCH", "CBRANCH") and op.ins[0].space == CONST for op in ops)


def _definitions(ops: list[Op]) -> dict[Var, int]:
    count: dict[Var, int] = {}
    for op in ops:
        if op.out is not None and op.out.space == TMP:
            count[op.out] = count.get(op.out, 0) + 1
    return count


def _mask(size: int) -> int:
    return (1 << (8 * size)) - 1


def evaluate(code: str, values: list[int], sizes: list[int], size: int) -> int | None:
    """The value of a p-code op on constant inputs (already masked to their sizes), or None
    for an op this does not know."""
    a = values[0]
    b = values[1] if len(values) > 1 else 0
    bits = 8 * sizes[0]
    binary = {
        "INT_ADD": lambda: a + b,
        "INT_SUB": lambda: a - b,
        "INT_MULT": lambda: a * b,
        "INT_AND": lambda: a & b,
        "INT_OR": lambda: a | b,
        "INT_XOR": lambda: a ^ b,
        "BOOL_AND": lambda: a & b,
        "BOOL_OR": lambda: a | b,
        "BOOL_XOR": lambda: a ^ b,
        "INT_LEFT": lambda: a << b if b < bits else 0,
        "INT_RIGHT": lambda: a >> b if b < bits else 0,
        "INT_SRIGHT": lambda: signed_value(a, sizes[0]) >> min(b, bits - 1),
        "INT_EQUAL": lambda: int(a == b),
        "INT_NOTEQUAL": lambda: int(a != b),
        "INT_LESS": lambda: int(a < b),
        "INT_LESSEQUAL": lambda: int(a <= b),
        "INT_SLESS": lambda: int(signed_value(a, sizes[0]) < signed_value(b, sizes[1])),
        "INT_SLESSEQUAL": lambda: int(signed_value(a, sizes[0]) <= signed_value(b, sizes[1])),
        "SUBPIECE": lambda: a >> (8 * b),
    }
    unary = {
        "COPY": lambda: a,
        "INT_ZEXT": lambda: a,
        "INT_SEXT": lambda: signed_value(a, sizes[0]),
        "INT_NEGATE": lambda: ~a,
        "INT_2COMP": lambda: -a,
        "BOOL_NEGATE": lambda: a ^ 1,
        "POPCOUNT": lambda: bin(a).count("1"),
    }
    table = binary if len(values) == 2 else unary if len(values) == 1 else {}
    compute = table.get(code)
    return None if compute is None else compute() & _mask(size)


_IDENTITY_RIGHT = {"INT_ADD": 0, "INT_SUB": 0, "INT_OR": 0, "INT_XOR": 0, "INT_MULT": 1,
                   "INT_LEFT": 0, "INT_RIGHT": 0, "INT_SRIGHT": 0, "BOOL_OR": 0,
                   "BOOL_XOR": 0, "BOOL_AND": 1}  # fmt: skip
_COMMUTATIVE = {"INT_ADD", "INT_OR", "INT_XOR", "INT_MULT", "INT_AND", "BOOL_AND", "BOOL_OR",
                "BOOL_XOR"}  # fmt: skip


def _simplified(op: Op) -> Op:
    """``op`` with constant inputs folded: a COPY of a constant, a COPY of the one input an
    identity leaves (x + 0, x & ~0, x * 1 ...), or ``op`` itself."""
    assert op.out is not None
    size = op.out.size
    if all(v.space == CONST for v in op.ins):
        values = [v.offset & _mask(v.size) for v in op.ins]
        value = evaluate(op.code, values, [v.size for v in op.ins], size)
        return op if value is None else Op("COPY", op.out, (Var(CONST, value, size),))
    if len(op.ins) != 2:
        return op
    left, right = op.ins
    if left.space == CONST and op.code in _COMMUTATIVE:
        left, right = right, left
    if right.space != CONST or left.size != size:
        return op
    value = right.offset & _mask(right.size)
    if _IDENTITY_RIGHT.get(op.code) == value:
        return Op("COPY", op.out, (left,))
    zero = Var(CONST, 0, size)
    if op.code in ("INT_AND", "INT_MULT", "BOOL_AND") and value == 0:
        return Op("COPY", op.out, (zero,))
    if op.code == "INT_AND" and value == _mask(size):
        return Op("COPY", op.out, (left,))
    return op


FOLDABLE = {"COPY", "INT_ADD", "INT_SUB", "INT_MULT", "INT_AND", "INT_OR", "INT_XOR", "BOOL_AND",
            "BOOL_OR", "BOOL_XOR", "INT_LEFT", "INT_RIGHT", "INT_SRIGHT", "INT_EQUAL",
            "INT_NOTEQUAL", "INT_LESS", "INT_LESSEQUAL", "INT_SLESS", "INT_SLESSEQUAL",
            "SUBPIECE", "INT_ZEXT", "INT_SEXT", "INT_NEGATE", "INT_2COMP", "BOOL_NEGATE",
            "POPCOUNT"}  # fmt: skip


def fold_constants(ops: list[Op]) -> list[Op]:
    """Constant folding and copy propagation through single-assignment temporaries: SLEIGH
    spells ``rol ax, 8`` with ``8 & 15`` and ``16 - (8 & 15)``, ``sar eax, 31`` with
    ``31 & 31``; after folding the shifts see constant counts and take immediates."""
    if has_internal_branch(ops):
        return ops
    defs = _definitions(ops)
    env: dict[Var, Var] = {}
    out: list[Op] = []
    for original in ops:
        kept = 1 if original.code in ("LOAD", "STORE") else 0  # input 0 names a space there
        ins = (*original.ins[:kept], *(env.get(v, v) for v in original.ins[kept:]))
        op = Op(original.code, original.out, ins, original.extra, original.disp)
        if op.out is None or op.code not in FOLDABLE or op.extra:
            out.append(op)
            continue
        op = _simplified(op)
        source = op.ins[0]
        if (
            op.code == "COPY"
            and op.out is not None
            and op.out.space == TMP
            and defs[op.out] == 1
            and source.size == op.out.size
            and (source.space == CONST or (source.space == TMP and defs.get(source) == 1))
        ):
            env[op.out] = source
            out.append(NOP)
            continue
        out.append(op)
    return out


def _container(v: Var) -> tuple[int, int] | None:
    """The whole register (byte range of the register space) ``v`` is part of: a general
    register's 8 bytes or an XMM register's 16; None for flags and anything else."""
    if v.space != REG:
        return None
    if v.offset < 0x100:
        return v.offset & ~7, 8
    if XMM_FIRST <= v.offset < XMM_FIRST + 16 * XMM_STRIDE:
        start = XMM_FIRST + (v.offset - XMM_FIRST) // XMM_STRIDE * XMM_STRIDE
        return start, 16
    return None


XMM_FIRST, XMM_STRIDE = 0x1200, 0x40


def _touches(op: Op, container: tuple[int, int]) -> bool:
    start, size = container
    return any(
        v.space == REG and v.offset < start + size and start < v.offset + v.size
        for v in (*op.ins, *([op.out] if op.out is not None else []))
    )


FORWARDABLE = {"LOAD", "INT_ADD", "INT_SUB", "INT_MULT", "INT_AND", "INT_OR", "INT_XOR",
               "INT_LEFT", "INT_RIGHT", "INT_SRIGHT", "INT_ZEXT", "INT_SEXT", "INT_NEGATE",
               "INT_2COMP", "FLOAT_ADD", "FLOAT_SUB", "FLOAT_MULT", "FLOAT_DIV",
               "FLOAT_INT2FLOAT", "FLOAT_FLOAT2FLOAT", "FLOAT_TRUNC"}  # fmt: skip


def forward_destinations(ops: list[Op]) -> list[Op]:
    """``t = f(...); ...; R = COPY t`` computes f straight into the register R when t is read
    only by that copy and nothing in between (f included) reads or writes any part of R."""
    if has_internal_branch(ops):
        return ops
    out = list(ops)
    defs = _definitions(out)
    where = {op.out: i for i, op in enumerate(out) if op.out is not None and op.out.space == TMP}
    for j, copy in enumerate(out):
        if copy.code != "COPY" or copy.out is None or copy.ins[0].space != TMP:
            continue
        temp, target = copy.ins[0], copy.out
        i = where.get(temp)
        container = _container(target)
        if i is None or i >= j or container is None or defs[temp] != 1:
            continue
        first = out[i]
        if first.code not in FORWARDABLE or first.extra:
            continue
        if sum(temp in op.ins for op in out) != 1:
            continue
        if any(_touches(op, container) for op in out[i:j]):
            continue
        out[i] = Op(first.code, target, first.ins, first.extra, first.disp)
        out[j] = NOP
    return out


def _accessed(op: Op) -> int:
    """Bytes a LOAD reads (before a fused extension) or a STORE writes."""
    if op.code == "STORE":
        return op.ins[2].size
    assert op.out is not None
    return int(op.extra[4:]) if op.extra[:4] in ("sext", "zext") else op.out.size


def fold_index(ops: list[Op]) -> list[Op]:
    """``t = i * 2^k; a = b + t; LOAD/STORE [a + d]`` (t and a used once, k = 0 or the access
    size) addresses memory as ``[b + d, i, lsl #k]`` on a target with register offsets."""
    if has_internal_branch(ops):
        return ops
    out = list(ops)
    where = {op.out: i for i, op in enumerate(out) if op.out is not None and op.out.space == TMP}
    uses: dict[Var, int] = {}
    for op in out:
        for v in op.ins:
            uses[v] = uses.get(v, 0) + 1
    for m, op in enumerate(out):
        if op.code not in ("LOAD", "STORE") or op.index is not None or _accessed(op) > 8:
            continue
        address = op.ins[1]
        j = where.get(address)
        if j is None or uses.get(address) != 1 or out[j].code != "INT_ADD" or out[j].extra:
            continue
        sides = [(b, _scaled(a, out, where, uses)) for a, b in (out[j].ins, out[j].ins[::-1])]
        options = [(b, f) for b, f in sides if f is not None]
        options.sort(key=lambda option: option[1][0] == option[1][1])  # a real scaling first
        if not options or address.size != 8:
            continue
        base, (scaled, index, shift) = options[0]
        if CONST in (base.space, index.space) or shift not in (0, _log2(_accessed(op))):
            continue
        changed = {c for other in out[min(where.get(scaled, j), j) : m]
                   if other.out is not None and (c := _container(other.out)) is not None}  # fmt: skip
        if any(v.space == REG and _container(v) in changed for v in (base, index)):
            continue
        ins = (op.ins[0], base, *op.ins[2:])
        out[m] = Op(op.code, op.out, ins, op.extra, op.disp, index, shift)
        out[j] = NOP
        if scaled is not index:
            out[where[scaled]] = NOP
    return out


def _log2(size: int) -> int:
    return size.bit_length() - 1


def _scaled(
    v: Var, ops: list[Op], where: dict[Var, int], uses: dict[Var, int]
) -> tuple[Var, Var, int] | None:
    """(v, index, shift) when ``v`` is ``index << shift`` (a temporary read once), or
    ``v`` itself with shift 0."""
    if v.space == CONST or v.size != 8:
        return None
    j = where.get(v)
    if j is not None and uses.get(v) == 1 and not ops[j].extra:
        op = ops[j]
        factor = op.ins[1] if len(op.ins) == 2 else None
        if op.code == "INT_MULT" and factor is not None and factor.space == CONST:
            if factor.offset in (1, 2, 4, 8) and op.ins[0].size == 8:
                return v, op.ins[0], _log2(factor.offset)
        if op.code == "INT_LEFT" and factor is not None and factor.space == CONST:
            if factor.offset in (0, 1, 2, 3) and op.ins[0].size == 8:
                return v, op.ins[0], factor.offset
    return v, v, 0


PASSES = (fold_constants, forward_destinations, narrow_subpieces, drop_unread,
          fuse_load_extension, fuse_zero_extension, fold_displacements)  # fmt: skip
"""The rewrites, in the order ``Lowering`` applies them to each instruction."""
