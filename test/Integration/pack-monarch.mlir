// RUN: quilt-opt %s --quilt-reference-pipeline | \
// RUN:   mlir-runner -e main -entry-point-result=void -shared-libs=%mlir_runner_libs | \
// RUN:   FileCheck %s

// Monarch structure on 8x12 weights. (1) A Monarch matrix built here from
// pseudo-random factors, W[p*k + i, q*n + o] = L[p, i, q] * R[q, p, o], packs
// to itself (2 and 4 blocks; max |diff| <= 1e-5 max |W|). (2) For a
// pseudo-random W with 2 blocks, the projection P: every k x n block of P
// has rank 1 (all 2x2 minors vanish); packing P again changes nothing;
// P is an orthogonal projection of each block (||W||^2 = ||P||^2 +
// ||W - P||^2) onto a singular pair (P_block^T (W_block - P_block) = 0);
// and it beats simple rank-1 candidates: each block's ||P_block||^2 =
// sigma_1^2 >= the squared norm of any single row or column of W's block.
// (3) With bf16 factors the product is close to, but not as close as with
// f32 factors, the Monarch matrix.

!m2 = !quilt.packed<8x12, structure<monarch<2>>>
!m4 = !quilt.packed<8x12, structure<monarch<4>>>
!m2bf = !quilt.packed<8x12, precision<bf16>, structure<monarch<2>>>

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

// W[p*k + i, q*n + o] = L[p, i, q] * R[q, p, o].
func.func @monarch(%l: tensor<?x?x?xf32>, %r: tensor<?x?x?xf32>) -> tensor<8x12xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %b = tensor.dim %l, %c0 : tensor<?x?x?xf32>
  %k = tensor.dim %l, %c1 : tensor<?x?x?xf32>
  %n = tensor.dim %r, %c2 : tensor<?x?x?xf32>
  %e = tensor.empty(%b, %k, %b, %n) : tensor<?x?x?x?xf32>
  %w4 = linalg.generic {indexing_maps = [affine_map<(p, i, q, o) -> (p, i, q)>,
                                         affine_map<(p, i, q, o) -> (q, p, o)>,
                                         affine_map<(p, i, q, o) -> (p, i, q, o)>],
                        iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%l, %r : tensor<?x?x?xf32>, tensor<?x?x?xf32>) outs(%e : tensor<?x?x?x?xf32>) {
  ^bb0(%x: f32, %y: f32, %out: f32):
    %m = arith.mulf %x, %y : f32
    linalg.yield %m : f32
  } -> tensor<?x?x?x?xf32>
  %w = tensor.collapse_shape %w4 [[0, 1], [2, 3]] : tensor<?x?x?x?xf32> into tensor<?x?xf32>
  %ws = tensor.cast %w : tensor<?x?xf32> to tensor<8x12xf32>
  return %ws : tensor<8x12xf32>
}

// max |a| (b = 0) or max |a - b|.
func.func @max_abs_diff(%a: tensor<8x12xf32>, %b: tensor<8x12xf32>) -> f32 {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<f32>
  %i0 = linalg.fill ins(%zero : f32) outs(%e : tensor<f32>) -> tensor<f32>
  %m = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>,
                                        affine_map<(i, j) -> ()>],
                       iterator_types = ["reduction", "reduction"]}
      ins(%a, %b : tensor<8x12xf32>, tensor<8x12xf32>) outs(%i0 : tensor<f32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %d = arith.subf %x, %y : f32
    %ad = math.absf %d : f32
    %m = arith.maximumf %acc, %ad : f32
    linalg.yield %m : f32
  } -> tensor<f32>
  %v = tensor.extract %m[] : tensor<f32>
  return %v : f32
}

func.func @sum_sq(%a: tensor<8x12xf32>) -> f32 {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<f32>
  %i0 = linalg.fill ins(%zero : f32) outs(%e : tensor<f32>) -> tensor<f32>
  %m = linalg.reduce ins(%a : tensor<8x12xf32>) outs(%i0 : tensor<f32>) dimensions = [0, 1]
    (%x: f32, %acc: f32) {
      %sq = arith.mulf %x, %x : f32
      %s = arith.addf %acc, %sq : f32
      linalg.yield %s : f32
    }
  %v = tensor.extract %m[] : tensor<f32>
  return %v : f32
}

