// RUN: quilt-opt %s --quilt-reference-pipeline | \
// RUN:   mlir-runner -e main -entry-point-result=void -shared-libs=%mlir_runner_libs | \
// RUN:   FileCheck %s

// int8 packing (quilt.pack then quilt.unpack), per channel, per tensor and
// with a zero point: exact results for hand-picked values (scales that are
// powers of two, round-half-to-even ties, the zero point's clamp, -0.0), and
// for a pseudo-random matrix that every element lies on its scale's grid and
// within scale/2 of the input, with scale = max|column| / 127 (or
// max|tensor| / 127), computed here independently.

!ch = !quilt.packed<4x3, precision<i8, channel>>
!pt = !quilt.packed<4x3, precision<i8, tensor>>
!zp = !quilt.packed<4x3, precision<i8, channel, zero_point>>
!rch = !quilt.packed<16x8, precision<i8, channel>>
!rpt = !quilt.packed<16x8, precision<i8, tensor>>

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

// s[i, j] = max_i' |w[i', j]| / 127 (per_tensor: max over all of w / 127).
func.func @int8_scales(%w: tensor<?x?xf32>, %per_tensor: i1) -> tensor<?x?xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f32
  %qmax = arith.constant 127.0 : f32
  %k = tensor.dim %w, %c0 : tensor<?x?xf32>
  %n = tensor.dim %w, %c1 : tensor<?x?xf32>
  %e = tensor.empty(%n) : tensor<?xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<?xf32>) -> tensor<?xf32>
  %colmax = linalg.reduce ins(%w : tensor<?x?xf32>) outs(%init : tensor<?xf32>) dimensions = [0]
    (%in: f32, %acc: f32) {
      %a = math.absf %in : f32
      %m = arith.maximumf %a, %acc : f32
      linalg.yield %m : f32
    }
  %e0 = tensor.empty() : tensor<f32>
  %init0 = linalg.fill ins(%zero : f32) outs(%e0 : tensor<f32>) -> tensor<f32>
  %all = linalg.reduce ins(%colmax : tensor<?xf32>) outs(%init0 : tensor<f32>) dimensions = [0]
    (%in: f32, %acc: f32) {
      %m = arith.maximumf %in, %acc : f32
      linalg.yield %m : f32
    }
  %allv = tensor.extract %all[] : tensor<f32>
  %e2 = tensor.empty(%k, %n) : tensor<?x?xf32>
  %s = linalg.generic {indexing_maps = [affine_map<(i, j) -> (j)>, affine_map<(i, j) -> (i, j)>],
                       iterator_types = ["parallel", "parallel"]}
      ins(%colmax : tensor<?xf32>) outs(%e2 : tensor<?x?xf32>) {
  ^bb0(%cm: f32, %out: f32):
    %m = arith.select %per_tensor, %allv, %cm : f32
    %d = arith.divf %m, %qmax : f32
    linalg.yield %d : f32
  } -> tensor<?x?xf32>
  return %s : tensor<?x?xf32>
}

// [ max |q - w| / (s / 2) <= 1 + 1e-5 ,  max |q/s - roundeven(q/s)| <= 1e-3 ]
// as 1.0 (holds) or 0.0 (fails).
func.func @verdict(%w: tensor<?x?xf32>, %q: tensor<?x?xf32>, %s: tensor<?x?xf32>) -> tensor<1x2xf32> {
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %half = arith.constant 0.5 : f32
  %e = tensor.empty() : tensor<f32>
  %i0 = linalg.fill ins(%zero : f32) outs(%e : tensor<f32>) -> tensor<f32>
  %r:2 = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>,
                                          affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> ()>,
                                          affine_map<(i, j) -> ()>],
                         iterator_types = ["reduction", "reduction"]}
      ins(%w, %q, %s : tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>)
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
  return %t : tensor<1x2xf32>
}

