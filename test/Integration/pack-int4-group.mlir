// RUN: quilt-opt %s --quilt-reference-pipeline | \
// RUN:   mlir-runner -e main -entry-point-result=void -shared-libs=%mlir_runner_libs | \
// RUN:   FileCheck %s

// int4 packing with one scale per group of G consecutive rows along K,
// symmetric and with a zero point: exact results for a hand-made 6x2 matrix
// (group<2>: power-of-two scales, ties to even, all-zero groups, -0.0, the
// zero point's clamp), and for a pseudo-random 32x8 matrix with group<8>
// that every element lies on its group's grid and within scale/2 of the
// input (scale = absmax / 7, or (hi - lo) / 15 with a zero point, computed
// here independently).

!sym = !quilt.packed<6x2, precision<i4, group<2>>>
!asym = !quilt.packed<6x2, precision<i4, group<2>, zero_point>>
!rsym = !quilt.packed<32x8, precision<i4, group<8>>>
!rasym = !quilt.packed<32x8, precision<i4, group<8>, zero_point>>
!rch = !quilt.packed<32x8, precision<i4, channel>>

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

// Per-entry scale of int4 with groups of 8 rows of a 32 x N matrix:
// symmetric: max|w| / 7; asymmetric: (max(max w, 0) - min(min w, 0)) / 15.
func.func @group8_scales(%w: tensor<32x8xf32>, %zero_point: i1) -> tensor<32x8xf32> {
  %zero = arith.constant 0.0 : f32
  %seven = arith.constant 7.0 : f32
  %fifteen = arith.constant 15.0 : f32
  %w3 = tensor.expand_shape %w [[0, 1], [2]] output_shape [4, 8, 8]
      : tensor<32x8xf32> into tensor<4x8x8xf32>
  %e = tensor.empty() : tensor<4x8xf32>
  %i0 = linalg.fill ins(%zero : f32) outs(%e : tensor<4x8xf32>) -> tensor<4x8xf32>
  %st:3 = linalg.generic {indexing_maps = [affine_map<(a, r, j) -> (a, r, j)>,
                                           affine_map<(a, r, j) -> (a, j)>,
                                           affine_map<(a, r, j) -> (a, j)>,
                                           affine_map<(a, r, j) -> (a, j)>],
                          iterator_types = ["parallel", "reduction", "parallel"]}
      ins(%w3 : tensor<4x8x8xf32>) outs(%i0, %i0, %i0 : tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>) {
  ^bb0(%x: f32, %amax: f32, %hi: f32, %lo: f32):
    %a = math.absf %x : f32
    %amax2 = arith.maximumf %amax, %a : f32
    %hi2 = arith.maximumf %hi, %x : f32
    %lo2 = arith.minimumf %lo, %x : f32
    linalg.yield %amax2, %hi2, %lo2 : f32, f32, f32
  } -> (tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>)
  %e3 = tensor.empty() : tensor<4x8x8xf32>
  %s3 = linalg.generic {indexing_maps = [affine_map<(a, r, j) -> (a, j)>,
                                         affine_map<(a, r, j) -> (a, j)>,
                                         affine_map<(a, r, j) -> (a, j)>,
                                         affine_map<(a, r, j) -> (a, r, j)>],
                        iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%st#0, %st#1, %st#2 : tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>)
      outs(%e3 : tensor<4x8x8xf32>) {
  ^bb0(%amax: f32, %hi: f32, %lo: f32, %out: f32):
    %ssym = arith.divf %amax, %seven : f32
    %range = arith.subf %hi, %lo : f32
    %sasym = arith.divf %range, %fifteen : f32
    %s = arith.select %zero_point, %sasym, %ssym : f32
    linalg.yield %s : f32
  } -> tensor<4x8x8xf32>
  %s = tensor.collapse_shape %s3 [[0, 1], [2]] : tensor<4x8x8xf32> into tensor<32x8xf32>
  return %s : tensor<32x8xf32>
}

// [ max |q - w| / (s / 2) <= 1 + 1e-5 ,  max |q/s - roundeven(q/s)| <= 1e-3 ]
// as 1.0 (holds) or 0.0 (fails).
func.func @verdict(%w: tensor<32x8xf32>, %q: tensor<32x8xf32>, %s: tensor<32x8xf32>) -> tensor<?x?xf32> {
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %half = arith.constant 0.5 : f32
  %e = tensor.empty() : tensor<f32>
  %i0 = linalg.fill ins(%zero : f32) outs(%e : tensor<f32>) -> tensor<f32>
  %r:2 = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>,
                                          affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> ()>,
                                          affine_map<(i, j) -> ()>],
                         iterator_types = ["reduction", "reduction"]}
      ins(%w, %q, %s : tensor<32x8xf32>, tensor<32x8xf32>, tensor<32x8xf32>)
      outs(%i0, %i0 : tensor<f32>, tensor<f32>) {
  ^bb0(%wv: f32, %qv: f32, %sv: f32, %err: f32, %off: f32):
    %d = arith.subf %qv, %wv : f32
    %ad = math.absf %d : f32
    %hs = arith.mulf %sv, %half : f32
    %rel = arith.divf %ad, %hs : f32
    %err2 = arith.maximumf %err, %rel : f32
    %steps = arith.divf %qv, %sv : f32
    %rs = math.roundeven %steps : f32
    %o = arith.subf %steps, %rs : f32
    %ao = math.absf %o : f32
    %off2 = arith.maximumf %off, %ao : f32
    linalg.yield %err2, %off2 : f32, f32
  } -> (tensor<f32>, tensor<f32>)
  %errv = tensor.extract %r#0[] : tensor<f32>
  %offv = tensor.extract %r#1[] : tensor<f32>
  %lim = arith.constant 1.00001 : f32
  %glim = arith.constant 1.0e-3 : f32
  %ok0 = arith.cmpf ole, %errv, %lim : f32
  %ok1 = arith.cmpf ole, %offv, %glim : f32
  %v0 = arith.select %ok0, %one, %zero : f32
  %v1 = arith.select %ok1, %one, %zero : f32
  %t = tensor.from_elements %v0, %v1 : tensor<1x2xf32>
  %td = tensor.cast %t : tensor<1x2xf32> to tensor<?x?xf32>
  return %td : tensor<?x?xf32>
}

