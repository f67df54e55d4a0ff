#===- ptx_profile.py - Memory-request statistics of a simulated launch ----===#
"""What Nsight Compute's memory tables would say of the addresses a kernel
uses, without a GPU: per statement, how many warp-wide requests it made,
how many shared-memory wavefronts they took against the ideal (bank
conflicts), and how many 32-byte global sectors they touched against the
bytes they used (coalescing).

A warp-wide request is the set of accesses that the lanes of one warp make
at the n-th execution of one statement (the simulator runs threads one by
one, so the lanes are grouped afterwards). The shared-memory model is the
one of sm_80/sm_90: 32 banks of 4 bytes; a request is served in phases of
32 lanes for accesses of up to 4 bytes, 16 lanes for 8 bytes and 8 lanes
for 16 bytes; within a phase, a bank serves one 4-byte word per wavefront
and lanes reading one word share it. ldmatrix reads one 8 x 16-byte matrix
per phase. Accesses the hardware makes on its own (TMA boxes, wgmma
operands through descriptors) are not requests and are not counted.

Traffic sums the launch: sectors loaded from L2 into the SMs, with every
L1-cached load (ld.global, .nc, cp.async.ca) hitting once its CTA has
loaded the sector before (an L1 as large as the CTA's footprint, shared
with no other CTA) and every uncached one (.volatile, .cg, cp.async.cg,
TMA boxes) going to L2; distinct sectors read, the least DRAM can
deliver; sectors stored.

Instruction counts are exact but for mbarrier spin loops, whose branches
count as often as the simulator's schedule made them spin."""

from __future__ import annotations

import collections
import dataclasses

_PHASE_LANES = {1: 32, 2: 32, 4: 32, 8: 16, 16: 8}


