// RUN: quilt-opt %s --quilt-raise-linalg --canonicalize | FileCheck %s

// What torch-mlir / StableHLO -> linalg emit for relu(x W + b).
// CHECK-LABEL: func.func @dense_relu
// CHECK-SAME: (%[[X:.+]]: tensor<8x64xf32>, %[[W:.+]]: tensor<64x32xf32>, %[[B:.+]]: tensor<32xf32>)
// CHECK-NEXT: %[[Y:.+]] = quilt.linear %[[X]], %[[W]] bias %[[B]] : tensor<8x64xf32>, tensor<64x32xf32>, tensor<32xf32> -> tensor<8x32xf32>
// CHECK-NEXT: %[[R:.+]] = quilt.relu %[[Y]] : tensor<8x32xf32>
// CHECK-NEXT: return %[[R]]
#id = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d1)>
func.func @dense_relu(%x: tensor<8x64xf32>, %w: tensor<64x32xf32>, %b: tensor<32xf32>) -> tensor<8x32xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<8x32xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<8x32xf32>) -> tensor<8x32xf32>
  %m = linalg.matmul ins(%x, %w : tensor<8x64xf32>, tensor<64x32xf32>)
                     outs(%f : tensor<8x32xf32>) -> tensor<8x32xf32>
  %a = linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel"]}
      ins(%m, %b : tensor<8x32xf32>, tensor<32xf32>) outs(%e : tensor<8x32xf32>) {
  ^bb0(%in: f32, %bias: f32, %out: f32):
    %s = arith.addf %in, %bias : f32
    linalg.yield %s : f32
  } -> tensor<8x32xf32>
  %r = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%a : tensor<8x32xf32>) outs(%e : tensor<8x32xf32>) {
  ^bb0(%in: f32, %out: f32):
    %c0 = arith.constant 0.0 : f32
    %v = arith.maximumf %in, %c0 : f32
    linalg.yield %v : f32
  } -> tensor<8x32xf32>
  return %r : tensor<8x32xf32>
}

// A matmul accumulating into a tensor that is not zero: linear + add.
// Element-wise add and mul of two tensors.
// CHECK-LABEL: func.func @accumulate
// CHECK-SAME: (%[[X:.+]]: tensor<4x16xf32>, %[[W:.+]]: tensor<16x8xf32>, %[[C:.+]]: tensor<4x8xf32>)
// CHECK-NEXT: %[[Y:.+]] = quilt.linear %[[X]], %[[W]] : tensor<4x16xf32>, tensor<16x8xf32> -> tensor<4x8xf32>
// CHECK-NEXT: %[[A:.+]] = quilt.add %[[Y]], %[[C]] : tensor<4x8xf32>
// CHECK-NEXT: %[[M:.+]] = quilt.mul %[[A]], %[[C]] : tensor<4x8xf32>
// CHECK-NEXT: return %[[M]]
func.func @accumulate(%x: tensor<4x16xf32>, %w: tensor<16x8xf32>, %c: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %m = linalg.matmul ins(%x, %w : tensor<4x16xf32>, tensor<16x8xf32>)
                     outs(%c : tensor<4x8xf32>) -> tensor<4x8xf32>
  %e = tensor.empty() : tensor<4x8xf32>
  %p = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%m, %c : tensor<4x8xf32>, tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %v = arith.mulf %a, %b : f32
    linalg.yield %v : f32
  } -> tensor<4x8xf32>
  return %p : tensor<4x8xf32>
}

// Left alone: max with a non-zero constant, a subtraction, an f64 matmul.
// CHECK-LABEL: func.func @not_raised
// CHECK-NOT: quilt.
// CHECK: return
func.func @not_raised(%x: tensor<4x8xf32>, %y: tensor<4x8xf32>, %d: tensor<2x2xf64>) -> (tensor<4x8xf32>, tensor<4x8xf32>, tensor<2x2xf64>) {
  %e = tensor.empty() : tensor<4x8xf32>
  %r = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %c1 = arith.constant 1.0 : f32
    %v = arith.maximumf %in, %c1 : f32
    linalg.yield %v : f32
  } -> tensor<4x8xf32>
  %s = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%x, %y : tensor<4x8xf32>, tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %v = arith.subf %a, %b : f32
    linalg.yield %v : f32
  } -> tensor<4x8xf32>
  %m = linalg.matmul ins(%d, %d : tensor<2x2xf64>, tensor<2x2xf64>)
                     outs(%d : tensor<2x2xf64>) -> tensor<2x2xf64>
  return %r, %s, %m : tensor<4x8xf32>, tensor<4x8xf32>, tensor<2x2xf64>
}
