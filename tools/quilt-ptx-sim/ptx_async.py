#===- ptx_async.py - mbarrier, cp.async and TMA statements ----------------===#
"""Asynchronous copies and the barriers that order them.

cp.async copies land at the cp.async.wait_group that retires their group
(not earlier), so a read of a stage before its wait sees stale bytes. TMA
box copies land when issued and complete their mbarrier's transaction
bytes at once: the earliest a copy may land, so a refill of a stage that a
warpgroup still reads overwrites it and shows up as a wrong result. A
multicast box lands in every CTA of its mask, at the same offset, and
completes on each one's mbarrier; an mbarrier named by a shared::cluster
address may be another CTA's."""

from __future__ import annotations

import numpy as np

from ptx_machine import YIELD, SimError, Thread
from ptx_operands import address, getter

_DTYPE_BYTES = {"bf16": 2, "f16": 2, "f32": 4, "i8": 1, "u8": 1, "i32": 4}


def _shared_address(text: str, ctx):
    """A shared, generic-shared or shared::cluster address operand."""
    where, _ = address(text, ctx.params)
    return where


def _mbarrier(t: Thread, addr: int) -> list[int]:
    cta, offset = t.cta.resolve_shared(addr)
    state = cta.mbarriers.get(offset)
    if state is None:
        raise SimError(f"mbarrier at shared {offset} of CTA {cta.ctaid} used before mbarrier.init")
    return state


def _complete(state: list[int]) -> None:
    # [expected, pending arrivals, transaction bytes, phase]
    if state[1] == 0 and state[2] == 0:
        state[3] += 1
        state[1] = state[0]


def compile_mbarrier(stmt, index: int, ctx):
    mods = stmt.opcode.split(".")[1:]
    ops = stmt.operands
    nxt = index + 1
    if mods[0] == "init":
        where, count = _shared_address(ops[0], ctx), getter(ops[1], 32)

        def init(t):
            cta, offset = t.cta.resolve_shared(where(t))
            cta.mbarriers[offset] = [count(t), count(t), 0, 0]
            return nxt
        return init
    if mods[0] == "arrive" and "expect_tx" in mods:
        dest, where, tx = ops[0], _shared_address(ops[1], ctx), getter(ops[2], 32)

        def arrive_expect(t):
            state = _mbarrier(t, where(t))
            state[2] += tx(t)
            state[1] -= 1
            t.regs[dest] = state[3]
            _complete(state)
            return nxt
        return arrive_expect
    if mods[0] == "arrive":
        # mbarrier.arrive{.sem.scope.space}.b64 dest, [addr] (, count)
        dest, where = (ops[0], ops[1]) if len(ops) > 1 else ("_", ops[0])
        where = _shared_address(where, ctx)
        count = getter(ops[2], 32) if len(ops) > 2 else (lambda t: 1)

        def arrive(t):
            state = _mbarrier(t, where(t))
            if state[1] < count(t):
                raise SimError(f"mbarrier at 0x{where(t):x}: more arrivals than its count")
            state[1] -= count(t)
            t.regs[dest] = state[3]
            _complete(state)
            return nxt
        return arrive
    if mods[0] in ("try_wait", "test_wait") and "parity" in mods:
        dest, where, parity = ops[0], _shared_address(ops[1], ctx), getter(ops[2], 32)

        def try_wait(t):
            state = _mbarrier(t, where(t))
            # True once the phase of that parity completed: the current
            # phase has the other parity.
            done = (state[3] & 1) != (parity(t) & 1)
            t.regs[dest] = done
            if done:
                t.waiting = None
                return nxt
            t.waiting = (where(t) & 0xFFFFFFFF, parity(t) & 1)
            t.pc = nxt
            return YIELD
        return try_wait
    raise SimError(f"unsupported statement '{stmt.text}'")


