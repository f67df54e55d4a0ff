// Low-rank candidates fitted to the calibration outputs. The calibration
// input has only 16 distinct columns (rank 16, in its even and in its odd
// rows, which fit and measure the low rank), so X W has rank 16 and the
// rank-16 weight W V V^T reproduces the layer's output exactly, although W
// itself (pseudo-random) is far from rank 16.
// RUN: rm -rf %t && mkdir -p %t
// RUN: %python %S/../Tools/quilt-run/Inputs/npy.py write %t/w.npy '<f4' 128x128 '((i[0] * 7919 + i[1] * 104729) % 1000 - 500) / 500.0'
// RUN: %python %S/../Tools/quilt-run/Inputs/npy.py write %t/x.npy '<f4' 128x128 '((i[0] * 31 + (i[1] % 16) * 17) % 23 - 11) / 11.0'

// With calibration: lr16 and lr32 (2 r (K + N) <= K N) have output errors
// at f32 rounding, and the smaller is stored, from its fitted factors
// (W V and V^T, quilt.pack_factors), not from the original weight.
// RUN: quilt-opt %s --quilt-load-weights=dir=%t \
// RUN:   --quilt-select-formats="error-budget=0.001 objective=size formats=lr16,lr32,lr64 calibration=%t/x.npy explain=1" \
// RUN:   2>%t/explain | FileCheck %s --check-prefix=FIT
// RUN: FileCheck %s --check-prefix=FIT-EXPLAIN < %t/explain
// FIT-LABEL: func.func @layer
// FIT: arith.constant dense_resource<w> : tensor<128x128xf32>
// FIT: %[[U:.+]] = arith.constant dense<{{.+}}> : tensor<128x16xf32>
// FIT: %[[V:.+]] = arith.constant dense<{{.+}}> : tensor<16x128xf32>
// FIT: %[[P:.+]] = quilt.pack_factors %[[U]], %[[V]] : tensor<128x16xf32>, tensor<16x128xf32> -> !quilt.packed<128x128, structure<lowrank<16>>>
// FIT: quilt.linear %{{.+}}, %[[P]]
// FIT-EXPLAIN: layer 0 (128x128
// FIT-EXPLAIN: f32 {{.+}} 0.000e+00
// FIT-EXPLAIN: lr16 {{.+}} {{0.000e\+00|[0-9.]+e-0[5-9]}} {{.+}}<- chosen
// FIT-EXPLAIN: lr32 {{.+}} {{0.000e\+00|[0-9.]+e-0[5-9]}}
// FIT-EXPLAIN-NOT: lr64

// An assigned low-rank format is fitted to the calibration input too.
// RUN: quilt-opt %s --quilt-load-weights=dir=%t \
// RUN:   --quilt-select-formats="assign=lr32 calibration=%t/x.npy" | FileCheck %s --check-prefix=FIT32
// FIT32-LABEL: func.func @layer
// FIT32: arith.constant dense_resource<w> : tensor<128x128xf32>
// FIT32: quilt.pack_factors %{{.+}}, %{{.+}} : tensor<128x32xf32>, tensor<32x128xf32> -> !quilt.packed<128x128, structure<lowrank<32>>>

// Compiled with the factors packed at compile time, the selected program
// computes what the reference pipeline computes from the same factors.
// RUN: quilt-run %s --entry layer --input 0=%t/x.npy --check --tolerance 1e-4 \
// RUN:   --passes "quilt-load-weights{dir=%t},quilt-select-formats{assign=lr32 calibration=%t/x.npy}" \
// RUN:   | FileCheck %s --check-prefix=RUN32
// RUN32: check vs reference: max_abs_err

// Without calibration the error is the weight-space one of the truncated
// SVD, far above the budget: the weight stays dense f32.
// RUN: quilt-opt %s --quilt-load-weights=dir=%t \
// RUN:   --quilt-select-formats="error-budget=0.001 objective=size formats=lr16,lr32 explain=1" \
// RUN:   2>%t/explain-weight | FileCheck %s --check-prefix=WEIGHT
// RUN: FileCheck %s --check-prefix=WEIGHT-EXPLAIN < %t/explain-weight
// WEIGHT-LABEL: func.func @layer
// WEIGHT-NOT: lowrank
// WEIGHT-EXPLAIN: lr16 {{.+}} {{[0-9.]+}}e-01
func.func @layer(%x: tensor<128x128xf32>,
                 %w: tensor<128x128xf32> {quilt.weight = "w.npy"}) -> tensor<128x128xf32> {
  %y = quilt.linear %x, %w : tensor<128x128xf32>, tensor<128x128xf32> -> tensor<128x128xf32>
  return %y : tensor<128x128xf32>
}
