// RUN: rm -rf %t && mkdir -p %t
// RUN: %python %S/../Tools/quilt-run/Inputs/npy.py write %t/w1.npy '<f4' 64x32 '((i[0] * 7919 + i[1] * 104729) % 1000 - 500) / 500.0'
// RUN: %python %S/../Tools/quilt-run/Inputs/npy.py write %t/w2.npy '<f4' 32x64 '((i[0] * 104729 + i[1] * 7919) % 997 - 498) / 498.0'
// RUN: %python %S/../Tools/quilt-run/Inputs/npy.py write %t/x.npy '<f4' 16x64 '((i[0] * 31 + i[1] * 17) % 23 - 11) / 11.0'

// With store-packed, the formats the end-to-end check packed are stored as
// those bytes, not as quilt.pack ops for quilt-pack-weights to pack again.
// RUN: quilt-opt %s --quilt-load-weights=dir=%t \
// RUN:   --quilt-select-formats="error-budget=0.5 objective=size formats=i8 calibration=%t/x.npy store-packed=1" \
// RUN:   | FileCheck %s
// CHECK-LABEL: func.func @mlp
// CHECK-NOT: quilt.pack
// CHECK: %[[W1:.+]] = quilt.packed_constant "cpu" dense_resource<{{packed.*}}> : tensor<{{[0-9]+}}xi8> -> !quilt.packed<64x32, precision<i8, channel>>
// CHECK: quilt.linear %{{.+}}, %[[W1]] act <i8, channel>
// CHECK: %[[W2:.+]] = quilt.packed_constant "cpu" dense_resource<{{packed.*}}> : tensor<{{[0-9]+}}xi8> -> !quilt.packed<32x64, precision<i8, channel>>
// CHECK: quilt.linear %{{.+}}, %[[W2]] act <i8, channel>
// CHECK-NOT: arith.constant
// CHECK: return

// The bytes are those quilt-pack-weights makes of the quilt.pack ops (same
// kernels): both flows print the same module, blobs included.
// RUN: quilt-opt %s --quilt-load-weights=dir=%t \
// RUN:   --quilt-select-formats="error-budget=0.5 objective=size formats=i8 calibration=%t/x.npy store-packed=1" \
// RUN:   -o %t/stored.mlir
// RUN: quilt-opt %s --quilt-load-weights=dir=%t \
// RUN:   --quilt-select-formats="error-budget=0.5 objective=size formats=i8 calibration=%t/x.npy" \
// RUN:   --quilt-pack-weights -o %t/folded.mlir
// RUN: diff %t/stored.mlir %t/folded.mlir

// Without calibration there is no end-to-end check, hence nothing packed:
// quilt.pack ops as without the option.
// RUN: quilt-opt %s --quilt-load-weights=dir=%t \
// RUN:   --quilt-select-formats="error-budget=0.5 objective=size formats=i8 store-packed=1" \
// RUN:   | FileCheck %s --check-prefix=NOCALIB
// NOCALIB: quilt.pack %{{.+}} -> !quilt.packed<64x32, precision<i8, channel>>
// NOCALIB: quilt.pack %{{.+}} -> !quilt.packed<32x64, precision<i8, channel>>
func.func @mlp(%x: tensor<16x64xf32>,
               %w1: tensor<64x32xf32> {quilt.weight = "w1.npy"},
               %w2: tensor<32x64xf32> {quilt.weight = "w2.npy"}) -> tensor<16x64xf32> {
  %h = quilt.linear %x, %w1 : tensor<16x64xf32>, tensor<64x32xf32> -> tensor<16x32xf32>
  %a = quilt.relu %h : tensor<16x32xf32>
  %y = quilt.linear %a, %w2 : tensor<16x32xf32>, tensor<32x64xf32> -> tensor<16x64xf32>
  return %y : tensor<16x64xf32>
}
