// A small wgmma-sized linear (M = 64, K = 1024, N = 512) for the timing
// model's tests (train-timing.test).
func.func @gemm_bf16_64x1024x512(%x: tensor<64x1024xbf16>, %w: !quilt.packed<1024x512, precision<bf16>>) -> tensor<64x512xbf16> {
  %y = quilt.linear %x, %w : tensor<64x1024xbf16>, !quilt.packed<1024x512, precision<bf16>> -> tensor<64x512xbf16>
  return %y : tensor<64x512xbf16>
}
