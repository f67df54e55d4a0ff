// RUN: quilt-opt %s --split-input-file \
// RUN:   "--convert-quilt-to-cpu=cpu-features=+avx512f,+avx512bw" \
// RUN:   | FileCheck %s

// An unstructured weight is a byte buffer of data-dependent size: run
// pointers (i32, one per group of 8 columns, plus the end), then the values
// and the u16 row indices, whose sizes the kernel reads from the last
// pointer. The linear reads them directly (bf16 widened in registers, one
// FMA per stored value), no decoding call.
// CHECK-LABEL: func.func @unstructured(
// CHECK-SAME:    %{{.*}}: tensor<5x64xf32>, %[[W:.*]]: tensor<?xi8>)
// CHECK:         call @quilt_cpu_linear_unstructured_bf16_unstrd0p10_64x40_m5(%{{.*}}, %[[W]])
// CHECK-LABEL: func.func private @quilt_cpu_linear_unstructured_bf16_unstrd0p10_64x40_m5(
// CHECK-NOT:     call
// CHECK:         memref.view %{{.*}}[%c0{{.*}}][] : memref<?xi8> to memref<6xi32>
// CHECK:         memref.view %{{.*}} : memref<?xi8> to memref<?xbf16>
// CHECK:         memref.view %{{.*}} : memref<?xi8> to memref<?xi16>
// CHECK:         scf.parallel
// CHECK:           arith.bitcast %{{.*}} : bf16 to i16
// CHECK:           arith.bitcast %{{.*}} : i32 to f32
// CHECK:           arith.index_castui %{{.*}} : i16 to index
// CHECK:           vector.fma
// CHECK:           vector.maskedstore
// CHECK-NOT:     call
// CHECK:         return
func.func @unstructured(%x: tensor<5x64xf32>, %w: !quilt.packed<64x40, precision<bf16>, sparsity<unstructured, density = 0.1>>) -> tensor<5x40xf32> {
  %y = quilt.linear %x, %w : tensor<5x64xf32>, !quilt.packed<64x40, precision<bf16>, sparsity<unstructured, density = 0.1>> -> tensor<5x40xf32>
  return %y : tensor<5x40xf32>
}

// -----

// Packing prunes with the reference's kernel, counts the entries of each
// group, then allocates the buffer with that size.
// CHECK-LABEL: func.func private @quilt_cpu_pack_unstructured_i8c_unstrd0p20_64x24(
// CHECK:         call @quilt_ref_prune_unstructured(
// CHECK:         scf.for
// CHECK:         memref.alloc(%{{.*}}) {alignment = 64 : i64} : memref<?xi8>
// CHECK:         math.roundeven
func.func @pack(%w: tensor<64x24xf32>) -> !quilt.packed<64x24, precision<i8, channel>, sparsity<unstructured, density = 0.2>> {
  %p = quilt.pack %w : tensor<64x24xf32> -> !quilt.packed<64x24, precision<i8, channel>, sparsity<unstructured, density = 0.2>>
  return %p : !quilt.packed<64x24, precision<i8, channel>, sparsity<unstructured, density = 0.2>>
}
