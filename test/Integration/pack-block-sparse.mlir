// RUN: quilt-opt %s --quilt-reference-pipeline | \
// RUN:   mlir-runner -e main -entry-point-result=void -shared-libs=%mlir_runner_libs | \
// RUN:   FileCheck %s

// Block sparsity: exact results for a hand-made 4x4 matrix (blocks of
// highest Frobenius norm kept, k = ceil(density * #blocks), blocks tied
// with the k-th norm kept too, rectangular blocks, int8 scales taken after
// pruning), and for pseudo-random
// 16x16 matrices, that the number of kept blocks is ceil(density * #blocks),
// kept blocks are unchanged and complete, and every kept block's norm is
// >= every dropped block's norm (all counted here in IR).

!b025 = !quilt.packed<4x4, sparsity<block<2x2>, density = 0.25>>
!b03 = !quilt.packed<4x4, sparsity<block<2x2>, density = 0.3>>
!b075 = !quilt.packed<4x4, sparsity<block<2x2>, density = 0.75>>
!b21 = !quilt.packed<4x4, sparsity<block<2x1>, density = 0.375>>
!bq = !quilt.packed<4x2, precision<i8, channel>, sparsity<block<2x1>, density = 0.5>>
!r44a = !quilt.packed<16x16, sparsity<block<4x4>, density = 0.25>>
!r44b = !quilt.packed<16x16, sparsity<block<4x4>, density = 0.1>>
!r42 = !quilt.packed<16x16, sparsity<block<4x2>, density = 0.3>>

func.func private @printMemrefF32(tensor<*xf32>)

func.func @print(%t: tensor<?x?xf32>) {
  %u = tensor.cast %t : tensor<?x?xf32> to tensor<*xf32>
  call @printMemrefF32(%u) : (tensor<*xf32>) -> ()
  return
}

// Deterministic pseudo-random values in [-scale, scale) with 24 random bits
// each (a murmur3-style hash of (i, j, seed)), so that ties are unlikely.
func.func @random(%rows: index, %cols: index, %seed: i32, %scale: f32) -> tensor<?x?xf32> {
  %e = tensor.empty(%rows, %cols) : tensor<?x?xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>],
                       iterator_types = ["parallel", "parallel"]} outs(%e : tensor<?x?xf32>) {
  ^bb0(%out: f32):
    %i = linalg.index 0 : index
    %j = linalg.index 1 : index
    %ii = arith.index_cast %i : index to i32
    %jj = arith.index_cast %j : index to i32
    %p1 = arith.constant 73856093 : i32
    %p2 = arith.constant 19349663 : i32
    %p3 = arith.constant 83492791 : i32
    %a = arith.muli %ii, %p1 : i32
    %b = arith.muli %jj, %p2 : i32
    %c = arith.muli %seed, %p3 : i32
    %ab = arith.xori %a, %b : i32
    %h0 = arith.xori %ab, %c : i32
    %s16 = arith.constant 16 : i32
    %s13 = arith.constant 13 : i32
    %m1 = arith.constant -2048144789 : i32
    %m2 = arith.constant -1028477387 : i32
    %t0 = arith.shrui %h0, %s16 : i32
    %h1 = arith.xori %h0, %t0 : i32
    %h2 = arith.muli %h1, %m1 : i32
    %t1 = arith.shrui %h2, %s13 : i32
    %h3 = arith.xori %h2, %t1 : i32
    %h4 = arith.muli %h3, %m2 : i32
    %t2 = arith.shrui %h4, %s16 : i32
    %h5 = arith.xori %h4, %t2 : i32
    %s8 = arith.constant 8 : i32
    %top = arith.shrui %h5, %s8 : i32
    %f = arith.uitofp %top : i32 to f32
    %inv = arith.constant 1.1920928955078125e-07 : f32
    %one = arith.constant 1.0 : f32
    %u = arith.mulf %f, %inv : f32
    %v0 = arith.subf %u, %one : f32
    %v = arith.mulf %v0, %scale : f32
    linalg.yield %v : f32
  } -> tensor<?x?xf32>
  return %r : tensor<?x?xf32>
}

