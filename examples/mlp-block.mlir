// A transformer MLP block (RMSNorm -> up projection -> GELU -> down
// projection -> residual) over 4 tokens of width 64, run twice: once with
// dense f32 weights and once with compressed weights (up: int8 per-channel
// scales + 2:4 sparsity with W8A8 activations; down: int4 with group-32
// scales). `main` prints both outputs' first token and the max abs and
// relative difference the formats cost.
//
// Run: scripts/demo.sh examples/mlp-block.mlir

!up = !quilt.packed<64x128, precision<i8, channel>, sparsity<nm<2, 4>>>
!down = !quilt.packed<128x64, precision<i4, group<32>>>

// The compressed block, fused into one kernel.
func.func @forward(%x: tensor<4x64xf32>, %gamma: tensor<64xf32>,
                   %w_up: !up, %w_down: !down) -> tensor<4x64xf32> {
  %y = quilt.fused (%a = %x, %g = %gamma, %u = %w_up, %d = %w_down)
      : (tensor<4x64xf32>, tensor<64xf32>, !up, !down) -> tensor<4x64xf32> {
    %n = quilt.rmsnorm %a, %g : tensor<4x64xf32>, tensor<64xf32>
    %h = quilt.linear %n, %u act <i8, channel>
        : tensor<4x64xf32>, !up -> tensor<4x128xf32>
    %act = quilt.gelu %h : tensor<4x128xf32>
    %o = quilt.linear %act, %d : tensor<4x128xf32>, !down -> tensor<4x64xf32>
    %r = quilt.add %o, %a : tensor<4x64xf32>
    quilt.yield %r : tensor<4x64xf32>
  }
  return %y : tensor<4x64xf32>
}

// The same block with dense f32 weights.
func.func @forward_dense(%x: tensor<4x64xf32>, %gamma: tensor<64xf32>,
                         %w_up: tensor<64x128xf32>,
                         %w_down: tensor<128x64xf32>) -> tensor<4x64xf32> {
  %n = quilt.rmsnorm %x, %gamma : tensor<4x64xf32>, tensor<64xf32>
  %h = quilt.linear %n, %w_up : tensor<4x64xf32>, tensor<64x128xf32> -> tensor<4x128xf32>
  %act = quilt.gelu %h : tensor<4x128xf32>
  %o = quilt.linear %act, %w_down : tensor<4x128xf32>, tensor<128x64xf32> -> tensor<4x64xf32>
  %r = quilt.add %o, %x : tensor<4x64xf32>
  return %r : tensor<4x64xf32>
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

func.func @max_abs(%t: tensor<4x64xf32>) -> tensor<f32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<f32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<f32>) -> tensor<f32>
  %m = linalg.reduce ins(%t : tensor<4x64xf32>) outs(%init : tensor<f32>) dimensions = [0, 1]
    (%in: f32, %acc: f32) {
      %a = math.absf %in : f32
      %x = arith.maximumf %a, %acc : f32
      linalg.yield %x : f32
    }
  return %m : tensor<f32>
}

func.func @main() {
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c64 = arith.constant 64 : index
  %c128 = arith.constant 128 : index
  %s0 = arith.constant 0 : i32
  %s1 = arith.constant 1 : i32
  %s2 = arith.constant 2 : i32
  %s3 = arith.constant 3 : i32
  %one = arith.constant 1.0 : f32
  %wscale = arith.constant 0.125 : f32

  %xd = call @random(%c4, %c64, %s0, %one) : (index, index, i32, f32) -> tensor<?x?xf32>
  %x = tensor.cast %xd : tensor<?x?xf32> to tensor<4x64xf32>
  %gd = call @random(%c1, %c64, %s1, %one) : (index, index, i32, f32) -> tensor<?x?xf32>
  %g2 = tensor.cast %gd : tensor<?x?xf32> to tensor<1x64xf32>
  %gamma = tensor.collapse_shape %g2 [[0, 1]] : tensor<1x64xf32> into tensor<64xf32>
  %ud = call @random(%c64, %c128, %s2, %wscale) : (index, index, i32, f32) -> tensor<?x?xf32>
  %w_up = tensor.cast %ud : tensor<?x?xf32> to tensor<64x128xf32>
  %dd = call @random(%c128, %c64, %s3, %wscale) : (index, index, i32, f32) -> tensor<?x?xf32>
  %w_down = tensor.cast %dd : tensor<?x?xf32> to tensor<128x64xf32>

  %p_up = quilt.pack %w_up : tensor<64x128xf32> -> !up
  %p_down = quilt.pack %w_down : tensor<128x64xf32> -> !down

  %y = call @forward(%x, %gamma, %p_up, %p_down)
      : (tensor<4x64xf32>, tensor<64xf32>, !up, !down) -> tensor<4x64xf32>
  %y_ref = call @forward_dense(%x, %gamma, %w_up, %w_down)
      : (tensor<4x64xf32>, tensor<64xf32>, tensor<64x128xf32>, tensor<128x64xf32>) -> tensor<4x64xf32>

  %row = tensor.extract_slice %y[0, 0] [1, 8] [1, 1] : tensor<4x64xf32> to tensor<1x8xf32>
  %row_ref = tensor.extract_slice %y_ref[0, 0] [1, 8] [1, 1] : tensor<4x64xf32> to tensor<1x8xf32>
  %diff = arith.subf %y, %y_ref : tensor<4x64xf32>
  %err = call @max_abs(%diff) : (tensor<4x64xf32>) -> tensor<f32>
  %mag = call @max_abs(%y_ref) : (tensor<4x64xf32>) -> tensor<f32>
  %rel = arith.divf %err, %mag : tensor<f32>

  // LABEL: token 0, first 8 outputs, dense f32 weights
  // LABEL: token 0, first 8 outputs, compressed weights
  // LABEL: max |compressed - dense| over all outputs
  // LABEL: max |compressed - dense| / max |dense|
  %p0 = tensor.cast %row_ref : tensor<1x8xf32> to tensor<*xf32>
  call @printMemrefF32(%p0) : (tensor<*xf32>) -> ()
  %p1 = tensor.cast %row : tensor<1x8xf32> to tensor<*xf32>
  call @printMemrefF32(%p1) : (tensor<*xf32>) -> ()
  %p2 = tensor.cast %err : tensor<f32> to tensor<*xf32>
  call @printMemrefF32(%p2) : (tensor<*xf32>) -> ()
  %p3 = tensor.cast %rel : tensor<f32> to tensor<*xf32>
  call @printMemrefF32(%p3) : (tensor<*xf32>) -> ()
  return
}

func.func private @printMemrefF32(tensor<*xf32>)