def compile_cp_async(stmt, index: int, ctx):
    opcode, ops = stmt.opcode, stmt.operands
    nxt = index + 1
    if opcode.startswith("cp.async.bulk.tensor"):
        return _compile_tma(stmt, index, ctx)
    if opcode.startswith("cp.async.bulk.shared::cluster.global"):
        return _compile_bulk(stmt, index, ctx)
    if opcode.startswith("cp.async.commit_group"):
        def commit(t):
            t.cp_groups.append(t.cp_open)
            t.cp_open = []
            return nxt
        return commit
    if opcode.startswith("cp.async.wait_group") or opcode.startswith("cp.async.wait_all"):
        keep = getter(ops[0], 32) if ops else (lambda t: 0)

        def wait(t):
            if opcode.startswith("cp.async.wait_all"):
                t.cp_groups.append(t.cp_open)
                t.cp_open = []
            while len(t.cp_groups) > keep(t):
                for copy in t.cp_groups.pop(0):
                    copy()
            return nxt
        return wait
    # cp.async.{ca,cg}.shared.global [dst], [src], size(, src_size)
    dst, _ = address(ops[0], ctx.params)
    src, _ = address(ops[1], ctx.params)
    size = getter(ops[2], 32)
    src_size = getter(ops[3], 32) if len(ops) > 3 and not ops[3].startswith("%p") else None
    memory, profile = ctx.memory, ctx.profile
    access = "load-uncached" if ".cg." in opcode else "load"  # .cg caches in L2 only

    def cp_async(t):
        n = size(t)
        valid = min(src_size(t), n) if src_size else n
        d, s = dst(t) & 0xFFFFFFFF, src(t)
        if profile:
            profile.record(t, index, "shared", d, n)
            if valid:
                profile.record(t, index, "global", s, valid, access)
        shared = t.cta.shared
        if d + n > len(shared):
            raise SimError(f"cp.async to shared {d}+{n} outside {len(shared)} bytes")
        data = bytes(memory.bytes[memory.offset(s, valid):memory.offset(s, valid) + valid]) if valid else b""

        def land():
            shared[d:d + n] = data + bytes(n - valid)
            t.write_generic(d, n)
        t.cp_open.append(land)
        return nxt
    return cp_async


def _compile_bulk(stmt, index: int, ctx):
    # cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes
    #   [dst], [src], size, [mbar]: contiguous bytes, landing when issued
    #   (like a TMA box) and completing on the mbarrier.
    ops = stmt.operands
    if ".multicast::cluster" in stmt.opcode:
        raise SimError(f"multicast bulk copies are not simulated: '{stmt.text}'")
    dst, _ = address(ops[0], ctx.params)
    src, _ = address(ops[1], ctx.params)
    size = getter(ops[2], 32)
    bar = _shared_address(ops[3], ctx)
    memory, profile = ctx.memory, ctx.profile
    nxt = index + 1

    def bulk(t):
        n, s = size(t), src(t)
        target, d = t.cta.resolve_shared(dst(t))
        if n % 16 or d % 16 or s % 16:
            raise SimError(f"cp.async.bulk of {n} bytes from 0x{s:x} to shared {d}: "
                           "needs multiples of 16")
        if d + n > len(target.shared):
            raise SimError(f"cp.async.bulk to shared {d}+{n} overruns {len(target.shared)} bytes")
        at = memory.offset(s, n)
        target.shared_array[d:d + n] = memory.array[at:at + n]
        if profile:
            profile.record_bulk(s, n)
        state = _mbarrier(t, bar(t))
        state[2] -= n
        _complete(state)
        return nxt
    return bulk


def swizzle(addresses: np.ndarray, span: int) -> np.ndarray:
    """The 16-byte chunk bits [4, 4+b) of a shared address XOR its bits
    [7, 7+b): CUTLASS's Swizzle<b,4,3> for 32/64/128-byte spans."""
    if span == 0:
        return addresses
    b = {32: 1, 64: 2, 128: 3}[span]
    return addresses ^ (((addresses >> 7) & ((1 << b) - 1)) << 4)