// 1.0 if max |a - b| <= tol * max |b|, else 0.0.
func.func @close(%a: tensor<8x12xf32>, %b: tensor<8x12xf32>, %tol: f32) -> f32 {
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %z = arith.constant dense<0.0> : tensor<8x12xf32>
  %d = call @max_abs_diff(%a, %b) : (tensor<8x12xf32>, tensor<8x12xf32>) -> f32
  %m = call @max_abs_diff(%b, %z) : (tensor<8x12xf32>, tensor<8x12xf32>) -> f32
  %lim = arith.mulf %tol, %m : f32
  %ok = arith.cmpf ole, %d, %lim : f32
  %v = arith.select %ok, %one, %zero : f32
  return %v : f32
}

// Max over the 2 x 2 blocks (4 x 6 each) of |2x2 minor| of p.
func.func @max_minor(%p: tensor<8x12xf32>) -> f32 {
  %zero = arith.constant 0.0 : f32
  %p4 = tensor.expand_shape %p [[0, 1], [2, 3]] output_shape [2, 4, 2, 6]
      : tensor<8x12xf32> into tensor<2x4x2x6xf32>
  %e = tensor.empty() : tensor<f32>
  %i0 = linalg.fill ins(%zero : f32) outs(%e : tensor<f32>) -> tensor<f32>
  %m = linalg.generic {indexing_maps = [affine_map<(p, q, i, o, i2, o2) -> (p, i, q, o)>,
                                        affine_map<(p, q, i, o, i2, o2) -> (p, i2, q, o2)>,
                                        affine_map<(p, q, i, o, i2, o2) -> (p, i, q, o2)>,
                                        affine_map<(p, q, i, o, i2, o2) -> (p, i2, q, o)>,
                                        affine_map<(p, q, i, o, i2, o2) -> ()>],
                       iterator_types = ["reduction", "reduction", "reduction",
                                         "reduction", "reduction", "reduction"]}
      ins(%p4, %p4, %p4, %p4 : tensor<2x4x2x6xf32>, tensor<2x4x2x6xf32>, tensor<2x4x2x6xf32>, tensor<2x4x2x6xf32>)
      outs(%i0 : tensor<f32>) {
  ^bb0(%a: f32, %b: f32, %c: f32, %d: f32, %acc: f32):
    %ab = arith.mulf %a, %b : f32
    %cd = arith.mulf %c, %d : f32
    %det = arith.subf %ab, %cd : f32
    %ad = math.absf %det : f32
    %mx = arith.maximumf %acc, %ad : f32
    linalg.yield %mx : f32
  } -> tensor<f32>
  %v = tensor.extract %m[] : tensor<f32>
  return %v : f32
}

