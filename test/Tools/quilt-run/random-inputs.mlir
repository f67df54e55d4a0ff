// RUN: quilt-run %s --pipeline reference --print-results --seed 0 | FileCheck %s
// RUN: quilt-run %s --pipeline reference --print-results | FileCheck %s --check-prefix=SEED1

// Random inputs are fully determined by the seed: argument #i is splitmix64
// started at seed S + i; floats are 2 * (top 24 bits) / 2^24 - 1 (rounded to
// nearest even for bf16), integers (bits mod 16) - 8. The first splitmix64
// output of seed 0 is 0xe220a8397b1dcdaf: 2 * 0xe220a8 / 2^24 - 1 = 0.766622.
// CHECK: result #0: tensor<4xf32>
// CHECK-NEXT: {{^\[}}0.766622, -0.136944, -0.947132, 0.941764]
// CHECK-NEXT: result #1: tensor<2xbf16>
// CHECK-NEXT: {{^\[}}0.132812, 0.492188]
// CHECK-NEXT: result #2: tensor<5xi8>
// CHECK-NEXT: {{^\[}}6, -6, 7, -4, 1]

// The default seed is 1: argument #0 starts where seed 0's argument #1 did.
// SEED1: result #0: tensor<4xf32>
// SEED1-NEXT: {{^\[}}0.133123, 0.491563, 0.942005, -0.111282]
func.func @main(%x: tensor<4xf32>, %h: tensor<2xbf16>, %i: tensor<5xi8>)
    -> (tensor<4xf32>, tensor<2xbf16>, tensor<5xi8>) {
  return %x, %h, %i : tensor<4xf32>, tensor<2xbf16>, tensor<5xi8>
}
