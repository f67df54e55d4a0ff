// How convert-quilt-to-nvptx reads its tiling options for 2:4 and int4
// weights, and the errors of tilings those kernels cannot run.
// RUN: not quilt-opt %s --split-input-file "--convert-quilt-to-nvptx=tiles=128x128x32" 2>&1 | FileCheck %s --check-prefix=SPARSE-K
// RUN: not quilt-opt %s --split-input-file "--convert-quilt-to-nvptx=tiles=16x24x64" 2>&1 | FileCheck %s --check-prefix=INT4-TILES
// RUN: not quilt-opt %s --split-input-file "--convert-quilt-to-nvptx=warps=12x4" 2>&1 | FileCheck %s --check-prefix=INT4-WARPS
// RUN: not quilt-opt %s --split-input-file "--convert-quilt-to-nvptx=warps=1x3" 2>&1 | FileCheck %s --check-prefix=INT4-SPLIT
// RUN: not quilt-opt %s --split-input-file "--convert-quilt-to-nvptx=stages=17" 2>&1 | FileCheck %s --check-prefix=INT4-AHEAD
// RUN: quilt-opt %s --split-input-file "--convert-quilt-to-nvptx=chip=sm_80" | FileCheck %s --check-prefix=SPARSE-SM80
// RUN: quilt-opt %s --split-input-file "--convert-quilt-to-nvptx=tiles=16x64x64 warps=1x2 stages=3" | FileCheck %s --check-prefix=INT4-FORCED
// RUN: quilt-opt %s --split-input-file "--convert-quilt-to-nvptx=tiles=16x64x64 register-model=none" | FileCheck %s --check-prefix=INT8-FIT

// SPARSE-K: 2:4 tiles are MxNx64 with warp tiles of a multiple of 8 rows and 16 columns
// INT4-TILES: int4 tiles are 16xNx64 with N a multiple of 16 x the warps side by side
// INT4-WARPS: int4 tiling of 2 tiles x 12x4 warps, 4 blocks ahead: a CTA has at most 32 warps
// INT4-SPLIT: int4 tiling of 2 tiles x 1x3 warps, 4 blocks ahead: the K split takes 1 to 16 warps, each with at least one of the 4 K blocks (or groups of whole blocks)
// INT4-AHEAD: 1 to 16 K blocks may be in flight
// 2:4 runs on Ampere too (mma.sp; quilt-nvptx-pipeline emits PTX 7.1 there).
// SPARSE-SM80: gpu.func @sparse_linear_0(
// SPARSE-SM80: nvvm.mma.sp

// tiles 16x64x64: 4 tiles of 16 columns per warp, so 256 / 64 CTAs; warps
// 1x2: 2 warps splitting K; stages 3: loads of 3 blocks in flight.
// INT4-FORCED: gpu.launch_func @quilt_kernels::@int4_linear_0 blocks in (%c4{{[_0-9]*}}, %c1{{[_0-9]*}}, %c1{{[_0-9]*}}) threads in (%c64{{[_0-9]*}},
// INT4-FORCED-COUNT-16: llvm.load volatile
// INT4-FORCED-NOT: llvm.load volatile

// 16 rows of int8 x with 64-byte K slices are 64 cp.async chunks, which the
// default 1x4 warps of few rows cannot split: a forced tile with warps left
// to `auto` gets the valid grid nearest in warps, 1x2.
// INT8-FIT: gpu.launch_func @quilt_kernels::@int8_linear_0 {{.*}}threads in (%c64{{[_0-9]*}},
// INT8-FIT-SAME: \22block\22:[16,64,64]{{.*}}\22warps\22:[1,2]

func.func @sparse(%x: tensor<128x256xf16>, %w: !quilt.packed<256x512, precision<f16>, sparsity<nm<2, 4>>>) -> tensor<128x512xf16> {
  %y = quilt.linear %x, %w : tensor<128x256xf16>, !quilt.packed<256x512, precision<f16>, sparsity<nm<2, 4>>> -> tensor<128x512xf16>
  return %y : tensor<128x512xf16>
}

// -----

func.func @int4(%x: tensor<4x512xf16>, %w: !quilt.packed<512x256, precision<i4, group<128>>>) -> tensor<4x256xf16> {
  %y = quilt.linear %x, %w : tensor<4x512xf16>, !quilt.packed<512x256, precision<i4, group<128>>> -> tensor<4x256xf16>
  return %y : tensor<4x256xf16>
}

// -----

func.func @int8(%x: tensor<16x512xf16>, %w: !quilt.packed<512x256, precision<i8, channel>>) -> tensor<16x256xf16> {
  %y = quilt.linear %x, %w act <i8, channel> : tensor<16x512xf16>, !quilt.packed<512x256, precision<i8, channel>> -> tensor<16x256xf16>
  return %y : tensor<16x256xf16>
}
