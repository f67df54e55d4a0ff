#===- ptx_scalar.py - Per-thread PTX statements ---------------------------===#
"""Integer, float, conversion, comparison, move, load/store and branch
statements, compiled to closures `f(thread) -> next statement`."""

from __future__ import annotations

import math
import struct
from typing import Callable

from ptx_machine import CLUSTER_RANK_SHIFT, SHARED_WINDOW, SimError, Thread
from ptx_operands import address, getter, pred_getter, vector
from ptx_values import (FLOATS, SIGNED, WIDTH, bf16_bits, bf16_value, decode, encode,
                        f16_bits, f16_value, f32_bits, f32_value, mask, round_half_even,
                        to_signed)

Op = Callable[[Thread], int]


def _type(opcode: str) -> str:
    return opcode.split(".")[-1]


def _float_binary(kind: str, a: float, b: float) -> float:
    if kind == "add":
        return a + b
    if kind == "sub":
        return a - b
    if kind == "mul":
        return a * b
    if kind == "div":
        if b == 0:
            return math.nan if a == 0 or math.isnan(a) else math.copysign(math.inf, a) * math.copysign(1, b)
        return a / b
    if kind in ("min", "max"):
        if math.isnan(a) or math.isnan(b):
            return math.nan
        return min(a, b) if kind == "min" else max(a, b)
    raise SimError(kind)


def _int_binary(kind: str, mods: list[str], a: int, b: int, bits: int) -> int:
    if kind == "add":
        return a + b
    if kind == "sub":
        return a - b
    if kind == "mul":
        if "hi" in mods:
            return (a * b) >> bits
        return a * b
    if kind == "and":
        return a & b
    if kind == "or":
        return a | b
    if kind == "xor":
        return a ^ b
    if kind == "min":
        return min(a, b)
    if kind == "max":
        return max(a, b)
    if kind in ("div", "rem"):
        if b == 0:
            return mask(bits)
        q = abs(a) // abs(b) * (1 if (a >= 0) == (b >= 0) else -1)
        return q if kind == "div" else a - q * b
    if kind == "shl":
        return a << min(b, bits)
    if kind == "shr":
        return a >> min(b, bits)
    raise SimError(kind)


def _packed(kind: str, type_: str, values: list[int]) -> int:
    """f16x2 / bf16x2 lane-wise add, mul, fma, min, max."""
    dec = f16_value if type_ == "f16x2" else bf16_value
    enc = f16_bits if type_ == "f16x2" else bf16_bits
    out = 0
    for half in (0, 16):
        xs = [dec(v >> half) for v in values]
        r = xs[0] * xs[1] + xs[2] if kind == "fma" else _float_binary(kind, xs[0], xs[1])
        out |= enc(r) << half
    return out


