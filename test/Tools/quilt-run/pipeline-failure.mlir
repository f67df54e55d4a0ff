// RUN: not quilt-run %s --pipeline reference 2>&1 | FileCheck %s

// A module the pipeline cannot lower: the error names the pipeline, then
// gives its diagnostics with their locations.
// CHECK: quilt-run: error: pipeline 'quilt-reference-pipeline' failed:
// CHECK-NEXT: pipeline-failure.mlir:[[@LINE+3]]:8: error: op was not bufferized
// CHECK-NOT: see current operation
func.func @main(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = tosa.abs %x : (tensor<4xf32>) -> tensor<4xf32>
  return %y : tensor<4xf32>
}
