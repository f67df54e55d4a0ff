// RUN: quilt-opt %s --verify-diagnostics \
// RUN:   "--convert-quilt-to-nvptx=mma=wgmma tma=1 tma-release=mbarrier tma-producer=warpgroup cluster=4 persistent-ctas=2"

// Persistent CTAs are launched in whole clusters: 2 are not one of 4.
func.func @persistent(%x: tensor<256x512xbf16>, %w: !quilt.packed<512x256, precision<bf16>>) -> tensor<256x256xbf16> {
  // expected-error @below {{NVPTX backend: wgmma tiling 128x256x64 with 8x1 warps: persistent CTAs come in whole clusters: at least 4}}
  %y = quilt.linear %x, %w : tensor<256x512xbf16>, !quilt.packed<512x256, precision<bf16>> -> tensor<256x256xbf16>
  return %y : tensor<256x256xbf16>
}
