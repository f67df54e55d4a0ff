// A linear of 256 rows (K = 2048, N = 512) for the timing model's tests
// (train-timing.test): taller tiles than the timed grid's 64 would fit.
func.func @gemm_bf16_256x2048x512(%x: tensor<256x2048xbf16>, %w: !quilt.packed<2048x512, precision<bf16>>) -> tensor<256x512xbf16> {
  %y = quilt.linear %x, %w : tensor<256x2048xbf16>, !quilt.packed<2048x512, precision<bf16>> -> tensor<256x512xbf16>
  return %y : tensor<256x512xbf16>
}
