#===- ptx_mma.py - Tensor-core and warp-collective statements -------------===#
"""mma.sync, ldmatrix, shfl.sync and sm_90's wgmma, each run once for the
warp or warpgroup when all its threads arrived.

wgmma.mma_async is queued at issue and runs at the wgmma.wait_group that
retires its group: it reads shared memory and its accumulator registers
then, so a stage released or refilled before the wait shows up as a wrong
result, as it could on the GPU."""

from __future__ import annotations

import re

import numpy as np

from ptx_async import swizzle
from ptx_machine import SimError, Thread
from ptx_operands import getter, pred_getter, vector

_SPANS = {0: 0, 1: 128, 2: 64, 3: 32}


def _regs_to_array(members: list[Thread], names: list[str]) -> np.ndarray:
    return np.array([[t.regs.get(n, 0) & 0xFFFFFFFF for n in names] for t in members], dtype=np.uint32)


def _array_to_regs(members: list[Thread], names: list[str], values: np.ndarray) -> None:
    for t, row in zip(members, values.tolist()):
        regs = t.regs
        for n, v in zip(names, row):
            regs[n] = v


def _f32(bits: np.ndarray) -> np.ndarray:
    return bits.astype(np.uint32).view(np.float32).astype(np.float64)


def _halves(words: np.ndarray, kind: str) -> np.ndarray:
    """32-bit words -> (..., 2) values, the low half first."""
    lo, hi = words & 0xFFFF, words >> 16
    pair = np.stack([lo, hi], axis=-1).astype(np.uint16)
    if kind == "bf16":
        return (pair.astype(np.uint32) << 16).view(np.float32).astype(np.float64)
    return pair.view(np.float16).astype(np.float64)


def _bytes4(words: np.ndarray, signed: bool = True) -> np.ndarray:
    b = np.stack([(words >> (8 * i)) & 0xFF for i in range(4)], axis=-1).astype(np.uint8)
    return b.view(np.int8).astype(np.int64) if signed else b.astype(np.int64)


# -- wgmma ------------------------------------------------------------------


