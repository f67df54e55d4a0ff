// RUN: quilt-opt %s "--convert-quilt-to-nvptx=tiles=16x48x64 warps=2x8" --split-input-file --verify-diagnostics

// Forced int4 tilings the kernel cannot run are reported on the linear.

// K = 512 is 4 groups of 128: 8 warps along K would leave some without a
// block.
func.func @split(%x: tensor<4x512xf16>, %w: !quilt.packed<512x256, precision<i4, group<128>>>) -> tensor<4x256xf16> {
  // expected-error @below {{int4 tiling of 1 tiles x 2x8 warps, 4 blocks ahead: the K split takes 1 to 16 warps, each with at least one of the 4 K blocks (or groups of whole blocks)}}
  %y = quilt.linear %x, %w : tensor<4x512xf16>, !quilt.packed<512x256, precision<i4, group<128>>> -> tensor<4x256xf16>
  return %y : tensor<4x256xf16>
}

// -----

// 48 columns do not split over 2 warps side by side in 16-column tiles.
func.func @columns(%x: tensor<4x4096xf16>, %w: !quilt.packed<4096x256, precision<i4, group<128>>>) -> tensor<4x256xf16> {
  // expected-error @below {{int4 tiles are 16xNx64 with N a multiple of 16 x the warps side by side}}
  %y = quilt.linear %x, %w : tensor<4x4096xf16>, !quilt.packed<4096x256, precision<i4, group<128>>> -> tensor<4x256xf16>
  return %y : tensor<4x256xf16>
}
