// Two different constant weights of one packed type, folded by
// quilt-pack-weights into two quilt.packed_constant ops, stay two weights
// (they were once merged by the greedy driver's constant de-duplication).
// RUN: quilt-run %s --entry main --pipeline cpu --check --tolerance 1e-5 | FileCheck %s
// RUN: quilt-opt %s --quilt-pack-weights --canonicalize | FileCheck %s --check-prefix=IR

// CHECK: check vs reference: max_abs_err {{.*}}, max_rel_err
// IR-COUNT-2: quilt.packed_constant "cpu"
!w = !quilt.packed<8x8, precision<i8, channel>>
func.func @main(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %one = arith.constant dense<1.0> : tensor<8x8xf32>
  %two = arith.constant dense<2.0> : tensor<8x8xf32>
  %p = quilt.pack %one : tensor<8x8xf32> -> !w
  %q = quilt.pack %two : tensor<8x8xf32> -> !w
  %a = quilt.linear %x, %p : tensor<4x8xf32>, !w -> tensor<4x8xf32>
  %b = quilt.linear %x, %q : tensor<4x8xf32>, !w -> tensor<4x8xf32>
  %s = quilt.add %a, %b : tensor<4x8xf32>
  return %s : tensor<4x8xf32>
}
