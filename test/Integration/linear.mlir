// RUN: quilt-opt %s --quilt-reference-pipeline | \
// RUN:   mlir-runner -e main -entry-point-result=void -shared-libs=%mlir_runner_libs | \
// RUN:   FileCheck %s

// quilt.linear: y = x W (+ bias). Exact results on small hand-made values
// (with and without bias); with packed weights, the same numbers (to 1e-6
// relative) as a linear on the explicitly unpacked weight, and not those of
// the unrounded weight; W8A8 (act <i8, channel>) on hand-made values whose
// per-row int8 rounding is exact, and on pseudo-random values against the
// product of the activations fake-quantized row by row (via quilt.pack of
// x^T); act <bf16>; dynamic M; and bf16 activations (f32 accumulation, then
// bias, then one rounding to bf16).

!i4g = !quilt.packed<16x8, precision<i4, group<8>>>
!nmq = !quilt.packed<16x8, precision<i8, channel>, sparsity<nm<2, 4>>>
!mon = !quilt.packed<16x8, precision<bf16>, structure<monarch<2>>>
!q8 = !quilt.packed<3x2, precision<i8, channel>>
!xq = !quilt.packed<16x4, precision<i8, channel>>

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

// 1.0 if max |a - b| <= tol * max |b|, else 0.0.
func.func @close(%a: tensor<4x8xf32>, %b: tensor<4x8xf32>, %tol: f32) -> f32 {
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %e = tensor.empty() : tensor<f32>
  %i0 = linalg.fill ins(%zero : f32) outs(%e : tensor<f32>) -> tensor<f32>
  %m:2 = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>,
                                          affine_map<(i, j) -> ()>, affine_map<(i, j) -> ()>],
                         iterator_types = ["reduction", "reduction"]}
      ins(%a, %b : tensor<4x8xf32>, tensor<4x8xf32>) outs(%i0, %i0 : tensor<f32>, tensor<f32>) {
  ^bb0(%x: f32, %y: f32, %dacc: f32, %macc: f32):
    %d = arith.subf %x, %y : f32
    %ad = math.absf %d : f32
    %dm = arith.maximumf %dacc, %ad : f32
    %ay = math.absf %y : f32
    %mm = arith.maximumf %macc, %ay : f32
    linalg.yield %dm, %mm : f32, f32
  } -> (tensor<f32>, tensor<f32>)
  %d = tensor.extract %m#0[] : tensor<f32>
  %mx = tensor.extract %m#1[] : tensor<f32>
  %lim = arith.mulf %tol, %mx : f32
  %ok = arith.cmpf ole, %d, %lim : f32
  %v = arith.select %ok, %one, %zero : f32
  return %v : f32
}