def compile_scalar(stmt, index: int, ctx) -> Op:
    op, ops = stmt.opcode, stmt.operands
    parts = op.split(".")
    kind, mods = parts[0], parts[1:]
    nxt = index + 1
    type_ = _type(op)

    if kind in ("add", "sub", "mul", "div", "rem", "min", "max", "and", "or", "xor", "shl", "shr"):
        if type_ == "pred":
            a, b = pred_getter(ops[1]), pred_getter(ops[2])
            d = ops[0]
            fn = {"and": lambda x, y: x and y, "or": lambda x, y: x or y,
                  "xor": lambda x, y: x != y}[kind]

            def pred_op(t):
                t.regs[d] = fn(a(t), b(t))
                return nxt
            return pred_op
        if type_ in ("f16x2", "bf16x2") or (type_ in ("f16", "bf16") and kind in ("min", "max", "add", "mul")):
            bits = WIDTH[type_]
            srcs = [getter(o, bits) for o in ops[1:]] + [lambda t: 0]
            d = ops[0]
            if type_ in ("f16", "bf16"):
                dec = f16_value if type_ == "f16" else bf16_value
                enc = f16_bits if type_ == "f16" else bf16_bits

                def half_op(t):
                    t.regs[d] = enc(_float_binary(kind, dec(srcs[0](t)), dec(srcs[1](t))))
                    return nxt
                return half_op

            def packed_op(t):
                t.regs[d] = _packed(kind, type_, [s(t) for s in srcs])
                return nxt
            return packed_op
        if type_ in FLOATS:
            a, b, d = getter(ops[1], 32), getter(ops[2], 32), ops[0]
            if type_ != "f32":
                raise SimError(f"unsupported '{op}'")
            ftz = "ftz" in mods

            def float_op(t):
                x, y = f32_value(a(t)), f32_value(b(t))
                if ftz:
                    x = 0.0 if abs(x) < 1.1754943508222875e-38 else x
                    y = 0.0 if abs(y) < 1.1754943508222875e-38 else y
                t.regs[d] = f32_bits(_float_binary(kind, x, y))
                return nxt
            return float_op
        bits = WIDTH[type_]
        if "wide" in mods:
            out_bits = 2 * bits
        else:
            out_bits = bits
        signed = type_ in SIGNED
        a, d = getter(ops[1], bits), ops[0]
        b = getter(ops[2], 32 if kind in ("shl", "shr") else bits)
        m_out = mask(out_bits)
        if kind == "shr" and signed:
            def sar(t):
                t.regs[d] = (to_signed(a(t), bits) >> min(b(t), bits - 1)) & m_out
                return nxt
            return sar

        def int_op(t):
            x, y = a(t), b(t)
            if signed:
                x, y = to_signed(x, bits), to_signed(y, bits)
            t.regs[d] = _int_binary(kind, mods, x, y, bits) & m_out
            return nxt
        return int_op

    if kind == "mad":
        bits = WIDTH[type_]
        wide = "wide" in mods
        a, b, c, d = getter(ops[1], bits), getter(ops[2], bits), getter(ops[3], 2 * bits if wide else bits), ops[0]
        signed = type_ in SIGNED
        m_out = mask(2 * bits if wide else bits)

        def mad(t):
            x, y = a(t), b(t)
            if signed:
                x, y = to_signed(x, bits), to_signed(y, bits)
            t.regs[d] = (x * y + c(t)) & m_out
            return nxt
        return mad

    if kind == "fma":
        if type_ in ("f16x2", "bf16x2"):
            srcs = [getter(o, 32) for o in ops[1:]]
            d = ops[0]

            def fma2(t):
                t.regs[d] = _packed("fma", type_, [s(t) for s in srcs])
                return nxt
            return fma2
        a, b, c = (getter(o, 32) for o in ops[1:4])
        d = ops[0]

        def fma(t):
            t.regs[d] = f32_bits(f32_value(a(t)) * f32_value(b(t)) + f32_value(c(t)))
            return nxt
        return fma

    if kind in ("neg", "abs", "not", "rcp", "ex2", "sqrt", "rsqrt", "lg2", "sin", "cos", "tanh"):
        d = ops[0]
        if type_ == "pred":
            a = pred_getter(ops[1])

            def not_pred(t):
                t.regs[d] = not a(t)
                return nxt
            return not_pred
        bits = WIDTH[type_]
        a = getter(ops[1], bits)
        if type_ in FLOATS:
            fn = {"neg": lambda x: -x, "abs": abs, "rcp": lambda x: _float_binary("div", 1.0, x),
                  "ex2": lambda x: 2.0 ** x if x < 1024 else math.inf,
                  "sqrt": lambda x: math.sqrt(x) if x >= 0 else math.nan,
                  "rsqrt": lambda x: 1 / math.sqrt(x) if x > 0 else (math.inf if x == 0 else math.nan),
                  "lg2": lambda x: math.log2(x) if x > 0 else (-math.inf if x == 0 else math.nan),
                  "tanh": math.tanh, "sin": math.sin, "cos": math.cos}[kind]

            def float_unary(t):
                try:
                    r = fn(decode(a(t), type_))
                except OverflowError:
                    r = math.inf
                t.regs[d] = encode(r, type_)
                return nxt
            return float_unary
        m_ = mask(bits)
        fn = {"not": lambda x: ~x, "neg": lambda x: -x,
              "abs": lambda x: abs(to_signed(x, bits))}[kind]

        def int_unary(t):
            t.regs[d] = fn(a(t)) & m_
            return nxt
        return int_unary

    if kind == "bfe":
        bits = WIDTH[type_]
        a, b, c, d = getter(ops[1], bits), getter(ops[2], 32), getter(ops[3], 32), ops[0]
        signed = type_ in SIGNED

        def bfe(t):
            x, pos, length = a(t), b(t) & 0xFF, c(t) & 0xFF
            field = (x >> pos) & mask(length) if pos < bits else 0
            if signed and length and field >> (length - 1):
                field |= ~mask(length)
            t.regs[d] = field & mask(bits)
            return nxt
        return bfe

    if kind == "selp":
        bits = WIDTH[type_]
        a, b, c, d = getter(ops[1], bits), getter(ops[2], bits), pred_getter(ops[3]), ops[0]

        def selp(t):
            t.regs[d] = a(t) if c(t) else b(t)
            return nxt
        return selp

    if kind == "setp":
        cmp, type_ = mods[0], mods[-1]
        bits = WIDTH[type_]
        a, b = getter(ops[1], bits), getter(ops[2], bits)
        d = ops[0].split("|")[0]
        is_float = type_ in FLOATS
        unordered = is_float and cmp.endswith("u") and cmp not in ("lu",)
        base = cmp[:-1] if unordered else cmp
        base = {"lo": "lt", "ls": "le", "hi": "gt", "hs": "ge"}.get(base, base)
        fn = {"eq": lambda x, y: x == y, "ne": lambda x, y: x != y, "lt": lambda x, y: x < y,
              "le": lambda x, y: x <= y, "gt": lambda x, y: x > y, "ge": lambda x, y: x >= y,
              "num": lambda x, y: not (math.isnan(x) or math.isnan(y)),
              "nan": lambda x, y: math.isnan(x) or math.isnan(y)}[base]

        def setp(t):
            x, y = decode(a(t), type_), decode(b(t), type_)
            if is_float and (math.isnan(x) or math.isnan(y)) and base not in ("num", "nan"):
                r = unordered
            else:
                r = fn(x, y)
            t.regs[d] = r
            return nxt
        return setp

    if kind == "cvt":
        return _compile_cvt(mods, ops, nxt)

    if kind == "cvta":
        a, d = getter(ops[1]), ops[0]
        to = "to" in mods
        shared = any(m.startswith("shared") for m in mods)
        delta = SHARED_WINDOW if shared else 0

        def cvta(t):
            x = a(t)
            t.regs[d] = (x - delta if to else x + delta) & mask(64)
            return nxt
        return cvta

    if kind == "mov":
        return _compile_mov(type_, ops, nxt)

    if kind in ("ld", "st"):
        return _compile_memory(kind, mods, ops, nxt, ctx)

    if kind == "bra":
        target = ctx.entry.labels.get(ops[0])
        if target is None:
            raise SimError(f"branch to unknown label '{ops[0]}'")
        return lambda t: target

    if kind == "ret" or kind == "exit" or op == "ret;":
        return lambda t: t.cta.exit(t)

    if op.startswith("barrier.cluster.arrive"):
        def cluster_arrive(t):
            t.cluster_arrivals += 1
            return nxt
        return cluster_arrive

    if op.startswith("barrier.cluster.wait"):
        return lambda t: t.cta.cluster_wait(index, t)

    if kind == "mapa":
        # mapa.shared::cluster.u{32,64} d, a, rank: a's offset in CTA `rank`.
        if "shared::cluster" not in mods:
            raise SimError(f"only mapa.shared::cluster is simulated: '{stmt.text}'")
        d, a, rank = ops[0], getter(ops[1]), getter(ops[2], 32)

        def mapa(t):
            r = rank(t)
            if r >= len(t.cta.cluster):
                raise SimError(f"mapa to rank {r} of a {len(t.cta.cluster)}-CTA cluster")
            t.regs[d] = ((r + 1) << CLUSTER_RANK_SHIFT) | (a(t) & 0xFFFFFFFF)
            return nxt
        return mapa

    if op.startswith("bar.warp.sync"):
        # Orders the lanes' memory accesses; the simulator's are in order
        # already, so it is a meeting point of the warp's lanes.
        lanes = getter(ops[0], 32)

        def warp_sync(t):
            if lanes(t) & 0xFFFFFFFF != 0xFFFFFFFF:
                raise SimError(f"bar.warp.sync of part of a warp is not simulated: '{stmt.text}'")
            return t.cta.arrive("warp", index, t, lambda members: None)
        return warp_sync

    if kind == "bar" or kind == "barrier":
        if len(ops) > 1:
            raise SimError("named barriers with a thread count are not simulated")
        return lambda t: t.cta.bar_sync(index, t)

    if op.startswith("fence.proxy.async"):
        def fence_proxy_async(t):
            t.fence_proxy_async()
            return nxt
        return fence_proxy_async

    if kind == "fence" or kind == "membar":
        return lambda t: nxt

    raise SimError(f"unsupported statement '{stmt.text}'")


