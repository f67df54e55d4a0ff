// RUN: quilt-opt %s "--convert-quilt-to-nvptx=int4-load=bulk tiles=16x256x64 warps=8x4" --verify-diagnostics

// Bulk rings of 2 stages for 32 warps of 2 tiles each would take 32 x 2 x
// 2 x 2 KiB = 256 KiB of shared memory, over the SM's 227.
func.func @ring(%x: tensor<1x4096xf16>, %w: !quilt.packed<4096x512, precision<i4, group<128>>>) -> tensor<1x512xf16> {
  // expected-error @below {{int4 tiling of 2 tiles x 8x4 warps, 4 blocks ahead: the bulk rings of 2 stages of 4 blocks x 2 tiles per warp exceed the shared memory}}
  %y = quilt.linear %x, %w : tensor<1x4096xf16>, !quilt.packed<4096x512, precision<i4, group<128>>> -> tensor<1x512xf16>
  return %y : tensor<1x512xf16>
}
