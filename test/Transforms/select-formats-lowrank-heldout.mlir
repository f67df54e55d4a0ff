// A low rank is fitted on the even calibration rows and its error measured
// on the odd ones. Fitted on 20 of these 40 rows, lr16 reproduces them
// closely; held out, its error is what it is on inputs it never saw, far
// above the budget, so the weight stays dense f32.
// RUN: rm -rf %t && mkdir -p %t
// RUN: %python %S/../Tools/quilt-run/Inputs/npy.py write %t/w.npy '<f4' 128x128 '((i[0] * 7919 + i[1] * 104729) % 1000 - 500) / 500.0'
// RUN: %python %S/../Tools/quilt-run/Inputs/npy.py write %t/x.npy '<f4' 40x128 '((i[0] * 7 + i[1] * 13) % 29 - 14) / 14.0'
// RUN: quilt-opt %s --quilt-load-weights=dir=%t \
// RUN:   --quilt-select-formats="error-budget=0.01 objective=size formats=lr16 calibration=%t/x.npy explain=1" \
// RUN:   2>%t/explain | FileCheck %s
// RUN: FileCheck %s --check-prefix=EXPLAIN < %t/explain
// CHECK-LABEL: func.func @layer
// CHECK-NOT: lowrank
// CHECK: quilt.pack %{{.+}} -> !quilt.packed<128x128>
// EXPLAIN: f32 {{.+}} 0.000e+00 {{.+}}<- chosen
// EXPLAIN: lr16 {{.+}} {{[0-9.]+}}e-01
func.func @layer(%x: tensor<40x128xf32>,
                 %w: tensor<128x128xf32> {quilt.weight = "w.npy"}) -> tensor<40x128xf32> {
  %y = quilt.linear %x, %w : tensor<40x128xf32>, tensor<128x128xf32> -> tensor<40x128xf32>
  return %y : tensor<40x128xf32>
}
