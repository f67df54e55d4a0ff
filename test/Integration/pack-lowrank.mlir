// RUN: quilt-opt %s --quilt-reference-pipeline | \
// RUN:   mlir-runner -e main -entry-point-result=void -shared-libs=%mlir_runner_libs | \
// RUN:   FileCheck %s

// Low-rank structure (truncated SVD, by subspace iteration). (1) Matrices of rank exactly r built
// here as U V from pseudo-random factors pack to themselves (8x6 and 4x8
// with r = 2), and full rank (r = min(K, N)) is the identity. (2) For a
// pseudo-random 8x6 W and r = 2, the projection P: packing P again changes
// nothing (rank <= 2), its rank-1 projection does change it (rank 2), it
// differs from W and from the rank-3 projection; ||W||^2 = ||P||^2 +
// ||W - P||^2 and P^T (W - P) = 0 (projection onto an invariant subspace of
// W^T W); P beats other rank-2 candidates: ||P||^2 = sigma_1^2 + sigma_2^2
// >= ||W|| restricted to any two columns or any two rows; and the rank-1
// projection equals Monarch with one block (computed by another method).
// (3) With bf16 factors the product is close to, but not as close as with
// f32 factors, the rank-2 matrix.

!lr2 = !quilt.packed<8x6, structure<lowrank<2>>>
!lr1 = !quilt.packed<8x6, structure<lowrank<1>>>
!lr3 = !quilt.packed<8x6, structure<lowrank<3>>>
!lr6 = !quilt.packed<8x6, structure<lowrank<6>>>
!wide2 = !quilt.packed<4x8, structure<lowrank<2>>>
!mon1 = !quilt.packed<8x6, structure<monarch<1>>>
!lr2bf = !quilt.packed<8x6, precision<bf16>, structure<lowrank<2>>>
!tall3 = !quilt.packed<40x64, structure<lowrank<3>>>
!tall2 = !quilt.packed<40x64, structure<lowrank<2>>>

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

// max |a - b|.
func.func @max_abs_diff(%a: tensor<?x?xf32>, %b: tensor<?x?xf32>) -> f32 {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<f32>
  %i0 = linalg.fill ins(%zero : f32) outs(%e : tensor<f32>) -> tensor<f32>
  %m = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>,
                                        affine_map<(i, j) -> ()>],
                       iterator_types = ["reduction", "reduction"]}
      ins(%a, %b : tensor<?x?xf32>, tensor<?x?xf32>) outs(%i0 : tensor<f32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %d = arith.subf %x, %y : f32
    %ad = math.absf %d : f32
    %m = arith.maximumf %acc, %ad : f32
    linalg.yield %m : f32
  } -> tensor<f32>
  %v = tensor.extract %m[] : tensor<f32>
  return %v : f32
}

// 1.0 if max |a - b| <= tol * max |b|, else 0.0.
func.func @close(%a: tensor<?x?xf32>, %b: tensor<?x?xf32>, %tol: f32) -> f32 {
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %d0 = tensor.dim %b, %c0 : tensor<?x?xf32>
  %d1 = tensor.dim %b, %c1 : tensor<?x?xf32>
  %eb = tensor.empty(%d0, %d1) : tensor<?x?xf32>
  %zb = linalg.fill ins(%zero : f32) outs(%eb : tensor<?x?xf32>) -> tensor<?x?xf32>
  %d = call @max_abs_diff(%a, %b) : (tensor<?x?xf32>, tensor<?x?xf32>) -> f32
  %m = call @max_abs_diff(%b, %zb) : (tensor<?x?xf32>, tensor<?x?xf32>) -> f32
  %lim = arith.mulf %tol, %m : f32
  %ok = arith.cmpf ole, %d, %lim : f32
  %v = arith.select %ok, %one, %zero : f32
  return %v : f32
}

func.func @sum_sq(%a: tensor<8x6xf32>) -> f32 {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<f32>
  %i0 = linalg.fill ins(%zero : f32) outs(%e : tensor<f32>) -> tensor<f32>
  %m = linalg.reduce ins(%a : tensor<8x6xf32>) outs(%i0 : tensor<f32>) dimensions = [0, 1]
    (%x: f32, %acc: f32) {
      %sq = arith.mulf %x, %x : f32
      %s = arith.addf %acc, %sq : f32
      linalg.yield %s : f32
    }
  %v = tensor.extract %m[] : tensor<f32>
  return %v : f32
}

