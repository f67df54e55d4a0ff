// RUN: quilt-opt %s --quilt-reference-pipeline | \
// RUN:   mlir-runner -e main -entry-point-result=void -shared-libs=%mlir_runner_libs | \
// RUN:   FileCheck %s

// Float packings: bf16 and f16 round trips (round-half-to-even ties,
// overflow to inf, f16 subnormals and underflow), f8E4M3FN unscaled
// (saturation at 448, subnormal grid 2^-9, ties, -0.0), with one scale per
// tensor and per channel (scale = absmax / 448), on hand-picked values; and
// for a pseudo-random matrix, that per-tensor f8 values lie on the f8 grid
// (3 mantissa bits, in units of the scale) within half a quantum of the
// input.

!bf = !quilt.packed<2x4, precision<bf16>>
!hf = !quilt.packed<2x4, precision<f16>>
!f8 = !quilt.packed<3x4, precision<f8E4M3FN>>
!f8t = !quilt.packed<2x4, precision<f8E4M3FN, tensor>>
!f8c = !quilt.packed<4x2, precision<f8E4M3FN, channel>>
!rf8t = !quilt.packed<16x8, precision<f8E4M3FN, tensor>>
!rbf = !quilt.packed<16x8, precision<bf16>>

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

// For x = q / s: [ |q - w| <= max(|w| / 16, s / 1024) * (1 + 1e-5) everywhere,
//   x on the f8 grid: |x| / 2^max(floor(log2 |x|), -6) * 8 is an integer
//   (to 1e-3), and |x| <= 448 (1 + 1e-5) ], as 1.0 (holds) or 0.0 (fails).
func.func @f8_verdict(%w: tensor<16x8xf32>, %q: tensor<16x8xf32>, %s: f32) -> tensor<?x?xf32> {
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %e = tensor.empty() : tensor<f32>
  %i0 = linalg.fill ins(%zero : f32) outs(%e : tensor<f32>) -> tensor<f32>
  %r:3 = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>,
                                          affine_map<(i, j) -> ()>, affine_map<(i, j) -> ()>,
                                          affine_map<(i, j) -> ()>],
                         iterator_types = ["reduction", "reduction"]}
      ins(%w, %q : tensor<16x8xf32>, tensor<16x8xf32>)
      outs(%i0, %i0, %i0 : tensor<f32>, tensor<f32>, tensor<f32>) {
  ^bb0(%wv: f32, %qv: f32, %err: f32, %off: f32, %big: f32):
    %c16 = arith.constant 0.0625 : f32
    %c1024 = arith.constant 0.0009765625 : f32
    %d = arith.subf %qv, %wv : f32
    %ad = math.absf %d : f32
    %aw = math.absf %wv : f32
    %b0 = arith.mulf %aw, %c16 : f32
    %b1 = arith.mulf %s, %c1024 : f32
    %bound = arith.maximumf %b0, %b1 : f32
    %rel = arith.divf %ad, %bound : f32
    %err2 = arith.maximumf %err, %rel : f32
    // Grid: p = 2^max(e, -6) from the exponent bits of |x|.
    %x = arith.divf %qv, %s : f32
    %ax = math.absf %x : f32
    %bits = arith.bitcast %ax : f32 to i32
    %mask = arith.constant 2139095040 : i32
    %pbits = arith.andi %bits, %mask : i32
    %p0 = arith.bitcast %pbits : i32 to f32
    %min_normal = arith.constant 0.015625 : f32
    %p = arith.maximumf %p0, %min_normal : f32
    %m = arith.divf %ax, %p : f32
    %eight = arith.constant 8.0 : f32
    %m8 = arith.mulf %m, %eight : f32
    %rm8 = math.roundeven %m8 : f32
    %o = arith.subf %m8, %rm8 : f32
    %ao = math.absf %o : f32
    %off2 = arith.maximumf %off, %ao : f32
    %big2 = arith.maximumf %big, %ax : f32
    linalg.yield %err2, %off2, %big2 : f32, f32, f32
  } -> (tensor<f32>, tensor<f32>, tensor<f32>)
  %errv = tensor.extract %r#0[] : tensor<f32>
  %offv = tensor.extract %r#1[] : tensor<f32>
  %bigv = tensor.extract %r#2[] : tensor<f32>
  %lim = arith.constant 1.00001 : f32
  %glim = arith.constant 1.0e-3 : f32
  %blim = arith.constant 448.0045 : f32
  %ok0 = arith.cmpf ole, %errv, %lim : f32
  %ok1 = arith.cmpf ole, %offv, %glim : f32
  %ok2 = arith.cmpf ole, %bigv, %blim : f32
  %v0 = arith.select %ok0, %one, %zero : f32
  %v1 = arith.select %ok1, %one, %zero : f32
  %v2 = arith.select %ok2, %one, %zero : f32
  %t = tensor.from_elements %v0, %v1, %v2 : tensor<1x3xf32>
  %td = tensor.cast %t : tensor<1x3xf32> to tensor<?x?xf32>
  return %td : tensor<?x?xf32>
}

