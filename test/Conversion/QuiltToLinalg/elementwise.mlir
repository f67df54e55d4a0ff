// RUN: quilt-opt %s -split-input-file --convert-quilt-to-linalg --cse | FileCheck %s

// Element-wise ops become one parallel linalg.generic applying the op's
// element function (ElementwiseOpInterface) in f32.
// CHECK-LABEL: func.func @binary_and_relu
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel"]} ins(%{{.*}}, %{{.*}} : tensor<4x8xf32>, tensor<4x8xf32>)
// CHECK-NEXT: ^bb0
// CHECK-NEXT: arith.addf
// CHECK: linalg.generic
// CHECK: arith.mulf
// CHECK: linalg.generic
// CHECK: %[[Z:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-NEXT: arith.maximumf %{{.*}}, %[[Z]] : f32
func.func @binary_and_relu(%x: tensor<4x8xf32>, %y: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %0 = quilt.add %x, %y : tensor<4x8xf32>
  %1 = quilt.mul %0, %y : tensor<4x8xf32>
  %2 = quilt.relu %1 : tensor<4x8xf32>
  return %2 : tensor<4x8xf32>
}

// -----

// CHECK-LABEL: func.func @gelu
// CHECK: %[[C:.*]] = arith.constant 0.707106769 : f32
// CHECK-NEXT: %[[S:.*]] = arith.mulf %{{.*}}, %[[C]] : f32
// CHECK-NEXT: math.erf %[[S]] : f32
// CHECK: linalg.generic
// CHECK: math.tanh
func.func @gelu(%x: tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>) {
  %0 = quilt.gelu %x : tensor<4x8xf32>
  %1 = quilt.gelu %x tanh : tensor<4x8xf32>
  return %0, %1 : tensor<4x8xf32>, tensor<4x8xf32>
}

// -----

// bf16 in, computed in f32, bf16 out.
// CHECK-LABEL: func.func @silu_bf16
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<2x4x8xbf16>)
// CHECK: %[[X:.*]] = arith.extf %{{.*}} : bf16 to f32
// CHECK: math.exp
// CHECK: %[[Y:.*]] = arith.divf %[[X]], %{{.*}} : f32
// CHECK: arith.truncf %[[Y]] : f32 to bf16
func.func @silu_bf16(%x: tensor<2x4x8xbf16>) -> tensor<2x4x8xbf16> {
  %0 = quilt.silu %x : tensor<2x4x8xbf16>
  return %0 : tensor<2x4x8xbf16>
}

// -----

// Softmax along axis 0: max and sum reduce dim 0.
// CHECK-DAG: #[[ID:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[COL:.*]] = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func.func @softmax_axis0
// CHECK: %[[NEGINF:.*]] = arith.constant 0xFF800000 : f32
// CHECK: linalg.fill ins(%[[NEGINF]] : f32) outs(%{{.*}} : tensor<8xf32>)
// CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[COL]]], iterator_types = ["reduction", "parallel"]}
// CHECK: arith.maximumf
// CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[COL]], #[[ID]]], iterator_types = ["parallel", "parallel"]}
// CHECK: arith.subf
// CHECK-NEXT: math.exp
// CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[COL]]], iterator_types = ["reduction", "parallel"]}
// CHECK: arith.addf
// CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[COL]], #[[ID]]], iterator_types = ["parallel", "parallel"]}
// CHECK: arith.divf
func.func @softmax_axis0(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %0 = quilt.softmax %x {axis = 0} : tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

// RMSNorm over the last dim: sum of squares per row, then one epilogue.
// CHECK-DAG: #[[ROW:.*]] = affine_map<(d0, d1) -> (d0)>
// CHECK-DAG: #[[COL:.*]] = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func.func @rmsnorm
// CHECK: %[[SS:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]}
// CHECK: arith.mulf
// CHECK: arith.addf
// CHECK: %[[EPS:.*]] = arith.constant 9.99999997E-7 : f32
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[ROW]], #[[COL]], #{{.*}}]
// CHECK-SAME: ins(%{{.*}}, %[[SS]], %{{.*}} : tensor<4x8xf32>, tensor<4xf32>, tensor<8xf32>)
// CHECK: arith.addf %{{.*}}, %[[EPS]] : f32
// CHECK-NEXT: math.rsqrt
func.func @rmsnorm(%x: tensor<4x8xf32>, %g: tensor<8xf32>) -> tensor<4x8xf32> {
  %0 = quilt.rmsnorm %x, %g : tensor<4x8xf32>, tensor<8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

// LayerNorm with a dynamic row length: D is read with tensor.dim.
// CHECK-LABEL: func.func @layernorm_dynamic
// CHECK: %[[D:.*]] = tensor.dim %{{.*}}, %{{.*}} : tensor<4x?xf32>
// CHECK: %[[DI:.*]] = arith.index_cast %[[D]] : index to i64
// CHECK: %[[DF:.*]] = arith.sitofp %[[DI]] : i64 to f32
// CHECK: arith.divf %{{.*}}, %[[DF]] : f32
// CHECK: arith.subf
// CHECK: math.rsqrt
func.func @layernorm_dynamic(%x: tensor<4x?xf32>, %g: tensor<?xf32>, %b: tensor<?xf32>) -> tensor<4x?xf32> {
  %0 = quilt.layernorm %x, %g, %b : tensor<4x?xf32>, tensor<?xf32>, tensor<?xf32>
  return %0 : tensor<4x?xf32>
}

// -----

// A fused block means its body.
// CHECK-LABEL: func.func @fused
// CHECK-NOT: quilt.
// CHECK: linalg.generic
// CHECK: math.erf
// CHECK: return
func.func @fused(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %0 = quilt.fused (%a = %x) : (tensor<4x8xf32>) -> tensor<4x8xf32> {
    %g = quilt.gelu %a : tensor<4x8xf32>
    quilt.yield %g : tensor<4x8xf32>
  }
  return %0 : tensor<4x8xf32>
}
