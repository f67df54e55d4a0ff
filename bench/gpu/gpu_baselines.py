#===- gpu_baselines.py - torch, cuBLASLt and Triton timed in-process ----===#
"""The baselines of the GPU bench, timed in this process with CUDA events:
torch (cuBLAS), torch's 2:4 and int8 GEMMs, and Triton's matmul tutorial
kernel. torch and triton are imported only when called."""

from __future__ import annotations

import dataclasses
import functools
import math
import time
import warnings
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from gpu_cases import Case, Row, rel_err, set_check, weight_bytes

if TYPE_CHECKING:
    from bench_gpu import GpuContext

#===----------------------------------------------------------------------===#
# Timing in this process
#===----------------------------------------------------------------------===#


@dataclasses.dataclass
class Timing:
    median_ms: float
    min_ms: float
    max_ms: float
    samples: int
    sets: int


def rotation_sets(operand_bytes: float, l2_bytes: int) -> int:
    """Copies of the operands to rotate between so that consecutive calls do
    not find the previous call's x and W in L2: enough for the copies to
    span 3x the L2, at most 8 (1 when one copy alone is that large)."""
    if operand_bytes <= 0:
        return 1
    return int(max(1, min(8, math.ceil(3 * l2_bytes / operand_bytes))))


def time_cuda(fns: list[Callable[[], Any]], warmup_ms: float, rep_ms: float,
              max_samples: int = 200) -> Timing:
    """Median per-call time of `fns` (one per input set, called in turn).

    Warm-up rounds (compilation, autotuning, cuBLAS heuristics, clocks) run
    until `warmup_ms` has passed. Each sample then times a batch of calls
    between two CUDA events; a spin kernel queued before the start event
    keeps the GPU busy while Python enqueues the batch, so CPU launch
    overhead does not show up as idle GPU time."""
    import torch

    sync = torch.cuda.synchronize
    start_t = time.perf_counter()
    rounds = 0
    while rounds < 2 or (time.perf_counter() - start_t) * 1e3 < warmup_ms:
        for fn in fns:
            fn()
        sync()
        rounds += 1

    est_calls = max(10, len(fns))
    e0, e1 = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    e0.record()
    for i in range(est_calls):
        fns[i % len(fns)]()
    e1.record()
    sync()
    per_call = max(e0.elapsed_time(e1) / est_calls, 1e-3)

    batch = int(min(100, max(1, round(1.0 / per_call))))  # ~1 ms per sample
    samples = int(min(max_samples, max(10, round(rep_ms / (batch * per_call)))))
    spin = getattr(torch.cuda, "_sleep", None)
    # ~40 us of CPU enqueue per call at ~1.5 GHz, capped at ~50 ms.
    spin_cycles = int(min(7.5e7, batch * 6e4))
    events = [(torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True))
              for _ in range(samples)]
    call = 0
    for begin, end in events:
        if spin is not None:
            spin(spin_cycles)
        begin.record()
        for _ in range(batch):
            fns[call % len(fns)]()
            call += 1
        end.record()
    sync()
    times = sorted(b.elapsed_time(e) / batch for b, e in events)
    return Timing(float(np.median(times)), times[0], times[-1], samples, len(fns))


def apply_timing(row: Row, timing: Timing) -> None:
    row.median_ms, row.min_ms, row.max_ms = timing.median_ms, timing.min_ms, timing.max_ms
    row.samples = timing.samples
    row.extra["input_sets"] = timing.sets


#===----------------------------------------------------------------------===#
# Baselines
#===----------------------------------------------------------------------===#


class Operands:
    """x and W of a case on the GPU in the case's dtype, in `sets` copies:
    x as M x K, W as K x N (`w_kn`) and as the N x K nn.Linear weight
    (`w_nk`), all contiguous. Set 0 holds the launcher's exact inputs."""

    def __init__(self, x: np.ndarray, w: np.ndarray, dtype: Any, sets: int):
        x0 = to_gpu(x).to(dtype)
        w0 = to_gpu(w).to(dtype)
        self.x = [x0] + [x0.clone() for _ in range(sets - 1)]
        self.w_kn = [w0] + [w0.clone() for _ in range(sets - 1)]
        wt = w0.t().contiguous()
        self.w_nk = [wt] + [wt.clone() for _ in range(sets - 1)]


def to_gpu(a: np.ndarray) -> Any:
    """A numpy array on the GPU (copied first when read-only, like the cached
    random inputs, which torch.from_numpy would warn about)."""
    import torch

    return torch.from_numpy(np.require(a, requirements=["C", "W"])).cuda()


def torch_dtype(name: str) -> Any:
    import torch

    return torch.bfloat16 if name == "bf16" else torch.float16