// min over the 2 x 2 blocks of ||P_block||^2 - max(max_o ||W_block[:, o]||^2,
// max_i ||W_block[i, :]||^2).
func.func @optimality_margin(%w: tensor<8x12xf32>, %p: tensor<8x12xf32>) -> f32 {
  %zero = arith.constant 0.0 : f32
  %inf = arith.constant 0x7F800000 : f32
  %w4 = tensor.expand_shape %w [[0, 1], [2, 3]] output_shape [2, 4, 2, 6]
      : tensor<8x12xf32> into tensor<2x4x2x6xf32>
  %p4 = tensor.expand_shape %p [[0, 1], [2, 3]] output_shape [2, 4, 2, 6]
      : tensor<8x12xf32> into tensor<2x4x2x6xf32>
  %ec = tensor.empty() : tensor<2x2x6xf32>
  %zc = linalg.fill ins(%zero : f32) outs(%ec : tensor<2x2x6xf32>) -> tensor<2x2x6xf32>
  %colsq = linalg.generic {indexing_maps = [affine_map<(p, q, o, i) -> (p, i, q, o)>,
                                            affine_map<(p, q, o, i) -> (p, q, o)>],
                           iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%w4 : tensor<2x4x2x6xf32>) outs(%zc : tensor<2x2x6xf32>) {
  ^bb0(%x: f32, %acc: f32):
    %sq = arith.mulf %x, %x : f32
    %s = arith.addf %acc, %sq : f32
    linalg.yield %s : f32
  } -> tensor<2x2x6xf32>
  %er = tensor.empty() : tensor<2x2x4xf32>
  %zr = linalg.fill ins(%zero : f32) outs(%er : tensor<2x2x4xf32>) -> tensor<2x2x4xf32>
  %rowsq = linalg.generic {indexing_maps = [affine_map<(p, q, i, o) -> (p, i, q, o)>,
                                            affine_map<(p, q, i, o) -> (p, q, i)>],
                           iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%w4 : tensor<2x4x2x6xf32>) outs(%zr : tensor<2x2x4xf32>) {
  ^bb0(%x: f32, %acc: f32):
    %sq = arith.mulf %x, %x : f32
    %s = arith.addf %acc, %sq : f32
    linalg.yield %s : f32
  } -> tensor<2x2x4xf32>
  %eb = tensor.empty() : tensor<2x2xf32>
  %zb = linalg.fill ins(%zero : f32) outs(%eb : tensor<2x2xf32>) -> tensor<2x2xf32>
  %blocksq = linalg.generic {indexing_maps = [affine_map<(p, q, i, o) -> (p, i, q, o)>,
                                              affine_map<(p, q, i, o) -> (p, q)>],
                             iterator_types = ["parallel", "parallel", "reduction", "reduction"]}
      ins(%p4 : tensor<2x4x2x6xf32>) outs(%zb : tensor<2x2xf32>) {
  ^bb0(%x: f32, %acc: f32):
    %sq = arith.mulf %x, %x : f32
    %s = arith.addf %acc, %sq : f32
    linalg.yield %s : f32
  } -> tensor<2x2xf32>
  %maxcol = linalg.reduce ins(%colsq : tensor<2x2x6xf32>) outs(%zb : tensor<2x2xf32>) dimensions = [2]
    (%x: f32, %acc: f32) {
      %m = arith.maximumf %x, %acc : f32
      linalg.yield %m : f32
    }
  %maxrow = linalg.reduce ins(%rowsq : tensor<2x2x4xf32>) outs(%zb : tensor<2x2xf32>) dimensions = [2]
    (%x: f32, %acc: f32) {
      %m = arith.maximumf %x, %acc : f32
      linalg.yield %m : f32
    }
  %e0 = tensor.empty() : tensor<f32>
  %i0 = linalg.fill ins(%inf : f32) outs(%e0 : tensor<f32>) -> tensor<f32>
  %margin = linalg.generic {indexing_maps = [affine_map<(p, q) -> (p, q)>, affine_map<(p, q) -> (p, q)>,
                                             affine_map<(p, q) -> (p, q)>, affine_map<(p, q) -> ()>],
                            iterator_types = ["reduction", "reduction"]}
      ins(%blocksq, %maxcol, %maxrow : tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x2xf32>)
      outs(%i0 : tensor<f32>) {
  ^bb0(%bs: f32, %mc: f32, %mr: f32, %acc: f32):
    %best = arith.maximumf %mc, %mr : f32
    %d = arith.subf %bs, %best : f32
    %m = arith.minimumf %acc, %d : f32
    linalg.yield %m : f32
  } -> tensor<f32>
  %v = tensor.extract %margin[] : tensor<f32>
  return %v : f32
}

