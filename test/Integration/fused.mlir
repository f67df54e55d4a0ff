// RUN: quilt-opt %s --quilt-reference-pipeline | \
// RUN:   mlir-runner -e main -entry-point-result=void -shared-libs=%mlir_runner_libs | \
// RUN:   FileCheck %s

// quilt.fused blocks compute the same numbers (to 1e-6 relative) as the
// same ops unfused: an MLP block with packed weights and W8A8, a block with
// two results (linear and gelu of it), an attention block (Q K^T, softmax,
// times V) and a fused block nested in another one. The hand-made
// two-result cases (one yields a block argument) are checked against exact
// values.

!up = !quilt.packed<16x32, precision<i8, channel>, sparsity<nm<2, 4>>>
!down = !quilt.packed<32x16, precision<i4, group<8>>>

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

// 1.0 if max |a - b| <= tol * max |b| (and b is not all zero), else 0.0.
func.func @close(%a: tensor<?x?xf32>, %b: tensor<?x?xf32>) -> f32 {
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %tol = arith.constant 1.0e-6 : f32
  %e = tensor.empty() : tensor<f32>
  %i0 = linalg.fill ins(%zero : f32) outs(%e : tensor<f32>) -> tensor<f32>
  %m:2 = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>,
                                          affine_map<(i, j) -> ()>, affine_map<(i, j) -> ()>],
                         iterator_types = ["reduction", "reduction"]}
      ins(%a, %b : tensor<?x?xf32>, tensor<?x?xf32>) outs(%i0, %i0 : tensor<f32>, tensor<f32>) {
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
  %nz = arith.cmpf ogt, %mx, %zero : f32
  %both = arith.andi %ok, %nz : i1
  %v = arith.select %both, %one, %zero : f32
  return %v : f32
}

func.func @mlp_fused(%x: tensor<4x16xf32>, %gamma: tensor<16xf32>, %w_up: !up,
                     %w_down: !down) -> tensor<4x16xf32> {
  %y = quilt.fused (%a = %x, %g = %gamma, %u = %w_up, %d = %w_down)
      : (tensor<4x16xf32>, tensor<16xf32>, !up, !down) -> tensor<4x16xf32> {
    %n = quilt.rmsnorm %a, %g : tensor<4x16xf32>, tensor<16xf32>
    %h = quilt.linear %n, %u act <i8, channel> : tensor<4x16xf32>, !up -> tensor<4x32xf32>
    %act = quilt.gelu %h : tensor<4x32xf32>
    %o = quilt.linear %act, %d : tensor<4x32xf32>, !down -> tensor<4x16xf32>
    %r = quilt.add %o, %a : tensor<4x16xf32>
    quilt.yield %r : tensor<4x16xf32>
  } attributes {kind = "mlp"}
  return %y : tensor<4x16xf32>
}

func.func @mlp(%x: tensor<4x16xf32>, %gamma: tensor<16xf32>, %w_up: !up,
               %w_down: !down) -> tensor<4x16xf32> {
  %n = quilt.rmsnorm %x, %gamma : tensor<4x16xf32>, tensor<16xf32>
  %h = quilt.linear %n, %w_up act <i8, channel> : tensor<4x16xf32>, !up -> tensor<4x32xf32>
  %act = quilt.gelu %h : tensor<4x32xf32>
  %o = quilt.linear %act, %w_down : tensor<4x32xf32>, !down -> tensor<4x16xf32>
  %r = quilt.add %o, %x : tensor<4x16xf32>
  return %r : tensor<4x16xf32>
}

// softmax(q k^T) v, fused and not.
func.func @attention_fused(%q: tensor<2x4x8xf32>, %k: tensor<2x4x8xf32>, %v: tensor<2x4x8xf32>) -> tensor<2x4x8xf32> {
  %o = quilt.fused (%qq = %q, %kk = %k, %vv = %v)
      : (tensor<2x4x8xf32>, tensor<2x4x8xf32>, tensor<2x4x8xf32>) -> tensor<2x4x8xf32> {
    %s = quilt.matmul %qq, %kk transpose_b : tensor<2x4x8xf32>, tensor<2x4x8xf32> -> tensor<2x4x4xf32>
    %p = quilt.softmax %s : tensor<2x4x4xf32>
    %r = quilt.matmul %p, %vv : tensor<2x4x4xf32>, tensor<2x4x8xf32> -> tensor<2x4x8xf32>
    quilt.yield %r : tensor<2x4x8xf32>
  } attributes {kind = "attention"}
  return %o : tensor<2x4x8xf32>
}

func.func @attention(%q: tensor<2x4x8xf32>, %k: tensor<2x4x8xf32>, %v: tensor<2x4x8xf32>) -> tensor<2x4x8xf32> {
  %s = quilt.matmul %q, %k transpose_b : tensor<2x4x8xf32>, tensor<2x4x8xf32> -> tensor<2x4x4xf32>
  %p = quilt.softmax %s : tensor<2x4x4xf32>
  %r = quilt.matmul %p, %v : tensor<2x4x4xf32>, tensor<2x4x8xf32> -> tensor<2x4x8xf32>
  return %r : tensor<2x4x8xf32>
}

