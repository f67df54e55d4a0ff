// bf16 linear with bias, gelu and a residual: 200 x 320 output, so the
// 128 x 256 wgmma tiles have ragged row and column edges, and K = 512 is
// 8 slices of 64, more than the 4 stages, so every stage is reused.
func.func @dense_fused(%x: tensor<200x512xbf16>, %w: !quilt.packed<512x320, precision<bf16>>, %b: tensor<320xf32>, %r: tensor<200x320xbf16>) -> tensor<200x320xbf16> {
  %y = quilt.linear %x, %w bias %b : tensor<200x512xbf16>, !quilt.packed<512x320, precision<bf16>>, tensor<320xf32> -> tensor<200x320xbf16>
  %g = quilt.gelu %y : tensor<200x320xbf16>
  %s = quilt.add %g, %r : tensor<200x320xbf16>
  return %s : tensor<200x320xbf16>
}
