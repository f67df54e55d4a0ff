// RUN: quilt-opt %s "--convert-quilt-to-nvptx=tiles=16x512x64 warps=4x8" --verify-diagnostics

// At 16 rows, the partial sums of 32 warps of 8 tiles each take 32 x 8 x
// 2 x 512 bytes = 256 KiB of shared memory, over the SM's 227.
func.func @sums(%x: tensor<16x1024xf16>, %w: !quilt.packed<1024x512, precision<i4, group<128>>>) -> tensor<16x512xf16> {
  // expected-error @below {{int4 tiling of 8 tiles x 4x8 warps, 4 blocks ahead: the CTA needs 262144 bytes of shared memory, over 232448}}
  %y = quilt.linear %x, %w : tensor<16x1024xf16>, !quilt.packed<1024x512, precision<i4, group<128>>> -> tensor<16x512xf16>
  return %y : tensor<16x512xf16>
}
