// The whole flow in quilt-cpu-pipeline: weights from .npy files, formats
// chosen, constants packed at compile time, CPU kernels (vpdpbusd where the
// host has avx512vnni, FMAs on widened i8 otherwise).
// RUN: rm -rf %t && mkdir -p %t
// RUN: %python %S/../Tools/quilt-run/Inputs/npy.py write %t/w.npy '<f4' 64x32 '((i[0] * 7919 + i[1] * 104729) % 1000 - 500) / 500.0'
// RUN: quilt-opt %s "--quilt-cpu-pipeline=weights-dir=%t select-formats=1 error-budget=0.1 objective=size formats=i8 lower-to-llvm=0" \
// RUN:   | FileCheck %s
// RUN: quilt-opt %s "--quilt-cpu-pipeline=weights-dir=%t select-formats=1 error-budget=0 lower-to-llvm=0" \
// RUN:   | FileCheck %s --check-prefix=DENSE

// CHECK-LABEL: func.func @forward
// CHECK-SAME: (%{{.+}}: memref<16x64xf32>)
// CHECK: call @quilt_cpu_linear_{{vnni|fma}}_i8_64x32_m16
// DENSE-LABEL: func.func @forward
// DENSE: call @quilt_cpu_linear_fma_f32_64x32_m16
func.func @forward(%x: tensor<16x64xf32>,
                   %w: tensor<64x32xf32> {quilt.weight = "w.npy"}) -> tensor<16x32xf32> {
  %y = quilt.linear %x, %w : tensor<16x64xf32>, tensor<64x32xf32> -> tensor<16x32xf32>
  return %y : tensor<16x32xf32>
}
