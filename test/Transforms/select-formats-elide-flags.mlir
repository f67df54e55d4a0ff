// RUN: rm -rf %t && mkdir -p %t
// RUN: %python %S/../Tools/quilt-run/Inputs/npy.py write %t/w.npy '<f4' 64x32 '((i[0] * 7919 + i[1] * 104729) % 1000 - 500) / 500.0'
// RUN: %python %S/../Tools/quilt-run/Inputs/npy.py write %t/b.npy '<f4' 32 '(i[0] % 7 - 3) / 3.0'
// RUN: %python %S/../Tools/quilt-run/Inputs/npy.py write %t/x.npy '<f4' 16x64 '((i[0] * 31 + i[1] * 17) % 23 - 11) / 11.0'

// quilt-select-formats runs the function on the calibration input by
// printing it into a module of its own: the tool's --mlir-elide-* and
// --mlir-print-skip-regions flags, which shorten what the tool prints, must
// not shorten that module (an elided bias is a resource that does not
// exist, an elided constant is garbage, a skipped body an empty function).
// RUN: quilt-opt %s --quilt-load-weights=dir=%t \
// RUN:   --quilt-select-formats="error-budget=0.05 formats=bf16,i8 calibration=%t/x.npy" \
// RUN:   --mlir-elide-resource-strings-if-larger=1 --mlir-elide-elementsattrs-if-larger=1 \
// RUN:   | FileCheck %s
// RUN: quilt-opt %s --quilt-load-weights=dir=%t \
// RUN:   --quilt-select-formats="error-budget=0.05 formats=bf16,i8 calibration=%t/x.npy" \
// RUN:   --mlir-print-skip-regions -o /dev/null
// CHECK-LABEL: func.func @layer
// CHECK: quilt.pack %{{.+}} -> !quilt.packed<64x32
// CHECK: quilt.linear
// CHECK: quilt.rmsnorm
func.func @layer(%x: tensor<16x64xf32>,
                 %w: tensor<64x32xf32> {quilt.weight = "w.npy"},
                 %b: tensor<32xf32> {quilt.weight = "b.npy"}) -> tensor<16x32xf32> {
  %c = arith.constant dense<[0.5, -0.5, 1.0, 2.0, 0.5, -0.5, 1.0, 2.0, 0.5, -0.5, 1.0, 2.0, 0.5, -0.5, 1.0, 2.0, 0.5, -0.5, 1.0, 2.0, 0.5, -0.5, 1.0, 2.0, 0.5, -0.5, 1.0, 2.0, 0.5, -0.5, 1.0, 2.0]> : tensor<32xf32>
  %h = quilt.linear %x, %w bias %b : tensor<16x64xf32>, tensor<64x32xf32>, tensor<32xf32> -> tensor<16x32xf32>
  %y = quilt.rmsnorm %h, %c : tensor<16x32xf32>, tensor<32xf32>
  return %y : tensor<16x32xf32>
}