func.func @main() {
  // Column 0: scale 1 (max 127); 63.5 and -1.5 are ties (to even: 64, -2).
  // Column 1: scale 2 (max 254); -3/2, 5/2, 1/2 are ties (-2, 2, 0 codes).
  // Column 2: scale 1/2 (max 63.5); -0.2 has code 0 and gives -0.0.
  %w = arith.constant dense<[[127.0, 254.0, 63.5],
                             [63.5,  -3.0,  -0.2],
                             [-1.5,   5.0,  0.75],
                             [0.5,    1.0, -10.25]]> : tensor<4x3xf32>

  // CHECK: data =
  // CHECK-NEXT: [127,   254,   63.5]
  // CHECK-NEXT: [64,   -4,   -0]
  // CHECK-NEXT: [-2,   4,   1]
  // CHECK-NEXT: [0,   0,   -10]
  %p = quilt.pack %w : tensor<4x3xf32> -> !ch
  %u = quilt.unpack %p : !ch -> tensor<4x3xf32>
  %ud = tensor.cast %u : tensor<4x3xf32> to tensor<?x?xf32>
  call @print(%ud) : (tensor<?x?xf32>) -> ()

  // Per tensor: one scale, 254 / 127 = 2, for all three columns.
  // CHECK: data =
  // CHECK-NEXT: [128,   254,   64]
  // CHECK-NEXT: [64,   -4,   -0]
  // CHECK-NEXT: [-2,   4,   0]
  // CHECK-NEXT: [0,   0,   -10]
  %pt = quilt.pack %w : tensor<4x3xf32> -> !pt
  %ut = quilt.unpack %pt : !pt -> tensor<4x3xf32>
  %utd = tensor.cast %ut : tensor<4x3xf32> to tensor<?x?xf32>
  call @print(%utd) : (tensor<?x?xf32>) -> ()

  // Zero point, per channel (L = 255):
  // Column 0: lo = -1, hi = 254, scale 1, zp 1.
  // Column 1: lo = 0, hi = 510, scale 2, zp 0; 3/2, 5/2, 7/2 are ties.
  // Column 2: lo = -127.5, hi = 127.5, scale 1, zp = roundeven(127.5) = 128;
  //   -127.5 -> code 0 -> -128; 127.5 -> code 256, clamped to 255 -> 127.
  %wz = arith.constant dense<[[254.0, 510.0, -127.5],
                              [-1.0,    3.0,  127.5],
                              [2.5,     5.0,    1.0],
                              [0.5,     7.0,   -1.0]]> : tensor<4x3xf32>
  // CHECK: data =
  // CHECK-NEXT: [254,   510,   -128]
  // CHECK-NEXT: [-1,   4,   127]
  // CHECK-NEXT: [2,   4,   1]
  // CHECK-NEXT: [0,   8,   -1]
  %pz = quilt.pack %wz : tensor<4x3xf32> -> !zp
  %uz = quilt.unpack %pz : !zp -> tensor<4x3xf32>
  %uzd = tensor.cast %uz : tensor<4x3xf32> to tensor<?x?xf32>
  call @print(%uzd) : (tensor<?x?xf32>) -> ()

  // Pseudo-random 16x8: error bound and grid, per channel and per tensor.
  %c16 = arith.constant 16 : index
  %c8 = arith.constant 8 : index
  %seed = arith.constant 3 : i32
  %amp = arith.constant 1.5 : f32
  %true = arith.constant true
  %false = arith.constant false
  %rd = call @random(%c16, %c8, %seed, %amp) : (index, index, i32, f32) -> tensor<?x?xf32>
  %r = tensor.cast %rd : tensor<?x?xf32> to tensor<16x8xf32>

  %rp = quilt.pack %r : tensor<16x8xf32> -> !rch
  %ru = quilt.unpack %rp : !rch -> tensor<16x8xf32>
  %rud = tensor.cast %ru : tensor<16x8xf32> to tensor<?x?xf32>
  %sc = call @int8_scales(%rd, %false) : (tensor<?x?xf32>, i1) -> tensor<?x?xf32>
  %v1 = call @verdict(%rd, %rud, %sc) : (tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>) -> tensor<1x2xf32>
  // CHECK: data =
  // CHECK-NEXT: [1,   1]
  %v1d = tensor.cast %v1 : tensor<1x2xf32> to tensor<?x?xf32>
  call @print(%v1d) : (tensor<?x?xf32>) -> ()

  %rpt = quilt.pack %r : tensor<16x8xf32> -> !rpt
  %rut = quilt.unpack %rpt : !rpt -> tensor<16x8xf32>
  %rutd = tensor.cast %rut : tensor<16x8xf32> to tensor<?x?xf32>
  %st = call @int8_scales(%rd, %true) : (tensor<?x?xf32>, i1) -> tensor<?x?xf32>
  %v2 = call @verdict(%rd, %rutd, %st) : (tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>) -> tensor<1x2xf32>
  // CHECK: data =
  // CHECK-NEXT: [1,   1]
  %v2d = tensor.cast %v2 : tensor<1x2xf32> to tensor<?x?xf32>
  call @print(%v2d) : (tensor<?x?xf32>) -> ()

  // Cross-check that the verdict discriminates: the per-tensor result is
  // not on the per-channel grid.
  // CHECK: data =
  // CHECK-NEXT: [{{0|1}},   0]
  %v3 = call @verdict(%rd, %rutd, %sc) : (tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>) -> tensor<1x2xf32>
  %v3d = tensor.cast %v3 : tensor<1x2xf32> to tensor<?x?xf32>
  call @print(%v3d) : (tensor<?x?xf32>) -> ()
  return
}