func.func @main() {
  // Hand-made values.
  %x = arith.constant dense<[[1.0, 2.0, 3.0],
                             [4.0, 5.0, 6.0]]> : tensor<2x3xf32>
  %w = arith.constant dense<[[1.0, 0.5],
                             [0.0, -1.0],
                             [2.0, 0.25]]> : tensor<3x2xf32>
  %b = arith.constant dense<[0.5, -1.0]> : tensor<2xf32>
  // CHECK: data =
  // CHECK-NEXT: [7,   -0.75]
  // CHECK-NEXT: [16,   -1.5]
  %y0 = quilt.linear %x, %w : tensor<2x3xf32>, tensor<3x2xf32> -> tensor<2x2xf32>
  %y0d = tensor.cast %y0 : tensor<2x2xf32> to tensor<?x?xf32>
  call @print(%y0d) : (tensor<?x?xf32>) -> ()
  // CHECK: data =
  // CHECK-NEXT: [7.5,   -1.75]
  // CHECK-NEXT: [16.5,   -2.5]
  %y1 = quilt.linear %x, %w bias %b : tensor<2x3xf32>, tensor<3x2xf32>, tensor<2xf32> -> tensor<2x2xf32>
  %y1d = tensor.cast %y1 : tensor<2x2xf32> to tensor<?x?xf32>
  call @print(%y1d) : (tensor<?x?xf32>) -> ()

  // W8A8 on hand-made values. Rows of x: [127, -63.5, 0.5] (scale 1) rounds
  // to [127, -64, 0]; [254, 3, -5] (scale 2) to [254, 4, -4]. Columns of W:
  // [127, 1, -2] and [0.5, 1, 127] (scale 1) round to [127, 1, -2] and
  // [0, 1, 127].
  %xa = arith.constant dense<[[127.0, -63.5, 0.5],
                              [254.0, 3.0, -5.0]]> : tensor<2x3xf32>
  %wa = arith.constant dense<[[127.0, 0.5],
                              [1.0, 1.0],
                              [-2.0, 127.0]]> : tensor<3x2xf32>
  %pa = quilt.pack %wa : tensor<3x2xf32> -> !q8
  // CHECK: data =
  // CHECK-NEXT: [16065.5,   -65]
  // CHECK-NEXT: [32270.5,   -505]
  %y2 = quilt.linear %xa, %pa bias %b act <i8, channel>
      : tensor<2x3xf32>, !q8, tensor<2xf32> -> tensor<2x2xf32>
  %y2d = tensor.cast %y2 : tensor<2x2xf32> to tensor<?x?xf32>
  call @print(%y2d) : (tensor<?x?xf32>) -> ()
  // The same with one activation scale for the whole tensor (254 / 127 = 2):
  // x rounds to [128, -64, 0] and [254, 4, -4].
  // CHECK: data =
  // CHECK-NEXT: [16192,   -64]
  // CHECK-NEXT: [32270,   -504]
  %y3 = quilt.linear %xa, %pa act <i8, tensor> : tensor<2x3xf32>, !q8 -> tensor<2x2xf32>
  %y3d = tensor.cast %y3 : tensor<2x2xf32> to tensor<?x?xf32>
  call @print(%y3d) : (tensor<?x?xf32>) -> ()

  // act <bf16>: 1 + 2^-8 rounds to 1 before the product.
  %xb = arith.constant dense<[[1.00390625, 3.0, 0.0]]> : tensor<1x3xf32>
  // CHECK: data =
  // CHECK-NEXT: [1,   -2.5]
  %y4 = quilt.linear %xb, %w act <bf16> : tensor<1x3xf32>, tensor<3x2xf32> -> tensor<1x2xf32>
  %y4d = tensor.cast %y4 : tensor<1x2xf32> to tensor<?x?xf32>
  call @print(%y4d) : (tensor<?x?xf32>) -> ()

  // bf16 activations: the products accumulate in f32 (256 + 1 + 1 = 258 and
  // 1 + 2^-8 + 2^-8 = 1 + 2^-7, which a bf16 accumulator would lose), the
  // bias is added, and the sum rounds to bf16 once: 259 ties to 260,
  // 2 + 2^-7 ties to 2, 256.5 rounds to 256.
  %xh = arith.constant dense<[[256.0, 1.0, 1.0],
                              [1.0, 0.00390625, 0.00390625]]> : tensor<2x3xbf16>
  %wh = arith.constant dense<[[1.0, 1.0],
                              [1.0, 0.0],
                              [1.0, 0.0]]> : tensor<3x2xf32>
  %bh = arith.constant dense<[1.0, 0.5]> : tensor<2xf32>
  // CHECK: data =
  // CHECK-NEXT: [258,   256]
  // CHECK-NEXT: [1.00781,   1]
  %y5 = quilt.linear %xh, %wh : tensor<2x3xbf16>, tensor<3x2xf32> -> tensor<2x2xbf16>
  %y5f = arith.extf %y5 : tensor<2x2xbf16> to tensor<2x2xf32>
  %y5d = tensor.cast %y5f : tensor<2x2xf32> to tensor<?x?xf32>
  call @print(%y5d) : (tensor<?x?xf32>) -> ()
  // CHECK: data =
  // CHECK-NEXT: [260,   256]
  // CHECK-NEXT: [2,   1.5]
  %y6 = quilt.linear %xh, %wh bias %bh : tensor<2x3xbf16>, tensor<3x2xf32>, tensor<2xf32> -> tensor<2x2xbf16>
  %y6f = arith.extf %y6 : tensor<2x2xbf16> to tensor<2x2xf32>
  %y6d = tensor.cast %y6f : tensor<2x2xf32> to tensor<?x?xf32>
  call @print(%y6d) : (tensor<?x?xf32>) -> ()

  // Pseudo-random x: 4x16, W: 16x8, bias: 8.
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  %c16 = arith.constant 16 : index
  %s1 = arith.constant 31 : i32
  %s2 = arith.constant 32 : i32
  %s3 = arith.constant 33 : i32
  %amp = arith.constant 1.0 : f32
  %xrd = call @random(%c4, %c16, %s1, %amp) : (index, index, i32, f32) -> tensor<?x?xf32>
  %xr = tensor.cast %xrd : tensor<?x?xf32> to tensor<4x16xf32>
  %wrd = call @random(%c16, %c8, %s2, %amp) : (index, index, i32, f32) -> tensor<?x?xf32>
  %wr = tensor.cast %wrd : tensor<?x?xf32> to tensor<16x8xf32>
  %brd = call @random(%c1, %c8, %s3, %amp) : (index, index, i32, f32) -> tensor<?x?xf32>
  %br2 = tensor.cast %brd : tensor<?x?xf32> to tensor<1x8xf32>
  %br = tensor.collapse_shape %br2 [[0, 1]] : tensor<1x8xf32> into tensor<8xf32>
  %tol = arith.constant 1.0e-6 : f32
  %tol3 = arith.constant 1.0e-3 : f32
  %ydense = quilt.linear %xr, %wr bias %br : tensor<4x16xf32>, tensor<16x8xf32>, tensor<8xf32> -> tensor<4x8xf32>

  // Packed weights: linear(x, p) == linear(x, unpack(p)) (1), and
  // != linear(x, W) (0).
  %p1 = quilt.pack %wr : tensor<16x8xf32> -> !i4g
  %u1 = quilt.unpack %p1 : !i4g -> tensor<16x8xf32>
  %yp1 = quilt.linear %xr, %p1 bias %br : tensor<4x16xf32>, !i4g, tensor<8xf32> -> tensor<4x8xf32>
  %yu1 = quilt.linear %xr, %u1 bias %br : tensor<4x16xf32>, tensor<16x8xf32>, tensor<8xf32> -> tensor<4x8xf32>
  %e1 = call @close(%yp1, %yu1, %tol) : (tensor<4x8xf32>, tensor<4x8xf32>, f32) -> f32
  %d1 = call @close(%yp1, %ydense, %tol3) : (tensor<4x8xf32>, tensor<4x8xf32>, f32) -> f32
  %p2 = quilt.pack %wr : tensor<16x8xf32> -> !nmq
  %u2 = quilt.unpack %p2 : !nmq -> tensor<16x8xf32>
  %yp2 = quilt.linear %xr, %p2 bias %br : tensor<4x16xf32>, !nmq, tensor<8xf32> -> tensor<4x8xf32>
  %yu2 = quilt.linear %xr, %u2 bias %br : tensor<4x16xf32>, tensor<16x8xf32>, tensor<8xf32> -> tensor<4x8xf32>
  %e2 = call @close(%yp2, %yu2, %tol) : (tensor<4x8xf32>, tensor<4x8xf32>, f32) -> f32
  %d2 = call @close(%yp2, %ydense, %tol3) : (tensor<4x8xf32>, tensor<4x8xf32>, f32) -> f32
  %p3 = quilt.pack %wr : tensor<16x8xf32> -> !mon
  %u3 = quilt.unpack %p3 : !mon -> tensor<16x8xf32>
  %yp3 = quilt.linear %xr, %p3 bias %br : tensor<4x16xf32>, !mon, tensor<8xf32> -> tensor<4x8xf32>
  %yu3 = quilt.linear %xr, %u3 bias %br : tensor<4x16xf32>, tensor<16x8xf32>, tensor<8xf32> -> tensor<4x8xf32>
  %e3 = call @close(%yp3, %yu3, %tol) : (tensor<4x8xf32>, tensor<4x8xf32>, f32) -> f32
  %d3 = call @close(%yp3, %ydense, %tol3) : (tensor<4x8xf32>, tensor<4x8xf32>, f32) -> f32
  // CHECK: data =
  // CHECK-NEXT: [1,   1,   1,   0,   0,   0]
  %v1 = tensor.from_elements %e1, %e2, %e3, %d1, %d2, %d3 : tensor<1x6xf32>
  %v1d = tensor.cast %v1 : tensor<1x6xf32> to tensor<?x?xf32>
  call @print(%v1d) : (tensor<?x?xf32>) -> ()

  // W8A8 on pseudo-random values: x rounded row by row is
  // unpack(pack(x^T, <i8, channel>))^T.
  %e16 = tensor.empty() : tensor<16x4xf32>
  %xt = linalg.transpose ins(%xr : tensor<4x16xf32>) outs(%e16 : tensor<16x4xf32>) permutation = [1, 0]
  %pxt = quilt.pack %xt : tensor<16x4xf32> -> !xq
  %uxt = quilt.unpack %pxt : !xq -> tensor<16x4xf32>
  %e4 = tensor.empty() : tensor<4x16xf32>
  %xfq = linalg.transpose ins(%uxt : tensor<16x4xf32>) outs(%e4 : tensor<4x16xf32>) permutation = [1, 0]
  %pw = quilt.pack %wr : tensor<16x8xf32> -> !i4g
  %ya = quilt.linear %xr, %pw bias %br act <i8, channel> : tensor<4x16xf32>, !i4g, tensor<8xf32> -> tensor<4x8xf32>
  %uw = quilt.unpack %pw : !i4g -> tensor<16x8xf32>
  %yfq = quilt.linear %xfq, %uw bias %br : tensor<4x16xf32>, tensor<16x8xf32>, tensor<8xf32> -> tensor<4x8xf32>
  %yno = quilt.linear %xr, %pw bias %br : tensor<4x16xf32>, !i4g, tensor<8xf32> -> tensor<4x8xf32>
  %a1 = call @close(%ya, %yfq, %tol) : (tensor<4x8xf32>, tensor<4x8xf32>, f32) -> f32
  %a2 = call @close(%ya, %yno, %tol) : (tensor<4x8xf32>, tensor<4x8xf32>, f32) -> f32

  // Dynamic M gives the same numbers, and a 4-row result.
  %xdyn = tensor.cast %xr : tensor<4x16xf32> to tensor<?x16xf32>
  %ydyn = quilt.linear %xdyn, %pw bias %br act <i8, channel>
      : tensor<?x16xf32>, !i4g, tensor<8xf32> -> tensor<?x8xf32>
  %ydyns = tensor.cast %ydyn : tensor<?x8xf32> to tensor<4x8xf32>
  %a3 = call @close(%ydyns, %ya, %tol) : (tensor<4x8xf32>, tensor<4x8xf32>, f32) -> f32
  // CHECK: data =
  // CHECK-NEXT: [1,   0,   1]
  %v2 = tensor.from_elements %a1, %a2, %a3 : tensor<1x3xf32>
  %v2d = tensor.cast %v2 : tensor<1x3xf32> to tensor<?x?xf32>
  call @print(%v2d) : (tensor<?x?xf32>) -> ()
  // CHECK: rank = 2 offset = 0 sizes = [4, 8] strides = [8, 1] data =
  %ydyn2 = quilt.linear %xdyn, %wr : tensor<?x16xf32>, tensor<16x8xf32> -> tensor<?x8xf32>
  %ydyn2d = tensor.cast %ydyn2 : tensor<?x8xf32> to tensor<?x?xf32>
  call @print(%ydyn2d) : (tensor<?x?xf32>) -> ()
  return
}
