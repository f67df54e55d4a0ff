// RUN: rm -rf %t && mkdir -p %t
// RUN: %python %S/Inputs/npy.py write %t/x.npy '<f4' 2x64 'i[0] + 1'
// RUN: %python %S/Inputs/npy.py write %t/ones.npy '|i1' 4096 '-128 if i[0] % 2 == 0 else 63'
// RUN: %python %S/Inputs/npy.py write %t/short.npy '|i1' 100 '0'
// RUN: quilt-run %s --pipeline cpu --input 0=%t/x.npy --input 1=%t/ones.npy \
// RUN:   --print-results | FileCheck %s
// RUN: not quilt-run %s --pipeline cpu --input 0=%t/x.npy --input 1=%t/short.npy 2>&1 \
// RUN:   | FileCheck %s --check-prefix=SHORT
// RUN: not quilt-run %s --pipeline reference --input 0=%t/x.npy --input 1=%t/ones.npy 2>&1 \
// RUN:   | FileCheck %s --check-prefix=REFERENCE

// With the CPU pipeline a packed weight may also be given as the bytes its
// CPU layout stores (what quilt-select-formats' end-to-end check hands on),
// which are then not packed again. bf16 1.0 is 0x3f80: bytes 0x80 (-128)
// and 0x3f (63), repeated, make every weight 1.0 whatever the panel order,
// so y[m][n] = 64 * (m + 1).
// CHECK: result #0: tensor<2x32xf32>
// CHECK-NEXT: {{^\[\[}}64, 64, {{(64, )+}}64],
// CHECK-NEXT: {{^ \[}}128, 128, {{(128, )+}}128]]

// SHORT: entry 'main' argument #1: expected !quilt.packed<64x32, precision<bf16>> (given as its dense f32 64x32 weight or its 4096 packed bytes), given i8 array of shape 100

// The reference pipeline stores packed weights as dense f32: it takes only
// the dense weight.
// REFERENCE: entry 'main' argument #1: expected !quilt.packed<64x32, precision<bf16>> (given as its dense f32 64x32 weight), given i8 array of shape 4096
func.func @main(%x: tensor<2x64xf32>, %w: !quilt.packed<64x32, precision<bf16>>) -> tensor<2x32xf32> {
  %y = quilt.linear %x, %w : tensor<2x64xf32>, !quilt.packed<64x32, precision<bf16>> -> tensor<2x32xf32>
  return %y : tensor<2x32xf32>
}
