//===- linear_bf16_4096x4096x4096.mlir - GPU bench case -------------------===//
//
// Dense bf16 linear at 4096^3: a compute-bound tensor-core GEMM, compared
// with cuBLAS (torch) and Triton in bf16.
//
// quilt-cuda-run fills %x (argument 0) and %w (argument 1, a dense f32
// 4096x4096 array, packed on the GPU in the untimed setup launch) from
// splitmix64 at seed + 0 and seed + 1; bench/gpu/bench_gpu.py regenerates
// the same inputs for its reference.
//
//===----------------------------------------------------------------------===//

!w = !quilt.packed<4096x4096, precision<bf16>>

func.func @linear_bf16_4096x4096x4096(%x: tensor<4096x4096xbf16>, %w: !w)
    -> tensor<4096x4096xbf16> {
  %y = quilt.linear %x, %w
      : tensor<4096x4096xbf16>, !w -> tensor<4096x4096xbf16>
  return %y : tensor<4096x4096xbf16>
}