func.func @main() {
  // Symmetric, group<2> (qmax = 7). Column 0 groups: {7, -3.5} scale 1,
  // -3.5 ties to -4; {14, 1} scale 2, 1/2 ties to 0; {0, 0} all zero.
  // Column 1: {-7, 7} scale 1; {-28, -9} scale 4, -2.25 -> -2;
  // {0.875, -0.0625} scale 1/8, -0.5 ties to -0 -> -0.0.
  %w = arith.constant dense<[[7.0,  -7.0],
                             [-3.5,  7.0],
                             [14.0, -28.0],
                             [1.0,  -9.0],
                             [0.0,   0.875],
                             [0.0,  -0.0625]]> : tensor<6x2xf32>
  // CHECK: data =
  // CHECK-NEXT: [7,   -7]
  // CHECK-NEXT: [-4,   7]
  // CHECK-NEXT: [14,   -28]
  // CHECK-NEXT: [0,   -8]
  // CHECK-NEXT: [0,   0.875]
  // CHECK-NEXT: [0,   -0]
  %p = quilt.pack %w : tensor<6x2xf32> -> !sym
  %u = quilt.unpack %p : !sym -> tensor<6x2xf32>
  %ud = tensor.cast %u : tensor<6x2xf32> to tensor<?x?xf32>
  call @print(%ud) : (tensor<?x?xf32>) -> ()

  // Zero point, group<2> (L = 15). Column 0: {15, 0} scale 1 zp 0;
  // {-5, 10} scale 1 zp 5; {30, 5} scale 2 zp 0, 5/2 ties to 2.
  // Column 1: {-7.5, 7.5} scale 1, zp = roundeven(7.5) = 8: -7.5 -> code 0
  // -> -8, 7.5 -> code 16 clamped to 15 -> 7; {-15, -2.5} scale 1 zp 15,
  // -2.5 ties to -2; {0, 0} all zero.
  %wz = arith.constant dense<[[15.0, -7.5],
                              [0.0,   7.5],
                              [-5.0, -15.0],
                              [10.0, -2.5],
                              [30.0,  0.0],
                              [5.0,   0.0]]> : tensor<6x2xf32>
  // CHECK: data =
  // CHECK-NEXT: [15,   -8]
  // CHECK-NEXT: [0,   7]
  // CHECK-NEXT: [-5,   -15]
  // CHECK-NEXT: [10,   -2]
  // CHECK-NEXT: [30,   0]
  // CHECK-NEXT: [4,   0]
  %pz = quilt.pack %wz : tensor<6x2xf32> -> !asym
  %uz = quilt.unpack %pz : !asym -> tensor<6x2xf32>
  %uzd = tensor.cast %uz : tensor<6x2xf32> to tensor<?x?xf32>
  call @print(%uzd) : (tensor<?x?xf32>) -> ()

  // Pseudo-random 32x8 with group<8>.
  %c32 = arith.constant 32 : index
  %c8 = arith.constant 8 : index
  %seed = arith.constant 5 : i32
  %amp = arith.constant 2.0 : f32
  %true = arith.constant true
  %false = arith.constant false
  %rd = call @random(%c32, %c8, %seed, %amp) : (index, index, i32, f32) -> tensor<?x?xf32>
  %r = tensor.cast %rd : tensor<?x?xf32> to tensor<32x8xf32>
  %ssym = call @group8_scales(%r, %false) : (tensor<32x8xf32>, i1) -> tensor<32x8xf32>
  %sasym = call @group8_scales(%r, %true) : (tensor<32x8xf32>, i1) -> tensor<32x8xf32>

  // CHECK: data =
  // CHECK-NEXT: [1,   1]
  %rp = quilt.pack %r : tensor<32x8xf32> -> !rsym
  %ru = quilt.unpack %rp : !rsym -> tensor<32x8xf32>
  %v1 = call @verdict(%r, %ru, %ssym) : (tensor<32x8xf32>, tensor<32x8xf32>, tensor<32x8xf32>) -> tensor<?x?xf32>
  call @print(%v1) : (tensor<?x?xf32>) -> ()

  // CHECK: data =
  // CHECK-NEXT: [1,   1]
  %rz = quilt.pack %r : tensor<32x8xf32> -> !rasym
  %rzu = quilt.unpack %rz : !rasym -> tensor<32x8xf32>
  %v2 = call @verdict(%r, %rzu, %sasym) : (tensor<32x8xf32>, tensor<32x8xf32>, tensor<32x8xf32>) -> tensor<?x?xf32>
  call @print(%v2) : (tensor<?x?xf32>) -> ()

  // The verdict discriminates: one scale per column (int4 channel) is not
  // on the group<8> grid and misses the group<8> error bound.
  // CHECK: data =
  // CHECK-NEXT: [0,   0]
  %rc = quilt.pack %r : tensor<32x8xf32> -> !rch
  %rcu = quilt.unpack %rc : !rch -> tensor<32x8xf32>
  %v3 = call @verdict(%r, %rcu, %ssym) : (tensor<32x8xf32>, tensor<32x8xf32>, tensor<32x8xf32>) -> tensor<?x?xf32>
  call @print(%v3) : (tensor<?x?xf32>) -> ()
  return
}