// w4, q4: KB x r x NB x c (w4[a, i, b, j] = w[a*r + i, b*c + j]). Returns
// [ #blocks of q with a non-zero,  1 if q == w or q == 0 everywhere,
//   1 if every block of q is all non-zero or all zero,
//   1 if min kept ||block of w|| >= max dropped ||block of w|| ].
func.func @block_stats(%w4: tensor<?x?x?x?xf32>, %q4: tensor<?x?x?x?xf32>) -> tensor<?x?xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %inf = arith.constant 0x7F800000 : f32
  %kb = tensor.dim %w4, %c0 : tensor<?x?x?x?xf32>
  %r = tensor.dim %w4, %c1 : tensor<?x?x?x?xf32>
  %nb = tensor.dim %w4, %c2 : tensor<?x?x?x?xf32>
  %c = tensor.dim %w4, %c3 : tensor<?x?x?x?xf32>
  %rc = arith.muli %r, %c : index
  %rci = arith.index_cast %rc : index to i32
  %rcf = arith.sitofp %rci : i32 to f32
  %e = tensor.empty(%kb, %nb) : tensor<?x?xf32>
  %zeros = linalg.fill ins(%zero : f32) outs(%e : tensor<?x?xf32>) -> tensor<?x?xf32>
  %st:3 = linalg.generic {indexing_maps = [affine_map<(a, i, b, j) -> (a, i, b, j)>,
                                           affine_map<(a, i, b, j) -> (a, i, b, j)>,
                                           affine_map<(a, i, b, j) -> (a, b)>,
                                           affine_map<(a, i, b, j) -> (a, b)>,
                                           affine_map<(a, i, b, j) -> (a, b)>],
                          iterator_types = ["parallel", "reduction", "parallel", "reduction"]}
      ins(%w4, %q4 : tensor<?x?x?x?xf32>, tensor<?x?x?x?xf32>)
      outs(%zeros, %zeros, %zeros : tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>) {
  ^bb0(%wv: f32, %qv: f32, %sumsq: f32, %cnt: f32, %bad: f32):
    %sq = arith.mulf %wv, %wv : f32
    %sumsq2 = arith.addf %sumsq, %sq : f32
    %nz = arith.cmpf one, %qv, %zero : f32
    %inc = arith.select %nz, %one, %zero : f32
    %cnt2 = arith.addf %cnt, %inc : f32
    %same = arith.cmpf oeq, %qv, %wv : f32
    %z = arith.cmpf oeq, %qv, %zero : f32
    %okv = arith.ori %same, %z : i1
    %badv = arith.select %okv, %zero, %one : f32
    %bad2 = arith.maximumf %bad, %badv : f32
    linalg.yield %sumsq2, %cnt2, %bad2 : f32, f32, f32
  } -> (tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>)
  %e0 = tensor.empty() : tensor<f32>
  %z0 = linalg.fill ins(%zero : f32) outs(%e0 : tensor<f32>) -> tensor<f32>
  %i0 = linalg.fill ins(%inf : f32) outs(%e0 : tensor<f32>) -> tensor<f32>
  %tot:5 = linalg.generic {indexing_maps = [affine_map<(a, b) -> (a, b)>, affine_map<(a, b) -> (a, b)>,
                                            affine_map<(a, b) -> (a, b)>, affine_map<(a, b) -> ()>,
                                            affine_map<(a, b) -> ()>, affine_map<(a, b) -> ()>,
                                            affine_map<(a, b) -> ()>, affine_map<(a, b) -> ()>],
                           iterator_types = ["reduction", "reduction"]}
      ins(%st#0, %st#1, %st#2 : tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>)
      outs(%z0, %z0, %z0, %i0, %z0 : tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>) {
  ^bb0(%sumsq: f32, %cnt: f32, %bad: f32, %kept: f32, %anybad: f32, %partial: f32, %minkept: f32, %maxdrop: f32):
    %isk = arith.cmpf ogt, %cnt, %zero : f32
    %inc = arith.select %isk, %one, %zero : f32
    %kept2 = arith.addf %kept, %inc : f32
    %anybad2 = arith.maximumf %anybad, %bad : f32
    %full = arith.cmpf oeq, %cnt, %rcf : f32
    %empty = arith.cmpf oeq, %cnt, %zero : f32
    %whole = arith.ori %full, %empty : i1
    %pv = arith.select %whole, %zero, %one : f32
    %partial2 = arith.maximumf %partial, %pv : f32
    %k = arith.select %isk, %sumsq, %inf : f32
    %d = arith.select %isk, %zero, %sumsq : f32
    %minkept2 = arith.minimumf %minkept, %k : f32
    %maxdrop2 = arith.maximumf %maxdrop, %d : f32
    linalg.yield %kept2, %anybad2, %partial2, %minkept2, %maxdrop2 : f32, f32, f32, f32, f32
  } -> (tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>)
  %kept = tensor.extract %tot#0[] : tensor<f32>
  %anybad = tensor.extract %tot#1[] : tensor<f32>
  %partial = tensor.extract %tot#2[] : tensor<f32>
  %minkept = tensor.extract %tot#3[] : tensor<f32>
  %maxdrop = tensor.extract %tot#4[] : tensor<f32>
  %unchanged = arith.subf %one, %anybad : f32
  %whole = arith.subf %one, %partial : f32
  %ge = arith.cmpf oge, %minkept, %maxdrop : f32
  %ordered = arith.select %ge, %one, %zero : f32
  %t = tensor.from_elements %kept, %unchanged, %whole, %ordered : tensor<1x4xf32>
  %td = tensor.cast %t : tensor<1x4xf32> to tensor<?x?xf32>
  return %td : tensor<?x?xf32>
}

