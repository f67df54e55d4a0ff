// RUN: rm -rf %t && mkdir -p %t
// RUN: %python %S/../Tools/quilt-run/Inputs/npy.py write %t/w.npy '<f4' 2x3 'i[0] * 3 + i[1]'
// RUN: %python %S/../Tools/quilt-run/Inputs/npy.py write %t/b.npy '<f4' 3 '0.5'
// RUN: quilt-opt %s --quilt-load-weights=dir=%t | FileCheck %s
// RUN: cd %t && quilt-opt %s --quilt-load-weights | FileCheck %s
// RUN: not quilt-opt %s --quilt-load-weights=dir=%t/missing 2>&1 | FileCheck %s --check-prefix=MISSING
// RUN: %python %S/../Tools/quilt-run/Inputs/npy.py write %t/b.npy '<f4' 4 '0.5'
// RUN: not quilt-opt %s --quilt-load-weights=dir=%t 2>&1 | FileCheck %s --check-prefix=SHAPE

// The annotated arguments become constants and leave the signature; the
// others stay. The constants are dense_resource blobs named after their
// files, holding the files' data (4-byte alignment, then the f32 values
// 0..5 and three 0.5).
// CHECK-LABEL: func.func @forward
// CHECK-SAME: (%[[X:.+]]: tensor<4x2xf32>) -> tensor<4x3xf32>
// CHECK-DAG: %[[W:.+]] = arith.constant dense_resource<w> : tensor<2x3xf32>
// CHECK-DAG: %[[B:.+]] = arith.constant dense_resource<b> : tensor<3xf32>
// CHECK: quilt.linear %[[X]], %[[W]] bias %[[B]]
// CHECK-DAG: b: "0x040000000000003F0000003F0000003F"
// CHECK-DAG: w: "0x04000000000000000000803F0000004000004040000080400000A040"
func.func @forward(%x: tensor<4x2xf32>,
                   %w: tensor<2x3xf32> {quilt.weight = "w.npy"},
                   %b: tensor<3xf32> {quilt.weight = "b.npy"}) -> tensor<4x3xf32> {
  %y = quilt.linear %x, %w bias %b : tensor<4x2xf32>, tensor<2x3xf32>, tensor<3xf32> -> tensor<4x3xf32>
  return %y : tensor<4x3xf32>
}

// MISSING: error: cannot read the weight of argument #1: {{.*}}w.npy
// SHAPE: error: argument #2 is 'tensor<3xf32>' but '{{.*}}b.npy' holds f32 array of shape 4