def operand_addresses(desc: int, rows: int, kbytes: int) -> np.ndarray:
    """Shared byte address of each (row, byte along K) of a K-major wgmma
    operand described by `desc` (PTX ISA "Matrix Descriptor")."""
    start = (desc & 0x3FFF) << 4
    lbo = ((desc >> 16) & 0x3FFF) << 4
    sbo = ((desc >> 32) & 0x3FFF) << 4
    span = _SPANS[(desc >> 62) & 3]
    if (desc >> 49) & 7:
        raise SimError("wgmma descriptor base offset is not simulated")
    r = np.arange(rows)[:, None]
    k = np.arange(kbytes)[None, :]
    if span:
        if kbytes > span:
            raise SimError(f"wgmma K extent {kbytes} B exceeds the {span}-byte swizzle span")
        return swizzle(start + (r // 8) * sbo + (r % 8) * span + k, span)
    return start + (r // 8) * sbo + (k // 16) * lbo + (r % 8) * 16 + k % 16


def _check_fenced(cta, desc: int, rows: int, kelems: int, kind: str, text: str) -> None:
    """wgmma reads through the async proxy: bytes a thread wrote through
    the generic proxy need that thread's fence.proxy.async first."""
    addr = operand_addresses(desc, rows, kelems * (1 if kind in ("s8", "u8") else 2))
    addr = addr[addr < len(cta.generic)]
    if cta.generic[addr].any():
        first = int(addr[cta.generic[addr] > 0][0])
        raise SimError(f"'{text}' in CTA {cta.ctaid} reads shared byte {first}, written through the generic "
                       "proxy (st.shared or cp.async) with no fence.proxy.async by its writer since")


def _load_operand(shared: np.ndarray, desc: int, rows: int, kelems: int, kind: str) -> np.ndarray:
    esize = 1 if kind in ("s8", "u8") else 2
    addr = operand_addresses(desc, rows, kelems * esize)
    if addr.max() >= len(shared):
        raise SimError(f"wgmma operand reads shared byte {addr.max()} of {len(shared)}")
    raw = shared[addr]
    if esize == 1:
        return raw.view(np.int8 if kind == "s8" else np.uint8).astype(np.int64)
    words = raw.reshape(rows, kelems, 2).astype(np.uint16)
    words = words[..., 0] | (words[..., 1] << 8)
    if kind == "bf16":
        return (words.astype(np.uint32) << 16).view(np.float32).astype(np.float64)
    return words.view(np.float16).astype(np.float64)


def accumulator_map(n: int) -> tuple[np.ndarray, np.ndarray]:
    """(row, col) of accumulator register i of warpgroup thread t, m64nN."""
    t = np.arange(128)[:, None]
    i = np.arange(n // 2)[None, :]
    row = (t // 32) * 16 + (t % 32) // 4 + 8 * ((i % 4) // 2)
    col = 8 * (i // 4) + (t % 4) * 2 + (i % 2)
    return row, col


class _Wgmma:
    def __init__(self, shape, kinds, regs, desc_a, desc_b, scale_d, trans):
        self.shape, self.kinds, self.regs = shape, kinds, regs
        self.desc_a, self.desc_b, self.scale_d, self.trans = desc_a, desc_b, scale_d, trans

    def run(self, members: list[Thread]) -> None:
        m, n, k = self.shape
        acc_kind, a_kind, b_kind = self.kinds
        shared = members[0].cta.shared_array
        if any(self.trans):
            raise SimError("transposed (MN-major) wgmma operands are not simulated")
        a = _load_operand(shared, self.desc_a, m, k, a_kind)
        b = _load_operand(shared, self.desc_b, n, k, b_kind)
        row, col = accumulator_map(n)
        bits = _regs_to_array(members, self.regs)
        if acc_kind == "f32":
            c = _f32(bits) if self.scale_d else np.zeros(bits.shape)
            d = (c + (a @ b.T)[row, col]).astype(np.float32).view(np.uint32)
        else:
            c = bits.view(np.int32).astype(np.int64) if self.scale_d else np.zeros(bits.shape, np.int64)
            d = ((c + (a @ b.T)[row, col]) & 0xFFFFFFFF).astype(np.uint32)
        _array_to_regs(members, self.regs, d)


def compile_wgmma(stmt, index: int, ctx):
    opcode, ops = stmt.opcode, stmt.operands
    if opcode.startswith("wgmma.fence"):
        return lambda t: t.cta.arrive("warpgroup", index, t, lambda members: None)
    if opcode.startswith("wgmma.commit_group"):
        def commit(members):
            queue = members[0].cta.wgmma[members[0].tid // 128]
            queue["groups"].append(queue["open"])
            queue["open"] = []
        return lambda t: t.cta.arrive("warpgroup", index, t, commit)
    if opcode.startswith("wgmma.wait_group"):
        keep = getter(ops[0], 32)

        def make_wait(t):
            limit = keep(t)

            def wait(members):
                queue = members[0].cta.wgmma[members[0].tid // 128]
                while len(queue["groups"]) > limit:
                    for op in queue["groups"].pop(0):
                        op.run(members)
            return t.cta.arrive("warpgroup", index, t, wait)
        return make_wait
    m = re.match(r"wgmma\.mma_async\.sync\.aligned\.m(\d+)n(\d+)k(\d+)\.(\w+)\.(\w+)\.(\w+)", opcode)
    if not m:
        raise SimError(f"unsupported statement '{stmt.text}'")
    shape = tuple(int(x) for x in m.groups()[:3])
    kinds = m.groups()[3:]
    regs = vector(ops[0])
    if ops[1].startswith("{"):
        raise SimError("wgmma with A in registers is not simulated")
    desc_a, desc_b = getter(ops[1]), getter(ops[2])
    scale_d = pred_getter(ops[3])
    imms = [int(x, 0) for x in ops[4:]]
    trans = (imms[2], imms[3]) if len(imms) == 4 else (0, 0)
    if len(imms) == 4 and (imms[0] != 1 or imms[1] != 1):
        raise SimError("negated wgmma operands are not simulated")

    def issue(t):
        da, db, sd = desc_a(t), desc_b(t), scale_d(t)

        def queue_op(members):
            for other in members:
                if (desc_a(other), desc_b(other), scale_d(other)) != (da, db, sd):
                    raise SimError(f"wgmma operands differ across the warpgroup at '{stmt.text}'")
            m, n, k = shape
            _check_fenced(members[0].cta, da, m, k, kinds[1], stmt.opcode)
            _check_fenced(members[0].cta, db, n, k, kinds[2], stmt.opcode)
            members[0].cta.wgmma[members[0].tid // 128]["open"].append(
                _Wgmma(shape, kinds, regs, da, db, sd, trans))
        return t.cta.arrive("warpgroup", index, t, queue_op)
    return issue
