// RUN: quilt-opt %s --canonicalize --split-input-file | FileCheck %s

// A lossless round trip folds away.
// CHECK-LABEL: func.func @unpack_of_pack_dense
// CHECK-SAME: (%[[W:.*]]: tensor<8x4xf32>)
// CHECK-NEXT: return %[[W]]
func.func @unpack_of_pack_dense(%w: tensor<8x4xf32>) -> tensor<8x4xf32> {
  %p = quilt.pack %w : tensor<8x4xf32> -> !quilt.packed<8x4>
  %u = quilt.unpack %p : !quilt.packed<8x4> -> tensor<8x4xf32>
  return %u : tensor<8x4xf32>
}

// -----

// A lossy one does not.
// CHECK-LABEL: func.func @unpack_of_pack_int8
// CHECK: %[[P:.*]] = quilt.pack
// CHECK: %[[U:.*]] = quilt.unpack %[[P]]
// CHECK: return %[[U]]
func.func @unpack_of_pack_int8(%w: tensor<8x4xf32>) -> tensor<8x4xf32> {
  %p = quilt.pack %w : tensor<8x4xf32> -> !quilt.packed<8x4, precision<i8, channel>>
  %u = quilt.unpack %p : !quilt.packed<8x4, precision<i8, channel>> -> tensor<8x4xf32>
  return %u : tensor<8x4xf32>
}

// -----

// A linear reads a packed weight directly rather than its decoded copy.
// CHECK-LABEL: func.func @linear_of_unpack
// CHECK-SAME: (%[[X:.*]]: tensor<2x8xf32>, %[[P:.*]]: !quilt.packed<8x4, sparsity<nm<2, 4>>>)
// CHECK-NEXT: %[[Y:.*]] = quilt.linear %[[X]], %[[P]] : tensor<2x8xf32>, !quilt.packed<8x4, sparsity<nm<2, 4>>> -> tensor<2x4xf32>
// CHECK-NEXT: return %[[Y]]
func.func @linear_of_unpack(%x: tensor<2x8xf32>, %p: !quilt.packed<8x4, sparsity<nm<2, 4>>>) -> tensor<2x4xf32> {
  %w = quilt.unpack %p : !quilt.packed<8x4, sparsity<nm<2, 4>>> -> tensor<8x4xf32>
  %y = quilt.linear %x, %w : tensor<2x8xf32>, tensor<8x4xf32> -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}
