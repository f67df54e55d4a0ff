// RUN: quilt-opt %s --split-input-file \
// RUN:   "--convert-quilt-to-cpu=cpu-features=+avx512f,+avx512bw,+avx512vnni,+avx512bf16 threads=2" \
// RUN:   | FileCheck %s

// A block-diagonal weight stores its 4 diagonal blocks (24 x 20) one after
// the other in f32 panels. The linear is one grouped loop nest: the 4
// groups split between 2 threads, each group's GEMM reading its column
// slice of x in place (no copy) in register tiles of 7 and 6 rows, and
// writing its column slice of y with masked stores after the bias.
// CHECK-LABEL: func.func @f32(
// CHECK-SAME:    %{{.*}}: tensor<13x96xf32>, %[[W:.*]]: tensor<?xi8>, %{{.*}}: tensor<80xf32>)
// CHECK:         call @quilt_cpu_linear_blockdiag_f32_blockdiag4_96x80_m13_bias(%{{.*}}, %[[W]], %{{.*}})
// CHECK-LABEL: func.func private @quilt_cpu_linear_blockdiag_f32_blockdiag4_96x80_m13_bias(
// CHECK-SAME:    %[[X:.*]]: tensor<13x96xf32>
// CHECK-NOT:     memref.copy
// CHECK:         %[[Y:.*]] = memref.alloc() {alignment = 64 : i64} : memref<13x80xf32>
// CHECK:         memref.view %{{.*}} : memref<?xi8> to memref<?xf32>
// CHECK:         scf.parallel (%{{.*}}) = (%{{.*}}) to (%c2{{.*}})
// CHECK:           scf.for %{{.*}} = %{{.*}} to %c7{{.*}} step %c7
// CHECK:             vector.broadcast %{{.*}} : f32 to vector<16xf32>
// CHECK:             vector.fma
// CHECK:             vector.maskedload %{{.*}} : memref<80xf32>
// CHECK:             vector.maskedstore %[[Y]]
// CHECK:           scf.for %{{.*}} = %c7{{.*}} to %c13{{.*}} step %c6
func.func @f32(%x: tensor<13x96xf32>, %w: !quilt.packed<96x80, structure<blockdiag<4>>>, %b: tensor<80xf32>) -> tensor<13x80xf32> {
  %y = quilt.linear %x, %w bias %b : tensor<13x96xf32>, !quilt.packed<96x80, structure<blockdiag<4>>>, tensor<80xf32> -> tensor<13x80xf32>
  return %y : tensor<13x80xf32>
}

// -----

// int8 per channel: each 16 x 12 block in the int8 panel layout (quads,
// then scales and column sums: 768 bytes), packed from the diagonal block
// through a staging buffer; decoding fills the rest with zeros.
// CHECK-LABEL: func.func private @quilt_cpu_pack_blockdiag_i8c_blockdiag3_48x36(
// CHECK:         memref.alloc() {alignment = 64 : i64} : memref<2304xi8>
// CHECK:         scf.for %{{.*}} = %{{.*}} to %c3
// CHECK:           memref.subview %{{.*}} : memref<48x36xf32> to memref<16x12xf32, strided<[36, 1], offset: ?>>
// CHECK:           math.roundeven
// CHECK:           memref.copy %{{.*}} : memref<768xi8> to memref<768xi8, strided<[1], offset: ?>>
// CHECK-LABEL: func.func private @quilt_cpu_unpack_blockdiag_i8c_blockdiag3_48x36(
// CHECK:         linalg.fill
// CHECK:         scf.for %{{.*}} = %{{.*}} to %c3
func.func @pack(%w: tensor<48x36xf32>) -> tensor<48x36xf32> {
  %p = quilt.pack %w : tensor<48x36xf32> -> !quilt.packed<48x36, precision<i8, channel>, structure<blockdiag<3>>>
  %d = quilt.unpack %p : !quilt.packed<48x36, precision<i8, channel>, structure<blockdiag<3>>> -> tensor<48x36xf32>
  return %d : tensor<48x36xf32>
}

// -----

// One int8 scale for the whole tensor would span the blocks: that precision
// keeps the reference lowering (dense decoded weight, read in place).
// CHECK-LABEL: func.func @per_tensor(
// CHECK-SAME:    tensor<64x64xf32>)
// CHECK:         call @quilt_cpu_linear_fma_f32_64x64_rowmajor_m4(
// CHECK-NOT:     blockdiag
func.func @per_tensor(%x: tensor<4x64xf32>, %w: !quilt.packed<64x64, precision<i8, tensor>, structure<blockdiag<4>>>) -> tensor<4x64xf32> {
  %y = quilt.linear %x, %w : tensor<4x64xf32>, !quilt.packed<64x64, precision<i8, tensor>, structure<blockdiag<4>>> -> tensor<4x64xf32>
  return %y : tensor<4x64xf32>
}