def time_torch_dense(case: Case, x: np.ndarray, w: np.ndarray, ref: Any,
                     ctx: "GpuContext") -> Row:
    """cuBLAS through torch, timed as F.linear(x, W[N,K]) (nn.Linear's
    layout) and torch.matmul(x, W[K,N]); the faster one is the row."""
    import torch
    import torch.nn.functional as F

    row = Row(case.name, case.torch_impl)
    sets = rotation_sets(2.0 * (case.m * case.k + case.k * case.n), ctx.l2_bytes)
    ops = Operands(x, w, torch_dtype(case.dtype), sets)
    variants = {
        "F.linear(x, W[N,K])": [functools.partial(F.linear, ops.x[i], ops.w_nk[i]) for i in range(sets)],
        "torch.matmul(x, W[K,N])": [functools.partial(torch.matmul, ops.x[i], ops.w_kn[i]) for i in range(sets)],
    }
    timings = {name: time_cuda(fns, ctx.warmup_ms, ctx.rep_ms) for name, fns in variants.items()}
    best = min(timings, key=lambda name: timings[name].median_ms)
    apply_timing(row, timings[best])
    row.note = best
    row.extra["variants_median_ms"] = {name: t.median_ms for name, t in timings.items()}
    set_check(row, rel_err(variants[best][0](), ref))
    return row


def time_triton_dense(case: Case, x: np.ndarray, w: np.ndarray, ref: Any,
                      ctx: "GpuContext") -> Row:
    """The Triton tutorial matmul (autotuned for Hopper) on x[M,K] . W[K,N]."""
    import torch

    row = Row(case.name, f"triton-{case.dtype}")
    matmul = ctx.triton_matmul()
    sets = rotation_sets(2.0 * (case.m * case.k + case.k * case.n), ctx.l2_bytes)
    ops = Operands(x, w, torch_dtype(case.dtype), sets)
    outs = [torch.empty((case.m, case.n), device="cuda", dtype=torch_dtype(case.dtype))
            for _ in range(sets)]
    fns = [functools.partial(matmul, ops.x[i], ops.w_kn[i], outs[i]) for i in range(sets)]
    apply_timing(row, time_cuda(fns, ctx.warmup_ms, ctx.rep_ms))
    fns[0]()
    set_check(row, rel_err(outs[0], ref))
    config = getattr(ctx.triton_kernel, "best_config", None)
    row.note = f"best config: {config}" if config else ""
    return row


def time_torch_2of4(case: Case, x: np.ndarray, w_pruned: np.ndarray, ref: Any,
                    ctx: "GpuContext") -> Row:
    """torch's semi-structured (2:4) sparse weight: F.linear(x, W_sparse)
    with the pruned N x K weight compressed by to_sparse_semi_structured."""
    import torch
    import torch.nn.functional as F
    from torch.sparse import to_sparse_semi_structured

    row = Row(case.name, "torch-2of4-f16")
    sets = rotation_sets(2.0 * case.m * case.k + weight_bytes(case, "2of4"), ctx.l2_bytes)
    ops = Operands(x, w_pruned, torch.float16, sets)
    with warnings.catch_warnings():  # "prototype stage", once per process
        warnings.simplefilter("ignore", UserWarning)
        sparse = [to_sparse_semi_structured(ops.w_nk[i]) for i in range(sets)]
    del ops.w_kn, ops.w_nk
    fns = [functools.partial(F.linear, ops.x[i], sparse[i]) for i in range(sets)]
    apply_timing(row, time_cuda(fns, ctx.warmup_ms, ctx.rep_ms))
    row.note = type(sparse[0]).__name__
    set_check(row, rel_err(fns[0](), ref))
    return row


def quantize_symmetric_int8(a: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray]:
    """int8 codes and f32 scales of `a` with one scale per slice along
    `axis` (the values fake_quant_int_symmetric decodes to: codes * scale)."""
    a = np.asarray(a, dtype=np.float32)
    scale = np.abs(a).max(axis=axis, keepdims=True) / np.float32(127)
    with np.errstate(divide="ignore", invalid="ignore"):
        q = np.clip(np.round(a / scale), -128, 127)
    q = np.where(scale == np.float32(0), np.float32(0), q)
    return q.astype(np.int8), scale.astype(np.float32)


def time_torch_int8(case: Case, x: np.ndarray, w: np.ndarray, ref: Any,
                    ctx: "GpuContext") -> Row:
    """cuBLASLt's int8 GEMM through torch._int_mm on x and W already
    quantized (per row, per column): the product alone, an upper bound for
    a W8A8 linear, since it leaves out quantizing x and scaling the sums
    (both inside quilt-w8a8's time). Checked after scaling the i32 sums."""
    import torch

    row = Row(case.name, "torch-int8-mm")
    qx, sx = quantize_symmetric_int8(x, axis=1)
    qw, sw = quantize_symmetric_int8(w, axis=0)
    sets = rotation_sets(float(case.m * case.k + case.k * case.n), ctx.l2_bytes)
    a = [to_gpu(qx) for _ in range(sets)]
    # W as N x K, passed transposed: the column-major operand cuBLASLt wants.
    b = [to_gpu(np.ascontiguousarray(qw.T)).t() for _ in range(sets)]
    fns = [functools.partial(torch._int_mm, a[i], b[i]) for i in range(sets)]
    apply_timing(row, time_cuda(fns, ctx.warmup_ms, ctx.rep_ms))
    y = fns[0]().to(torch.float64) * to_gpu(sx).to(torch.float64) * to_gpu(sw).to(torch.float64)
    set_check(row, rel_err(y, ref))
    row.note = "int8 GEMM only: no quantize of x, no dequantize"
    return row


