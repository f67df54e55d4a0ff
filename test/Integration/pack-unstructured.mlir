// RUN: quilt-opt %s --quilt-reference-pipeline | \
// RUN:   mlir-runner -e main -entry-point-result=void -shared-libs=%mlir_runner_libs | \
// RUN:   FileCheck %s

// Unstructured (magnitude) sparsity: exact results for a hand-made 2x4
// matrix (k = ceil(density * K * N) largest magnitudes kept, entries tied
// with the k-th largest kept too), and for a pseudo-random 16x16 matrix,
// that exactly ceil(density * 256) entries survive unchanged and every
// kept magnitude is >= every dropped one (all counted here in IR).

!u025 = !quilt.packed<2x4, sparsity<unstructured, density = 0.25>>
!u03 = !quilt.packed<2x4, sparsity<unstructured, density = 0.3>>
!u05 = !quilt.packed<2x4, sparsity<unstructured, density = 0.5>>
!u1 = !quilt.packed<2x4, sparsity<unstructured, density = 1.0>>
!r01 = !quilt.packed<16x16, sparsity<unstructured, density = 0.1>>
!r05 = !quilt.packed<16x16, sparsity<unstructured, density = 0.5>>
!r09 = !quilt.packed<16x16, sparsity<unstructured, density = 0.9>>

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

// [ #non-zeros of q,  1 if q == w or q == 0 everywhere,
//   1 if min kept |w| >= max dropped |w| ].
func.func @stats(%w: tensor<16x16xf32>, %q: tensor<16x16xf32>) -> tensor<?x?xf32> {
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %inf = arith.constant 0x7F800000 : f32
  %e0 = tensor.empty() : tensor<f32>
  %z0 = linalg.fill ins(%zero : f32) outs(%e0 : tensor<f32>) -> tensor<f32>
  %i0 = linalg.fill ins(%inf : f32) outs(%e0 : tensor<f32>) -> tensor<f32>
  %st:4 = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>,
                                           affine_map<(i, j) -> ()>, affine_map<(i, j) -> ()>,
                                           affine_map<(i, j) -> ()>, affine_map<(i, j) -> ()>],
                          iterator_types = ["reduction", "reduction"]}
      ins(%w, %q : tensor<16x16xf32>, tensor<16x16xf32>)
      outs(%z0, %z0, %i0, %z0 : tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>) {
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
  } -> (tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>)
  %cnt = tensor.extract %st#0[] : tensor<f32>
  %bad = tensor.extract %st#1[] : tensor<f32>
  %minkept = tensor.extract %st#2[] : tensor<f32>
  %maxdrop = tensor.extract %st#3[] : tensor<f32>
  %unchanged = arith.subf %one, %bad : f32
  %ge = arith.cmpf oge, %minkept, %maxdrop : f32
  %ordered = arith.select %ge, %one, %zero : f32
  %t = tensor.from_elements %cnt, %unchanged, %ordered : tensor<1x3xf32>
  %td = tensor.cast %t : tensor<1x3xf32> to tensor<?x?xf32>
  return %td : tensor<?x?xf32>
}

func.func @main() {
  // Magnitudes sorted: 6, 5, 4, 3, 3, 2, 1, 0.5.
  %w = arith.constant dense<[[1.0, -5.0, 3.0, 0.5],
                             [-2.0, 4.0, -3.0, 6.0]]> : tensor<2x4xf32>

  // density 0.25: k = 2.
  // CHECK: data =
  // CHECK-NEXT: [0,   -5,   0,   0]
  // CHECK-NEXT: [0,   0,   0,   6]
  %p1 = quilt.pack %w : tensor<2x4xf32> -> !u025
  %u1 = quilt.unpack %p1 : !u025 -> tensor<2x4xf32>
  %u1d = tensor.cast %u1 : tensor<2x4xf32> to tensor<?x?xf32>
  call @print(%u1d) : (tensor<?x?xf32>) -> ()

  // density 0.3: k = ceil(2.4) = 3.
  // CHECK: data =
  // CHECK-NEXT: [0,   -5,   0,   0]
  // CHECK-NEXT: [0,   4,   0,   6]
  %p2 = quilt.pack %w : tensor<2x4xf32> -> !u03
  %u2 = quilt.unpack %p2 : !u03 -> tensor<2x4xf32>
  %u2d = tensor.cast %u2 : tensor<2x4xf32> to tensor<?x?xf32>
  call @print(%u2d) : (tensor<?x?xf32>) -> ()

  // density 0.5: k = 4, and the 4th largest magnitude (3) is tied: 5 kept.
  // CHECK: data =
  // CHECK-NEXT: [0,   -5,   3,   0]
  // CHECK-NEXT: [0,   4,   -3,   6]
  %p3 = quilt.pack %w : tensor<2x4xf32> -> !u05
  %u3 = quilt.unpack %p3 : !u05 -> tensor<2x4xf32>
  %u3d = tensor.cast %u3 : tensor<2x4xf32> to tensor<?x?xf32>
  call @print(%u3d) : (tensor<?x?xf32>) -> ()

  // density 1: everything.
  // CHECK: data =
  // CHECK-NEXT: [1,   -5,   3,   0.5]
  // CHECK-NEXT: [-2,   4,   -3,   6]
  %p4 = quilt.pack %w : tensor<2x4xf32> -> !u1
  %u4 = quilt.unpack %p4 : !u1 -> tensor<2x4xf32>
  %u4d = tensor.cast %u4 : tensor<2x4xf32> to tensor<?x?xf32>
  call @print(%u4d) : (tensor<?x?xf32>) -> ()

  // Pseudo-random 16x16: [#kept, unchanged, ordered].
  %c16 = arith.constant 16 : index
  %seed = arith.constant 17 : i32
  %amp = arith.constant 1.0 : f32
  %rd = call @random(%c16, %c16, %seed, %amp) : (index, index, i32, f32) -> tensor<?x?xf32>
  %r = tensor.cast %rd : tensor<?x?xf32> to tensor<16x16xf32>

  // density 0.1: ceil(25.6) = 26.
  // CHECK: data =
  // CHECK-NEXT: [26,   1,   1]
  %qa = quilt.pack %r : tensor<16x16xf32> -> !r01
  %qau = quilt.unpack %qa : !r01 -> tensor<16x16xf32>
  %sa = call @stats(%r, %qau) : (tensor<16x16xf32>, tensor<16x16xf32>) -> tensor<?x?xf32>
  call @print(%sa) : (tensor<?x?xf32>) -> ()

  // density 0.5: 128.
  // CHECK: data =
  // CHECK-NEXT: [128,   1,   1]
  %qb = quilt.pack %r : tensor<16x16xf32> -> !r05
  %qbu = quilt.unpack %qb : !r05 -> tensor<16x16xf32>
  %sb = call @stats(%r, %qbu) : (tensor<16x16xf32>, tensor<16x16xf32>) -> tensor<?x?xf32>
  call @print(%sb) : (tensor<?x?xf32>) -> ()

  // density 0.9: ceil(230.4) = 231.
  // CHECK: data =
  // CHECK-NEXT: [231,   1,   1]
  %qc = quilt.pack %r : tensor<16x16xf32> -> !r09
  %qcu = quilt.unpack %qc : !r09 -> tensor<16x16xf32>
  %sc = call @stats(%r, %qcu) : (tensor<16x16xf32>, tensor<16x16xf32>) -> tensor<?x?xf32>
  call @print(%sc) : (tensor<?x?xf32>) -> ()
  return
}
