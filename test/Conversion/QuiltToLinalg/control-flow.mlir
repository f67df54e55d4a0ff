// RUN: quilt-opt %s --convert-quilt-to-linalg | FileCheck %s

// Packed values flowing through scf results and block arguments get their
// dense type there too.
// CHECK-LABEL: func.func @select_weight
// CHECK-SAME: (%{{.*}}: tensor<2x2xf32>, %[[C:.*]]: i1) -> tensor<2x2xf32>
// CHECK: %[[IF:.*]] = scf.if %[[C]] -> (tensor<2x2xf32>)
// CHECK: scf.yield %{{.*}} : tensor<2x2xf32>
// CHECK: } else {
// CHECK: call @quilt_ref_round_bf16
// CHECK: scf.yield %{{.*}} : tensor<2x2xf32>
// CHECK: cf.cond_br %[[C]], ^bb1(%[[IF]] : tensor<2x2xf32>), ^bb1(%[[W:.*]] : tensor<2x2xf32>)
// CHECK: ^bb1(%[[R:.*]]: tensor<2x2xf32>):
// CHECK-NEXT: return %[[R]] : tensor<2x2xf32>
!p = !quilt.packed<2x2, precision<bf16>>
func.func @select_weight(%w: tensor<2x2xf32>, %c: i1) -> tensor<2x2xf32> {
  %q = scf.if %c -> !p {
    %p0 = quilt.pack %w : tensor<2x2xf32> -> !p
    scf.yield %p0 : !p
  } else {
    %p1 = quilt.pack %w : tensor<2x2xf32> -> !p
    scf.yield %p1 : !p
  }
  %d = quilt.pack %w : tensor<2x2xf32> -> !p
  cf.cond_br %c, ^bb1(%q : !p), ^bb1(%d : !p)
^bb1(%r: !p):
  %u = quilt.unpack %r : !p -> tensor<2x2xf32>
  return %u : tensor<2x2xf32>
}
