//===- linear_2of4_f16_4096x4096x4096.mlir - GPU bench case ---------------===//
//
// 2:4 sparse f16 linear at 4096^3 (the 2 largest |w| of every 4 consecutive
// weights along K are kept), against dense f16 and torch's semi-structured
// sparse tensor.
//
// quilt-cuda-run fills %x (argument 0) and %w (argument 1, a dense f32
// 4096x4096 array, packed on the GPU in the untimed setup launch) from
// splitmix64 at seed + 0 and seed + 1; bench/gpu/bench_gpu.py regenerates
// the same inputs for its reference.
//
//===----------------------------------------------------------------------===//

!w = !quilt.packed<4096x4096, precision<f16>, sparsity<nm<2, 4>>>

func.func @linear_2of4_f16_4096x4096x4096(%x: tensor<4096x4096xf16>, %w: !w)
    -> tensor<4096x4096xf16> {
  %y = quilt.linear %x, %w
      : tensor<4096x4096xf16>, !w -> tensor<4096x4096xf16>
  return %y : tensor<4096x4096xf16>
}