def _compile_cvt(mods: list[str], ops: list[str], nxt: int) -> Op:
    dst_t, src_t = mods[-2], mods[-1]
    rounding = next((m for m in mods if m in ("rn", "rz", "rm", "rp", "rni", "rzi", "rmi", "rpi")), None)
    sat = "sat" in mods
    d = ops[0]
    if dst_t in ("bf16x2", "f16x2"):
        hi, lo = getter(ops[1], 32), getter(ops[2], 32)
        enc = bf16_bits if dst_t == "bf16x2" else f16_bits

        def cvt_pack(t):
            t.regs[d] = (enc(decode(hi(t), src_t)) << 16) | enc(decode(lo(t), src_t))
            return nxt
        return cvt_pack
    a = getter(ops[1], WIDTH[src_t])

    def convert(x):
        v = decode(x, src_t)
        if dst_t in FLOATS:
            if src_t in FLOATS and rounding in ("rni", "rzi", "rmi", "rpi"):
                if math.isfinite(v):
                    v = {"rni": round_half_even, "rzi": math.trunc, "rmi": math.floor, "rpi": math.ceil}[rounding](v)
                    v = float(v)
            if sat:
                v = min(max(v, 0.0), 1.0) if not math.isnan(v) else 0.0
            return encode(v, dst_t)
        bits = WIDTH[dst_t]
        if src_t in FLOATS:
            if math.isnan(v):
                return 0
            f = {"rni": round_half_even, "rzi": math.trunc, "rmi": math.floor, "rpi": math.ceil,
                 None: math.trunc, "rn": round_half_even, "rz": math.trunc}[rounding]
            v = int(f(v)) if math.isfinite(v) else (1 << 70 if v > 0 else -(1 << 70))
            lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if dst_t in SIGNED else (0, mask(bits))
            return min(max(v, lo), hi) & mask(bits)
        if sat:
            lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if dst_t in SIGNED else (0, mask(bits))
            v = min(max(v, lo), hi)
        return v & mask(bits)

    def cvt(t):
        t.regs[d] = convert(a(t))
        return nxt
    return cvt