func.func @matmul(%a: tensor<?x?xf32>, %b: tensor<?x?xf32>) -> tensor<?x?xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f32
  %m = tensor.dim %a, %c0 : tensor<?x?xf32>
  %n = tensor.dim %b, %c1 : tensor<?x?xf32>
  %e = tensor.empty(%m, %n) : tensor<?x?xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<?x?xf32>) -> tensor<?x?xf32>
  %r = linalg.matmul ins(%a, %b : tensor<?x?xf32>, tensor<?x?xf32>) outs(%z : tensor<?x?xf32>) -> tensor<?x?xf32>
  return %r : tensor<?x?xf32>
}

// max |P^T (W - P)|.
func.func @max_cross(%w: tensor<8x6xf32>, %p: tensor<8x6xf32>) -> f32 {
  %zero = arith.constant 0.0 : f32
  %r = arith.subf %w, %p : tensor<8x6xf32>
  %e = tensor.empty() : tensor<6x6xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<6x6xf32>) -> tensor<6x6xf32>
  %c = linalg.generic {indexing_maps = [affine_map<(a, b, i) -> (i, a)>, affine_map<(a, b, i) -> (i, b)>,
                                        affine_map<(a, b, i) -> (a, b)>],
                       iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%p, %r : tensor<8x6xf32>, tensor<8x6xf32>) outs(%z : tensor<6x6xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %m = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<6x6xf32>
  %e0 = tensor.empty() : tensor<f32>
  %i0 = linalg.fill ins(%zero : f32) outs(%e0 : tensor<f32>) -> tensor<f32>
  %m = linalg.reduce ins(%c : tensor<6x6xf32>) outs(%i0 : tensor<f32>) dimensions = [0, 1]
    (%x: f32, %acc: f32) {
      %a = math.absf %x : f32
      %mx = arith.maximumf %a, %acc : f32
      linalg.yield %mx : f32
    }
  %v = tensor.extract %m[] : tensor<f32>
  return %v : f32
}

// max over a != b of sq[a] + sq[b].
func.func @best_pair(%sq: tensor<?xf32>) -> f32 {
  %zero = arith.constant 0.0 : f32
  %e0 = tensor.empty() : tensor<f32>
  %i0 = linalg.fill ins(%zero : f32) outs(%e0 : tensor<f32>) -> tensor<f32>
  %m = linalg.generic {indexing_maps = [affine_map<(a, b) -> (a)>, affine_map<(a, b) -> (b)>,
                                        affine_map<(a, b) -> ()>],
                       iterator_types = ["reduction", "reduction"]}
      ins(%sq, %sq : tensor<?xf32>, tensor<?xf32>) outs(%i0 : tensor<f32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %a = linalg.index 0 : index
    %b = linalg.index 1 : index
    %ne = arith.cmpi ne, %a, %b : index
    %s = arith.addf %x, %y : f32
    %sv = arith.select %ne, %s, %zero : f32
    %mx = arith.maximumf %acc, %sv : f32
    linalg.yield %mx : f32
  } -> tensor<f32>
  %v = tensor.extract %m[] : tensor<f32>
  return %v : f32
}

// max(best two columns' squared norms, best two rows' squared norms) of w.
func.func @best_candidate(%w: tensor<8x6xf32>) -> f32 {
  %zero = arith.constant 0.0 : f32
  %ec = tensor.empty() : tensor<6xf32>
  %zc = linalg.fill ins(%zero : f32) outs(%ec : tensor<6xf32>) -> tensor<6xf32>
  %colsq = linalg.reduce ins(%w : tensor<8x6xf32>) outs(%zc : tensor<6xf32>) dimensions = [0]
    (%x: f32, %acc: f32) {
      %sq = arith.mulf %x, %x : f32
      %s = arith.addf %acc, %sq : f32
      linalg.yield %s : f32
    }
  %er = tensor.empty() : tensor<8xf32>
  %zr = linalg.fill ins(%zero : f32) outs(%er : tensor<8xf32>) -> tensor<8xf32>
  %rowsq = linalg.reduce ins(%w : tensor<8x6xf32>) outs(%zr : tensor<8xf32>) dimensions = [1]
    (%x: f32, %acc: f32) {
      %sq = arith.mulf %x, %x : f32
      %s = arith.addf %acc, %sq : f32
      linalg.yield %s : f32
    }
  %cd = tensor.cast %colsq : tensor<6xf32> to tensor<?xf32>
  %rd = tensor.cast %rowsq : tensor<8xf32> to tensor<?xf32>
  %bc = call @best_pair(%cd) : (tensor<?xf32>) -> f32
  %br = call @best_pair(%rd) : (tensor<?xf32>) -> f32
  %b = arith.maximumf %bc, %br : f32
  return %b : f32
}

