// RUN: quilt-opt %s --quilt-reference-pipeline | \
// RUN:   mlir-runner -e main -entry-point-result=void -shared-libs=%mlir_runner_libs | \
// RUN:   FileCheck %s

// Block-diagonal structure: entries outside the b diagonal blocks of
// (K/b) x (N/b) become zero and the diagonal blocks are unchanged (6x4 with
// 2 blocks of 3x2, 8x4 with 4 blocks of 2x1, 1 block = identity); with int8
// per-channel scales the mask comes first, so the scales are those of the
// masked columns.

!bd2 = !quilt.packed<6x4, structure<blockdiag<2>>>
!bd1 = !quilt.packed<6x4, structure<blockdiag<1>>>
!bd4 = !quilt.packed<8x4, structure<blockdiag<4>>>
!bdq = !quilt.packed<4x2, precision<i8, channel>, structure<blockdiag<2>>>

func.func private @printMemrefF32(tensor<*xf32>)

func.func @print(%t: tensor<?x?xf32>) {
  %u = tensor.cast %t : tensor<?x?xf32> to tensor<*xf32>
  call @printMemrefF32(%u) : (tensor<*xf32>) -> ()
  return
}

func.func @main() {
  %w = arith.constant dense<[[1.0,  2.0,  3.0,  4.0],
                             [11.0, 12.0, 13.0, 14.0],
                             [21.0, 22.0, 23.0, 24.0],
                             [31.0, 32.0, 33.0, 34.0],
                             [41.0, 42.0, 43.0, 44.0],
                             [51.0, 52.0, 53.0, 54.0]]> : tensor<6x4xf32>

  // CHECK: data =
  // CHECK-NEXT: [1,   2,   0,   0]
  // CHECK-NEXT: [11,   12,   0,   0]
  // CHECK-NEXT: [21,   22,   0,   0]
  // CHECK-NEXT: [0,   0,   33,   34]
  // CHECK-NEXT: [0,   0,   43,   44]
  // CHECK-NEXT: [0,   0,   53,   54]
  %p2 = quilt.pack %w : tensor<6x4xf32> -> !bd2
  %u2 = quilt.unpack %p2 : !bd2 -> tensor<6x4xf32>
  %u2d = tensor.cast %u2 : tensor<6x4xf32> to tensor<?x?xf32>
  call @print(%u2d) : (tensor<?x?xf32>) -> ()

  // CHECK: data =
  // CHECK-NEXT: [1,   2,   3,   4]
  // CHECK-NEXT: [11,   12,   13,   14]
  // CHECK-NEXT: [21,   22,   23,   24]
  // CHECK-NEXT: [31,   32,   33,   34]
  // CHECK-NEXT: [41,   42,   43,   44]
  // CHECK-NEXT: [51,   52,   53,   54]
  %p1 = quilt.pack %w : tensor<6x4xf32> -> !bd1
  %u1 = quilt.unpack %p1 : !bd1 -> tensor<6x4xf32>
  %u1d = tensor.cast %u1 : tensor<6x4xf32> to tensor<?x?xf32>
  call @print(%u1d) : (tensor<?x?xf32>) -> ()

  %w8 = arith.constant dense<[[1.0,  2.0,  3.0,  4.0],
                              [5.0,  6.0,  7.0,  8.0],
                              [9.0,  10.0, 11.0, 12.0],
                              [13.0, 14.0, 15.0, 16.0],
                              [17.0, 18.0, 19.0, 20.0],
                              [21.0, 22.0, 23.0, 24.0],
                              [25.0, 26.0, 27.0, 28.0],
                              [29.0, 30.0, 31.0, 32.0]]> : tensor<8x4xf32>
  // CHECK: data =
  // CHECK-NEXT: [1,   0,   0,   0]
  // CHECK-NEXT: [5,   0,   0,   0]
  // CHECK-NEXT: [0,   10,   0,   0]
  // CHECK-NEXT: [0,   14,   0,   0]
  // CHECK-NEXT: [0,   0,   19,   0]
  // CHECK-NEXT: [0,   0,   23,   0]
  // CHECK-NEXT: [0,   0,   0,   28]
  // CHECK-NEXT: [0,   0,   0,   32]
  %p4 = quilt.pack %w8 : tensor<8x4xf32> -> !bd4
  %u4 = quilt.unpack %p4 : !bd4 -> tensor<8x4xf32>
  %u4d = tensor.cast %u4 : tensor<8x4xf32> to tensor<?x?xf32>
  call @print(%u4d) : (tensor<?x?xf32>) -> ()

  // Masked column 0 is [127, 63.5, 0, 0] (scale 1, 63.5 ties to 64) and
  // masked column 1 is [0, 0, 254, -3] (scale 2, -1.5 ties to -2); the
  // masked-out 1000s would otherwise set the scales.
  %wq = arith.constant dense<[[127.0, 1000.0],
                              [63.5,  3.0],
                              [1000.0, 254.0],
                              [5.0,   -3.0]]> : tensor<4x2xf32>
  // CHECK: data =
  // CHECK-NEXT: [127,   0]
  // CHECK-NEXT: [64,   0]
  // CHECK-NEXT: [0,   254]
  // CHECK-NEXT: [0,   -4]
  %pq = quilt.pack %wq : tensor<4x2xf32> -> !bdq
  %uq = quilt.unpack %pq : !bdq -> tensor<4x2xf32>
  %uqd = tensor.cast %uq : tensor<4x2xf32> to tensor<?x?xf32>
  call @print(%uqd) : (tensor<?x?xf32>) -> ()
  return
}