def _compile_mov(type_: str, ops: list[str], nxt: int) -> Op:
    d = ops[0]
    bits = WIDTH.get(type_, 64)
    if d.startswith("{"):  # unpack: mov.b32 {%rs1, %rs2}, %r1
        parts = vector(d)
        a = getter(ops[1], bits)
        width = bits // len(parts)

        def unpack(t):
            x = a(t)
            for i, p in enumerate(parts):
                if p != "_":
                    t.regs[p] = (x >> (i * width)) & mask(width)
            return nxt
        return unpack
    if ops[1].startswith("{"):  # pack
        parts = [getter(p, bits) for p in vector(ops[1])]
        width = bits // len(parts)

        def pack(t):
            t.regs[d] = sum((p(t) & mask(width)) << (i * width) for i, p in enumerate(parts))
            return nxt
        return pack
    if type_ == "pred":
        a = pred_getter(ops[1])

        def mov_pred(t):
            t.regs[d] = a(t)
            return nxt
        return mov_pred
    a = getter(ops[1], bits)

    def mov(t):
        t.regs[d] = a(t)
        return nxt
    return mov


_FORMATS = {8: "B", 16: "H", 32: "I", 64: "Q"}


def _compile_memory(kind: str, mods: list[str], ops: list[str], nxt: int, ctx) -> Op:
    type_ = mods[-1]
    lanes = 1
    for m in mods:
        if m in ("v2", "v4", "v8"):
            lanes = int(m[1:])
    bits = WIDTH[type_]
    fmt = struct.Struct("<" + _FORMATS[bits] * lanes)
    size = bits // 8 * lanes
    space = "param" if "param" in mods else "shared" if any(m.startswith("shared") for m in mods) \
        else "global" if "global" in mods else "generic"
    regs = vector(ops[0] if kind == "ld" else ops[1])
    where, is_param = address(ops[1] if kind == "ld" else ops[0], ctx.params)
    memory = ctx.memory
    profile, index = ctx.profile, nxt - 1
    # What reaches L2: volatile and .cg/.cv loads bypass L1.
    access = "store" if kind == "st" else \
        "load-uncached" if any(m in ("volatile", "cg", "cv") for m in mods) else "load"

    def locate(t):
        a = where(t)
        if space == "shared" or (space == "generic" and SHARED_WINDOW <= a < SHARED_WINDOW + (1 << 32)):
            off = a - SHARED_WINDOW if space == "generic" else a
            if off < 0 or off + size > len(t.cta.shared):
                raise SimError(f"shared access of {size} bytes at {off} outside {len(t.cta.shared)} bytes")
            if profile:
                profile.record(t, index, "shared", off, size)
            return t.cta.shared, off
        if profile:
            profile.record(t, index, "global", a, size, access)
        return memory.bytes, memory.offset(a, size)

    if kind == "ld" and is_param:
        value = where(None)
        d = regs[0]

        def ld_param(t):
            t.regs[d] = value
            return nxt
        return ld_param
    if kind == "ld":
        def ld(t):
            buf, off = locate(t)
            for r, v in zip(regs, fmt.unpack_from(buf, off)):
                t.regs[r] = v
            return nxt
        return ld
    srcs = [getter(r, bits) for r in regs]

    def st(t):
        buf, off = locate(t)
        fmt.pack_into(buf, off, *[s(t) for s in srcs])
        if buf is t.cta.shared:
            t.write_generic(off, size)
        return nxt
    return st
