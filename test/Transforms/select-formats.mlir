// RUN: rm -rf %t && mkdir -p %t
// RUN: %python %S/../Tools/quilt-run/Inputs/npy.py write %t/w1.npy '<f4' 64x32 '((i[0] * 7919 + i[1] * 104729) % 1000 - 500) / 500.0'
// RUN: %python %S/../Tools/quilt-run/Inputs/npy.py write %t/w2.npy '<f4' 32x64 '((i[0] * 104729 + i[1] * 7919) % 997 - 498) / 498.0'
// RUN: %python %S/../Tools/quilt-run/Inputs/npy.py write %t/x.npy '<f4' 16x64 '((i[0] * 31 + i[1] * 17) % 23 - 11) / 11.0'

// A budget of 0 keeps every weight dense f32 (packed as such, so that
// quilt-pack-weights lays out its panels at compile time).
// RUN: quilt-opt %s --quilt-load-weights=dir=%t --quilt-select-formats=error-budget=0 \
// RUN:   | FileCheck %s --check-prefix=ZERO
// ZERO-LABEL: func.func @mlp
// ZERO: quilt.pack %{{.+}} : tensor<64x32xf32> -> !quilt.packed<64x32>{{$}}
// ZERO-NOT: act
// ZERO: quilt.pack %{{.+}} : tensor<32x64xf32> -> !quilt.packed<32x64>{{$}}
// ZERO-NOT: act
// ZERO: return

// The size objective with only 2:4 allowed: 2:4 drops the smaller half of
// every 4 entries, 0.54 and 0.62 of these weights' norms (0.82 together, as
// a root-sum-square). A budget of 1.5 takes both layers, 0.6 only one, 0.3
// none.
// RUN: quilt-opt %s --quilt-load-weights=dir=%t \
// RUN:   --quilt-select-formats="error-budget=1.5 objective=size formats=nm24 explain=1" 2>%t/explain \
// RUN:   | FileCheck %s --check-prefix=BOTH
// RUN: FileCheck %s --check-prefix=EXPLAIN < %t/explain
// BOTH-LABEL: func.func @mlp
// BOTH: quilt.pack %{{.+}} : tensor<64x32xf32> -> !quilt.packed<64x32, sparsity<nm<2, 4>>>
// BOTH: quilt.pack %{{.+}} : tensor<32x64xf32> -> !quilt.packed<32x64, sparsity<nm<2, 4>>>
// EXPLAIN: quilt-select-formats @mlp: objective size, error budget 1.500000e+00 (relative weight error, weight-space proxy)
// EXPLAIN: layer 0 (64x32
// EXPLAIN-NEXT: format pred_ms error bytes
// EXPLAIN-NEXT: f32 {{[0-9.]+}} 0.000e+00 {{[0-9]+}}
// EXPLAIN-NEXT: nm24 {{[0-9.]+}} 5.4{{[0-9]+}}e-01 {{[0-9]+}} <- chosen
// EXPLAIN: layer 1 (32x64
// EXPLAIN: nm24 {{.*}} <- chosen
// EXPLAIN: why: least summed size

// A budget of 1.0 still takes both: their root-sum-square is within it,
// though their sum (1.16) is not.
// RUN: quilt-opt %s --quilt-load-weights=dir=%t \
// RUN:   --quilt-select-formats="error-budget=1.0 objective=size formats=nm24" \
// RUN:   | FileCheck %s --check-prefix=BOTH

// RUN: quilt-opt %s --quilt-load-weights=dir=%t \
// RUN:   --quilt-select-formats="error-budget=0.6 objective=size formats=nm24" \
// RUN:   | FileCheck %s --check-prefix=ONE
// ONE-LABEL: func.func @mlp
// ONE-COUNT-1: quilt.pack {{.*}}nm<2, 4>
// ONE-NOT: quilt.pack {{.*}}nm<2, 4>
// ONE: return
// RUN: quilt-opt %s --quilt-load-weights=dir=%t \
// RUN:   --quilt-select-formats="error-budget=0.3 objective=size formats=nm24" \
// RUN:   | FileCheck %s --check-prefix=ZERO

// int8 weights with int8 activations: the weight error is small, and the
// linear gets the activation precision too. Pins: @pinned's first linear
// carries quilt.pinned, its second already has a packed weight.
// RUN: quilt-opt %s --quilt-load-weights=dir=%t \
// RUN:   --quilt-select-formats="error-budget=0.1 objective=size formats=i8" \
// RUN:   | FileCheck %s --check-prefix=INT8
// INT8-LABEL: func.func @mlp
// INT8: %[[P:.+]] = quilt.pack %{{.+}} : tensor<64x32xf32> -> !quilt.packed<64x32, precision<i8, channel>>
// INT8: quilt.linear %{{.+}}, %[[P]] act <i8, channel>
// INT8: quilt.pack %{{.+}} -> !quilt.packed<32x64, precision<i8, channel>>
// INT8-LABEL: func.func @pinned
// INT8: quilt.linear %{{.+}}, %{{.+}} {quilt.pinned} : tensor<16x64xf32>, tensor<64x32xf32>
// INT8: quilt.pack %{{.+}} -> !quilt.packed<32x64, precision<bf16>>
// INT8-NOT: quilt.pack {{.*}}i8
// INT8: return

// Calibration: errors are measured on the layers' real inputs and the
// choice is validated end to end.
// RUN: quilt-opt %s --quilt-load-weights=dir=%t \
// RUN:   --quilt-select-formats="error-budget=0.5 objective=size formats=i8,nm24 calibration=%t/x.npy explain=1" \
// RUN:   2>&1 >/dev/null | FileCheck %s --check-prefix=CALIB
// CALIB: quilt-select-formats @mlp: {{.*}}(relative output error on calibration data)
// CALIB: why: {{.*}}; end-to-end relative output error {{[0-9.e+-]+}}
func.func @mlp(%x: tensor<16x64xf32>,
               %w1: tensor<64x32xf32> {quilt.weight = "w1.npy"},
               %w2: tensor<32x64xf32> {quilt.weight = "w2.npy"}) -> tensor<16x64xf32> {
  %h = quilt.linear %x, %w1 : tensor<16x64xf32>, tensor<64x32xf32> -> tensor<16x32xf32>
  %a = quilt.relu %h : tensor<16x32xf32>
  %y = quilt.linear %a, %w2 : tensor<16x32xf32>, tensor<32x64xf32> -> tensor<16x64xf32>
  return %y : tensor<16x64xf32>
}

func.func @pinned(%x: tensor<16x64xf32>,
                  %w1: tensor<64x32xf32> {quilt.weight = "w1.npy"},
                  %w2: tensor<32x64xf32> {quilt.weight = "w2.npy"}) -> tensor<16x64xf32> {
  %h = quilt.linear %x, %w1 {quilt.pinned} : tensor<16x64xf32>, tensor<64x32xf32> -> tensor<16x32xf32>
  %p = quilt.pack %w2 : tensor<32x64xf32> -> !quilt.packed<32x64, precision<bf16>>
  %y = quilt.linear %h, %p : tensor<16x32xf32>, !quilt.packed<32x64, precision<bf16>> -> tensor<16x64xf32>
  return %y : tensor<16x64xf32>
}
