// RUN: quilt-opt %s --quilt-reference-pipeline | FileCheck %s
// RUN: quilt-opt %s --quilt-reference-pipeline="lower-to-llvm=false" | FileCheck %s --check-prefix=LOOPS

// The pipeline takes quilt IR all the way to the LLVM dialect; kernels that
// are not used are gone, the ones used are lowered too.
// CHECK-LABEL: llvm.func @forward
// CHECK: llvm.call @quilt_ref_prune_nm
// CHECK: llvm.call @quilt_ref_fake_quant_int
// CHECK: llvm.call @erff
// CHECK-DAG: llvm.func @quilt_ref_prune_nm
// CHECK-DAG: llvm.func @quilt_ref_fake_quant_int
// CHECK-NOT: quilt.
// CHECK-NOT: linalg.
// CHECK-NOT: tensor.
// CHECK-NOT: llvm.func @quilt_ref_lowrank_factors

// Without the LLVM part it stops on bufferized loops.
// LOOPS-LABEL: func.func @forward
// LOOPS-SAME: memref<4x16xf32>
// LOOPS: scf.for
// LOOPS: memref.load
// LOOPS-NOT: tensor.empty
// LOOPS-NOT: linalg.generic

!w = !quilt.packed<16x8, precision<i8, channel>, sparsity<nm<2, 4>>>
func.func @forward(%x: tensor<4x16xf32>, %w: tensor<16x8xf32>, %b: tensor<8xf32>) -> tensor<4x8xf32> {
  %p = quilt.pack %w : tensor<16x8xf32> -> !w
  %l = quilt.linear %x, %p bias %b : tensor<4x16xf32>, !w, tensor<8xf32> -> tensor<4x8xf32>
  %g = quilt.gelu %l : tensor<4x8xf32>
  return %g : tensor<4x8xf32>
}
