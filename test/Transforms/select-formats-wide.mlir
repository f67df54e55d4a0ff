// A layer wider than 1024 columns, whose candidates all store each column
// on its own (channel scales, N:M along K), has its errors measured on an
// even sample of 512 columns; the choice is then checked end to end on all
// of them.
// RUN: rm -rf %t && mkdir -p %t
// RUN: %python %S/../Tools/quilt-run/Inputs/npy.py write %t/w.npy '<f4' 64x2560 '((i[0] * 7919 + i[1] * 104729) % 1000 - 500) / 500.0'
// RUN: %python %S/../Tools/quilt-run/Inputs/npy.py write %t/x.npy '<f4' 16x64 '((i[0] * 31 + i[1] * 17) % 23 - 11) / 11.0'
// RUN: quilt-opt %s --quilt-load-weights=dir=%t \
// RUN:   --quilt-select-formats="error-budget=0.05 objective=size formats=i8,nm24 calibration=%t/x.npy explain=1" \
// RUN:   2>%t/explain | FileCheck %s
// RUN: FileCheck %s --check-prefix=EXPLAIN < %t/explain
// CHECK-LABEL: func.func @wide
// CHECK: quilt.pack %{{.+}} -> !quilt.packed<64x2560, precision<i8, channel>>
// EXPLAIN: layer 0 (64x2560 at {{.+}}; errors on 512 of 2560 columns)
// EXPLAIN: i8 {{.+}} {{[0-9.]+}}e-0{{[23]}} {{.+}}<- chosen
// EXPLAIN: nm24 {{.+}} {{[0-9.]+}}e-01
// EXPLAIN: why: {{.+}}; end-to-end relative output error {{[0-9.]+}}e-0{{[23]}}
func.func @wide(%x: tensor<16x64xf32>,
                %w: tensor<64x2560xf32> {quilt.weight = "w.npy"}) -> tensor<16x2560xf32> {
  %y = quilt.linear %x, %w : tensor<16x64xf32>, tensor<64x2560xf32> -> tensor<16x2560xf32>
  return %y : tensor<16x2560xf32>
}
