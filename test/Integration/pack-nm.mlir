// RUN: quilt-opt %s --quilt-reference-pipeline | \
// RUN:   mlir-runner -e main -entry-point-result=void -shared-libs=%mlir_runner_libs | \
// RUN:   FileCheck %s

// N:M sparsity along K (2:4, 1:4, 4:8): exact results for a hand-made
// matrix (largest magnitudes kept, ties to the lower row, zeros counted as
// entries; 2:4 with int8 scales), and for a pseudo-random 16x8 matrix, per group of M rows of a
// column: exactly N non-zeros, kept entries unchanged, and every kept
// magnitude >= every dropped one (all counted here in IR).

!nm24 = !quilt.packed<8x3, sparsity<nm<2, 4>>>
!nm14 = !quilt.packed<8x3, sparsity<nm<1, 4>>>
!nm48 = !quilt.packed<8x3, sparsity<nm<4, 8>>>
!nmq = !quilt.packed<8x1, precision<i8, channel>, sparsity<nm<2, 4>>>
!r24 = !quilt.packed<16x8, sparsity<nm<2, 4>>>
!r14 = !quilt.packed<16x8, sparsity<nm<1, 4>>>
!r48 = !quilt.packed<16x8, sparsity<nm<4, 8>>>

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

// w3, q3: G x M x N (group, row in group, column). Returns
// [ #groups with exactly n non-zeros in q,  1 if q == w or q == 0 everywhere,
//   1 if min kept |w| >= max dropped |w| in every group ].
func.func @nm_stats(%w3: tensor<?x?x?xf32>, %q3: tensor<?x?x?xf32>, %n: index) -> tensor<?x?xf32> {
  %c0 = arith.constant 0 : index
  %c2 = arith.constant 2 : index
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %inf = arith.constant 0x7F800000 : f32
  %g = tensor.dim %w3, %c0 : tensor<?x?x?xf32>
  %cols = tensor.dim %w3, %c2 : tensor<?x?x?xf32>
  %e = tensor.empty(%g, %cols) : tensor<?x?xf32>
  %zeros = linalg.fill ins(%zero : f32) outs(%e : tensor<?x?xf32>) -> tensor<?x?xf32>
  %infs = linalg.fill ins(%inf : f32) outs(%e : tensor<?x?xf32>) -> tensor<?x?xf32>
  %st:4 = linalg.generic {indexing_maps = [affine_map<(a, s, j) -> (a, s, j)>,
                                           affine_map<(a, s, j) -> (a, s, j)>,
                                           affine_map<(a, s, j) -> (a, j)>,
                                           affine_map<(a, s, j) -> (a, j)>,
                                           affine_map<(a, s, j) -> (a, j)>,
                                           affine_map<(a, s, j) -> (a, j)>],
                          iterator_types = ["parallel", "reduction", "parallel"]}
      ins(%w3, %q3 : tensor<?x?x?xf32>, tensor<?x?x?xf32>)
      outs(%zeros, %zeros, %infs, %zeros : tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>) {
  ^bb0(%wv: f32, %qv: f32, %cnt: f32, %bad: f32, %minkept: f32, %maxdrop: f32):
    %nz = arith.cmpf one, %qv, %zero : f32
    %inc = arith.select %nz, %one, %zero : f32
    %cnt2 = arith.addf %cnt, %inc : f32
    %same = arith.cmpf oeq, %qv, %wv : f32
    %z = arith.cmpf oeq, %qv, %zero : f32
    %okv = arith.ori %same, %z : i1
    %badv = arith.select %okv, %zero, %one : f32
    %bad2 = arith.maximumf %bad, %badv : f32
    %aw = math.absf %wv : f32
    %k = arith.select %nz, %aw, %inf : f32
    %d = arith.select %nz, %zero, %aw : f32
    %minkept2 = arith.minimumf %minkept, %k : f32
    %maxdrop2 = arith.maximumf %maxdrop, %d : f32
    linalg.yield %cnt2, %bad2, %minkept2, %maxdrop2 : f32, f32, f32, f32
  } -> (tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>)
  %ni = arith.index_cast %n : index to i32
  %nf = arith.sitofp %ni : i32 to f32
  %e0 = tensor.empty() : tensor<f32>
  %z0 = linalg.fill ins(%zero : f32) outs(%e0 : tensor<f32>) -> tensor<f32>
  %tot:3 = linalg.generic {indexing_maps = [affine_map<(a, j) -> (a, j)>, affine_map<(a, j) -> (a, j)>,
                                            affine_map<(a, j) -> (a, j)>, affine_map<(a, j) -> (a, j)>,
                                            affine_map<(a, j) -> ()>, affine_map<(a, j) -> ()>,
                                            affine_map<(a, j) -> ()>],
                           iterator_types = ["reduction", "reduction"]}
      ins(%st#0, %st#1, %st#2, %st#3 : tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>)
      outs(%z0, %z0, %z0 : tensor<f32>, tensor<f32>, tensor<f32>) {
  ^bb0(%cnt: f32, %bad: f32, %minkept: f32, %maxdrop: f32, %exact: f32, %anybad: f32, %misorder: f32):
    %isn = arith.cmpf oeq, %cnt, %nf : f32
    %inc = arith.select %isn, %one, %zero : f32
    %exact2 = arith.addf %exact, %inc : f32
    %anybad2 = arith.maximumf %anybad, %bad : f32
    %lt = arith.cmpf olt, %minkept, %maxdrop : f32
    %mo = arith.select %lt, %one, %zero : f32
    %misorder2 = arith.maximumf %misorder, %mo : f32
    linalg.yield %exact2, %anybad2, %misorder2 : f32, f32, f32
  } -> (tensor<f32>, tensor<f32>, tensor<f32>)
  %exact = tensor.extract %tot#0[] : tensor<f32>
  %anybad = tensor.extract %tot#1[] : tensor<f32>
  %misorder = tensor.extract %tot#2[] : tensor<f32>
  %unchanged = arith.subf %one, %anybad : f32
  %ordered = arith.subf %one, %misorder : f32
  %t = tensor.from_elements %exact, %unchanged, %ordered : tensor<1x3xf32>
  %td = tensor.cast %t : tensor<1x3xf32> to tensor<?x?xf32>
  return %td : tensor<?x?xf32>
}

func.func @main() {
  // Column 0: distinct magnitudes, then a three-way tie of |0.5|.
  // Column 1: zeros count as entries (ties among them go to the lower row).
  // Column 2: sign-only differences tie (|-3| == |3|, |2| == |-2|).
  %w = arith.constant dense<[[1.0,  0.0, -3.0],
                             [-4.0, 0.0,  3.0],
                             [3.0,  0.0,  1.0],
                             [2.0,  1.0, -1.0],
                             [0.5,  5.0,  2.0],
                             [0.5,  6.0, -2.0],
                             [-0.5, 7.0,  2.0],
                             [0.25, 8.0,  1.0]]> : tensor<8x3xf32>

  // CHECK: data =
  // CHECK-NEXT: [0,   0,   -3]
  // CHECK-NEXT: [-4,   0,   3]
  // CHECK-NEXT: [3,   0,   0]
  // CHECK-NEXT: [0,   1,   0]
  // CHECK-NEXT: [0.5,   0,   2]
  // CHECK-NEXT: [0.5,   0,   -2]
  // CHECK-NEXT: [0,   7,   0]
  // CHECK-NEXT: [0,   8,   0]
  %p24 = quilt.pack %w : tensor<8x3xf32> -> !nm24
  %u24 = quilt.unpack %p24 : !nm24 -> tensor<8x3xf32>
  %u24d = tensor.cast %u24 : tensor<8x3xf32> to tensor<?x?xf32>
  call @print(%u24d) : (tensor<?x?xf32>) -> ()

  // CHECK: data =
  // CHECK-NEXT: [0,   0,   -3]
  // CHECK-NEXT: [-4,   0,   0]
  // CHECK-NEXT: [0,   0,   0]
  // CHECK-NEXT: [0,   1,   0]
  // CHECK-NEXT: [0.5,   0,   2]
  // CHECK-NEXT: [0,   0,   0]
  // CHECK-NEXT: [0,   0,   0]
  // CHECK-NEXT: [0,   8,   0]
  %p14 = quilt.pack %w : tensor<8x3xf32> -> !nm14
  %u14 = quilt.unpack %p14 : !nm14 -> tensor<8x3xf32>
  %u14d = tensor.cast %u14 : tensor<8x3xf32> to tensor<?x?xf32>
  call @print(%u14d) : (tensor<?x?xf32>) -> ()

  // CHECK: data =
  // CHECK-NEXT: [1,   0,   -3]
  // CHECK-NEXT: [-4,   0,   3]
  // CHECK-NEXT: [3,   0,   0]
  // CHECK-NEXT: [2,   0,   0]
  // CHECK-NEXT: [0,   5,   2]
  // CHECK-NEXT: [0,   6,   -2]
  // CHECK-NEXT: [0,   7,   0]
  // CHECK-NEXT: [0,   8,   0]
  %p48 = quilt.pack %w : tensor<8x3xf32> -> !nm48
  %u48 = quilt.unpack %p48 : !nm48 -> tensor<8x3xf32>
  %u48d = tensor.cast %u48 : tensor<8x3xf32> to tensor<?x?xf32>
  call @print(%u48d) : (tensor<?x?xf32>) -> ()

  // 2:4 with int8 per-channel scales: pruning keeps [-127, 63.5] and
  // [0.5, 1.5] (|0.5| tie to the lower row), then scale 1 rounds 63.5 to 64,
  // 0.5 to 0 and 1.5 to 2.
  %wq = arith.constant dense<[[1.0], [-127.0], [63.5], [2.0], [0.5], [1.5], [-0.5], [0.25]]> : tensor<8x1xf32>
  // CHECK: data =
  // CHECK-NEXT: [0]
  // CHECK-NEXT: [-127]
  // CHECK-NEXT: [64]
  // CHECK-NEXT: [0]
  // CHECK-NEXT: [0]
  // CHECK-NEXT: [2]
  // CHECK-NEXT: [0]
  // CHECK-NEXT: [0]
  %pq = quilt.pack %wq : tensor<8x1xf32> -> !nmq
  %uq = quilt.unpack %pq : !nmq -> tensor<8x1xf32>
  %uqd = tensor.cast %uq : tensor<8x1xf32> to tensor<?x?xf32>
  call @print(%uqd) : (tensor<?x?xf32>) -> ()

  // Pseudo-random 16x8: [#groups with exactly N non-zeros (of 32, 32, 16),
  // kept entries unchanged, kept >= dropped].
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  %c16 = arith.constant 16 : index
  %seed = arith.constant 11 : i32
  %amp = arith.constant 1.0 : f32
  %rd = call @random(%c16, %c8, %seed, %amp) : (index, index, i32, f32) -> tensor<?x?xf32>
  %r = tensor.cast %rd : tensor<?x?xf32> to tensor<16x8xf32>
  %r4 = tensor.expand_shape %r [[0, 1], [2]] output_shape [4, 4, 8] : tensor<16x8xf32> into tensor<4x4x8xf32>
  %r4d = tensor.cast %r4 : tensor<4x4x8xf32> to tensor<?x?x?xf32>
  %r8 = tensor.expand_shape %r [[0, 1], [2]] output_shape [2, 8, 8] : tensor<16x8xf32> into tensor<2x8x8xf32>
  %r8d = tensor.cast %r8 : tensor<2x8x8xf32> to tensor<?x?x?xf32>

  // CHECK: data =
  // CHECK-NEXT: [32,   1,   1]
  %q24 = quilt.pack %r : tensor<16x8xf32> -> !r24
  %q24u = quilt.unpack %q24 : !r24 -> tensor<16x8xf32>
  %q24e = tensor.expand_shape %q24u [[0, 1], [2]] output_shape [4, 4, 8] : tensor<16x8xf32> into tensor<4x4x8xf32>
  %q24d = tensor.cast %q24e : tensor<4x4x8xf32> to tensor<?x?x?xf32>
  %s24 = call @nm_stats(%r4d, %q24d, %c2) : (tensor<?x?x?xf32>, tensor<?x?x?xf32>, index) -> tensor<?x?xf32>
  call @print(%s24) : (tensor<?x?xf32>) -> ()

  // CHECK: data =
  // CHECK-NEXT: [32,   1,   1]
  %q14 = quilt.pack %r : tensor<16x8xf32> -> !r14
  %q14u = quilt.unpack %q14 : !r14 -> tensor<16x8xf32>
  %q14e = tensor.expand_shape %q14u [[0, 1], [2]] output_shape [4, 4, 8] : tensor<16x8xf32> into tensor<4x4x8xf32>
  %q14d = tensor.cast %q14e : tensor<4x4x8xf32> to tensor<?x?x?xf32>
  %s14 = call @nm_stats(%r4d, %q14d, %c1) : (tensor<?x?x?xf32>, tensor<?x?x?xf32>, index) -> tensor<?x?xf32>
  call @print(%s14) : (tensor<?x?xf32>) -> ()

  // CHECK: data =
  // CHECK-NEXT: [16,   1,   1]
  %q48 = quilt.pack %r : tensor<16x8xf32> -> !r48
  %q48u = quilt.unpack %q48 : !r48 -> tensor<16x8xf32>
  %q48e = tensor.expand_shape %q48u [[0, 1], [2]] output_shape [2, 8, 8] : tensor<16x8xf32> into tensor<2x8x8xf32>
  %q48d = tensor.cast %q48e : tensor<2x8x8xf32> to tensor<?x?x?xf32>
  %s48 = call @nm_stats(%r8d, %q48d, %c4) : (tensor<?x?x?xf32>, tensor<?x?x?xf32>, index) -> tensor<?x?xf32>
  call @print(%s48) : (tensor<?x?xf32>) -> ()

  // The statistics discriminate: 2:4 seen in groups of 8 has 4 non-zeros
  // per group, but its kept entries are not the 4 largest of every 8.
  // CHECK: data =
  // CHECK-NEXT: [16,   1,   0]
  %q24e8 = tensor.expand_shape %q24u [[0, 1], [2]] output_shape [2, 8, 8] : tensor<16x8xf32> into tensor<2x8x8xf32>
  %q24d8 = tensor.cast %q24e8 : tensor<2x8x8xf32> to tensor<?x?x?xf32>
  %sx = call @nm_stats(%r8d, %q24d8, %c4) : (tensor<?x?x?xf32>, tensor<?x?x?xf32>, index) -> tensor<?x?xf32>
  call @print(%sx) : (tensor<?x?xf32>) -> ()
  return
}