// max over blocks of |P_block^T (W_block - P_block)| entries: zero iff each
// block of P is S v v^T for a right singular vector v of W's block S.
func.func @max_cross(%w: tensor<8x12xf32>, %p: tensor<8x12xf32>) -> f32 {
  %zero = arith.constant 0.0 : f32
  %r = arith.subf %w, %p : tensor<8x12xf32>
  %p4 = tensor.expand_shape %p [[0, 1], [2, 3]] output_shape [2, 4, 2, 6]
      : tensor<8x12xf32> into tensor<2x4x2x6xf32>
  %r4 = tensor.expand_shape %r [[0, 1], [2, 3]] output_shape [2, 4, 2, 6]
      : tensor<8x12xf32> into tensor<2x4x2x6xf32>
  %e = tensor.empty() : tensor<2x2x6x6xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<2x2x6x6xf32>) -> tensor<2x2x6x6xf32>
  %c = linalg.generic {indexing_maps = [affine_map<(p, q, o, o2, i) -> (p, i, q, o)>,
                                        affine_map<(p, q, o, o2, i) -> (p, i, q, o2)>,
                                        affine_map<(p, q, o, o2, i) -> (p, q, o, o2)>],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%p4, %r4 : tensor<2x4x2x6xf32>, tensor<2x4x2x6xf32>) outs(%z : tensor<2x2x6x6xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %m = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<2x2x6x6xf32>
  %e0 = tensor.empty() : tensor<f32>
  %i0 = linalg.fill ins(%zero : f32) outs(%e0 : tensor<f32>) -> tensor<f32>
  %m = linalg.reduce ins(%c : tensor<2x2x6x6xf32>) outs(%i0 : tensor<f32>) dimensions = [0, 1, 2, 3]
    (%x: f32, %acc: f32) {
      %a = math.absf %x : f32
      %mx = arith.maximumf %a, %acc : f32
      linalg.yield %mx : f32
    }
  %v = tensor.extract %m[] : tensor<f32>
  return %v : f32
}