func.func @main() {
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  %c16 = arith.constant 16 : index
  %c32 = arith.constant 32 : index
  %one = arith.constant 1.0 : f32
  %wamp = arith.constant 0.25 : f32
  %s1 = arith.constant 41 : i32
  %s2 = arith.constant 42 : i32
  %s3 = arith.constant 43 : i32
  %s4 = arith.constant 44 : i32
  %s5 = arith.constant 45 : i32
  %s6 = arith.constant 46 : i32
  %s7 = arith.constant 47 : i32

  // Hand-made two-result block: l = x W + b, g = relu(l).
  %x0 = arith.constant dense<[[1.0, 2.0], [-3.0, 0.5]]> : tensor<2x2xf32>
  %w0 = arith.constant dense<[[1.0, -1.0], [0.5, 2.0]]> : tensor<2x2xf32>
  %b0 = arith.constant dense<[0.25, -0.5]> : tensor<2xf32>
  %r:2 = quilt.fused (%a = %x0, %w = %w0, %b = %b0)
      : (tensor<2x2xf32>, tensor<2x2xf32>, tensor<2xf32>) -> (tensor<2x2xf32>, tensor<2x2xf32>) {
    %l = quilt.linear %a, %w bias %b : tensor<2x2xf32>, tensor<2x2xf32>, tensor<2xf32> -> tensor<2x2xf32>
    %g = quilt.relu %l : tensor<2x2xf32>
    quilt.yield %l, %g : tensor<2x2xf32>, tensor<2x2xf32>
  } attributes {kind = "linear-epilogue"}
  // CHECK: data =
  // CHECK-NEXT: [2.25,   2.5]
  // CHECK-NEXT: [-2.5,   3.5]
  // CHECK: data =
  // CHECK-NEXT: [2.25,   2.5]
  // CHECK-NEXT: [0,   3.5]
  %r0 = tensor.cast %r#0 : tensor<2x2xf32> to tensor<?x?xf32>
  call @print(%r0) : (tensor<?x?xf32>) -> ()
  %r1 = tensor.cast %r#1 : tensor<2x2xf32> to tensor<?x?xf32>
  call @print(%r1) : (tensor<?x?xf32>) -> ()

  // A block that yields one of its arguments as well as a computed value.
  %pt:2 = quilt.fused (%a = %x0, %b = %b0)
      : (tensor<2x2xf32>, tensor<2xf32>) -> (tensor<2x2xf32>, tensor<2x2xf32>) {
    %m = quilt.mul %a, %a : tensor<2x2xf32>
    quilt.yield %a, %m : tensor<2x2xf32>, tensor<2x2xf32>
  }
  // CHECK: data =
  // CHECK-NEXT: [1,   2]
  // CHECK-NEXT: [-3,   0.5]
  // CHECK: data =
  // CHECK-NEXT: [1,   4]
  // CHECK-NEXT: [9,   0.25]
  %pt0 = tensor.cast %pt#0 : tensor<2x2xf32> to tensor<?x?xf32>
  call @print(%pt0) : (tensor<?x?xf32>) -> ()
  %pt1 = tensor.cast %pt#1 : tensor<2x2xf32> to tensor<?x?xf32>
  call @print(%pt1) : (tensor<?x?xf32>) -> ()

  // MLP block on pseudo-random values.
  %xd = call @random(%c4, %c16, %s1, %one) : (index, index, i32, f32) -> tensor<?x?xf32>
  %x = tensor.cast %xd : tensor<?x?xf32> to tensor<4x16xf32>
  %gd = call @random(%c1, %c16, %s2, %one) : (index, index, i32, f32) -> tensor<?x?xf32>
  %g2 = tensor.cast %gd : tensor<?x?xf32> to tensor<1x16xf32>
  %gamma = tensor.collapse_shape %g2 [[0, 1]] : tensor<1x16xf32> into tensor<16xf32>
  %ud = call @random(%c16, %c32, %s3, %wamp) : (index, index, i32, f32) -> tensor<?x?xf32>
  %wu = tensor.cast %ud : tensor<?x?xf32> to tensor<16x32xf32>
  %dd = call @random(%c32, %c16, %s4, %wamp) : (index, index, i32, f32) -> tensor<?x?xf32>
  %wd = tensor.cast %dd : tensor<?x?xf32> to tensor<32x16xf32>
  %pu = quilt.pack %wu : tensor<16x32xf32> -> !up
  %pd = quilt.pack %wd : tensor<32x16xf32> -> !down
  %yf = call @mlp_fused(%x, %gamma, %pu, %pd) : (tensor<4x16xf32>, tensor<16xf32>, !up, !down) -> tensor<4x16xf32>
  %yu = call @mlp(%x, %gamma, %pu, %pd) : (tensor<4x16xf32>, tensor<16xf32>, !up, !down) -> tensor<4x16xf32>
  %yfd = tensor.cast %yf : tensor<4x16xf32> to tensor<?x?xf32>
  %yud = tensor.cast %yu : tensor<4x16xf32> to tensor<?x?xf32>
  %v1 = call @close(%yfd, %yud) : (tensor<?x?xf32>, tensor<?x?xf32>) -> f32

  // Two-result block with a packed weight, against the same ops.
  %r2:2 = quilt.fused (%a = %x, %w = %pu)
      : (tensor<4x16xf32>, !up) -> (tensor<4x32xf32>, tensor<4x32xf32>) {
    %l = quilt.linear %a, %w : tensor<4x16xf32>, !up -> tensor<4x32xf32>
    %g = quilt.gelu %l tanh : tensor<4x32xf32>
    quilt.yield %l, %g : tensor<4x32xf32>, tensor<4x32xf32>
  }
  %l2 = quilt.linear %x, %pu : tensor<4x16xf32>, !up -> tensor<4x32xf32>
  %g2u = quilt.gelu %l2 tanh : tensor<4x32xf32>
  %r20 = tensor.cast %r2#0 : tensor<4x32xf32> to tensor<?x?xf32>
  %r21 = tensor.cast %r2#1 : tensor<4x32xf32> to tensor<?x?xf32>
  %l2d = tensor.cast %l2 : tensor<4x32xf32> to tensor<?x?xf32>
  %g2d = tensor.cast %g2u : tensor<4x32xf32> to tensor<?x?xf32>
  %v2 = call @close(%r20, %l2d) : (tensor<?x?xf32>, tensor<?x?xf32>) -> f32
  %v3 = call @close(%r21, %g2d) : (tensor<?x?xf32>, tensor<?x?xf32>) -> f32

  // Attention.
  %qd = call @random(%c8, %c8, %s5, %one) : (index, index, i32, f32) -> tensor<?x?xf32>
  %kd = call @random(%c8, %c8, %s6, %one) : (index, index, i32, f32) -> tensor<?x?xf32>
  %vd = call @random(%c8, %c8, %s7, %one) : (index, index, i32, f32) -> tensor<?x?xf32>
  %q2 = tensor.cast %qd : tensor<?x?xf32> to tensor<8x8xf32>
  %k2 = tensor.cast %kd : tensor<?x?xf32> to tensor<8x8xf32>
  %v2t = tensor.cast %vd : tensor<?x?xf32> to tensor<8x8xf32>
  %q = tensor.expand_shape %q2 [[0, 1], [2]] output_shape [2, 4, 8] : tensor<8x8xf32> into tensor<2x4x8xf32>
  %k = tensor.expand_shape %k2 [[0, 1], [2]] output_shape [2, 4, 8] : tensor<8x8xf32> into tensor<2x4x8xf32>
  %v = tensor.expand_shape %v2t [[0, 1], [2]] output_shape [2, 4, 8] : tensor<8x8xf32> into tensor<2x4x8xf32>
  %of = call @attention_fused(%q, %k, %v) : (tensor<2x4x8xf32>, tensor<2x4x8xf32>, tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
  %ou = call @attention(%q, %k, %v) : (tensor<2x4x8xf32>, tensor<2x4x8xf32>, tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
  %of2 = tensor.collapse_shape %of [[0, 1], [2]] : tensor<2x4x8xf32> into tensor<8x8xf32>
  %ou2 = tensor.collapse_shape %ou [[0, 1], [2]] : tensor<2x4x8xf32> into tensor<8x8xf32>
  %ofd = tensor.cast %of2 : tensor<8x8xf32> to tensor<?x?xf32>
  %oud = tensor.cast %ou2 : tensor<8x8xf32> to tensor<?x?xf32>
  %v4 = call @close(%ofd, %oud) : (tensor<?x?xf32>, tensor<?x?xf32>) -> f32

  // A fused block inside a fused block.
  %n = quilt.fused (%a = %x, %w = %pu) : (tensor<4x16xf32>, !up) -> tensor<4x32xf32> {
    %l = quilt.linear %a, %w : tensor<4x16xf32>, !up -> tensor<4x32xf32>
    %in = quilt.fused (%t = %l) : (tensor<4x32xf32>) -> tensor<4x32xf32> {
      %g = quilt.gelu %t tanh : tensor<4x32xf32>
      quilt.yield %g : tensor<4x32xf32>
    }
    quilt.yield %in : tensor<4x32xf32>
  }
  %nd = tensor.cast %n : tensor<4x32xf32> to tensor<?x?xf32>
  %v5 = call @close(%nd, %g2d) : (tensor<?x?xf32>, tensor<?x?xf32>) -> f32

  // Discrimination: the MLP output is not the input (expect 0).
  %v6 = call @close(%yfd, %xd) : (tensor<?x?xf32>, tensor<?x?xf32>) -> f32

  // CHECK: data =
  // CHECK-NEXT: [1,   1,   1,   1,   1,   0]
  %vs = tensor.from_elements %v1, %v2, %v3, %v4, %v5, %v6 : tensor<1x6xf32>
  %vsd = tensor.cast %vs : tensor<1x6xf32> to tensor<?x?xf32>
  call @print(%vsd) : (tensor<?x?xf32>) -> ()
  return
}
