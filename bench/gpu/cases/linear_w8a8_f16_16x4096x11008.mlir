//===- linear_w8a8_f16_16x4096x11008.mlir - GPU bench case ---------------===//
//
// W8A8: int8 weights with one scale per output channel, f16 activations
// quantized per row to int8 before every product (`act <i8, channel>`),
// the product on int8 tensor cores with i32 sums, scaled back to f16.
// Compared with dense f16 cuBLAS and with cuBLASLt's bare int8 GEMM
// (torch._int_mm on pre-quantized operands) at the same shape.
//
// quilt-cuda-run fills %x (argument 0) and %w (argument 1, a dense f32
// 4096x11008 array, quantized on the GPU in the untimed setup launches)
// from splitmix64 at seed + 0 and seed + 1; bench/gpu/bench_gpu.py
// regenerates the same inputs for its reference.
//
//===----------------------------------------------------------------------===//

!w = !quilt.packed<4096x11008, precision<i8, channel>>

func.func @linear_w8a8_f16_16x4096x11008(%x: tensor<16x4096xf16>, %w: !w)
    -> tensor<16x11008xf16> {
  %y = quilt.linear %x, %w act <i8, channel>
      : tensor<16x4096xf16>, !w -> tensor<16x11008xf16>
  return %y : tensor<16x11008xf16>
}