func.func @main() {
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %tol = arith.constant 1.0e-5 : f32
  %amp = arith.constant 1.0 : f32
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %c4 = arith.constant 4 : index
  %c6 = arith.constant 6 : index
  %c8 = arith.constant 8 : index
  %c12 = arith.constant 12 : index
  %c16 = arith.constant 16 : index
  %s1 = arith.constant 1 : i32
  %s2 = arith.constant 2 : i32
  %s3 = arith.constant 3 : i32
  %s4 = arith.constant 4 : i32
  %s5 = arith.constant 5 : i32

  // (1) Monarch matrices with 2 blocks (L: 2x4x2, R: 2x2x6) and 4 blocks
  // (L: 4x2x4, R: 4x4x3) pack exactly.
  %l2d = call @random(%c8, %c2, %s1, %amp) : (index, index, i32, f32) -> tensor<?x?xf32>
  %l2s = tensor.cast %l2d : tensor<?x?xf32> to tensor<8x2xf32>
  %l2 = tensor.expand_shape %l2s [[0, 1], [2]] output_shape [2, 4, 2] : tensor<8x2xf32> into tensor<2x4x2xf32>
  %r2d = call @random(%c4, %c6, %s2, %amp) : (index, index, i32, f32) -> tensor<?x?xf32>
  %r2s = tensor.cast %r2d : tensor<?x?xf32> to tensor<4x6xf32>
  %r2 = tensor.expand_shape %r2s [[0, 1], [2]] output_shape [2, 2, 6] : tensor<4x6xf32> into tensor<2x2x6xf32>
  %l2x = tensor.cast %l2 : tensor<2x4x2xf32> to tensor<?x?x?xf32>
  %r2x = tensor.cast %r2 : tensor<2x2x6xf32> to tensor<?x?x?xf32>
  %wm2 = call @monarch(%l2x, %r2x) : (tensor<?x?x?xf32>, tensor<?x?x?xf32>) -> tensor<8x12xf32>
  %pm2 = quilt.pack %wm2 : tensor<8x12xf32> -> !m2
  %um2 = quilt.unpack %pm2 : !m2 -> tensor<8x12xf32>
  %ok_a = call @close(%um2, %wm2, %tol) : (tensor<8x12xf32>, tensor<8x12xf32>, f32) -> f32

  %l4d = call @random(%c8, %c4, %s3, %amp) : (index, index, i32, f32) -> tensor<?x?xf32>
  %l4s = tensor.cast %l4d : tensor<?x?xf32> to tensor<8x4xf32>
  %l4 = tensor.expand_shape %l4s [[0, 1], [2]] output_shape [4, 2, 4] : tensor<8x4xf32> into tensor<4x2x4xf32>
  %r4d = call @random(%c16, %c3, %s4, %amp) : (index, index, i32, f32) -> tensor<?x?xf32>
  %r4s = tensor.cast %r4d : tensor<?x?xf32> to tensor<16x3xf32>
  %r4 = tensor.expand_shape %r4s [[0, 1], [2]] output_shape [4, 4, 3] : tensor<16x3xf32> into tensor<4x4x3xf32>
  %l4x = tensor.cast %l4 : tensor<4x2x4xf32> to tensor<?x?x?xf32>
  %r4x = tensor.cast %r4 : tensor<4x4x3xf32> to tensor<?x?x?xf32>
  %wm4 = call @monarch(%l4x, %r4x) : (tensor<?x?x?xf32>, tensor<?x?x?xf32>) -> tensor<8x12xf32>
  %pm4 = quilt.pack %wm4 : tensor<8x12xf32> -> !m4
  %um4 = quilt.unpack %pm4 : !m4 -> tensor<8x12xf32>
  %ok_b = call @close(%um4, %wm4, %tol) : (tensor<8x12xf32>, tensor<8x12xf32>, f32) -> f32

  // Discrimination: the 4-block Monarch matrix is not a 2-block one
  // (expect 0).
  %pm42 = quilt.pack %wm4 : tensor<8x12xf32> -> !m2
  %um42 = quilt.unpack %pm42 : !m2 -> tensor<8x12xf32>
  %ok_c = call @close(%um42, %wm4, %tol) : (tensor<8x12xf32>, tensor<8x12xf32>, f32) -> f32

  // CHECK: data =
  // CHECK-NEXT: [1,   1,   0]
  %v1 = tensor.from_elements %ok_a, %ok_b, %ok_c : tensor<1x3xf32>
  %v1d = tensor.cast %v1 : tensor<1x3xf32> to tensor<?x?xf32>
  call @print(%v1d) : (tensor<?x?xf32>) -> ()

  // (2) Projection of a pseudo-random W.
  %wd = call @random(%c8, %c12, %s5, %amp) : (index, index, i32, f32) -> tensor<?x?xf32>
  %w = tensor.cast %wd : tensor<?x?xf32> to tensor<8x12xf32>
  %pp = quilt.pack %w : tensor<8x12xf32> -> !m2
  %p = quilt.unpack %pp : !m2 -> tensor<8x12xf32>
  %z = arith.constant dense<0.0> : tensor<8x12xf32>
  %pmax = call @max_abs_diff(%p, %z) : (tensor<8x12xf32>, tensor<8x12xf32>) -> f32
  %pmax2 = arith.mulf %pmax, %pmax : f32
  // Rank 1 blocks.
  %minor = call @max_minor(%p) : (tensor<8x12xf32>) -> f32
  %minor_lim = arith.mulf %pmax2, %tol : f32
  %ok1 = arith.cmpf ole, %minor, %minor_lim : f32
  %v_rank = arith.select %ok1, %one, %zero : f32
  // Idempotent.
  %pp2 = quilt.pack %p : tensor<8x12xf32> -> !m2
  %p2 = quilt.unpack %pp2 : !m2 -> tensor<8x12xf32>
  %v_idem = call @close(%p2, %p, %tol) : (tensor<8x12xf32>, tensor<8x12xf32>, f32) -> f32
  // Pythagoras, and the projection did change W.
  %nw = call @sum_sq(%w) : (tensor<8x12xf32>) -> f32
  %np = call @sum_sq(%p) : (tensor<8x12xf32>) -> f32
  %res = arith.subf %w, %p : tensor<8x12xf32>
  %nr = call @sum_sq(%res) : (tensor<8x12xf32>) -> f32
  %sum = arith.addf %np, %nr : f32
  %gap = arith.subf %nw, %sum : f32
  %agap = math.absf %gap : f32
  %gap_lim = arith.mulf %nw, %tol : f32
  %ok3 = arith.cmpf ole, %agap, %gap_lim : f32
  %v_pyth = arith.select %ok3, %one, %zero : f32
  %tenth = arith.constant 0.1 : f32
  %nw10 = arith.mulf %nw, %tenth : f32
  %ok4 = arith.cmpf ogt, %nr, %nw10 : f32
  %v_changed = arith.select %ok4, %one, %zero : f32
  // sigma_1^2 of every block >= any row's or column's squared norm.
  %margin = call @optimality_margin(%w, %p) : (tensor<8x12xf32>, tensor<8x12xf32>) -> f32
  %neg_tol = arith.negf %gap_lim : f32
  %ok5 = arith.cmpf oge, %margin, %neg_tol : f32
  %v_opt = arith.select %ok5, %one, %zero : f32
  // Residual orthogonal to P on both sides (singular vector).
  %cross = call @max_cross(%w, %p) : (tensor<8x12xf32>, tensor<8x12xf32>) -> f32
  %ok7 = arith.cmpf ole, %cross, %gap_lim : f32
  %v_sv = arith.select %ok7, %one, %zero : f32
  // Discrimination: W itself does not have rank-1 blocks (expect 0).
  %wminor = call @max_minor(%w) : (tensor<8x12xf32>) -> f32
  %ok6 = arith.cmpf ole, %wminor, %minor_lim : f32
  %v_wrank = arith.select %ok6, %one, %zero : f32

  // [rank 1, idempotent, Pythagoras, changed, singular vector, optimal,
  //  W rank 1]
  // CHECK: data =
  // CHECK-NEXT: [1,   1,   1,   1,   1,   1,   0]
  %v2 = tensor.from_elements %v_rank, %v_idem, %v_pyth, %v_changed, %v_sv, %v_opt, %v_wrank : tensor<1x7xf32>
  %v2d = tensor.cast %v2 : tensor<1x7xf32> to tensor<?x?xf32>
  call @print(%v2d) : (tensor<?x?xf32>) -> ()

  // (3) bf16 factors: within 2^-6 max |W| of the Monarch matrix, but not
  // within 1e-5 max |W| as f32 factors are.
  %pbf = quilt.pack %wm2 : tensor<8x12xf32> -> !m2bf
  %ubf = quilt.unpack %pbf : !m2bf -> tensor<8x12xf32>
  %tol_bf = arith.constant 0.015625 : f32
  %ok_bf = call @close(%ubf, %wm2, %tol_bf) : (tensor<8x12xf32>, tensor<8x12xf32>, f32) -> f32
  %ok_bf_exact = call @close(%ubf, %wm2, %tol) : (tensor<8x12xf32>, tensor<8x12xf32>, f32) -> f32
  // CHECK: data =
  // CHECK-NEXT: [1,   0]
  %v3 = tensor.from_elements %ok_bf, %ok_bf_exact : tensor<1x2xf32>
  %v3d = tensor.cast %v3 : tensor<1x2xf32> to tensor<?x?xf32>
  call @print(%v3d) : (tensor<?x?xf32>) -> ()

  // (4) Regression: a rank-1 block orthogonal to any fixed start vector of
  // the power iteration (here [3, -5] against 1/(o + 1.5)) is kept exactly,
  // and so is a block whose largest rows cancel when summed (b and -b).
  %reg1 = arith.constant dense<[[3.0, -5.0]]> : tensor<1x2xf32>
  %pr1 = quilt.pack %reg1 : tensor<1x2xf32> -> !quilt.packed<1x2, structure<monarch<1>>>
  %ur1 = quilt.unpack %pr1 : !quilt.packed<1x2, structure<monarch<1>>> -> tensor<1x2xf32>
  // CHECK: data =
  // CHECK-NEXT: {{\[\[}}3,   -5]]
  %ur1d = tensor.cast %ur1 : tensor<1x2xf32> to tensor<?x?xf32>
  call @print(%ur1d) : (tensor<?x?xf32>) -> ()
  %reg2 = arith.constant dense<[[1.0, 2.0], [-1.0, -2.0], [0.5, 1.0]]> : tensor<3x2xf32>
  %pr2 = quilt.pack %reg2 : tensor<3x2xf32> -> !quilt.packed<3x2, structure<monarch<1>>>
  %ur2 = quilt.unpack %pr2 : !quilt.packed<3x2, structure<monarch<1>>> -> tensor<3x2xf32>
  // CHECK: data =
  // CHECK-NEXT: {{\[\[}}1,   2],
  // CHECK-NEXT: [-1,   -2],
  // CHECK-NEXT: [0.5,   1]]
  %ur2d = tensor.cast %ur2 : tensor<3x2xf32> to tensor<?x?xf32>
  call @print(%ur2d) : (tensor<?x?xf32>) -> ()
  return
}