func.func @main() {
  // 2x2 blocks and their norms: (0,0) all ones: 2; (0,1): 3;
  // (1,0): sqrt(5.25) ~ 2.29; (1,1): 2 (tied with (0,0)).
  %w = arith.constant dense<[[1.0, 1.0, 3.0, 0.0],
                             [1.0, 1.0, 0.0, 0.0],
                             [1.0, 1.0, -2.0, 0.0],
                             [1.0, 1.5, 0.0, 0.0]]> : tensor<4x4xf32>

  // density 0.25: ceil(0.25 * 4) = 1 block, (0,1).
  // CHECK: data =
  // CHECK-NEXT: [0,   0,   3,   0]
  // CHECK-NEXT: [0,   0,   0,   0]
  // CHECK-NEXT: [0,   0,   0,   0]
  // CHECK-NEXT: [0,   0,   0,   0]
  %p1 = quilt.pack %w : tensor<4x4xf32> -> !b025
  %u1 = quilt.unpack %p1 : !b025 -> tensor<4x4xf32>
  %u1d = tensor.cast %u1 : tensor<4x4xf32> to tensor<?x?xf32>
  call @print(%u1d) : (tensor<?x?xf32>) -> ()

  // density 0.3: ceil(1.2) = 2 blocks, (0,1) and (1,0).
  // CHECK: data =
  // CHECK-NEXT: [0,   0,   3,   0]
  // CHECK-NEXT: [0,   0,   0,   0]
  // CHECK-NEXT: [1,   1,   0,   0]
  // CHECK-NEXT: [1,   1.5,   0,   0]
  %p2 = quilt.pack %w : tensor<4x4xf32> -> !b03
  %u2 = quilt.unpack %p2 : !b03 -> tensor<4x4xf32>
  %u2d = tensor.cast %u2 : tensor<4x4xf32> to tensor<?x?xf32>
  call @print(%u2d) : (tensor<?x?xf32>) -> ()

  // density 0.75: 3 blocks, and the 3rd largest norm (2) is tied, so all
  // four blocks are kept.
  // CHECK: data =
  // CHECK-NEXT: [1,   1,   3,   0]
  // CHECK-NEXT: [1,   1,   0,   0]
  // CHECK-NEXT: [1,   1,   -2,   0]
  // CHECK-NEXT: [1,   1.5,   0,   0]
  %p3 = quilt.pack %w : tensor<4x4xf32> -> !b075
  %u3 = quilt.unpack %p3 : !b075 -> tensor<4x4xf32>
  %u3d = tensor.cast %u3 : tensor<4x4xf32> to tensor<?x?xf32>
  call @print(%u3d) : (tensor<?x?xf32>) -> ()

  // 2x1 blocks (2 rows, 1 column), density 0.375: 3 of 8 blocks, the
  // norms 3 (rows 0-1, col 2), 2 (rows 2-3, col 2), 1.80 (rows 2-3, col 1).
  // CHECK: data =
  // CHECK-NEXT: [0,   0,   3,   0]
  // CHECK-NEXT: [0,   0,   0,   0]
  // CHECK-NEXT: [0,   1,   -2,   0]
  // CHECK-NEXT: [0,   1.5,   0,   0]
  %p4 = quilt.pack %w : tensor<4x4xf32> -> !b21
  %u4 = quilt.unpack %p4 : !b21 -> tensor<4x4xf32>
  %u4d = tensor.cast %u4 : tensor<4x4xf32> to tensor<?x?xf32>
  call @print(%u4d) : (tensor<?x?xf32>) -> ()

  // With int8 per-channel scales, pruning comes first: 2x1 blocks with
  // norms 142 ([127, 63.5]), 130 ([130, 0]), 254 ([254, -3]), 1.4 ([1, 1]);
  // the two kept ones give scales 1 and 2, not 130 / 127 from the dropped
  // [130, 0].
  %wq = arith.constant dense<[[127.0, 254.0],
                              [63.5, -3.0],
                              [130.0, 1.0],
                              [0.0, 1.0]]> : tensor<4x2xf32>
  // CHECK: data =
  // CHECK-NEXT: [127,   254]
  // CHECK-NEXT: [64,   -4]
  // CHECK-NEXT: [0,   0]
  // CHECK-NEXT: [0,   0]
  %pq = quilt.pack %wq : tensor<4x2xf32> -> !bq
  %uq = quilt.unpack %pq : !bq -> tensor<4x2xf32>
  %uqd = tensor.cast %uq : tensor<4x2xf32> to tensor<?x?xf32>
  call @print(%uqd) : (tensor<?x?xf32>) -> ()

  // Pseudo-random 16x16: [#kept blocks, unchanged, whole blocks, ordered].
  %c16 = arith.constant 16 : index
  %seed = arith.constant 13 : i32
  %amp = arith.constant 1.0 : f32
  %rd = call @random(%c16, %c16, %seed, %amp) : (index, index, i32, f32) -> tensor<?x?xf32>
  %r = tensor.cast %rd : tensor<?x?xf32> to tensor<16x16xf32>
  %r44 = tensor.expand_shape %r [[0, 1], [2, 3]] output_shape [4, 4, 4, 4] : tensor<16x16xf32> into tensor<4x4x4x4xf32>
  %r44d = tensor.cast %r44 : tensor<4x4x4x4xf32> to tensor<?x?x?x?xf32>
  %r42 = tensor.expand_shape %r [[0, 1], [2, 3]] output_shape [4, 4, 8, 2] : tensor<16x16xf32> into tensor<4x4x8x2xf32>
  %r42d = tensor.cast %r42 : tensor<4x4x8x2xf32> to tensor<?x?x?x?xf32>

  // 4x4 blocks, density 0.25: ceil(0.25 * 16) = 4.
  // CHECK: data =
  // CHECK-NEXT: [4,   1,   1,   1]
  %qa = quilt.pack %r : tensor<16x16xf32> -> !r44a
  %qau = quilt.unpack %qa : !r44a -> tensor<16x16xf32>
  %qa4 = tensor.expand_shape %qau [[0, 1], [2, 3]] output_shape [4, 4, 4, 4] : tensor<16x16xf32> into tensor<4x4x4x4xf32>
  %qa4d = tensor.cast %qa4 : tensor<4x4x4x4xf32> to tensor<?x?x?x?xf32>
  %sa = call @block_stats(%r44d, %qa4d) : (tensor<?x?x?x?xf32>, tensor<?x?x?x?xf32>) -> tensor<?x?xf32>
  call @print(%sa) : (tensor<?x?xf32>) -> ()

  // 4x4 blocks, density 0.1: ceil(1.6) = 2.
  // CHECK: data =
  // CHECK-NEXT: [2,   1,   1,   1]
  %qb = quilt.pack %r : tensor<16x16xf32> -> !r44b
  %qbu = quilt.unpack %qb : !r44b -> tensor<16x16xf32>
  %qb4 = tensor.expand_shape %qbu [[0, 1], [2, 3]] output_shape [4, 4, 4, 4] : tensor<16x16xf32> into tensor<4x4x4x4xf32>
  %qb4d = tensor.cast %qb4 : tensor<4x4x4x4xf32> to tensor<?x?x?x?xf32>
  %sb = call @block_stats(%r44d, %qb4d) : (tensor<?x?x?x?xf32>, tensor<?x?x?x?xf32>) -> tensor<?x?xf32>
  call @print(%sb) : (tensor<?x?xf32>) -> ()

  // 4x2 blocks (32 of them), density 0.3: ceil(9.6) = 10.
  // CHECK: data =
  // CHECK-NEXT: [10,   1,   1,   1]
  %qc = quilt.pack %r : tensor<16x16xf32> -> !r42
  %qcu = quilt.unpack %qc : !r42 -> tensor<16x16xf32>
  %qc4 = tensor.expand_shape %qcu [[0, 1], [2, 3]] output_shape [4, 4, 8, 2] : tensor<16x16xf32> into tensor<4x4x8x2xf32>
  %qc4d = tensor.cast %qc4 : tensor<4x4x8x2xf32> to tensor<?x?x?x?xf32>
  %sc = call @block_stats(%r42d, %qc4d) : (tensor<?x?x?x?xf32>, tensor<?x?x?x?xf32>) -> tensor<?x?xf32>
  call @print(%sc) : (tensor<?x?xf32>) -> ()

  // The statistics discriminate: the 4x2-block result seen as 4x4 blocks
  // has partial blocks.
  // CHECK: data =
  // CHECK-NEXT: [{{[0-9]+}},   1,   0,   {{0|1}}]
  %qc44 = tensor.expand_shape %qcu [[0, 1], [2, 3]] output_shape [4, 4, 4, 4] : tensor<16x16xf32> into tensor<4x4x4x4xf32>
  %qc44d = tensor.cast %qc44 : tensor<4x4x4x4xf32> to tensor<?x?x?x?xf32>
  %sx = call @block_stats(%r44d, %qc44d) : (tensor<?x?x?x?xf32>, tensor<?x?x?x?xf32>) -> tensor<?x?xf32>
  call @print(%sx) : (tensor<?x?xf32>) -> ()
  return
}
