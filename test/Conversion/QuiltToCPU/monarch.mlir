// RUN: quilt-opt %s --split-input-file \
// RUN:   "--convert-quilt-to-cpu=cpu-features=+avx512f,+avx512bw,+avx512vnni,+avx512bf16 threads=2" \
// RUN:   | FileCheck %s

// A Monarch weight with B = 4 (k = 16, n = 24) stores L as 4 blocks of
// 16 x 4 and R as 4 blocks of 4 x 24, in f32 panels. 70 rows go through
// both products in blocks of 32 rows (one per thread; the last 6 rows
// after them, on both threads): the first product reads a row slice of x
// in place and writes z[m][p][q] (4 groups x (4 + 16) floats a row), the
// second reads z's column q with a stride of 20 floats and writes the row
// slice of y with the bias. Neither W nor a copy of x is formed.
// CHECK-LABEL: func.func @f32(
// CHECK-SAME:    %{{.*}}: tensor<70x64xf32>, %[[W:.*]]: tensor<?xi8>, %{{.*}}: tensor<96xf32>)
// CHECK:         call @quilt_cpu_linear_monarch_f32_monarch4_64x96_m70_bias(%{{.*}}, %[[W]], %{{.*}})
// CHECK-LABEL: func.func private @quilt_cpu_linear_monarch_f32_monarch4_64x96_m70_bias(
// CHECK-NOT:     memref<64x96xf32>
// CHECK:         %[[Y:.*]] = memref.alloc() {alignment = 64 : i64} : memref<70x96xf32>
// CHECK:         scf.parallel (%{{.*}}) = (%{{.*}}) to (%c2{{.*}})
// CHECK:           %[[Z:.*]] = memref.alloc() {alignment = 64 : i64} : memref<32x80xf32>
// CHECK:           %[[XS:.*]] = memref.subview %{{.*}}[%{{.*}}, 0] [32, 64] [1, 1] : memref<70x64xf32> to memref<32x64xf32, strided<[64, 1], offset: ?>>
// CHECK:           scf.for %{{.*}} = %{{.*}} to %c4
// CHECK:             memref.load %[[XS]]
// CHECK:             vector.fma
// CHECK:             vector.maskedstore %[[Z]]
// CHECK:           %[[YS:.*]] = memref.subview %[[Y]][%{{.*}}, 0] [32, 96] [1, 1]
// CHECK:           scf.for %{{.*}} = %{{.*}} to %c4
// CHECK:             %[[COL:.*]] = arith.muli %{{.*}}, %c20
// CHECK:             memref.load %[[Z]][%{{.*}}, %{{.*}}] : memref<32x80xf32>
// CHECK:             vector.fma
// CHECK:             vector.maskedload %{{.*}} : memref<96xf32>
// CHECK:             vector.maskedstore %[[YS]]
// CHECK:         memref.alloc() {alignment = 64 : i64} : memref<6x80xf32>
// CHECK:         scf.parallel (%{{.*}}) = (%{{.*}}) to (%c2{{.*}})
func.func @f32(%x: tensor<70x64xf32>, %w: !quilt.packed<64x96, structure<monarch<4>>>, %b: tensor<96xf32>) -> tensor<70x96xf32> {
  %y = quilt.linear %x, %w bias %b : tensor<70x64xf32>, !quilt.packed<64x96, structure<monarch<4>>>, tensor<96xf32> -> tensor<70x96xf32>
  return %y : tensor<70x96xf32>
}

// -----

// Packing takes the reference's factors and rounds each block to bf16;
// decoding multiplies the stored factors with the reference's expansion.
// CHECK-LABEL: func.func private @quilt_cpu_pack_monarch_bf16_monarch4_48x36(
// CHECK:         call @quilt_ref_monarch_factors(%{{.*}}, %{{.*}}) : (tensor<?x?xf32>, index) -> (tensor<?x?x?xf32>, tensor<?x?x?xf32>)
// CHECK:         scf.for %{{.*}} = %{{.*}} to %c4
// CHECK:           memref.subview %{{.*}} : memref<4x12x4xf32> to memref<12x4xf32, strided<[4, 1], offset: ?>>
// CHECK:           arith.truncf %{{.*}} : f32 to bf16
// CHECK:         scf.for %{{.*}} = %{{.*}} to %c4
// CHECK:           memref.subview %{{.*}} : memref<4x4x9xf32> to memref<4x9xf32, strided<[9, 1], offset: ?>>
// CHECK-LABEL: func.func private @quilt_cpu_unpack_monarch_bf16_monarch4_48x36(
// CHECK:         call @quilt_ref_monarch_expand(
func.func @pack(%w: tensor<48x36xf32>) -> tensor<48x36xf32> {
  %p = quilt.pack %w : tensor<48x36xf32> -> !quilt.packed<48x36, precision<bf16>, structure<monarch<4>>>
  %d = quilt.unpack %p : !quilt.packed<48x36, precision<bf16>, structure<monarch<4>>> -> tensor<48x36xf32>
  return %d : tensor<48x36xf32>
}

// -----

// An int8 factor has one scale spanning all its blocks: that precision
// keeps the reference lowering.
// CHECK-LABEL: func.func @int8(
// CHECK-SAME:    tensor<64x64xf32>)
// CHECK-NOT:     monarch
func.func @int8(%x: tensor<4x64xf32>, %w: !quilt.packed<64x64, precision<i8, tensor>, structure<monarch<4>>>) -> tensor<4x64xf32> {
  %y = quilt.linear %x, %w : tensor<4x64xf32>, !quilt.packed<64x64, precision<i8, tensor>, structure<monarch<4>>> -> tensor<4x64xf32>
  return %y : tensor<4x64xf32>
}
