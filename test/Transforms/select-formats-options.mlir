// Bad options are clear errors.
// RUN: not quilt-opt %s --quilt-select-formats=formats=i8,int3 2>&1 | FileCheck %s --check-prefix=FORMAT
// FORMAT: error: quilt-select-formats: unknown format 'int3' (known: f32, bf16, i8, i4, i4a8, nm24, nm24-i8, lr16, lr32, lr64, lr128)
// RUN: not quilt-opt %s --quilt-select-formats=error-budget=-0.5 2>&1 | FileCheck %s --check-prefix=BUDGET
// BUDGET: error: quilt-select-formats: error-budget must be >= 0, got -5.000000e-01
// RUN: not quilt-opt %s --quilt-select-formats=model=%t.does-not-exist.json 2>&1 | FileCheck %s --check-prefix=MODEL
// MODEL: error: quilt-select-formats: model file '{{.*}}does-not-exist.json' does not exist
// RUN: not quilt-opt %s --quilt-select-formats=target=gpu 2>&1 | FileCheck %s --check-prefix=TARGET
// TARGET: error: quilt-select-formats: unknown target 'gpu' (supported: cpu)
// RUN: not quilt-opt %s --quilt-select-formats=objective=energy 2>&1 | FileCheck %s --check-prefix=OBJECTIVE
// OBJECTIVE: error: quilt-select-formats: unknown objective 'energy' (latency or size)
// RUN: not quilt-opt %s --quilt-select-formats=calibration=%t.missing.npy 2>&1 | FileCheck %s --check-prefix=CALIB
// CALIB: error: quilt-select-formats: cannot read the calibration input: {{.*}}missing.npy
func.func @f(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %w = arith.constant dense<1.0> : tensor<8x8xf32>
  %y = quilt.linear %x, %w : tensor<4x8xf32>, tensor<8x8xf32> -> tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}
