// RUN: quilt-opt %s --quilt-unfuse | FileCheck %s

// The body is moved in front of the block, its arguments bound to the inputs
// and its yielded values forwarded to the users.
// CHECK-LABEL: func.func @epilogue
// CHECK-SAME: (%[[X:.*]]: tensor<16x64xf32>, %[[W:.*]]: tensor<64x32xf32>, %[[B:.*]]: tensor<32xf32>)
// CHECK-NOT: quilt.fused
// CHECK-NEXT: %[[L:.*]] = quilt.linear %[[X]], %[[W]] bias %[[B]]
// CHECK-NEXT: %[[G:.*]] = quilt.gelu %[[L]]
// CHECK-NEXT: %[[S:.*]] = quilt.add %[[G]], %[[L]]
// CHECK-NEXT: return %[[S]], %[[L]]
func.func @epilogue(%x: tensor<16x64xf32>, %w: tensor<64x32xf32>, %b: tensor<32xf32>) -> (tensor<16x32xf32>, tensor<16x32xf32>) {
  %r:2 = quilt.fused (%a = %x, %ww = %w, %bb = %b)
      : (tensor<16x64xf32>, tensor<64x32xf32>, tensor<32xf32>) -> (tensor<16x32xf32>, tensor<16x32xf32>) {
    %l = quilt.linear %a, %ww bias %bb : tensor<16x64xf32>, tensor<64x32xf32>, tensor<32xf32> -> tensor<16x32xf32>
    %g = quilt.gelu %l : tensor<16x32xf32>
    quilt.yield %g, %l : tensor<16x32xf32>, tensor<16x32xf32>
  }
  %s = quilt.add %r#0, %r#1 : tensor<16x32xf32>
  return %s, %r#1 : tensor<16x32xf32>, tensor<16x32xf32>
}

// Nested blocks unfuse from the outside in; a block that yields its input
// directly disappears.
// CHECK-LABEL: func.func @nested
// CHECK-SAME: (%[[X:.*]]: tensor<4xf32>)
// CHECK-NEXT: %[[R:.*]] = quilt.relu %[[X]]
// CHECK-NEXT: return %[[R]], %[[X]]
func.func @nested(%x: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %0 = quilt.fused (%a = %x) : (tensor<4xf32>) -> tensor<4xf32> {
    %1 = quilt.fused (%b = %a) : (tensor<4xf32>) -> tensor<4xf32> {
      %r = quilt.relu %b : tensor<4xf32>
      quilt.yield %r : tensor<4xf32>
    }
    quilt.yield %1 : tensor<4xf32>
  }
  %2 = quilt.fused (%c = %x) : (tensor<4xf32>) -> tensor<4xf32> {
    quilt.yield %c : tensor<4xf32>
  }
  return %0, %2 : tensor<4xf32>, tensor<4xf32>
}
