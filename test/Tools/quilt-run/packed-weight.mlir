// RUN: rm -rf %t && mkdir -p %t
// RUN: %python %S/Inputs/npy.py write %t/x.npy '<f4' 2x64 \
// RUN:   '[i[0] + 1, 1][i[1]] if i[1] < 2 else 0'
// RUN: %python %S/Inputs/npy.py write %t/w.npy '<f4' 64x32 \
// RUN:   '127 if i[0] == 0 else (i[1] - 16 if i[0] == 1 else 0)'
// RUN: quilt-run %s --pipeline reference --input 0=%t/x.npy --input 1=%t/w.npy \
// RUN:   --print-results | FileCheck %s
// RUN: quilt-run %s --pipeline reference --check --bench 2 \
// RUN:   | FileCheck %s --check-prefix=RANDOM
// RUN: quilt-run %s --entry shared --pipeline reference --check --json \
// RUN:   | FileCheck %s --check-prefix=SHARED

// A packed weight argument takes its dense f32 K x N matrix, packed once by
// quilt.pack before the entry runs. Every column has absmax 127, so the
// per-channel int8 scale is 1 and the integer weights are exact:
// y[m][n] = 127 * (m + 1) + (n - 16).
// CHECK: result #0: tensor<2x32xf32>
// CHECK-NEXT: {{^\[\[}}111, 112, 113, {{.*}}, 142],
// CHECK-NEXT: {{^ \[}}238, 239, 240, {{.*}}, 269]]
func.func @main(%x: tensor<2x64xf32>, %w: !quilt.packed<64x32, precision<i8, channel>>) -> tensor<2x32xf32> {
  %y = quilt.linear %x, %w : tensor<2x64xf32>, !quilt.packed<64x32, precision<i8, channel>> -> tensor<2x32xf32>
  return %y : tensor<2x32xf32>
}

// Random weights: packing is deterministic, so reference against reference
// is exact.
// RANDOM: time: median
// RANDOM: check vs reference: max_abs_err 0, max_rel_err 0

// Two arguments of one packed type (one pack function) and one of another.
// SHARED: "max_abs_err":0
!i4 = !quilt.packed<64x32, precision<i4, group<32>>, sparsity<nm<2, 4>>>
func.func @shared(%x: tensor<4x64xf32>, %a: !quilt.packed<64x32, precision<i8, channel>>,
                  %b: !quilt.packed<64x32, precision<i8, channel>>, %c: !i4) -> tensor<4x32xf32> {
  %ya = quilt.linear %x, %a : tensor<4x64xf32>, !quilt.packed<64x32, precision<i8, channel>> -> tensor<4x32xf32>
  %yb = quilt.linear %x, %b : tensor<4x64xf32>, !quilt.packed<64x32, precision<i8, channel>> -> tensor<4x32xf32>
  %yc = quilt.linear %x, %c : tensor<4x64xf32>, !i4 -> tensor<4x32xf32>
  %s = quilt.add %ya, %yb : tensor<4x32xf32>
  %t = quilt.add %s, %yc : tensor<4x32xf32>
  return %t : tensor<4x32xf32>
}