func.func @main() {
  // bf16 (8 significant bits): 257 and 259 are ties (to 256 and 260),
  // 258.9 rounds down, 1 + 2^-8 ties to 1, 1 + 3 * 2^-8 ties to 1 + 2^-6,
  // the f32 maximum overflows to inf.
  %wb = arith.constant dense<[[257.0, 259.0, 258.9, -1.00390625],
                              [0.1, 1.01171875, 3.40282347e+38, -2.5e-3]]> : tensor<2x4xf32>
  // CHECK: data =
  // CHECK-NEXT: [256,   260,   258,   -1]
  // CHECK-NEXT: [0.100098,   1.01562,   inf,   -0.00250244]
  %pb = quilt.pack %wb : tensor<2x4xf32> -> !bf
  %ub = quilt.unpack %pb : !bf -> tensor<2x4xf32>
  %ubd = tensor.cast %ub : tensor<2x4xf32> to tensor<?x?xf32>
  call @print(%ubd) : (tensor<?x?xf32>) -> ()

  // f16: 65504 is the maximum, 65519 rounds to it, 65520 overflows; 2049
  // and 2051 are ties (2048, 2052); 3e-8 rounds to the smallest subnormal
  // 2^-24, 2^-25 ties to 0.
  %wh = arith.constant dense<[[65504.0, 65519.0, 65520.0, 2049.0],
                              [2051.0, 3.0e-8, 2.98023224e-08, 0.1]]> : tensor<2x4xf32>
  // CHECK: data =
  // CHECK-NEXT: [65504,   65504,   inf,   2048]
  // CHECK-NEXT: [2052,   5.96046e-08,   0,   0.0999756]
  %ph = quilt.pack %wh : tensor<2x4xf32> -> !hf
  %uh = quilt.unpack %ph : !hf -> tensor<2x4xf32>
  %uhd = tensor.cast %uh : tensor<2x4xf32> to tensor<?x?xf32>
  call @print(%uhd) : (tensor<?x?xf32>) -> ()

  // f8E4M3FN without a scale: 0.3 -> 0.3125 (quantum 2^-5), 500 and 464
  // saturate to 448 (464 = 14.5 * 32 ties to 448), 1e-3 -> 2^-9 (subnormal),
  // 17 and 19 are ties (16, 20), 3 * 2^-10 ties to 2^-8, 2^-10 ties to 0,
  // -0.0 keeps its sign, -1e6 saturates, 0.017 -> 9 * 2^-9.
  %w8 = arith.constant dense<[[0.3, 500.0, 1.0e-3, 17.0],
                              [19.0, -240.0, 464.0, 0.0029296875],
                              [0.0009765625, -0.0, -1.0e6, 0.017]]> : tensor<3x4xf32>
  // CHECK: data =
  // CHECK-NEXT: [0.3125,   448,   0.00195312,   16]
  // CHECK-NEXT: [20,   -240,   448,   0.00390625]
  // CHECK-NEXT: [0,   -0,   -448,   0.0175781]
  %p8 = quilt.pack %w8 : tensor<3x4xf32> -> !f8
  %u8 = quilt.unpack %p8 : !f8 -> tensor<3x4xf32>
  %u8d = tensor.cast %u8 : tensor<3x4xf32> to tensor<?x?xf32>
  call @print(%u8d) : (tensor<?x?xf32>) -> ()

  // f8 with one scale for the tensor: 896 / 448 = 2, so each value is
  // 2 * round_f8(w / 2): 0.6 -> 0.625, 34 -> 32, -38 -> -40, -500 -> -512.
  %wt = arith.constant dense<[[896.0, 0.6, 34.0, -38.0],
                              [1.0, -500.0, 0.0, 3.0]]> : tensor<2x4xf32>
  // CHECK: data =
  // CHECK-NEXT: [896,   0.625,   32,   -40]
  // CHECK-NEXT: [1,   -512,   0,   3]
  %pt = quilt.pack %wt : tensor<2x4xf32> -> !f8t
  %ut = quilt.unpack %pt : !f8t -> tensor<2x4xf32>
  %utd = tensor.cast %ut : tensor<2x4xf32> to tensor<?x?xf32>
  call @print(%utd) : (tensor<?x?xf32>) -> ()

  // f8 with one scale per column: column 0 scale 2, column 1 scale
  // 0.875 / 448 = 2^-9, so 0.3 -> 153.6 * 2^-9 -> 160 * 2^-9 = 0.3125 and
  // -0.1 -> -52 * 2^-9.
  %wc = arith.constant dense<[[896.0, 0.875],
                              [34.0, 0.3],
                              [-38.0, -0.1],
                              [0.6, 0.002]]> : tensor<4x2xf32>
  // CHECK: data =
  // CHECK-NEXT: [896,   0.875]
  // CHECK-NEXT: [32,   0.3125]
  // CHECK-NEXT: [-40,   -0.101562]
  // CHECK-NEXT: [0.625,   0.00195312]
  %pc = quilt.pack %wc : tensor<4x2xf32> -> !f8c
  %uc = quilt.unpack %pc : !f8c -> tensor<4x2xf32>
  %ucd = tensor.cast %uc : tensor<4x2xf32> to tensor<?x?xf32>
  call @print(%ucd) : (tensor<?x?xf32>) -> ()

  // Pseudo-random 16x8 in [-3, 3), f8 with a tensor scale.
  %c16 = arith.constant 16 : index
  %c8 = arith.constant 8 : index
  %seed = arith.constant 7 : i32
  %amp = arith.constant 3.0 : f32
  %rd = call @random(%c16, %c8, %seed, %amp) : (index, index, i32, f32) -> tensor<?x?xf32>
  %r = tensor.cast %rd : tensor<?x?xf32> to tensor<16x8xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<f32>
  %i0 = linalg.fill ins(%zero : f32) outs(%e : tensor<f32>) -> tensor<f32>
  %amax = linalg.reduce ins(%r : tensor<16x8xf32>) outs(%i0 : tensor<f32>) dimensions = [0, 1]
    (%in: f32, %acc: f32) {
      %a = math.absf %in : f32
      %m = arith.maximumf %a, %acc : f32
      linalg.yield %m : f32
    }
  %amaxv = tensor.extract %amax[] : tensor<f32>
  %c448 = arith.constant 448.0 : f32
  %s = arith.divf %amaxv, %c448 : f32

  // CHECK: data =
  // CHECK-NEXT: [1,   1,   1]
  %rp = quilt.pack %r : tensor<16x8xf32> -> !rf8t
  %ru = quilt.unpack %rp : !rf8t -> tensor<16x8xf32>
  %v1 = call @f8_verdict(%r, %ru, %s) : (tensor<16x8xf32>, tensor<16x8xf32>, f32) -> tensor<?x?xf32>
  call @print(%v1) : (tensor<?x?xf32>) -> ()

  // The grid test discriminates: bf16 values (7 mantissa bits) are not on it.
  // CHECK: data =
  // CHECK-NEXT: [1,   0,   1]
  %rb = quilt.pack %r : tensor<16x8xf32> -> !rbf
  %rbu = quilt.unpack %rb : !rbf -> tensor<16x8xf32>
  %v2 = call @f8_verdict(%r, %rbu, %s) : (tensor<16x8xf32>, tensor<16x8xf32>, f32) -> tensor<?x?xf32>
  call @print(%v2) : (tensor<?x?xf32>) -> ()
  return
}