#===----------------------------------------------------------------------===#
# Triton kernel (the matmul tutorial), built only when first used
#===----------------------------------------------------------------------===#


def _build_triton_matmul() -> tuple[Callable[..., None], Any]:
    import triton
    import triton.language as tl

    def config(bm: int, bn: int, bk: int, stages: int, warps: int) -> Any:
        return triton.Config({"BLOCK_M": bm, "BLOCK_N": bn, "BLOCK_K": bk, "GROUP_M": 8},
                             num_stages=stages, num_warps=warps)

    # Large tiles for the 4096^3 GEMMs (H100: 228 KB shared memory per SM,
    # 128x256x64 bf16 in 3 stages takes 144 KB); BLOCK_M = 16/32 tiles with
    # deep K for the decode shapes, where W streams and x is a few rows.
    large = [config(128, 256, 64, 3, 8), config(256, 128, 64, 3, 8),
             config(128, 128, 64, 4, 8), config(128, 128, 64, 4, 4),
             config(128, 64, 64, 4, 4), config(64, 128, 64, 4, 4)]
    small = [config(16, 64, 256, 4, 4), config(16, 128, 128, 4, 4),
             config(16, 256, 64, 4, 4), config(32, 128, 128, 4, 4)]

    def prune(configs: list[Any], named_args: dict[str, Any], **kwargs: Any) -> list[Any]:
        # Autotuning every config on every shape would take minutes.
        m = named_args["M"]
        keep = [c for c in configs if (c.kwargs["BLOCK_M"] <= 32) == (m <= 64)]
        return keep or configs

    @triton.autotune(configs=large + small, key=["M", "N", "K"],
                     prune_configs_by={"early_config_prune": prune})
    @triton.jit
    def matmul_kernel(a_ptr, b_ptr, c_ptr, M, N, K,
                      stride_am, stride_ak, stride_bk, stride_bn, stride_cm, stride_cn,
                      BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr,
                      BLOCK_K: tl.constexpr, GROUP_M: tl.constexpr):
        pid = tl.program_id(axis=0)
        num_pid_m = tl.cdiv(M, BLOCK_M)
        num_pid_n = tl.cdiv(N, BLOCK_N)
        num_pid_in_group = GROUP_M * num_pid_n
        group_id = pid // num_pid_in_group
        first_pid_m = group_id * GROUP_M
        group_size_m = min(num_pid_m - first_pid_m, GROUP_M)
        pid_m = first_pid_m + ((pid % num_pid_in_group) % group_size_m)
        pid_n = (pid % num_pid_in_group) // group_size_m
        offs_am = (pid_m * BLOCK_M + tl.arange(0, BLOCK_M)) % M
        offs_bn = (pid_n * BLOCK_N + tl.arange(0, BLOCK_N)) % N
        offs_k = tl.arange(0, BLOCK_K)
        a_ptrs = a_ptr + (offs_am[:, None] * stride_am + offs_k[None, :] * stride_ak)
        b_ptrs = b_ptr + (offs_k[:, None] * stride_bk + offs_bn[None, :] * stride_bn)
        acc = tl.zeros((BLOCK_M, BLOCK_N), dtype=tl.float32)
        for k in range(0, tl.cdiv(K, BLOCK_K)):
            a = tl.load(a_ptrs, mask=offs_k[None, :] < K - k * BLOCK_K, other=0.0)
            b = tl.load(b_ptrs, mask=offs_k[:, None] < K - k * BLOCK_K, other=0.0)
            acc = tl.dot(a, b, acc)
            a_ptrs += BLOCK_K * stride_ak
            b_ptrs += BLOCK_K * stride_bk
        c = acc.to(c_ptr.dtype.element_ty)
        offs_cm = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
        offs_cn = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
        c_ptrs = c_ptr + stride_cm * offs_cm[:, None] + stride_cn * offs_cn[None, :]
        tl.store(c_ptrs, c, mask=(offs_cm[:, None] < M) & (offs_cn[None, :] < N))

    def matmul(a: Any, b: Any, c: Any) -> None:
        m, k = a.shape
        n = b.shape[1]

        def grid(meta: dict[str, Any]) -> tuple[int]:
            return (triton.cdiv(m, meta["BLOCK_M"]) * triton.cdiv(n, meta["BLOCK_N"]),)

        matmul_kernel[grid](a, b, c, m, n, k, a.stride(0), a.stride(1),
                            b.stride(0), b.stride(1), c.stride(0), c.stride(1))

    return matmul, matmul_kernel
