// RUN: quilt-opt %s --verify-diagnostics \
// RUN:   "--convert-quilt-to-nvptx=mma=wgmma tma=1 tma-release=mbarrier cluster=4 tiles=128x16x64"

// Each of 4 CTAs in a cluster would multicast 4 rows of W^T: less than
// the 1024-byte pattern (8 rows of 128 bytes) a share's swizzle starts.
func.func @share(%x: tensor<256x512xbf16>, %w: !quilt.packed<512x256, precision<bf16>>) -> tensor<256x256xbf16> {
  // expected-error @below {{NVPTX backend: wgmma tiling 128x16x64 with 8x1 warps: each CTA of a cluster multicasts N / cluster rows of W^T: a multiple of 8}}
  %y = quilt.linear %x, %w : tensor<256x512xbf16>, !quilt.packed<512x256, precision<bf16>> -> tensor<256x256xbf16>
  return %y : tensor<256x256xbf16>
}
