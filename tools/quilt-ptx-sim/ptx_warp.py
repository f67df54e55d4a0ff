#===- ptx_warp.py - Warp-collective statements: mma.sync, ldmatrix, shfl --===#
"""Fragment layouts of the PTX ISA's "Matrix fragments for mma.m16n8k16"
(and k32 for 8-bit operands), ldmatrix's "m8n8" rows, and shfl.sync."""

from __future__ import annotations

import re

import numpy as np

from ptx_machine import SimError, Thread
from ptx_mma import _array_to_regs, _bytes4, _f32, _halves, _regs_to_array
from ptx_operands import address, getter, vector

_LANE = np.arange(32)
_G, _Q = _LANE // 4, _LANE % 4


def _a_fragment(words: np.ndarray, kind: str) -> np.ndarray:
    """16 x K tile from the 4 A registers of each lane."""
    if kind in ("s8", "u8"):
        vals, per, k = _bytes4(words, kind == "s8"), 4, 32
    else:
        vals, per, k = _halves(words, kind), 2, 16
    a = np.zeros((16, k))
    for reg, (dr, dk) in enumerate([(0, 0), (8, 0), (0, k // 2), (8, k // 2)]):
        for e in range(per):
            a[_G + dr, _Q * per + e + dk] = vals[:, reg, e]
    return a


def _b_fragment(words: np.ndarray, kind: str, k: int) -> np.ndarray:
    """K x 8 tile from the B registers of each lane (column g, K runs)."""
    if kind in ("s8", "u8"):
        vals, per = _bytes4(words, kind == "s8"), 4
    else:
        vals, per = _halves(words, kind), 2
    b = np.zeros((k, 8))
    regs = words.shape[1]
    step = k // regs
    for reg in range(regs):
        for e in range(per):
            b[_Q * per + e + reg * step, _G] = vals[:, reg, e]
    return b


def _c_positions():
    rows = np.stack([_G, _G, _G + 8, _G + 8], axis=1)
    cols = np.stack([_Q * 2, _Q * 2 + 1, _Q * 2, _Q * 2 + 1], axis=1)
    return rows, cols


def compile_mma(stmt, index: int, ctx):
    m = re.match(r"mma\.(sp\.)?sync\.aligned\.m16n8k(\d+)\.row\.col\.(\w+)\.(\w+)\.(\w+)\.(\w+)", stmt.opcode)
    if not m:
        raise SimError(f"unsupported statement '{stmt.text}'")
    sparse, k = bool(m.group(1)), int(m.group(2))
    d_kind, a_kind, b_kind, _ = m.groups()[2:]
    ops = stmt.operands
    d, a, b, c = (vector(o) for o in ops[:4])
    meta = getter(ops[4], 32) if sparse else None
    selector = int(ops[5], 0) if sparse else 0
    rows, cols = _c_positions()

    def run(members: list[Thread]):
        if len(members) != 32:
            raise SimError("mma.sync with exited lanes")
        aw = _regs_to_array(members, a)
        bw = _regs_to_array(members, b)
        cw = _regs_to_array(members, c)
        if sparse:
            a_tile = _decompress(_a_fragment(aw, a_kind), [meta(t) for t in members], selector)
        else:
            a_tile = _a_fragment(aw, a_kind)
        prod = a_tile @ _b_fragment(bw, b_kind, k)
        if d_kind == "f32":
            out = (_f32(cw) + prod[rows, cols]).astype(np.float32).view(np.uint32)
        else:
            out = ((cw.view(np.int32).astype(np.int64) + prod[rows, cols].astype(np.int64))
                   & 0xFFFFFFFF).astype(np.uint32)
        _array_to_regs(members, d, out)
    return lambda t: t.cta.arrive("warp", index, t, run)


def _decompress(compressed: np.ndarray, meta: list[int], selector: int) -> np.ndarray:
    """16 x 16 kept values -> 16 x 32 with 2:4 metadata. Each 4-column
    chunk of a row keeps 2 values; a 4-bit nibble holds their column
    indices (the first in bits 0-1). Lanes 4g + 2 * selector + h hold the
    nibbles of columns 16h..16h+15: the low half for row g, the high half
    for row g + 8 (PTX ISA, "Sparse matrix storage" for m16n8k32)."""
    dense = np.zeros((16, 32))
    for g in range(8):
        for h in range(2):
            word = meta[4 * g + 2 * selector + h]
            for shift, row in ((0, g), (16, g + 8)):
                for group in range(4):
                    bits = word >> (shift + 4 * group)
                    chunk = 4 * h + group
                    dense[row, 4 * chunk + (bits & 3)] = compressed[row, 2 * chunk]
                    dense[row, 4 * chunk + ((bits >> 2) & 3)] = compressed[row, 2 * chunk + 1]
    return dense


def compile_ldmatrix(stmt, index: int, ctx):
    m = re.match(r"ldmatrix\.sync\.aligned\.m8n8\.x(\d)(\.trans)?\.shared\.b16", stmt.opcode)
    if not m:
        raise SimError(f"unsupported statement '{stmt.text}'")
    count, trans = int(m.group(1)), bool(m.group(2))
    dest = vector(stmt.operands[0])
    where, _ = address(stmt.operands[1], ctx.params)
    profile = ctx.profile

    def run(members: list[Thread]):
        shared = members[0].cta.shared_array
        mats, accesses = [], []
        for j in range(count):
            rows = []
            for r in range(8):
                a = where(members[j * 8 + r]) & 0xFFFFFFFF
                rows.append(shared[a:a + 16].view(np.uint16))
                accesses.append((j * 8 + r, a, 16))
            mats.append(np.stack(rows))  # 8 x 8 b16
        if profile:
            profile.record_warp(index, accesses)
        for lane, t in enumerate(members):
            g, q = lane // 4, lane % 4
            for j in range(count):
                mat = mats[j].T if trans else mats[j]
                t.regs[dest[j]] = int(mat[g, 2 * q]) | (int(mat[g, 2 * q + 1]) << 16)
    return lambda t: t.cta.arrive("warp", index, t, run)


def compile_shfl(stmt, index: int, ctx):
    mode = stmt.opcode.split(".")[2]
    ops = stmt.operands
    dest = ops[0].split("|")
    a, b, c = getter(ops[1], 32), getter(ops[2], 32), getter(ops[3], 32)

    def run(members: list[Thread]):
        if any(c(t) & 0x1F != 0x1F for t in members):
            raise SimError(f"shfl.sync with sub-warp segments is not simulated: '{stmt.text}'")
        values = {t.lane: a(t) for t in members}
        for t in members:
            lane, delta = t.lane, b(t)
            src = {"bfly": lane ^ delta, "down": lane + delta, "up": lane - delta, "idx": delta}[mode]
            ok = 0 <= src < 32 and src in values
            t.regs[dest[0]] = values[src] if ok else values[lane]
            if len(dest) > 1:
                t.regs[dest[1]] = ok
    return lambda t: t.cta.arrive("warp", index, t, run)
