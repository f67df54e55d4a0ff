// RUN: quilt-run %s --pipeline reference --print-results | FileCheck %s

// Generated code may call the OpenMP runtime (quilt-cpu-pipeline emits
// __kmpc_* calls): the JIT links libomp from LLVM's library directory.
// CHECK: result #0: tensor<1xi32>
// CHECK-NEXT: {{^\[}}3]
func.func private @omp_get_num_threads() -> i32
func.func @main() -> tensor<1xi32> {
  %m = memref.alloc() : memref<1xi32>
  %c0 = arith.constant 0 : index
  %n = arith.constant 3 : i32
  omp.parallel num_threads(%n : i32) {
    %t = func.call @omp_get_num_threads() : () -> i32
    memref.store %t, %m[%c0] : memref<1xi32>
    omp.terminator
  }
  %r = bufferization.to_tensor %m restrict : memref<1xi32> to tensor<1xi32>
  return %r : tensor<1xi32>
}
