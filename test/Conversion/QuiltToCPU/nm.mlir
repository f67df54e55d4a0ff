// RUN: quilt-opt %s --split-input-file \
// RUN:   "--convert-quilt-to-cpu=cpu-features=+avx512f,+avx512bw threads=2" \
// RUN:   | FileCheck %s

// A 2:4 weight is one byte buffer of kept values and byte row offsets
// (64 x 40: 5 groups of 8 columns x 32 entries = 1280 values, then 1280
// offsets at byte 5120). The linear reads those bytes directly: no decoding
// call, one FMA of a broadcast kept value per row offset, the column groups
// split over the threads, masked stores for N = 40.
// CHECK-LABEL: func.func @nm24(
// CHECK-SAME:    %{{.*}}: tensor<13x64xf32>, %[[W:.*]]: tensor<?xi8>)
// CHECK:         call @quilt_cpu_linear_nm_f32_nm2of4_64x40_m13(%{{.*}}, %[[W]])
// CHECK-LABEL: func.func private @quilt_cpu_linear_nm_f32_nm2of4_64x40_m13(
// CHECK-NOT:     call
// CHECK:         memref.view %{{.*}}[%c0{{.*}}][] : memref<?xi8> to memref<1280xf32>
// CHECK:         memref.view %{{.*}}[%c5120{{.*}}][] : memref<?xi8> to memref<1280xi8>
// CHECK:         scf.parallel (%{{.*}}) = (%{{.*}}) to (%c2{{.*}})
// CHECK:           vector.broadcast %{{.*}} : f32 to vector<16xf32>
// CHECK:           arith.index_castui %{{.*}} : i8 to index
// CHECK:           vector.fma
// CHECK:           vector.maskedstore
// CHECK-NOT:     call
// CHECK:         return
func.func @nm24(%x: tensor<13x64xf32>, %w: !quilt.packed<64x40, sparsity<nm<2, 4>>>) -> tensor<13x40xf32> {
  %y = quilt.linear %x, %w : tensor<13x64xf32>, !quilt.packed<64x40, sparsity<nm<2, 4>>> -> tensor<13x40xf32>
  return %y : tensor<13x40xf32>
}

// -----

// With few rows (M <= 4) the lanes are 8 columns and x is gathered by row
// index. int8 values are widened in registers and the column scales
// multiply the sums in the epilogue; W8A8 activations are rounded by the
// caller first.
// CHECK-LABEL: func.func private @quilt_cpu_linear_nm_i8c_nm2of8_64x16_m4(
// CHECK-NOT:     call
// CHECK:         memref.view %{{.*}} : memref<?xi8> to memref<256xi8>
// CHECK:           arith.sitofp %{{.*}} : vector<8xi8> to vector<8xf32>
// CHECK:           vector.gather
// CHECK:           vector.fma
// CHECK:           arith.mulf %{{.*}} : vector<8xf32>
func.func @nm28_i8(%x: tensor<4x64xf32>, %w: !quilt.packed<64x16, precision<i8, channel>, sparsity<nm<2, 8>>>) -> tensor<4x16xf32> {
  %y = quilt.linear %x, %w act <i8, channel> : tensor<4x64xf32>, !quilt.packed<64x16, precision<i8, channel>, sparsity<nm<2, 8>>> -> tensor<4x16xf32>
  return %y : tensor<4x16xf32>
}

// -----

// Packing prunes with the reference's kernel, then encodes; decoding adds
// every stored value into a zeroed dense matrix. Without avx512bf16 the
// conversions are integer arithmetic (round to nearest even, NaN kept
// quiet), not a libcall per element.
// CHECK-LABEL: func.func @roundtrip(
// CHECK:         call @quilt_cpu_pack_nm_bf16_nm1of4_32x8(
// CHECK:         call @quilt_cpu_unpack_nm_bf16_nm1of4_32x8(
// CHECK-LABEL: func.func private @quilt_cpu_pack_nm_bf16_nm1of4_32x8(
// CHECK:         call @quilt_ref_prune_nm(
// CHECK-NOT:     arith.truncf
// CHECK:         arith.bitcast %{{.*}} : f32 to i32
// CHECK:         arith.trunci %{{.*}} : i32 to i16
// CHECK:         arith.bitcast %{{.*}} : i16 to bf16
// CHECK-LABEL: func.func private @quilt_cpu_unpack_nm_bf16_nm1of4_32x8(
// CHECK-NOT:     arith.extf
// CHECK:         arith.bitcast %{{.*}} : bf16 to i16
// CHECK:         arith.bitcast %{{.*}} : i32 to f32
func.func @roundtrip(%w: tensor<32x8xf32>) -> tensor<32x8xf32> {
  %p = quilt.pack %w : tensor<32x8xf32> -> !quilt.packed<32x8, precision<bf16>, sparsity<nm<1, 4>>>
  %d = quilt.unpack %p : !quilt.packed<32x8, precision<bf16>, sparsity<nm<1, 4>>> -> tensor<32x8xf32>
  return %d : tensor<32x8xf32>
}
