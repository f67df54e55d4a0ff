// RUN: quilt-opt %s "--convert-quilt-to-nvptx=mma=wgmma tma=1" | FileCheck %s
// RUN: not quilt-opt %s "--convert-quilt-to-nvptx=mma=wgmma tiles=128x128x64" 2>&1 | FileCheck %s --check-prefix=DEPTH

// W8A8 on wgmma: the int8 stages have the same 128-byte rows, 128 deep;
// wgmma m64n256k32 s8 x s8 into exact i32 sums (zeros are i32), 4 per
// slice, and the epilogue scales them by both scales. With tma=1 the
// tensor map of x describes its quantized int8 copy.
// CHECK: gpu.launch_func @quilt_kernels::@w8a8_linear_0
// CHECK-SAME: \22block\22:[128,256,128],\22ctas\22:{{[0-9]+}},\22family\22:\22wgmma\22
// CHECK-SAME: quilt.tensor_maps = [{argument = 3 : i64, box = array<i64: 128, 128>, dims = array<i64: 512, 256>, element = i8, source = 0 : i64, swizzle = 128 : i64}, {argument = 4 : i64, box = array<i64: 128, 256>, dims = array<i64: 512, 1024>, element = i8, source = 1 : i64, swizzle = 128 : i64}]
// CHECK: gpu.func @w8a8_linear_0
// CHECK: scf.for {{.*}} iter_args(%{{[^ ]*}} = %c0_i32
// CHECK-COUNT-4: nvvm.wgmma.mma_async {{.*}}<m = 64, n = 256, k = 32>, D[<s32>, <one>], A[<s8>, <one>, <row>], B[<s8>, <one>, <col>]
// CHECK: arith.sitofp
func.func @w8a8(%x: tensor<256x512xf16>, %w: !quilt.packed<512x1024, precision<i8, channel>>) -> tensor<256x1024xf16> {
  %y = quilt.linear %x, %w act <i8, channel> : tensor<256x512xf16>, !quilt.packed<512x1024, precision<i8, channel>> -> tensor<256x1024xf16>
  return %y : tensor<256x1024xf16>
}

// DEPTH: wgmma tiling 128x128x64 with 8x1 warps: wgmma tiles are MxNx64 (int8: MxNx128): 128-byte rows, the 128-byte swizzle
