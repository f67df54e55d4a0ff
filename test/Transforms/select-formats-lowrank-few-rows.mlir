// A rank above the rows it would be fitted on (half the calibration rows)
// is not determined by the data: the candidate is skipped ("few rows"),
// unless assigned.
// RUN: rm -rf %t && mkdir -p %t
// RUN: %python %S/../Tools/quilt-run/Inputs/npy.py write %t/w.npy '<f4' 128x128 '((i[0] * 7919 + i[1] * 104729) % 1000 - 500) / 500.0'
// RUN: %python %S/../Tools/quilt-run/Inputs/npy.py write %t/x.npy '<f4' 8x128 '((i[0] * 7 + i[1] * 13) % 29 - 14) / 14.0'
// RUN: quilt-opt %s --quilt-load-weights=dir=%t \
// RUN:   --quilt-select-formats="error-budget=0.5 objective=size formats=lr16 calibration=%t/x.npy explain=1" \
// RUN:   2>%t/explain | FileCheck %s
// RUN: FileCheck %s --check-prefix=EXPLAIN < %t/explain
// CHECK-LABEL: func.func @layer
// CHECK-NOT: lowrank
// EXPLAIN: f32 {{.+}} 0.000e+00 {{.+}}<- chosen
// EXPLAIN: lr16 {{.+}} few rows
// RUN: quilt-opt %s --quilt-load-weights=dir=%t \
// RUN:   --quilt-select-formats="assign=lr16 calibration=%t/x.npy" | FileCheck %s --check-prefix=ASSIGNED
// ASSIGNED: quilt.pack_factors {{.+}} -> !quilt.packed<128x128, structure<lowrank<16>>>
func.func @layer(%x: tensor<8x128xf32>,
                 %w: tensor<128x128xf32> {quilt.weight = "w.npy"}) -> tensor<8x128xf32> {
  %y = quilt.linear %x, %w : tensor<8x128xf32>, tensor<128x128xf32> -> tensor<8x128xf32>
  return %y : tensor<8x128xf32>
}
