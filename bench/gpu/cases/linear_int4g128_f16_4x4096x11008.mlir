//===- linear_int4g128_f16_4x4096x11008.mlir - GPU bench case -------------===//
//
// Weight-only int4 linear (one symmetric scale per 128 weights along K),
// f16 activations, M = 4: decode-shaped, bound by reading the weight;
// compared with dense f16 cuBLAS at the same shape.
//
// quilt-cuda-run fills %x (argument 0) and %w (argument 1, a dense f32
// 4096x11008 array, packed on the GPU in the untimed setup launch) from
// splitmix64 at seed + 0 and seed + 1; bench/gpu/bench_gpu.py regenerates
// the same inputs for its reference.
//
//===----------------------------------------------------------------------===//

!w = !quilt.packed<4096x11008, precision<i4, group<128>>>

func.func @linear_int4g128_f16_4x4096x11008(%x: tensor<4x4096xf16>, %w: !w)
    -> tensor<4x11008xf16> {
  %y = quilt.linear %x, %w
      : tensor<4x4096xf16>, !w -> tensor<4x11008xf16>
  return %y : tensor<4x11008xf16>
}
