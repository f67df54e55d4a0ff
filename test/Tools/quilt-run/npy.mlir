// RUN: rm -rf %t && mkdir -p %t
// RUN: %python %S/Inputs/npy.py write %t/f16.npy '<f2' 2x2 'i[0] * 2 + i[1] + 0.5'
// RUN: %python %S/Inputs/npy.py write %t/i32.npy '<i4' 3 'i[0] - 1'
// RUN: %python %S/Inputs/npy.py write %t/i8.npy '|i1' 3 '-100 + i[0]'
// RUN: %python %S/Inputs/npy.py write %t/i64.npy '<i8' 3 '2**40 * i[0]'
// RUN: quilt-run %s --entry types --pipeline reference --input 0=%t/f16.npy \
// RUN:   --input 1=%t/i32.npy --input 2=%t/i8.npy --input 3=%t/i64.npy \
// RUN:   --print-results --output-npy %t/out | FileCheck %s
// RUN: %python %S/Inputs/npy.py dump %t/out/result0.npy | FileCheck %s --check-prefix=F16
// RUN: %python %S/Inputs/npy.py dump %t/out/result1.npy | FileCheck %s --check-prefix=I32
// RUN: %python %S/Inputs/npy.py dump %t/out/result2.npy | FileCheck %s --check-prefix=I8
// RUN: %python %S/Inputs/npy.py dump %t/out/result3.npy | FileCheck %s --check-prefix=I64

// What quilt-run writes it reads back: a scalar (rank 0) and bf16 (written
// widened to f32, as numpy has no bf16).
// RUN: %python %S/Inputs/npy.py write %t/scalar.npy '<f4' '' '1.25'
// RUN: quilt-run %s --entry scalar_bf16 --pipeline reference --input 0=%t/scalar.npy \
// RUN:   --print-results --output-npy %t/out2 | FileCheck %s --check-prefix=SCALAR
// RUN: %python %S/Inputs/npy.py dump %t/out2/result1.npy | FileCheck %s --check-prefix=BF16
// RUN: quilt-run %s --entry scalar_bf16 --pipeline reference \
// RUN:   --input 0=%t/out2/result0.npy --print-results | FileCheck %s --check-prefix=AGAIN

// CHECK: result #0: tensor<2x2xf16>
// CHECK-NEXT: {{^\[\[}}1, 3],
// CHECK-NEXT: {{^ \[}}5, 7]]
// CHECK-NEXT: result #1: tensor<3xi32>
// CHECK-NEXT: {{^\[}}-2, 0, 2]
// CHECK-NEXT: result #2: tensor<3xi8>
// CHECK-NEXT: {{^\[}}-100, -99, -98]
// CHECK-NEXT: result #3: tensor<3xi64>
// CHECK-NEXT: {{^\[}}0, 2199023255552, 4398046511104]

// F16: <f2 2x2
// F16-NEXT: 1
// F16-NEXT: 3
// F16-NEXT: 5
// F16-NEXT: 7
// I32: <i4 3
// I32-NEXT: -2
// I32-NEXT: 0
// I32-NEXT: 2
// I8: |i1 3
// I8-NEXT: -100
// I64: <i8 3
// I64-NEXT: 0
// I64-NEXT: 2.19902e+12
// I64-NEXT: 4.39805e+12
func.func @types(%h: tensor<2x2xf16>, %a: tensor<3xi32>, %b: tensor<3xi8>, %c: tensor<3xi64>)
    -> (tensor<2x2xf16>, tensor<3xi32>, tensor<3xi8>, tensor<3xi64>) {
  %h2 = arith.addf %h, %h : tensor<2x2xf16>
  %a2 = arith.addi %a, %a : tensor<3xi32>
  %c2 = arith.addi %c, %c : tensor<3xi64>
  return %h2, %a2, %b, %c2 : tensor<2x2xf16>, tensor<3xi32>, tensor<3xi8>, tensor<3xi64>
}

// SCALAR: result #0: tensor<f32>
// SCALAR-NEXT: {{^}}2.5
// SCALAR-NEXT: result #1: tensor<bf16>
// SCALAR-NEXT: {{^}}2.5
// BF16: <f4
// BF16-NEXT: 2.5
// AGAIN: result #0: tensor<f32>
// AGAIN-NEXT: {{^}}5
func.func @scalar_bf16(%x: tensor<f32>) -> (tensor<f32>, tensor<bf16>) {
  %y = arith.addf %x, %x : tensor<f32>
  %z = arith.truncf %y : tensor<f32> to tensor<bf16>
  return %y, %z : tensor<f32>, tensor<bf16>
}
