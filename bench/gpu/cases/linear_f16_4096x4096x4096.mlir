//===- linear_f16_4096x4096x4096.mlir - GPU bench case --------------------===//
//
// Dense f16 linear at 4096^3: the dense baseline of the 2:4 case.
//
// quilt-cuda-run fills %x (argument 0) and %w (argument 1, a dense f32
// 4096x4096 array, packed on the GPU in the untimed setup launch) from
// splitmix64 at seed + 0 and seed + 1; bench/gpu/bench_gpu.py regenerates
// the same inputs for its reference.
//
//===----------------------------------------------------------------------===//

!w = !quilt.packed<4096x4096, precision<f16>>

func.func @linear_f16_4096x4096x4096(%x: tensor<4096x4096xf16>, %w: !w)
    -> tensor<4096x4096xf16> {
  %y = quilt.linear %x, %w
      : tensor<4096x4096xf16>, !w -> tensor<4096x4096xf16>
  return %y : tensor<4096x4096xf16>
}
