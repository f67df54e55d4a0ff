// RUN: quilt-opt %s --quilt-reference-pipeline | \
// RUN:   mlir-runner -e main -entry-point-result=void -shared-libs=%mlir_runner_libs | \
// RUN:   FileCheck %s

// quilt.matmul on hand-made values: batched [2, M, K] x [2, K, N], the same
// with transpose_b ([2, N, K]), two batch dims, 2-d f16 operands (f32
// accumulation, one rounding to f16 at the end), and agreement with
// quilt.linear on a 2-d product.

func.func private @printMemrefF32(tensor<*xf32>)

func.func @main() {
  %a = arith.constant dense<[[[1.0, 2.0, 3.0],
                              [4.0, 5.0, 6.0]],
                             [[1.0, 0.0, -1.0],
                              [2.0, 2.0, 2.0]]]> : tensor<2x2x3xf32>
  %b = arith.constant dense<[[[1.0, 0.0],
                              [0.0, 1.0],
                              [1.0, 1.0]],
                             [[0.5, 1.0],
                              [2.0, 3.0],
                              [-1.0, 0.25]]]> : tensor<2x3x2xf32>
  // bt[i] = b[i]^T
  %bt = arith.constant dense<[[[1.0, 0.0, 1.0],
                               [0.0, 1.0, 1.0]],
                              [[0.5, 2.0, -1.0],
                               [1.0, 3.0, 0.25]]]> : tensor<2x2x3xf32>

  // CHECK: data =
  // CHECK-NEXT: [4,    5],
  // CHECK-NEXT: [10,    11]],
  // CHECK-NEXT: [1.5,    0.75],
  // CHECK-NEXT: [3,    8.5]]]
  %c = quilt.matmul %a, %b : tensor<2x2x3xf32>, tensor<2x3x2xf32> -> tensor<2x2x2xf32>
  %cu = tensor.cast %c : tensor<2x2x2xf32> to tensor<*xf32>
  call @printMemrefF32(%cu) : (tensor<*xf32>) -> ()

  // CHECK: data =
  // CHECK-NEXT: [4,    5],
  // CHECK-NEXT: [10,    11]],
  // CHECK-NEXT: [1.5,    0.75],
  // CHECK-NEXT: [3,    8.5]]]
  %ct = quilt.matmul %a, %bt transpose_b : tensor<2x2x3xf32>, tensor<2x2x3xf32> -> tensor<2x2x2xf32>
  %ctu = tensor.cast %ct : tensor<2x2x2xf32> to tensor<*xf32>
  call @printMemrefF32(%ctu) : (tensor<*xf32>) -> ()

  // Two batch dims: [1, 2, M, K] x [1, 2, N, K] with transpose_b.
  // CHECK: rank = 4 offset = 0 sizes = [1, 2, 2, 2]
  // CHECK-NEXT: [4,    5],
  // CHECK-NEXT: [10,    11]],
  // CHECK-NEXT: [1.5,    0.75],
  // CHECK-NEXT: [3,    8.5]]]]
  %a4 = tensor.expand_shape %a [[0, 1], [2], [3]] output_shape [1, 2, 2, 3] : tensor<2x2x3xf32> into tensor<1x2x2x3xf32>
  %bt4 = tensor.expand_shape %bt [[0, 1], [2], [3]] output_shape [1, 2, 2, 3] : tensor<2x2x3xf32> into tensor<1x2x2x3xf32>
  %c4 = quilt.matmul %a4, %bt4 transpose_b : tensor<1x2x2x3xf32>, tensor<1x2x2x3xf32> -> tensor<1x2x2x2xf32>
  %c4u = tensor.cast %c4 : tensor<1x2x2x2xf32> to tensor<*xf32>
  call @printMemrefF32(%c4u) : (tensor<*xf32>) -> ()

  // f16: 2048 + 1 + 1 = 2050 in f32 (an f16 accumulator would stay at
  // 2048), exact in f16; 2048 + 1 + 2 = 2051 ties to 2052; 1024.875 rounds
  // to 1025 (f16 spacing 1 there).
  %h = arith.constant dense<[[2048.0, 1.0, 1.0],
                             [2048.0, 1.0, 2.0]]> : tensor<2x3xf16>
  %g = arith.constant dense<[[1.0, 0.5],
                             [1.0, 0.75],
                             [1.0, 0.125]]> : tensor<3x2xf16>
  // CHECK: data =
  // CHECK-NEXT: [2050,   1025]
  // CHECK-NEXT: [2052,   1025]
  %hg = quilt.matmul %h, %g : tensor<2x3xf16>, tensor<3x2xf16> -> tensor<2x2xf16>
  %hgf = arith.extf %hg : tensor<2x2xf16> to tensor<2x2xf32>
  %hgu = tensor.cast %hgf : tensor<2x2xf32> to tensor<*xf32>
  call @printMemrefF32(%hgu) : (tensor<*xf32>) -> ()

  // 2-d matmul equals quilt.linear exactly.
  %x = tensor.extract_slice %a[1, 0, 0] [1, 2, 3] [1, 1, 1] : tensor<2x2x3xf32> to tensor<2x3xf32>
  %w = tensor.extract_slice %b[1, 0, 0] [1, 3, 2] [1, 1, 1] : tensor<2x3x2xf32> to tensor<3x2xf32>
  %m = quilt.matmul %x, %w : tensor<2x3xf32>, tensor<3x2xf32> -> tensor<2x2xf32>
  %l = quilt.linear %x, %w : tensor<2x3xf32>, tensor<3x2xf32> -> tensor<2x2xf32>
  %d = arith.subf %m, %l : tensor<2x2xf32>
  // CHECK: data =
  // CHECK-NEXT: [0,   0]
  // CHECK-NEXT: [0,   0]
  %du = tensor.cast %d : tensor<2x2xf32> to tensor<*xf32>
  call @printMemrefF32(%du) : (tensor<*xf32>) -> ()
  return
}
