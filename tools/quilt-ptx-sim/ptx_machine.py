#===- ptx_machine.py - Memory, threads and the CTA scheduler -------------===#
"""One cluster of CTAs runs at a time (clusters of a launch never wait on
each other; without clusters, a CTA is one). Its threads run one by one
until they block: at a CTA barrier, at a collective (.aligned warp or
warpgroup instruction, which executes once every member has arrived), or at
a failed mbarrier or cluster-barrier wait, which yields. A pass over the
threads in which nothing but failed waits happened is a deadlock, reported
with every thread's statement.

Shared::cluster addresses name a CTA of the cluster by rank + 1 in bits
40-47 (mapa makes them); 0 there is the thread's own CTA, as a plain
shared address is."""

from __future__ import annotations

import bisect
import collections
from typing import Callable

import numpy as np

BLOCK, YIELD, EXIT = -1, -2, -3
SHARED_WINDOW = 1 << 48  # generic address of shared byte 0 (2^32-aligned)
CLUSTER_RANK_SHIFT = 40  # shared::cluster addresses: rank + 1 in bits 40-47
GLOBAL_BASE = 1 << 32


class SimError(Exception):
    pass


class GlobalMemory:
    """Device memory: one byte array; addresses start at GLOBAL_BASE."""

    def __init__(self, size: int):
        self.bytes = bytearray(size)
        self.array = np.frombuffer(self.bytes, dtype=np.uint8)
        self.top = 0
        self.tensor_maps: dict[int, dict] = {}  # address -> manifest entry
        self.starts: list[int] = []  # buffer offsets, ascending
        self.ends: list[int] = []
        self.names: list[str] = []

    def alloc(self, size: int, name: str = "") -> int:
        address = GLOBAL_BASE + self.top
        self.starts.append(self.top)
        self.ends.append(self.top + size)
        self.names.append(name)
        self.top += (size + 1023) // 1024 * 1024
        if self.top > len(self.bytes):
            raise SimError(f"out of simulated device memory ({self.top} bytes)")
        return address

    def offset(self, address: int, size: int) -> int:
        """The byte offset of an access that must lie in one buffer (an
        edge tile reading past its tensor into the next is an error)."""
        off = address - GLOBAL_BASE
        i = bisect.bisect_right(self.starts, off) - 1
        if i < 0 or off + size > self.ends[i]:
            where = f"past the end of '{self.names[i]}'" if i >= 0 else "outside every buffer"
            raise SimError(f"global access of {size} bytes at 0x{address:x} is {where}")
        return off


class Thread:
    __slots__ = ("regs", "pc", "tid", "warp", "lane", "cta", "state", "cp_groups", "cp_open", "waiting",
                 "unfenced", "cluster_arrivals")

    def __init__(self, cta: "Cta", tid: int):
        self.regs: dict[str, object] = {}
        self.pc = 0
        self.tid = tid
        self.warp = tid // 32
        self.lane = tid % 32
        self.cta = cta
        self.state = "ready"  # ready | blocked | exited
        self.cp_groups: list[list] = []  # committed cp.async groups, oldest first
        self.cp_open: list = []  # cp.async copies since the last commit
        self.waiting = None  # (mbarrier, parity) of the last failed wait
        self.unfenced: list[tuple[int, int]] = []  # generic-proxy shared writes since fence.proxy.async
        self.cluster_arrivals = 0  # barrier.cluster.arrive executed

    def write_generic(self, offset: int, size: int) -> None:
        """Shared bytes written through the generic proxy (st.shared, the
        landing of cp.async): the async proxy (wgmma) may read them only
        after this thread's fence.proxy.async."""
        self.unfenced.append((offset, size))
        self.cta.generic[offset:offset + size] += 1

    def fence_proxy_async(self) -> None:
        for offset, size in self.unfenced:
            self.cta.generic[offset:offset + size] -= 1
        self.unfenced = []