def shared_wavefronts(accesses: list[tuple[int, int, int]]) -> tuple[int, int]:
    """(wavefronts, ideal) of one request's (lane, byte offset, size)."""
    phases: dict[int, dict[int, set[int]]] = collections.defaultdict(lambda: collections.defaultdict(set))
    for lane, offset, size in accesses:
        banks = phases[lane // _PHASE_LANES.get(size, 8)]
        for word in range(offset >> 2, (offset + size - 1 >> 2) + 1):
            banks[word & 31].add(word)
    wavefronts = sum(max(len(words) for words in banks.values()) for banks in phases.values())
    ideal = sum(-(-len(set().union(*banks.values())) // 32) for banks in phases.values())
    return wavefronts, ideal


def sectors_of(address: int, size: int) -> range:
    """The 32-byte sectors of `size` bytes at `address`."""
    return range(address >> 5, (address + size - 1 >> 5) + 1)


def global_sectors(accesses: list[tuple[int, int, int]]) -> tuple[set[int], int]:
    """(sectors touched, bytes used) of one request: distinct 32-byte
    sectors, and the number of distinct bytes (lanes reading the same
    bytes use them once)."""
    sectors: set[int] = set()
    used: set[int] = set()
    for _, address, size in accesses:
        sectors.update(sectors_of(address, size))
        used.update(range(address, address + size))
    return sectors, len(used)


@dataclasses.dataclass
class StatementStats:
    requests: int = 0
    wavefronts: int = 0  # shared
    ideal: int = 0  # shared wavefronts with no conflict
    sectors: int = 0  # global
    used: int = 0  # global bytes used


class MemoryProfile:
    """Collects one launch's requests; `flush` after each cluster (of one
    CTA or more, run together) groups them."""

    def __init__(self):
        self.pending: dict[tuple[int, int, str, int], list[tuple[int, int, int]]] = collections.defaultdict(list)
        self.counts: dict[tuple[int, int, str], int] = collections.Counter()
        self.stats: dict[tuple[int, str], StatementStats] = collections.defaultdict(StatementStats)
        self.executed: collections.Counter = collections.Counter()  # statement index -> thread executions
        self.ctas = 0
        self.access: dict[int, str] = {}  # statement index -> "load", "load-uncached" or "store"
        self.cta_cached: dict[int, set[int]] = collections.defaultdict(set)  # ctaid -> sectors its L1 holds
        self.l2_loads = 0  # sectors loaded from L2 into the SMs
        self.read: set[int] = set()  # distinct sectors read by the launch
        self.stores = 0  # sectors stored

    def record(self, t, index: int, space: str, address: int, size: int, access: str = "load") -> None:
        """One lane's access at statement `index`; space is 'shared' (a
        byte offset) or 'global', access (global only) 'load' through L1,
        'load-uncached' or 'store'."""
        self.access[index] = access
        cta = t.cta.ctaid
        n = self.counts[(cta, t.tid, index, space)]
        self.counts[(cta, t.tid, index, space)] = n + 1
        self.pending[(cta, t.warp, index, space, n)].append((t.lane, address, size))

    def record_warp(self, index: int, accesses: list[tuple[int, int, int]]) -> None:
        """A collective's shared request, all lanes at once (ldmatrix)."""
        self._add(-1, index, "shared", accesses)

    def record_bulk(self, address: int, size: int) -> None:
        """Bytes a TMA box reads from global memory: traffic only."""
        sectors = sectors_of(address, size)
        self.l2_loads += len(sectors)
        self.read.update(sectors)

    def _add(self, cta: int, index: int, space: str, accesses) -> None:
        s = self.stats[(index, space)]
        s.requests += 1
        if space == "shared":
            w, i = shared_wavefronts(accesses)
            s.wavefronts += w
            s.ideal += i
        else:
            sectors, used = global_sectors(accesses)
            s.sectors += len(sectors)
            s.used += used
            self._add_traffic(cta, self.access.get(index, "load"), sectors)

    def _add_traffic(self, cta: int, access: str, sectors: set[int]) -> None:
        if access == "store":
            self.stores += len(sectors)
            return
        self.read |= sectors
        if access == "load":
            self.cta_cached[cta] |= sectors
        else:
            self.l2_loads += len(sectors)

    def flush(self, ctas: int = 1) -> None:
        """After a cluster of `ctas` CTAs."""
        for (cta, _, index, space, _), accesses in self.pending.items():
            self._add(cta, index, space, accesses)
        self.pending.clear()
        self.counts.clear()
        self.l2_loads += sum(len(s) for s in self.cta_cached.values())
        self.cta_cached.clear()
        self.ctas += ctas

    def report(self, entry, top: int = 12) -> list[str]:
        shared = [(i, s) for (i, sp), s in self.stats.items() if sp == "shared"]
        glob = [(i, s) for (i, sp), s in self.stats.items() if sp == "global"]
        lines = [f"profile of {entry.name} ({self.ctas} CTAs):"]
        mix: collections.Counter = collections.Counter()
        for index, n in self.executed.items():
            mix[_category(entry.body[index].opcode) if index < len(entry.body) else "other"] += n
        total = sum(mix.values())
        lines.append(f"  {total / 32 / max(self.ctas, 1):.0f} warp instructions per CTA (thread statements / 32): "
                     + ", ".join(f"{_percent(n, total)} {c}" for c, n in mix.most_common()))
        w, i = sum(s.wavefronts for _, s in shared), sum(s.ideal for _, s in shared)
        lines.append(f"  shared: {sum(s.requests for _, s in shared)} requests, {w} wavefronts, "
                     f"ideal {i} ({_excess(w, i)} from bank conflicts)")
        sec, used = sum(s.sectors for _, s in glob), sum(s.used for _, s in glob)
        lines.append(f"  global: {sum(s.requests for _, s in glob)} requests, {sec} sectors for {used} bytes "
                     f"({_percent(used, sec * 32)} of the sector bytes used)")
        lines.append(f"  traffic: {self.l2_loads * 32} bytes loaded from L2 into the SMs "
                     f"({self.l2_loads * 32 / max(self.ctas, 1):.0f} per CTA), {len(self.read) * 32} distinct "
                     f"bytes read (the least DRAM can deliver), {self.stores * 32} bytes stored")
        worst = sorted(((s.wavefronts - s.ideal, i, "shared", s) for i, s in shared if s.wavefronts > s.ideal),
                       key=lambda x: -x[0])
        worst += sorted(((s.sectors * 32 - s.used, i, "global", s) for i, s in glob if s.sectors * 32 > s.used),
                        key=lambda x: -x[0])
        for _, index, space, s in worst[:top]:
            text = entry.body[index].text
            if space == "shared":
                lines.append(f"  #{index} {text}: {s.requests} shared requests, "
                             f"{s.wavefronts / s.requests:.2f} wavefronts each, ideal {s.ideal / s.requests:.2f}")
            else:
                lines.append(f"  #{index} {text}: {s.requests} global requests, "
                             f"{s.sectors / s.requests:.2f} sectors each for {s.used / s.requests:.1f} bytes")
        return lines


def _category(opcode: str) -> str:
    head = opcode.split(".")[0]
    if head in ("mma", "wgmma"):
        return "tensor core"
    if head == "ldmatrix" or (head in ("ld", "st") and ".shared" in opcode):
        return "shared"
    if head in ("ld", "st", "cp"):
        return "param" if ".param" in opcode else "global"
    if head in ("bar", "barrier", "mbarrier", "fence", "membar"):
        return "sync"
    if head in ("cvt", "prmt", "lop3", "fma", "mul", "sub", "add", "and", "or", "xor", "shr", "shl", "mad",
                "bfe", "selp", "max", "min", "ex2", "rcp", "neg", "abs", "tanh", "div"):
        return "arithmetic"
    return "control and other"


def _excess(actual: int, ideal: int) -> str:
    return f"+{100.0 * (actual - ideal) / ideal:.1f}%" if ideal else "+0.0%"


def _percent(part: int, whole: int) -> str:
    return f"{100.0 * part / whole:.1f}%" if whole else "100%"