def _compile_tma(stmt, index: int, ctx):
    # cp.async.bulk.tensor.2d.shared::cluster.global.tile.mbarrier::complete_tx::bytes
    #   [dst], [map, {c0, c1}], [mbar] (.multicast::cluster: , ctaMask)
    ops = stmt.operands
    if ".2d." not in stmt.opcode:
        raise SimError(f"only 2-d tensor copies are simulated: '{stmt.text}'")
    dst, _ = address(ops[0], ctx.params)
    inner = ops[1].strip()[1:-1]
    map_text, coords = inner.split(",", 1)
    map_get = getter(map_text)
    c0, c1 = (getter(c.strip(), 32) for c in coords.strip()[1:-1].split(","))
    bar = _shared_address(ops[2], ctx)
    multicast = getter(ops[3], 16) if ".multicast::cluster" in stmt.opcode else None
    memory = ctx.memory
    nxt = index + 1

    def tma(t):
        spec = memory.tensor_maps.get(map_get(t))
        if spec is None:
            raise SimError(f"cp.async.bulk.tensor: 0x{map_get(t):x} is not a tensor map")
        esize = _DTYPE_BYTES[spec["dtype"]]
        (dim0, dim1), (box0, box1) = spec["dims"], spec["box"]
        x0, x1 = to_i32(c0(t)), to_i32(c1(t))
        target, d = t.cta.resolve_shared(dst(t))
        row_bytes = box0 * esize
        if spec["swizzle"] and (d % 1024 or row_bytes != spec["swizzle"]):
            raise SimError(f"TMA box of {row_bytes}-byte rows to shared {d} with a {spec['swizzle']}-byte swizzle")
        box = np.zeros((box1, row_bytes), dtype=np.uint8)
        rows = np.arange(x1, x1 + box1)
        cols = np.arange(x0, x0 + box0)
        rin = (rows >= 0) & (rows < dim1)
        cin = (cols >= 0) & (cols < dim0)
        if rin.any() and cin.any():
            r_lo, r_hi = rows[rin][0], rows[rin][-1] + 1
            k_lo, k_hi = cols[cin][0], cols[cin][-1] + 1
            base = memory.offset(spec["address"], dim0 * dim1 * esize)
            whole = memory.array[base:base + dim0 * dim1 * esize].reshape(dim1, dim0 * esize)
            box[r_lo - x1:r_hi - x1, (k_lo - x0) * esize:(k_hi - x0) * esize] = \
                whole[r_lo:r_hi, k_lo * esize:k_hi * esize]
            if ctx.profile:
                for r in range(r_lo, r_hi):
                    ctx.profile.record_bulk(spec["address"] + (r * dim0 + k_lo) * esize, (k_hi - k_lo) * esize)
        targets = d + np.arange(box1 * row_bytes).reshape(box1, row_bytes)
        targets = swizzle(targets, spec["swizzle"])
        if d + box1 * row_bytes > len(t.cta.shared):
            raise SimError(f"TMA box to shared {d} overruns {len(t.cta.shared)} bytes")
        bar_offset = bar(t) & 0xFFFFFFFF
        if multicast is None:
            ctas = [(target, bar(t))]
        else:  # the same offsets in every CTA of the mask
            ranks = [r for r in range(16) if multicast(t) >> r & 1]
            if not ranks or ranks[-1] >= len(t.cta.cluster):
                raise SimError(f"TMA multicast mask 0x{multicast(t):x} in a {len(t.cta.cluster)}-CTA cluster")
            ctas = [(t.cta.peer(r), bar_offset) for r in ranks]
        for cta, mbar in ctas:
            cta.shared_array[targets.ravel()] = box.ravel()
            state = _mbarrier(cta.threads[0], mbar)
            state[2] -= box1 * row_bytes
            _complete(state)
        return nxt
    return tma


def to_i32(x: int) -> int:
    x &= 0xFFFFFFFF
    return x - (1 << 32) if x >> 31 else x