class Collective:
    """Threads that arrived at one collective statement."""

    def __init__(self, index: int, members: list[Thread]):
        self.index = index
        self.members = members
        self.arrived: list[Thread] = []


class Cta:
    def __init__(self, launch: "Launch", ctaid: int):
        self.launch = launch
        self.ctaid = ctaid  # linear: x fastest
        gx, gy, _ = launch.dims
        self.xyz = (ctaid % gx, ctaid // gx % gy, ctaid // (gx * gy))
        cx, cy, cz = launch.cluster_dims
        x, y, z = self.xyz
        self.rank = x % cx + cx * (y % cy + cy * (z % cz))  # %cluster_ctarank
        self.cluster: list[Cta] = [self]  # by rank, set by run_cluster
        self.shared = bytearray(launch.shared_bytes)
        self.shared_array = np.frombuffer(self.shared, dtype=np.uint8)
        self.generic = np.zeros(len(self.shared), dtype=np.int32)  # unfenced writers per byte
        self.threads = [Thread(self, t) for t in range(launch.threads)]
        self.mbarriers: dict[int, list[int]] = {}  # addr -> [expected, pending, tx, phase]
        self.collectives: dict[tuple, Collective] = {}
        self.barrier: list[Thread] = []
        self.wgmma: dict[int, dict] = collections.defaultdict(lambda: {"open": [], "groups": []})

    # Collectives -----------------------------------------------------------

    def members(self, scope: str, t: Thread) -> list[Thread]:
        if scope == "warp":
            first = t.warp * 32
            group = self.threads[first:first + 32]
        else:  # warpgroup
            first = t.tid // 128 * 128
            group = self.threads[first:first + 128]
        return [m for m in group if m.state != "exited"]

    def arrive(self, scope: str, index: int, t: Thread,
               run: Callable[[list[Thread]], None]) -> int:
        """`t` reached collective statement `index`: block until every live
        member is there, then run it once for all and go on."""
        key = (scope, t.warp if scope == "warp" else t.tid // 128)
        group = self.collectives.get(key)
        if group is None:
            group = self.collectives[key] = Collective(index, self.members(scope, t))
        if group.index != index:
            stmt = self.launch.entry.body
            raise SimError(
                f"divergent {scope} collective in CTA {self.ctaid}: thread {t.tid} at "
                f"'{stmt[index].text}' while others wait at '{stmt[group.index].text}'")
        group.arrived.append(t)
        if len(group.arrived) < len(group.members):
            t.state = "blocked"
            return BLOCK
        del self.collectives[key]
        run(group.members)
        for m in group.members:
            if m is not t:
                m.pc = index + 1
                m.state = "ready"
        return index + 1

    def bar_sync(self, index: int, t: Thread) -> int:
        self.barrier.append(t)
        t.pc = index
        t.state = "blocked"
        self._release_barrier()
        return index + 1 if t.state == "ready" else BLOCK

    def _release_barrier(self) -> None:
        live = sum(1 for m in self.threads if m.state != "exited")
        if self.barrier and len(self.barrier) == live:
            for m in self.barrier:
                m.pc += 1
                m.state = "ready"
            self.barrier = []

    def exit(self, t: Thread) -> int:
        t.state = "exited"
        self._release_barrier()
        for key, group in list(self.collectives.items()):
            if t in group.members:
                group.members.remove(t)
                if len(group.arrived) == len(group.members) and group.members:
                    raise SimError(f"thread {t.tid} exited while its {key[0]} waits at a collective")
        return EXIT

    # Clusters --------------------------------------------------------------

    def resolve_shared(self, address: int) -> tuple["Cta", int]:
        """The CTA and byte offset of a shared or shared::cluster address
        (a generic shared address is its own CTA's)."""
        rank = (address >> CLUSTER_RANK_SHIFT) & 0xFF
        if rank > len(self.cluster):
            raise SimError(f"shared::cluster address 0x{address:x} names rank {rank - 1} "
                           f"of a {len(self.cluster)}-CTA cluster")
        return (self.peer(rank - 1) if rank else self), address & 0xFFFFFFFF

    def peer(self, rank: int) -> "Cta":
        """The CTA of cluster rank `rank`, whose shared memory must still
        exist: every thread of a CTA that exited took it with them."""
        cta = self.cluster[rank]
        if cta is not self and all(t.state == "exited" for t in cta.threads):
            raise SimError(f"CTA {self.ctaid} accesses the shared memory of CTA {cta.ctaid} "
                           f"(cluster rank {rank}), which has exited")
        return cta

    def cluster_wait(self, index: int, t: Thread) -> int:
        """barrier.cluster.wait: passes once every live thread of the
        cluster arrived as often as `t`."""
        if all(m.cluster_arrivals >= t.cluster_arrivals
               for cta in self.cluster for m in cta.threads if m.state != "exited"):
            return index + 1
        t.pc = index
        return YIELD

    # Scheduling ------------------------------------------------------------

    def describe_deadlock(self) -> str:
        body = self.launch.entry.body
        where = collections.Counter()
        for t in self.threads:
            if t.state == "exited":
                continue
            if t.waiting is not None:
                addr, parity = t.waiting
                expected, pending, tx, phase = self.mbarriers[addr]
                where[(f"waiting for parity {parity} of the mbarrier at shared {addr} "
                       f"(phase {phase}, {pending} of {expected} arrivals and {tx} bytes pending)", "")] += 1
            else:
                where[(t.state, body[min(t.pc, len(body) - 1)].text)] += 1
        lines = [f"deadlock in CTA {self.ctaid} of {self.launch.entry.name}:"]
        lines += [f"  {n} threads {state}" + (f" at '{text}'" if text else "") for (state, text), n in where.items()]
        return "\n".join(lines)


def run_cluster(ctas: list[Cta], code: list[Callable[[Thread], int]], quantum: int) -> int:
    """Runs the CTAs of one cluster (by rank) to completion in round-robin
    turns of at most `quantum` statements per thread: a fine interleaving,
    so a thread that may run ahead (a producer whose wait passes too early)
    does. Returns the statements executed."""
    for cta in ctas:
        cta.cluster = ctas
    threads = [t for cta in ctas for t in cta.threads]
    steps = 0
    while True:
        progress = False
        live = False
        for t in threads:
            if t.state == "exited":
                continue
            live = True
            if t.state != "ready":
                continue
            pc, n = t.pc, 0
            while True:
                nxt = code[pc](t)
                n += 1
                if nxt >= 0:
                    pc = nxt
                    if n < quantum:
                        continue
                    t.pc = pc
                    progress = True
                    break
                if nxt == BLOCK:
                    if t.state == "blocked":
                        t.pc = pc
                    progress = True
                elif nxt == EXIT:
                    progress = True
                elif n > 3:  # YIELD after more than the spin loop
                    progress = True
                break
            steps += n
        if not live:
            return steps
        if not progress:
            raise SimError("\n".join(cta.describe_deadlock() for cta in ctas
                                     if any(t.state != "exited" for t in cta.threads)))


class Launch:
    def __init__(self, entry, grid: tuple[int, int, int], threads: int, shared_bytes: int,
                 params: dict[str, int], memory: GlobalMemory, cluster: tuple[int, int, int] = (1, 1, 1)):
        self.entry = entry
        self.dims = tuple(grid)
        self.cluster_dims = tuple(cluster)
        if any(g % c for g, c in zip(grid, cluster)):
            raise SimError(f"grid {list(grid)} is not whole clusters of {list(cluster)}")
        self.grid = grid[0] * grid[1] * grid[2]  # CTAs
        self.threads = threads
        self.shared_bytes = max(shared_bytes, 16)
        self.params = params
        self.memory = memory