func.func @main() {
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %tol = arith.constant 1.0e-5 : f32
  %amp = arith.constant 1.0 : f32
  %c2 = arith.constant 2 : index
  %c4 = arith.constant 4 : index
  %c6 = arith.constant 6 : index
  %c8 = arith.constant 8 : index
  %s1 = arith.constant 21 : i32
  %s2 = arith.constant 22 : i32
  %s3 = arith.constant 23 : i32
  %s4 = arith.constant 24 : i32
  %s5 = arith.constant 25 : i32

  // (1) Rank-2 products U V pack exactly; full rank is the identity.
  %u = call @random(%c8, %c2, %s1, %amp) : (index, index, i32, f32) -> tensor<?x?xf32>
  %v = call @random(%c2, %c6, %s2, %amp) : (index, index, i32, f32) -> tensor<?x?xf32>
  %uvd = call @matmul(%u, %v) : (tensor<?x?xf32>, tensor<?x?xf32>) -> tensor<?x?xf32>
  %uv = tensor.cast %uvd : tensor<?x?xf32> to tensor<8x6xf32>
  %puv = quilt.pack %uv : tensor<8x6xf32> -> !lr2
  %quv = quilt.unpack %puv : !lr2 -> tensor<8x6xf32>
  %quvd = tensor.cast %quv : tensor<8x6xf32> to tensor<?x?xf32>
  %ok_a = call @close(%quvd, %uvd, %tol) : (tensor<?x?xf32>, tensor<?x?xf32>, f32) -> f32

  %u2 = call @random(%c4, %c2, %s3, %amp) : (index, index, i32, f32) -> tensor<?x?xf32>
  %v2 = call @random(%c2, %c8, %s4, %amp) : (index, index, i32, f32) -> tensor<?x?xf32>
  %uv2d = call @matmul(%u2, %v2) : (tensor<?x?xf32>, tensor<?x?xf32>) -> tensor<?x?xf32>
  %uv2 = tensor.cast %uv2d : tensor<?x?xf32> to tensor<4x8xf32>
  %puv2 = quilt.pack %uv2 : tensor<4x8xf32> -> !wide2
  %quv2 = quilt.unpack %puv2 : !wide2 -> tensor<4x8xf32>
  %quv2d = tensor.cast %quv2 : tensor<4x8xf32> to tensor<?x?xf32>
  %ok_b = call @close(%quv2d, %uv2d, %tol) : (tensor<?x?xf32>, tensor<?x?xf32>, f32) -> f32

  %wd = call @random(%c8, %c6, %s5, %amp) : (index, index, i32, f32) -> tensor<?x?xf32>
  %w = tensor.cast %wd : tensor<?x?xf32> to tensor<8x6xf32>
  %pfull = quilt.pack %w : tensor<8x6xf32> -> !lr6
  %qfull = quilt.unpack %pfull : !lr6 -> tensor<8x6xf32>
  %qfulld = tensor.cast %qfull : tensor<8x6xf32> to tensor<?x?xf32>
  %ok_c = call @close(%qfulld, %wd, %tol) : (tensor<?x?xf32>, tensor<?x?xf32>, f32) -> f32

  // Discrimination: a rank-1 projection does not reproduce U V (expect 0).
  %puv1 = quilt.pack %uv : tensor<8x6xf32> -> !lr1
  %quv1 = quilt.unpack %puv1 : !lr1 -> tensor<8x6xf32>
  %quv1d = tensor.cast %quv1 : tensor<8x6xf32> to tensor<?x?xf32>
  %ok_d = call @close(%quv1d, %uvd, %tol) : (tensor<?x?xf32>, tensor<?x?xf32>, f32) -> f32

  // Subspace iteration proper (p = r + 16 < N): a rank-3 40 x 64 product
  // packs exactly at r = 3, not at r = 2 (expect 1, 0).
  %c3 = arith.constant 3 : index
  %c40 = arith.constant 40 : index
  %c64 = arith.constant 64 : index
  %s6 = arith.constant 26 : i32
  %s7 = arith.constant 27 : i32
  %u3 = call @random(%c40, %c3, %s6, %amp) : (index, index, i32, f32) -> tensor<?x?xf32>
  %v3 = call @random(%c3, %c64, %s7, %amp) : (index, index, i32, f32) -> tensor<?x?xf32>
  %uv3d = call @matmul(%u3, %v3) : (tensor<?x?xf32>, tensor<?x?xf32>) -> tensor<?x?xf32>
  %uv3 = tensor.cast %uv3d : tensor<?x?xf32> to tensor<40x64xf32>
  %pt3 = quilt.pack %uv3 : tensor<40x64xf32> -> !tall3
  %q3 = quilt.unpack %pt3 : !tall3 -> tensor<40x64xf32>
  %q3d = tensor.cast %q3 : tensor<40x64xf32> to tensor<?x?xf32>
  %ok_e = call @close(%q3d, %uv3d, %tol) : (tensor<?x?xf32>, tensor<?x?xf32>, f32) -> f32
  %p32 = quilt.pack %uv3 : tensor<40x64xf32> -> !tall2
  %q32 = quilt.unpack %p32 : !tall2 -> tensor<40x64xf32>
  %q32d = tensor.cast %q32 : tensor<40x64xf32> to tensor<?x?xf32>
  %ok_f = call @close(%q32d, %uv3d, %tol) : (tensor<?x?xf32>, tensor<?x?xf32>, f32) -> f32

  // CHECK: data =
  // CHECK-NEXT: [1,   1,   1,   0,   1,   0]
  %r1 = tensor.from_elements %ok_a, %ok_b, %ok_c, %ok_d, %ok_e, %ok_f : tensor<1x6xf32>
  %r1d = tensor.cast %r1 : tensor<1x6xf32> to tensor<?x?xf32>
  call @print(%r1d) : (tensor<?x?xf32>) -> ()

  // (2) Rank-2 projection of a pseudo-random 8x6 W.
  %pp = quilt.pack %w : tensor<8x6xf32> -> !lr2
  %p = quilt.unpack %pp : !lr2 -> tensor<8x6xf32>
  %pd = tensor.cast %p : tensor<8x6xf32> to tensor<?x?xf32>
  // Idempotent (rank <= 2).
  %pp2 = quilt.pack %p : tensor<8x6xf32> -> !lr2
  %p2 = quilt.unpack %pp2 : !lr2 -> tensor<8x6xf32>
  %p2d = tensor.cast %p2 : tensor<8x6xf32> to tensor<?x?xf32>
  %v_idem = call @close(%p2d, %pd, %tol) : (tensor<?x?xf32>, tensor<?x?xf32>, f32) -> f32
  // Not rank 1 (expect 0).
  %pp1 = quilt.pack %p : tensor<8x6xf32> -> !lr1
  %p1 = quilt.unpack %pp1 : !lr1 -> tensor<8x6xf32>
  %p1d = tensor.cast %p1 : tensor<8x6xf32> to tensor<?x?xf32>
  %tol3 = arith.constant 1.0e-3 : f32
  %v_r1 = call @close(%p1d, %pd, %tol3) : (tensor<?x?xf32>, tensor<?x?xf32>, f32) -> f32
  // Pythagoras.
  %nw = call @sum_sq(%w) : (tensor<8x6xf32>) -> f32
  %np = call @sum_sq(%p) : (tensor<8x6xf32>) -> f32
  %res = arith.subf %w, %p : tensor<8x6xf32>
  %nr = call @sum_sq(%res) : (tensor<8x6xf32>) -> f32
  %sum = arith.addf %np, %nr : f32
  %gap = arith.subf %nw, %sum : f32
  %agap = math.absf %gap : f32
  %lim = arith.mulf %nw, %tol : f32
  %ok3 = arith.cmpf ole, %agap, %lim : f32
  %v_pyth = arith.select %ok3, %one, %zero : f32
  // Invariant subspace.
  %cross = call @max_cross(%w, %p) : (tensor<8x6xf32>, tensor<8x6xf32>) -> f32
  %ok4 = arith.cmpf ole, %cross, %lim : f32
  %v_inv = arith.select %ok4, %one, %zero : f32
  // Better than keeping any two columns or any two rows.
  %cand = call @best_candidate(%w) : (tensor<8x6xf32>) -> f32
  %np_tol = arith.addf %np, %lim : f32
  %ok5 = arith.cmpf oge, %np_tol, %cand : f32
  %v_opt = arith.select %ok5, %one, %zero : f32

  // Discrimination against ignoring the rank: P differs from W and from
  // the rank-3 projection (expect 0, 0).
  %v_w = call @close(%pd, %wd, %tol3) : (tensor<?x?xf32>, tensor<?x?xf32>, f32) -> f32
  %pp3 = quilt.pack %w : tensor<8x6xf32> -> !lr3
  %p3 = quilt.unpack %pp3 : !lr3 -> tensor<8x6xf32>
  %p3d = tensor.cast %p3 : tensor<8x6xf32> to tensor<?x?xf32>
  %v_r3 = call @close(%pd, %p3d, %tol3) : (tensor<?x?xf32>, tensor<?x?xf32>, f32) -> f32

  // Two independent methods agree: rank 1 (Jacobi eigensolver) equals
  // Monarch with one block (power iteration).
  %pl1 = quilt.pack %w : tensor<8x6xf32> -> !lr1
  %ul1 = quilt.unpack %pl1 : !lr1 -> tensor<8x6xf32>
  %ul1d = tensor.cast %ul1 : tensor<8x6xf32> to tensor<?x?xf32>
  %pm1 = quilt.pack %w : tensor<8x6xf32> -> !mon1
  %um1 = quilt.unpack %pm1 : !mon1 -> tensor<8x6xf32>
  %um1d = tensor.cast %um1 : tensor<8x6xf32> to tensor<?x?xf32>
  %v_m1 = call @close(%um1d, %ul1d, %tol) : (tensor<?x?xf32>, tensor<?x?xf32>, f32) -> f32

  // [idempotent, rank 1, Pythagoras, invariant, optimal, = W, = rank 3,
  //  rank 1 = monarch<1>]
  // CHECK: data =
  // CHECK-NEXT: [1,   0,   1,   1,   1,   0,   0,   1]
  %r2 = tensor.from_elements %v_idem, %v_r1, %v_pyth, %v_inv, %v_opt, %v_w, %v_r3, %v_m1 : tensor<1x8xf32>
  %r2d = tensor.cast %r2 : tensor<1x8xf32> to tensor<?x?xf32>
  call @print(%r2d) : (tensor<?x?xf32>) -> ()

  // (3) bf16 factors of the rank-2 U V.
  %pbf = quilt.pack %uv : tensor<8x6xf32> -> !lr2bf
  %qbf = quilt.unpack %pbf : !lr2bf -> tensor<8x6xf32>
  %qbfd = tensor.cast %qbf : tensor<8x6xf32> to tensor<?x?xf32>
  %tol_bf = arith.constant 0.015625 : f32
  %ok_bf = call @close(%qbfd, %uvd, %tol_bf) : (tensor<?x?xf32>, tensor<?x?xf32>, f32) -> f32
  %ok_bf_tight = call @close(%qbfd, %uvd, %tol) : (tensor<?x?xf32>, tensor<?x?xf32>, f32) -> f32
  // CHECK: data =
  // CHECK-NEXT: [1,   0]
  %r3 = tensor.from_elements %ok_bf, %ok_bf_tight : tensor<1x2xf32>
  %r3d = tensor.cast %r3 : tensor<1x2xf32> to tensor<?x?xf32>
  call @print(%r3d) : (tensor<?x?xf32>) -> ()

  return
}
