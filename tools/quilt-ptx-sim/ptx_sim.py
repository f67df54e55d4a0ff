#===- ptx_sim.py - Run a quilt-nvptx-pipeline manifest on the simulator ---===#
"""Compiles each entry's statements to closures and runs a manifest's
launches (setup, then run) cluster by cluster (a CTA is a cluster of one
unless the launch names a "cluster" shape) over simulated device memory,
with the buffers laid out and tensor maps described as quilt-cuda-run
does."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Callable, Optional

import numpy as np

from ptx_async import compile_cp_async, compile_mbarrier
from ptx_machine import YIELD, Cta, GlobalMemory, Launch, SimError, Thread, run_cluster
from ptx_mma import compile_wgmma
from ptx_operands import pred_getter
from ptx_parse import Entry, parse_module
from ptx_profile import MemoryProfile
from ptx_scalar import compile_scalar
from ptx_warp import compile_ldmatrix, compile_mma, compile_shfl

DTYPES = {"f32": np.float32, "f16": np.float16, "bf16": np.uint16, "i8": np.int8,
          "u8": np.uint8, "i32": np.int32}
DTYPE_BYTES = {"f32": 4, "f16": 2, "bf16": 2, "i8": 1, "u8": 1, "i32": 4}


@dataclasses.dataclass
class Context:
    entry: Entry
    params: dict[str, int]
    memory: GlobalMemory
    profile: Optional[MemoryProfile] = None


def _compile_statement(stmt, index: int, ctx: Context) -> Callable[[Thread], int]:
    head = stmt.opcode.split(".")[0]
    if head == "mbarrier":
        op = compile_mbarrier(stmt, index, ctx)
    elif head == "cp" and stmt.opcode.startswith("cp.async"):
        op = compile_cp_async(stmt, index, ctx)
    elif head == "wgmma":
        op = compile_wgmma(stmt, index, ctx)
    elif head in ("mma",):
        op = compile_mma(stmt, index, ctx)
    elif head == "ldmatrix":
        op = compile_ldmatrix(stmt, index, ctx)
    elif head == "shfl":
        op = compile_shfl(stmt, index, ctx)
    elif head == "setmaxnreg":
        op = lambda t: t.cta.arrive("warpgroup", index, t, lambda members: None)
    else:
        op = compile_scalar(stmt, index, ctx)
    if stmt.pred is None:
        return op
    guard = pred_getter(("!" if stmt.negate else "") + stmt.pred)
    nxt = index + 1

    def guarded(t):
        return op(t) if guard(t) else nxt
    return guarded


def compile_entry(entry: Entry, ctx: Context) -> list[Callable[[Thread], int]]:
    code = []
    for i, stmt in enumerate(entry.body):
        try:
            code.append(_compile_statement(stmt, i, ctx))
        except SimError as e:
            raise SimError(f"{entry.name}: {e}") from None
    code.append(lambda t: t.cta.exit(t))  # falling off the end returns
    if ctx.profile:
        code = [_counted(op, i, ctx.profile.executed) for i, op in enumerate(code)]
    return code


def _counted(op: Callable[[Thread], int], index: int, executed) -> Callable[[Thread], int]:
    def count(t):
        nxt = op(t)
        if nxt != YIELD:  # a failed mbarrier wait: how often depends on the scheduling
            executed[index] += 1
        return nxt
    return count


class Device:
    """Device memory holding a manifest's buffers."""

    def __init__(self, manifest: dict, directory: Path):
        self.manifest = manifest
        self.entries = parse_module((directory / manifest["ptx"]).read_text())
        sizes = {}
        for b in manifest["buffers"]:
            if b["kind"] == "tensor_map":
                sizes[b["name"]] = 128
            elif b["kind"] == "temp":
                sizes[b["name"]] = b["bytes"]
            else:
                sizes[b["name"]] = int(np.prod(b["shape"])) * DTYPE_BYTES[b["dtype"]]
        self.memory = GlobalMemory(sum((s + 1023) // 1024 * 1024 for s in sizes.values()) + 4096)
        self.address = {name: self.memory.alloc(size, name) for name, size in sizes.items()}
        self.buffers = {b["name"]: b for b in manifest["buffers"]}
        for b in manifest["buffers"]:
            if b["kind"] == "tensor_map":
                spec = dict(b, address=self.address[b["of"]])
                self.memory.tensor_maps[self.address[b["name"]]] = spec
        self.steps = 0
        self.profiles: list[tuple[Entry, MemoryProfile]] = []  # with profile=True

    def write(self, name: str, array: np.ndarray) -> None:
        data = np.ascontiguousarray(array).view(np.uint8).ravel()
        off = self.memory.offset(self.address[name], len(data))
        self.memory.array[off:off + len(data)] = data

    def read(self, name: str) -> np.ndarray:
        b = self.buffers[name]
        count = int(np.prod(b["shape"]))
        off = self.memory.offset(self.address[name], count * DTYPE_BYTES[b["dtype"]])
        raw = self.memory.array[off:off + count * DTYPE_BYTES[b["dtype"]]].copy()
        return raw.view(DTYPES[b["dtype"]]).reshape(b["shape"])

    def launch(self, spec: dict, quantum: int = 16, profile: bool = False) -> None:
        entry = self.entries.get(spec["kernel"])
        if entry is None:
            raise SimError(f"the PTX has no entry '{spec['kernel']}'")
        if spec["block"][1:] != [1, 1]:
            raise SimError("only 1-d blocks are simulated")
        params = {p: self.address[a] for p, a in zip(entry.params, spec["args"])}
        ctx = Context(entry, params, self.memory, MemoryProfile() if profile else None)
        code = compile_entry(entry, ctx)
        launch = Launch(entry, tuple(spec["grid"]), spec["block"][0], spec.get("shared_bytes", 0),
                        params, self.memory, tuple(spec.get("cluster", (1, 1, 1))))
        clusters: dict[tuple[int, int, int], list[Cta]] = {}
        for ctaid in range(launch.grid):
            cta = Cta(launch, ctaid)
            key = tuple(i // c for i, c in zip(cta.xyz, launch.cluster_dims))
            clusters.setdefault(key, []).append(cta)
        for ctas in clusters.values():
            ctas.sort(key=lambda c: c.rank)
            self.steps += run_cluster(ctas, code, quantum)
            if ctx.profile:
                ctx.profile.flush(len(ctas))
        if ctx.profile:
            self.profiles.append((entry, ctx.profile))


def load_manifest(path: Path) -> dict:
    return json.loads(path.read_text())
