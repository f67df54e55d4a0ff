// RUN: quilt-opt %s --convert-quilt-to-cpu | FileCheck %s

// Element-wise ops on static f32 tensors: one loop over the flattened
// elements, 16 lanes per step with a masked tail (4 x 10 = 40 elements), the
// op's element function built on vectors, and exp expanded to a polynomial
// on vectors (no scalar libm call per lane).
// CHECK-LABEL: func.func @silu_add(
// CHECK:         memref.collapse_shape %{{.*}} {{\[\[}}0, 1]] : memref<4x10xf32> into memref<40xf32>
// CHECK:         scf.for %{{.*}} = %{{.*}} to %{{.*}} step %c16
// CHECK:           vector.create_mask
// CHECK:           vector.maskedload
// CHECK:           arith.addf %{{.*}} : vector<16xf32>
// CHECK:           vector.maskedstore
// CHECK:         scf.for %{{.*}} = %{{.*}} to %{{.*}} step %c16
// CHECK-NOT:       math.exp
// CHECK:           arith.divf %{{.*}} : vector<16xf32>
// CHECK:           vector.maskedstore
func.func @silu_add(%x: tensor<4x10xf32>, %y: tensor<4x10xf32>) -> tensor<4x10xf32> {
  %a = quilt.add %x, %y : tensor<4x10xf32>
  %s = quilt.silu %a : tensor<4x10xf32>
  return %s : tensor<4x10xf32>
}

// Other element types keep the reference lowering.
// CHECK-LABEL: func.func @bf16(
// CHECK:         linalg.generic
func.func @bf16(%x: tensor<8xbf16>) -> tensor<8xbf16> {
  %r = quilt.relu %x : tensor<8xbf16>
  return %r : tensor<8xbf16>
}

// Row-wise ops: per row, lane-wise reductions reduced once (vector.reduction)
// and a final pass of masked stores; exp expanded to a vector polynomial.
// CHECK-LABEL: func.func @softmax(
// CHECK:         memref.collapse_shape %{{.*}} {{\[\[}}0, 1], [2]] : memref<2x3x20xf32> into memref<6x20xf32>
// CHECK:         vector.reduction <maximumf>
// CHECK-NOT:     math.exp
// CHECK:         vector.reduction <add>
// CHECK:         arith.divf %{{.*}} : vector<16xf32>
// CHECK:         vector.maskedstore
func.func @softmax(%x: tensor<2x3x20xf32>) -> tensor<2x3x20xf32> {
  %y = quilt.softmax %x : tensor<2x3x20xf32>
  return %y : tensor<2x3x20xf32>
}

// CHECK-LABEL: func.func @layernorm(
// CHECK:         vector.reduction <add>
// CHECK:         vector.reduction <add>
// CHECK:         math.sqrt %{{.*}} : f32
// CHECK:         vector.maskedstore
func.func @layernorm(%x: tensor<4x20xf32>, %g: tensor<20xf32>, %b: tensor<20xf32>) -> tensor<4x20xf32> {
  %y = quilt.layernorm %x, %g, %b : tensor<4x20xf32>, tensor<20xf32>, tensor<20xf32>
  return %y : tensor<4x20xf32>
}
