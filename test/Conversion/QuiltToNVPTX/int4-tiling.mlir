// The int4 GEMM's CTAs: warps side by side in N share x through L1, and
// `auto` gives 16-row x one CTA per SM, as wide as covers N in one wave
// (x, 4 bytes per weight byte of a 16-column tile, is then read from L2
// once per SM). Up to 8 rows the tiling measured on an H100 stays, but
// for grids of fewer than two CTAs per SM and K beyond 128 blocks, which
// get up to 16 warps along K. Splits need not divide K.
// RUN: quilt-opt %s --split-input-file --convert-quilt-to-nvptx=chip=sm_90a | FileCheck %s --check-prefix=SM90
// RUN: quilt-opt %s --split-input-file --convert-quilt-to-nvptx=chip=sm_80 | FileCheck %s --check-prefix=SM80
// RUN: quilt-opt %s --split-input-file "--convert-quilt-to-nvptx=chip=sm_90a tiles=16x64x64 warps=2x4" | FileCheck %s --check-prefix=FORCED

// 11008 columns are 688 tiles: on sm_90's 132 SMs 6 per CTA (115 CTAs of
// 6 x 4 warps), on sm_80's 108 SMs 7 (99 CTAs of 7 x 4 warps).
// SM90: gpu.launch_func @quilt_kernels::@m16_linear_0 blocks in (%c115{{[_0-9]*}}, %c1{{[_0-9]*}}, %c1{{[_0-9]*}}) threads in (%c768{{[_0-9]*}},
// SM90-SAME: \22split_k\22:4{{.*}}\22tiles_per_warp\22:1{{.*}}\22warps\22:[1,6]
// SM80: gpu.launch_func @quilt_kernels::@m16_linear_0 blocks in (%c99{{[_0-9]*}}, %c1{{[_0-9]*}}, %c1{{[_0-9]*}}) threads in (%c896{{[_0-9]*}},
// SM80-SAME: \22warps\22:[1,7]
// Forced: 64 columns per CTA over 2 warps side by side, 2 tiles each.
// FORCED: gpu.launch_func @quilt_kernels::@m16_linear_0 blocks in (%c172{{[_0-9]*}}, %c1{{[_0-9]*}}, %c1{{[_0-9]*}}) threads in (%c256{{[_0-9]*}},
// FORCED-SAME: \22split_k\22:4{{.*}}\22tiles_per_warp\22:2{{.*}}\22warps\22:[1,2]
func.func @m16(%x: tensor<16x512xf16>, %w: !quilt.packed<512x11008, precision<i4, group<128>>>) -> tensor<16x11008xf16> {
  %y = quilt.linear %x, %w : tensor<16x512xf16>, !quilt.packed<512x11008, precision<i4, group<128>>> -> tensor<16x11008xf16>
  return %y : tensor<16x11008xf16>
}

// -----

// 8 rows: 2 tiles per warp, one column of warps, 4 along K (8 at most,
// each holding whole groups of 128). kernel_config's "warps" is [1, the
// warps side by side].
// SM90: gpu.launch_func @quilt_kernels::@m8_linear_0 blocks in (%c344{{[_0-9]*}}, %c1{{[_0-9]*}}, %c1{{[_0-9]*}}) threads in (%c128{{[_0-9]*}},
// SM90-SAME: \22split_k\22:4{{.*}}\22tiles_per_warp\22:2{{.*}}\22warps\22:[1,1]
func.func @m8(%x: tensor<8x512xf16>, %w: !quilt.packed<512x11008, precision<i4, group<128>>>) -> tensor<8x11008xf16> {
  %y = quilt.linear %x, %w : tensor<8x512xf16>, !quilt.packed<512x11008, precision<i4, group<128>>> -> tensor<8x11008xf16>
  return %y : tensor<8x11008xf16>
}

// -----

// K = 11008 is 86 groups of 128, which 8 warps take 11 at a time (the
// last skips 2): 22 unrolled blocks per warp, not the 86 of the largest
// even split, 2 warps.
// SM90: gpu.launch_func @quilt_kernels::@k11008_linear_0 blocks in (%c128{{[_0-9]*}}, %c1{{[_0-9]*}}, %c1{{[_0-9]*}}) threads in (%c256{{[_0-9]*}},
// SM90-SAME: \22blocks_per_warp\22:22{{.*}}\22split_k\22:8
func.func @k11008(%x: tensor<1x11008xf16>, %w: !quilt.packed<11008x4096, precision<i4, group<128>>>) -> tensor<1x4096xf16> {
  %y = quilt.linear %x, %w : tensor<1x11008xf16>, !quilt.packed<11008x4096, precision<i4, group<128>>> -> tensor<1x4096xf16>
  return %y : tensor<1x4096xf16>
}

// -----

// 28672 columns would need 14 tiles per CTA for one wave: at most 8 go
// side by side (1792 tiles: 224 CTAs of 8 x 4 warps).
// SM90: gpu.launch_func @quilt_kernels::@wide_linear_0 blocks in (%c224{{[_0-9]*}}, %c1{{[_0-9]*}}, %c1{{[_0-9]*}}) threads in (%c1024{{[_0-9]*}},
// SM90-SAME: \22split_k\22:4{{.*}}\22tiles_per_warp\22:1{{.*}}\22warps\22:[1,8]
func.func @wide(%x: tensor<16x512xf16>, %w: !quilt.packed<512x28672, precision<i4, group<128>>>) -> tensor<16x28672xf16> {
  %y = quilt.linear %x, %w : tensor<16x512xf16>, !quilt.packed<512x28672, precision<i4, group<128>>> -> tensor<16x28672xf16>
  return %y : tensor<16x28672xf16>
}

// -----

// N = 4096 at M = 1 is 128 CTAs of two tiles, under two per SM: the warps
// along K double to 16 (occupancy, not tiles, limited the measured kernel).
// SM90: gpu.launch_func @quilt_kernels::@narrow_linear_0 blocks in (%c128{{[_0-9]*}}, %c1{{[_0-9]*}}, %c1{{[_0-9]*}}) threads in (%c512{{[_0-9]*}},
// SM90-SAME: \22split_k\22:16{{.*}}\22tiles_per_warp\22:2
func.func @narrow(%x: tensor<1x4096xf16>, %w: !quilt.packed<4096x4096, precision<i4, group<128>>>) -> tensor<1x4096xf16> {
  %y = quilt.linear %x, %w : tensor<1x4096xf16>, !quilt.packed<4096x4096, precision<i4, group<128>>> -> tensor<1x4096xf16>
  return %y : tensor<1x4096xf16>
}

// -----

// The bench's decode shape keeps the tiling measured on the H100: 344
// CTAs of 2 tiles x 8 warps along K.
// SM90: gpu.launch_func @quilt_kernels::@bench_linear_0 blocks in (%c344{{[_0-9]*}}, %c1{{[_0-9]*}}, %c1{{[_0-9]*}}) threads in (%c256{{[_0-9]*}},
// SM90-SAME: \22split_k\22:8{{.*}}\22tiles_per_warp\22:2{{.*}}\22warps\22:[1,1]
func.func @bench(%x: tensor<1x4096xf16>, %w: !quilt.packed<4096x11008, precision<i4, group<128>>>) -> tensor<1x11008xf16> {
  %y = quilt.linear %x, %w : tensor<1x4096xf16>, !quilt.packed<4096x11008, precision<i4, group<128>>> -> tensor<1x11008xf16>
  return %y : tensor<1x11008xf16>
}
