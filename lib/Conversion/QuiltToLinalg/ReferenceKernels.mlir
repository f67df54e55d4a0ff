//===- ReferenceKernels.mlir - Reference weight-format projections ---------===//
//
// Naive, obviously-correct reference kernels for Quilt's weight formats. This
// file is the project's oracle: each function's comment block states exactly
// what it computes, and the code is written to be read, not to be fast.
//
// Conventions
//   * A weight W is a K x N f32 tensor: dim 0 (K) is the reduction dimension,
//     dim 1 (N) the output channels. A "column" is one output channel.
//   * All public kernels are `func.func private @quilt_ref_<name>` on
//     dynamically shaped f32 tensors. Callers copy the functions they need
//     (together with the helpers those call) into their module and call them
//     with `tensor.cast` operands. Divisibility preconditions (group | K,
//     m | K, r | K, c | N, b | K and b | N, ...) are the caller's job.
//   * Only upstream dialects are used (func, arith, math, tensor, linalg,
//     scf, bufferization, memref); no globals, no external calls.
//   * "roundeven" is IEEE round-half-to-even (math.roundeven).
//   * Pruned / masked-out entries become +0.0.
//   * Iterative numerics (Monarch power iteration, Jacobi eigensolver) run in
//     f64 internally; their results are rounded to f32.
//
// Lowering (LLVM/MLIR 22), as used by the tests:
//   mlir-opt
//     --one-shot-bufferize="bufferize-function-boundaries
//                           function-boundary-type-conversion=identity-layout-map"
//     --buffer-deallocation-pipeline --convert-linalg-to-loops
//     --expand-strided-metadata --lower-affine --convert-scf-to-cf
//     --finalize-memref-to-llvm --convert-math-to-llvm --convert-to-llvm
//     --reconcile-unrealized-casts
//   (--expand-strided-metadata creates affine.apply, so --lower-affine must
//   come after it.) The buffer-deallocation pipeline is what frees the
//   temporaries, including the memref.alloc's of quilt_ref_jacobi_eigh.
//
// Notes on MLIR 22 idioms used here:
//   * Splitting a dimension into two dynamic ones is written with
//     tensor.reshape (shape from tensor.from_elements), not
//     tensor.expand_shape: in LLVM 22, --expand-strided-metadata crashes on
//     a memref.expand_shape with two dynamic sizes in one reassociation group
//     (llvm/llvm-project#186830, fixed for LLVM 23).
//   * One-shot bufferization rejects loop results that are not equivalent to
//     the loop's iteration arguments, so the scf.while of the Monarch power
//     iteration copies each new iterate into the carried tensor (linalg.copy).
//   * arith.truncf to bf16 lowers to the __truncsfbf2 libcall on CPUs without
//     native bf16 conversion; mlir-runner resolves it through
//     libmlir_float16_utils (loaded with the runner utils). An AOT link may
//     need that library or compiler-rt.
//
//===----------------------------------------------------------------------===//

//===----------------------------------------------------------------------===//
// Shared helpers
//===----------------------------------------------------------------------===//

// quilt_ref_abs(x) -> y,  y[i,j] = |x[i,j]|   (same shape as x).
func.func private @quilt_ref_abs(%x: tensor<?x?xf32>) -> tensor<?x?xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %d0 = tensor.dim %x, %c0 : tensor<?x?xf32>
  %d1 = tensor.dim %x, %c1 : tensor<?x?xf32>
  %init = tensor.empty(%d0, %d1) : tensor<?x?xf32>
  %y = linalg.generic {
      indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>],
      iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<?x?xf32>) outs(%init : tensor<?x?xf32>) {
  ^bb0(%v: f32, %unused: f32):
    %a = math.absf %v : f32
    linalg.yield %a : f32
  } -> tensor<?x?xf32>
  return %y : tensor<?x?xf32>
}

// quilt_ref_neg(x) -> y,  y[i,j] = -x[i,j]   (same shape as x).
func.func private @quilt_ref_neg(%x: tensor<?x?xf32>) -> tensor<?x?xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %d0 = tensor.dim %x, %c0 : tensor<?x?xf32>
  %d1 = tensor.dim %x, %c1 : tensor<?x?xf32>
  %init = tensor.empty(%d0, %d1) : tensor<?x?xf32>
  %y = linalg.generic {
      indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>],
      iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<?x?xf32>) outs(%init : tensor<?x?xf32>) {
  ^bb0(%v: f32, %unused: f32):
    %n = arith.negf %v : f32
    linalg.yield %n : f32
  } -> tensor<?x?xf32>
  return %y : tensor<?x?xf32>
}

// quilt_ref_group_max0(x: K x N, group, per_tensor) -> M: K x N
//   Group statistic used for quantization scales, broadcast back to x's shape:
//     M[i,j] = max(0, max{ x[i',j] : i' / group == i / group })
//   i.e. one value per group of `group` consecutive rows (along K) per column
//   (per-channel is group = K). When per_tensor is true `group` is ignored and
//   every entry is max(0, max over the whole tensor).
//   Precondition: group divides K (unless per_tensor).
func.func private @quilt_ref_group_max0(%x: tensor<?x?xf32>, %group: index,
                                        %per_tensor: i1) -> tensor<?x?xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f32
  %K = tensor.dim %x, %c0 : tensor<?x?xf32>
  %N = tensor.dim %x, %c1 : tensor<?x?xf32>
  // Per-tensor: one group spanning all rows, then also reduce over columns.
  %g = arith.select %per_tensor, %K, %group : index
  %G = arith.divui %K, %g : index
  // x3[a, r, j] = x[a * g + r, j]
  %x3_shape = tensor.from_elements %G, %g, %N : tensor<3xindex>
  %x3 = tensor.reshape %x(%x3_shape)
      : (tensor<?x?xf32>, tensor<3xindex>) -> tensor<?x?x?xf32>
  // gmax[a, j] = max(0, max_r x3[a, r, j])
  %empty = tensor.empty(%G, %N) : tensor<?x?xf32>
  %zeros = linalg.fill ins(%zero : f32) outs(%empty : tensor<?x?xf32>) -> tensor<?x?xf32>
  %gmax = linalg.generic {
      indexing_maps = [affine_map<(a, r, j) -> (a, r, j)>, affine_map<(a, r, j) -> (a, j)>],
      iterator_types = ["parallel", "reduction", "parallel"]}
      ins(%x3 : tensor<?x?x?xf32>) outs(%zeros : tensor<?x?xf32>) {
  ^bb0(%v: f32, %acc: f32):
    %m = arith.maximumf %acc, %v : f32
    linalg.yield %m : f32
  } -> tensor<?x?xf32>
  %stat = scf.if %per_tensor -> tensor<?x?xf32> {
    // Here G == 1: reduce the single row to a scalar, broadcast to all columns.
    %s_empty = tensor.empty() : tensor<f32>
    %s_zero = linalg.fill ins(%zero : f32) outs(%s_empty : tensor<f32>) -> tensor<f32>
    %s = linalg.generic {
        indexing_maps = [affine_map<(a, j) -> (a, j)>, affine_map<(a, j) -> ()>],
        iterator_types = ["reduction", "reduction"]}
        ins(%gmax : tensor<?x?xf32>) outs(%s_zero : tensor<f32>) {
    ^bb0(%v: f32, %acc: f32):
      %m = arith.maximumf %acc, %v : f32
      linalg.yield %m : f32
    } -> tensor<f32>
    %sv = tensor.extract %s[] : tensor<f32>
    %row_empty = tensor.empty(%G, %N) : tensor<?x?xf32>
    %row = linalg.fill ins(%sv : f32) outs(%row_empty : tensor<?x?xf32>) -> tensor<?x?xf32>
    scf.yield %row : tensor<?x?xf32>
  } else {
    scf.yield %gmax : tensor<?x?xf32>
  }
  // M3[a, r, j] = stat[a, j], then collapse back to K x N.
  %m3_empty = tensor.empty(%G, %g, %N) : tensor<?x?x?xf32>
  %m3 = linalg.generic {
      indexing_maps = [affine_map<(a, r, j) -> (a, j)>, affine_map<(a, r, j) -> (a, r, j)>],
      iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%stat : tensor<?x?xf32>) outs(%m3_empty : tensor<?x?x?xf32>) {
  ^bb0(%v: f32, %unused: f32):
    linalg.yield %v : f32
  } -> tensor<?x?x?xf32>
  %m = tensor.collapse_shape %m3 [[0, 1], [2]] : tensor<?x?x?xf32> into tensor<?x?xf32>
  return %m : tensor<?x?xf32>
}

// quilt_ref_keep_count(density, total) -> k
//   k = clamp(ceil(density * total), 0, total), with the product and ceil
//   evaluated in f32 arithmetic (as C++ `std::ceil(float * int64_t)` does).
//   A NaN density gives 0.
func.func private @quilt_ref_keep_count(%density: f32, %total: index) -> index {
  %zero = arith.constant 0.0 : f32
  %c0_i64 = arith.constant 0 : i64
  %total_i = arith.index_cast %total : index to i64
  %total_f = arith.sitofp %total_i : i64 to f32
  %prod = arith.mulf %density, %total_f : f32
  %up = math.ceil %prod : f32
  %lo_clamped = arith.maxnumf %up, %zero : f32
  %clamped = arith.minimumf %lo_clamped, %total_f : f32
  %k_i = arith.fptosi %clamped : f32 to i64
  %k_hi = arith.minsi %k_i, %total_i : i64
  %k_lo = arith.maxsi %k_hi, %c0_i64 : i64
  %k = arith.index_cast %k_lo : i64 to index
  return %k : index
}

// quilt_ref_topk_threshold(v: n, k) -> t
//   For non-negative, non-NaN values v and 1 <= k <= n: returns exactly the
//   k-th largest element of v (counting duplicates), so that
//   #{ v[i] >= t } >= k and #{ v[i] > t } < k.
//   Method: bisection over f32 bit patterns, which for non-negative floats
//   are ordered like the floats themselves. It finds the largest pattern t in
//   [0, bits(+inf)] with #{ v[i] >= float(t) } >= k; 32 iterations of one
//   counting reduction each, so O(32 n).
//   Edge cases: k == 0 returns +inf; k > n returns 0.0.
func.func private @quilt_ref_topk_threshold(%v: tensor<?xf32>, %k: index) -> f32 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c32 = arith.constant 32 : index
  %c1_i32 = arith.constant 1 : i32
  %c0_i64 = arith.constant 0 : i64
  %lo0 = arith.constant 0 : i32             // bits(+0.0): always satisfies the predicate
  %hi0 = arith.constant 2139095041 : i32    // bits(+inf) + 1: exclusive upper bound
  %k_i = arith.index_cast %k : index to i64
  %bounds:2 = scf.for %it = %c0 to %c32 step %c1
      iter_args(%lo = %lo0, %hi = %hi0) -> (i32, i32) {
    %span = arith.subi %hi, %lo : i32
    %half = arith.shrui %span, %c1_i32 : i32
    %mid = arith.addi %lo, %half : i32
    %t = arith.bitcast %mid : i32 to f32
    // count = #{ i : v[i] >= t }
    %cnt_empty = tensor.empty() : tensor<i64>
    %cnt_zero = linalg.fill ins(%c0_i64 : i64) outs(%cnt_empty : tensor<i64>) -> tensor<i64>
    %cnt_t = linalg.generic {
        indexing_maps = [affine_map<(i) -> (i)>, affine_map<(i) -> ()>],
        iterator_types = ["reduction"]}
        ins(%v : tensor<?xf32>) outs(%cnt_zero : tensor<i64>) {
    ^bb0(%x: f32, %acc: i64):
      %ge = arith.cmpf oge, %x, %t : f32
      %inc = arith.extui %ge : i1 to i64
      %sum = arith.addi %acc, %inc : i64
      linalg.yield %sum : i64
    } -> tensor<i64>
    %cnt = tensor.extract %cnt_t[] : tensor<i64>
    %ok = arith.cmpi sge, %cnt, %k_i : i64
    %lo_next = arith.select %ok, %mid, %lo : i32
    %hi_next = arith.select %ok, %hi, %mid : i32
    scf.yield %lo_next, %hi_next : i32, i32
  }
  %result = arith.bitcast %bounds#0 : i32 to f32
  return %result : f32
}

//===----------------------------------------------------------------------===//
// 1. Integer fake quantization
//===----------------------------------------------------------------------===//

// quilt_ref_fake_quant_int(w: K x N, group, per_tensor, bits, zero_point) -> K x N
//   Integer fake quantization (quantize, then dequantize) with
//   round-half-to-even. Scale granularity: one scale per group of `group`
//   consecutive rows (along K) per column (per-channel: group = K); when
//   per_tensor is true a single scale for the whole tensor (group ignored).
//   Statistics below are taken over the entry's group.
//   Symmetric (zero_point = false):
//     qmax  = 2^(bits-1) - 1
//     scale = absmax / qmax,                     absmax = max |w|
//     q     = clamp(roundeven(w / scale), -qmax-1, qmax)
//     deq   = q * scale
//   Asymmetric (zero_point = true):
//     lo = min(min w, 0),  hi = max(max w, 0),  L = 2^bits - 1
//     scale = (hi - lo) / L
//     zp    = clamp(roundeven(-lo / scale), 0, L)
//     q     = clamp(roundeven(w / scale) + zp, 0, L)
//     deq   = (q - zp) * scale
//   A scale of 0 (all-zero group) gives deq = 0 (never NaN). A negative w
//   whose code is 0 gives -0.0 (IEEE sign of q * scale).
//   Arithmetic is f32, in exactly the order written above.
func.func private @quilt_ref_fake_quant_int(%w: tensor<?x?xf32>, %group: index,
                                            %per_tensor: i1, %bits: i32,
                                            %zero_point: i1) -> tensor<?x?xf32> {
  %r = scf.if %zero_point -> tensor<?x?xf32> {
    %a = func.call @quilt_ref_fake_quant_int_asymmetric(%w, %group, %per_tensor, %bits)
        : (tensor<?x?xf32>, index, i1, i32) -> tensor<?x?xf32>
    scf.yield %a : tensor<?x?xf32>
  } else {
    %s = func.call @quilt_ref_fake_quant_int_symmetric(%w, %group, %per_tensor, %bits)
        : (tensor<?x?xf32>, index, i1, i32) -> tensor<?x?xf32>
    scf.yield %s : tensor<?x?xf32>
  }
  return %r : tensor<?x?xf32>
}

// quilt_ref_fake_quant_int_symmetric(w, group, per_tensor, bits) -> K x N
//   The zero_point = false case of quilt_ref_fake_quant_int.
func.func private @quilt_ref_fake_quant_int_symmetric(%w: tensor<?x?xf32>, %group: index,
                                                      %per_tensor: i1, %bits: i32)
    -> tensor<?x?xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f32
  %one_f = arith.constant 1.0 : f32
  %one = arith.constant 1 : i32
  // qmax = 2^(bits-1) - 1, qmin = -qmax - 1
  %bits_m1 = arith.subi %bits, %one : i32
  %pow = arith.shli %one, %bits_m1 : i32
  %qmax_i = arith.subi %pow, %one : i32
  %qmax = arith.sitofp %qmax_i : i32 to f32
  %neg_qmax = arith.negf %qmax : f32
  %qmin = arith.subf %neg_qmax, %one_f : f32
  %absw = func.call @quilt_ref_abs(%w) : (tensor<?x?xf32>) -> tensor<?x?xf32>
  %absmax = func.call @quilt_ref_group_max0(%absw, %group, %per_tensor)
      : (tensor<?x?xf32>, index, i1) -> tensor<?x?xf32>
  %K = tensor.dim %w, %c0 : tensor<?x?xf32>
  %N = tensor.dim %w, %c1 : tensor<?x?xf32>
  %init = tensor.empty(%K, %N) : tensor<?x?xf32>
  %out = linalg.generic {
      indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>,
                       affine_map<(i, j) -> (i, j)>],
      iterator_types = ["parallel", "parallel"]}
      ins(%w, %absmax : tensor<?x?xf32>, tensor<?x?xf32>)
      outs(%init : tensor<?x?xf32>) {
  ^bb0(%x: f32, %amax: f32, %unused: f32):
    %scale = arith.divf %amax, %qmax : f32
    %xs = arith.divf %x, %scale : f32
    %qr = math.roundeven %xs : f32
    %q_lo = arith.maximumf %qr, %qmin : f32
    %q = arith.minimumf %q_lo, %qmax : f32
    %deq = arith.mulf %q, %scale : f32
    %scale_is_zero = arith.cmpf oeq, %scale, %zero : f32
    %res = arith.select %scale_is_zero, %zero, %deq : f32
    linalg.yield %res : f32
  } -> tensor<?x?xf32>
  return %out : tensor<?x?xf32>
}

// quilt_ref_fake_quant_int_asymmetric(w, group, per_tensor, bits) -> K x N
//   The zero_point = true case of quilt_ref_fake_quant_int.
func.func private @quilt_ref_fake_quant_int_asymmetric(%w: tensor<?x?xf32>, %group: index,
                                                       %per_tensor: i1, %bits: i32)
    -> tensor<?x?xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1 : i32
  // L = 2^bits - 1 (largest unsigned code)
  %pow = arith.shli %one, %bits : i32
  %levels_i = arith.subi %pow, %one : i32
  %levels = arith.sitofp %levels_i : i32 to f32
  // hi = max(max w, 0);  neg_lo = -lo = max(max(-w), 0)
  %hi = func.call @quilt_ref_group_max0(%w, %group, %per_tensor)
      : (tensor<?x?xf32>, index, i1) -> tensor<?x?xf32>
  %negw = func.call @quilt_ref_neg(%w) : (tensor<?x?xf32>) -> tensor<?x?xf32>
  %neg_lo = func.call @quilt_ref_group_max0(%negw, %group, %per_tensor)
      : (tensor<?x?xf32>, index, i1) -> tensor<?x?xf32>
  %K = tensor.dim %w, %c0 : tensor<?x?xf32>
  %N = tensor.dim %w, %c1 : tensor<?x?xf32>
  %init = tensor.empty(%K, %N) : tensor<?x?xf32>
  %out = linalg.generic {
      indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>,
                       affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>],
      iterator_types = ["parallel", "parallel"]}
      ins(%w, %hi, %neg_lo : tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>)
      outs(%init : tensor<?x?xf32>) {
  ^bb0(%x: f32, %h: f32, %nl: f32, %unused: f32):
    %range = arith.addf %h, %nl : f32                  // hi - lo
    %scale = arith.divf %range, %levels : f32
    %zp_raw = arith.divf %nl, %scale : f32              // -lo / scale
    %zp_r = math.roundeven %zp_raw : f32
    %zp_lo = arith.maximumf %zp_r, %zero : f32
    %zp = arith.minimumf %zp_lo, %levels : f32
    %xs = arith.divf %x, %scale : f32
    %xr = math.roundeven %xs : f32
    %qz = arith.addf %xr, %zp : f32
    %q_lo = arith.maximumf %qz, %zero : f32
    %q = arith.minimumf %q_lo, %levels : f32
    %qc = arith.subf %q, %zp : f32
    %deq = arith.mulf %qc, %scale : f32
    %scale_is_zero = arith.cmpf oeq, %scale, %zero : f32
    %res = arith.select %scale_is_zero, %zero, %deq : f32
    linalg.yield %res : f32
  } -> tensor<?x?xf32>
  return %out : tensor<?x?xf32>
}

//===----------------------------------------------------------------------===//
// 2. Float8 E4M3FN fake quantization
//===----------------------------------------------------------------------===//

// quilt_ref_round_f8e4m3fn_scalar(x: f32) -> f32
//   Rounds x to the nearest float8 E4M3FN value (round-half-to-even) and
//   saturates to +-448. The grid: 3 mantissa bits, normals from 2^-6 up to
//   448 = 1.75 * 2^8, subnormals k * 2^-9 below 2^-6. Equivalently, with
//   e = max(floor(log2|x|), -6) the spacing (quantum) around x is 2^(e-3), and
//       result = sign(x) * min(roundeven(|x| / 2^(e-3)) * 2^(e-3), 448).
//   Everything is exact f32 arithmetic: e is read from the f32 exponent
//   field, and scaling by a power of two is exact. Signs (including -0.0) are
//   kept; +-inf saturates to +-448; NaN stays NaN.
func.func private @quilt_ref_round_f8e4m3fn_scalar(%x: f32) -> f32 {
  %c23 = arith.constant 23 : i32
  %c3 = arith.constant 3 : i32
  %min_normal_biased = arith.constant 121 : i32   // -6 + 127
  %max_f8 = arith.constant 448.0 : f32
  %a = math.absf %x : f32
  %a_bits = arith.bitcast %a : f32 to i32
  %e_biased = arith.shrui %a_bits, %c23 : i32           // sign bit is 0
  %e_clamped = arith.maxsi %e_biased, %min_normal_biased : i32
  %quantum_biased = arith.subi %e_clamped, %c3 : i32    // exponent of 2^(e-3)
  %quantum_bits = arith.shli %quantum_biased, %c23 : i32
  %quantum = arith.bitcast %quantum_bits : i32 to f32
  %steps = arith.divf %a, %quantum : f32                // exact
  %steps_r = math.roundeven %steps : f32
  %rounded = arith.mulf %steps_r, %quantum : f32        // exact (or +inf)
  %saturated = arith.minimumf %rounded, %max_f8 : f32
  %result = math.copysign %saturated, %x : f32
  return %result : f32
}

// quilt_ref_fake_quant_f8e4m3fn(w: K x N, group, per_tensor, scaled) -> K x N
//   Unscaled (scaled = false): out = round_f8e4m3fn(w) elementwise (see
//   quilt_ref_round_f8e4m3fn_scalar).
//   Scaled (scaled = true): scale = absmax / 448 with the same granularity as
//   quilt_ref_fake_quant_int (per group of `group` rows per column, or per
//   tensor), and
//       out = round_f8e4m3fn(w / scale) * scale,
//   with out = 0 where scale == 0 (all-zero group).
func.func private @quilt_ref_fake_quant_f8e4m3fn(%w: tensor<?x?xf32>, %group: index,
                                                 %per_tensor: i1, %scaled: i1)
    -> tensor<?x?xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %max_f8 = arith.constant 448.0 : f32
  %K = tensor.dim %w, %c0 : tensor<?x?xf32>
  %N = tensor.dim %w, %c1 : tensor<?x?xf32>
  // Per-entry scale: absmax / 448 of the entry's group, or 1 when unscaled.
  %scale = scf.if %scaled -> tensor<?x?xf32> {
    %absw = func.call @quilt_ref_abs(%w) : (tensor<?x?xf32>) -> tensor<?x?xf32>
    %absmax = func.call @quilt_ref_group_max0(%absw, %group, %per_tensor)
        : (tensor<?x?xf32>, index, i1) -> tensor<?x?xf32>
    %s_init = tensor.empty(%K, %N) : tensor<?x?xf32>
    %s = linalg.generic {
        indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>],
        iterator_types = ["parallel", "parallel"]}
        ins(%absmax : tensor<?x?xf32>) outs(%s_init : tensor<?x?xf32>) {
    ^bb0(%m: f32, %unused: f32):
      %d = arith.divf %m, %max_f8 : f32
      linalg.yield %d : f32
    } -> tensor<?x?xf32>
    scf.yield %s : tensor<?x?xf32>
  } else {
    %ones_init = tensor.empty(%K, %N) : tensor<?x?xf32>
    %ones = linalg.fill ins(%one : f32) outs(%ones_init : tensor<?x?xf32>) -> tensor<?x?xf32>
    scf.yield %ones : tensor<?x?xf32>
  }
  %init = tensor.empty(%K, %N) : tensor<?x?xf32>
  %out = linalg.generic {
      indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>,
                       affine_map<(i, j) -> (i, j)>],
      iterator_types = ["parallel", "parallel"]}
      ins(%w, %scale : tensor<?x?xf32>, tensor<?x?xf32>)
      outs(%init : tensor<?x?xf32>) {
  ^bb0(%x: f32, %s: f32, %unused: f32):
    %xs = arith.divf %x, %s : f32
    %r = func.call @quilt_ref_round_f8e4m3fn_scalar(%xs) : (f32) -> f32
    %deq = arith.mulf %r, %s : f32
    %scale_is_zero = arith.cmpf oeq, %s, %zero : f32
    %res = arith.select %scale_is_zero, %zero, %deq : f32
    linalg.yield %res : f32
  } -> tensor<?x?xf32>
  return %out : tensor<?x?xf32>
}

//===----------------------------------------------------------------------===//
// 3. Half-precision round trips
//===----------------------------------------------------------------------===//

// quilt_ref_round_bf16(w) -> out,  out = f32(bf16(w)) elementwise:
//   round-half-to-even to 8 significant bits, same exponent range as f32.
func.func private @quilt_ref_round_bf16(%w: tensor<?x?xf32>) -> tensor<?x?xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %K = tensor.dim %w, %c0 : tensor<?x?xf32>
  %N = tensor.dim %w, %c1 : tensor<?x?xf32>
  %init = tensor.empty(%K, %N) : tensor<?x?xf32>
  %out = linalg.generic {
      indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>],
      iterator_types = ["parallel", "parallel"]}
      ins(%w : tensor<?x?xf32>) outs(%init : tensor<?x?xf32>) {
  ^bb0(%x: f32, %unused: f32):
    %h = arith.truncf %x : f32 to bf16
    %r = arith.extf %h : bf16 to f32
    linalg.yield %r : f32
  } -> tensor<?x?xf32>
  return %out : tensor<?x?xf32>
}

// quilt_ref_round_f16(w) -> out,  out = f32(f16(w)) elementwise: IEEE
//   round-half-to-even to 11 significant bits; |w| >= 65520 becomes +-inf,
//   tiny values round to f16 subnormals (multiples of 2^-24) or zero.
func.func private @quilt_ref_round_f16(%w: tensor<?x?xf32>) -> tensor<?x?xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %K = tensor.dim %w, %c0 : tensor<?x?xf32>
  %N = tensor.dim %w, %c1 : tensor<?x?xf32>
  %init = tensor.empty(%K, %N) : tensor<?x?xf32>
  %out = linalg.generic {
      indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>],
      iterator_types = ["parallel", "parallel"]}
      ins(%w : tensor<?x?xf32>) outs(%init : tensor<?x?xf32>) {
  ^bb0(%x: f32, %unused: f32):
    %h = arith.truncf %x : f32 to f16
    %r = arith.extf %h : f16 to f32
    linalg.yield %r : f32
  } -> tensor<?x?xf32>
  return %out : tensor<?x?xf32>
}

//===----------------------------------------------------------------------===//
// 4-7. Sparsity patterns
//===----------------------------------------------------------------------===//

// quilt_ref_prune_nm(w: K x N, n, m) -> K x N
//   N:M sparsity along K. Rows are split into groups of m consecutive rows;
//   within each group of each column, keep the n entries of largest |w| and
//   zero the rest. Ties go to the lower row index, so exactly n entries
//   survive per group (fewer non-zeros only if kept entries are 0). Formally,
//   for row i in group a (row i = a*m + s) and column j:
//     rank(i,j) = #{ t in [0,m) : |w[a*m+t, j]| >  |w[i, j]|
//                                or (|w[a*m+t, j]| == |w[i, j]| and t < s) }
//     out[i,j]  = rank(i,j) < n ? w[i,j] : 0
//   Precondition: m divides K.
func.func private @quilt_ref_prune_nm(%w: tensor<?x?xf32>, %n: index, %m: index)
    -> tensor<?x?xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f32
  %c0_i32 = arith.constant 0 : i32
  %K = tensor.dim %w, %c0 : tensor<?x?xf32>
  %N = tensor.dim %w, %c1 : tensor<?x?xf32>
  %G = arith.divui %K, %m : index
  %n_i32 = arith.index_cast %n : index to i32
  // w3[a, s, j] = w[a * m + s, j]
  %w3_shape = tensor.from_elements %G, %m, %N : tensor<3xindex>
  %w3 = tensor.reshape %w(%w3_shape)
      : (tensor<?x?xf32>, tensor<3xindex>) -> tensor<?x?x?xf32>
  // rank[a, s, j] = number of group members t that beat member s.
  %rank_empty = tensor.empty(%G, %m, %N) : tensor<?x?x?xi32>
  %rank_zero = linalg.fill ins(%c0_i32 : i32) outs(%rank_empty : tensor<?x?x?xi32>)
      -> tensor<?x?x?xi32>
  %rank = linalg.generic {
      indexing_maps = [affine_map<(a, s, j, t) -> (a, s, j)>,
                       affine_map<(a, s, j, t) -> (a, t, j)>,
                       affine_map<(a, s, j, t) -> (a, s, j)>],
      iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%w3, %w3 : tensor<?x?x?xf32>, tensor<?x?x?xf32>)
      outs(%rank_zero : tensor<?x?x?xi32>) {
  ^bb0(%ws: f32, %wt: f32, %acc: i32):
    %s = linalg.index 1 : index
    %t = linalg.index 3 : index
    %as = math.absf %ws : f32
    %at = math.absf %wt : f32
    %greater = arith.cmpf ogt, %at, %as : f32
    %equal = arith.cmpf oeq, %at, %as : f32
    %before = arith.cmpi ult, %t, %s : index
    %tie_win = arith.andi %equal, %before : i1
    %beats = arith.ori %greater, %tie_win : i1
    %inc = arith.extui %beats : i1 to i32
    %sum = arith.addi %acc, %inc : i32
    linalg.yield %sum : i32
  } -> tensor<?x?x?xi32>
  %out_empty = tensor.empty(%G, %m, %N) : tensor<?x?x?xf32>
  %out3 = linalg.generic {
      indexing_maps = [affine_map<(a, s, j) -> (a, s, j)>, affine_map<(a, s, j) -> (a, s, j)>,
                       affine_map<(a, s, j) -> (a, s, j)>],
      iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%w3, %rank : tensor<?x?x?xf32>, tensor<?x?x?xi32>)
      outs(%out_empty : tensor<?x?x?xf32>) {
  ^bb0(%x: f32, %rk: i32, %unused: f32):
    %keep = arith.cmpi slt, %rk, %n_i32 : i32
    %res = arith.select %keep, %x, %zero : f32
    linalg.yield %res : f32
  } -> tensor<?x?x?xf32>
  %out = tensor.collapse_shape %out3 [[0, 1], [2]] : tensor<?x?x?xf32> into tensor<?x?xf32>
  return %out : tensor<?x?xf32>
}

// quilt_ref_prune_blocks(w: K x N, r, c, density) -> K x N
//   Block sparsity. W is tiled into (K/r) x (N/c) blocks of r x c entries;
//   block (a, b) covers rows [a*r, (a+1)*r) and columns [b*c, (b+1)*c).
//     norm(a,b) = sqrt(sum of squares of the block)       (Frobenius norm)
//     k         = quilt_ref_keep_count(density, (K/r)*(N/c))
//                 = clamp(ceil(density * #blocks), 0, #blocks)   (f32)
//     t         = k-th largest block norm (quilt_ref_topk_threshold)
//     out[i,j]  = norm(block of (i,j)) >= t ? w[i,j] : 0
//   So the k blocks with the largest norms are kept, plus every block tied
//   with the k-th largest norm. k == 0 keeps nothing.
//   Precondition: r divides K, c divides N.
func.func private @quilt_ref_prune_blocks(%w: tensor<?x?xf32>, %r: index, %c: index,
                                          %density: f32) -> tensor<?x?xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f32
  %K = tensor.dim %w, %c0 : tensor<?x?xf32>
  %N = tensor.dim %w, %c1 : tensor<?x?xf32>
  %KB = arith.divui %K, %r : index
  %NB = arith.divui %N, %c : index
  // w4[a, i, b, j] = w[a * r + i, b * c + j]
  %w4_shape = tensor.from_elements %KB, %r, %NB, %c : tensor<4xindex>
  %w4 = tensor.reshape %w(%w4_shape)
      : (tensor<?x?xf32>, tensor<4xindex>) -> tensor<?x?x?x?xf32>
  %sq_empty = tensor.empty(%KB, %NB) : tensor<?x?xf32>
  %sq_zero = linalg.fill ins(%zero : f32) outs(%sq_empty : tensor<?x?xf32>) -> tensor<?x?xf32>
  %sumsq = linalg.generic {
      indexing_maps = [affine_map<(a, i, b, j) -> (a, i, b, j)>,
                       affine_map<(a, i, b, j) -> (a, b)>],
      iterator_types = ["parallel", "reduction", "parallel", "reduction"]}
      ins(%w4 : tensor<?x?x?x?xf32>) outs(%sq_zero : tensor<?x?xf32>) {
  ^bb0(%x: f32, %acc: f32):
    %x2 = arith.mulf %x, %x : f32
    %sum = arith.addf %acc, %x2 : f32
    linalg.yield %sum : f32
  } -> tensor<?x?xf32>
  %norm_empty = tensor.empty(%KB, %NB) : tensor<?x?xf32>
  %norm = linalg.generic {
      indexing_maps = [affine_map<(a, b) -> (a, b)>, affine_map<(a, b) -> (a, b)>],
      iterator_types = ["parallel", "parallel"]}
      ins(%sumsq : tensor<?x?xf32>) outs(%norm_empty : tensor<?x?xf32>) {
  ^bb0(%s: f32, %unused: f32):
    %rt = math.sqrt %s : f32
    linalg.yield %rt : f32
  } -> tensor<?x?xf32>
  %num_blocks = arith.muli %KB, %NB : index
  %k = func.call @quilt_ref_keep_count(%density, %num_blocks) : (f32, index) -> index
  %norm_flat = tensor.collapse_shape %norm [[0, 1]] : tensor<?x?xf32> into tensor<?xf32>
  %thr = func.call @quilt_ref_topk_threshold(%norm_flat, %k) : (tensor<?xf32>, index) -> f32
  %out_empty = tensor.empty(%KB, %r, %NB, %c) : tensor<?x?x?x?xf32>
  %out4 = linalg.generic {
      indexing_maps = [affine_map<(a, i, b, j) -> (a, i, b, j)>,
                       affine_map<(a, i, b, j) -> (a, b)>,
                       affine_map<(a, i, b, j) -> (a, i, b, j)>],
      iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%w4, %norm : tensor<?x?x?x?xf32>, tensor<?x?xf32>)
      outs(%out_empty : tensor<?x?x?x?xf32>) {
  ^bb0(%x: f32, %nb: f32, %unused: f32):
    %keep = arith.cmpf oge, %nb, %thr : f32
    %res = arith.select %keep, %x, %zero : f32
    linalg.yield %res : f32
  } -> tensor<?x?x?x?xf32>
  %out = tensor.collapse_shape %out4 [[0, 1], [2, 3]]
      : tensor<?x?x?x?xf32> into tensor<?x?xf32>
  return %out : tensor<?x?xf32>
}

// quilt_ref_prune_unstructured(w: K x N, density) -> K x N
//   Magnitude pruning over the whole tensor:
//     k        = quilt_ref_keep_count(density, K*N)
//              = clamp(ceil(density * K * N), 0, K*N)   (f32)
//     t        = k-th largest |w| (quilt_ref_topk_threshold)
//     out[i,j] = |w[i,j]| >= t ? w[i,j] : 0
//   So the k largest magnitudes are kept, plus every entry tied with the k-th
//   largest. k == 0 keeps nothing.
func.func private @quilt_ref_prune_unstructured(%w: tensor<?x?xf32>, %density: f32)
    -> tensor<?x?xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f32
  %K = tensor.dim %w, %c0 : tensor<?x?xf32>
  %N = tensor.dim %w, %c1 : tensor<?x?xf32>
  %total = arith.muli %K, %N : index
  %k = func.call @quilt_ref_keep_count(%density, %total) : (f32, index) -> index
  %absw = func.call @quilt_ref_abs(%w) : (tensor<?x?xf32>) -> tensor<?x?xf32>
  %abs_flat = tensor.collapse_shape %absw [[0, 1]] : tensor<?x?xf32> into tensor<?xf32>
  %thr = func.call @quilt_ref_topk_threshold(%abs_flat, %k) : (tensor<?xf32>, index) -> f32
  %init = tensor.empty(%K, %N) : tensor<?x?xf32>
  %out = linalg.generic {
      indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>],
      iterator_types = ["parallel", "parallel"]}
      ins(%w : tensor<?x?xf32>) outs(%init : tensor<?x?xf32>) {
  ^bb0(%x: f32, %unused: f32):
    %a = math.absf %x : f32
    %keep = arith.cmpf oge, %a, %thr : f32
    %res = arith.select %keep, %x, %zero : f32
    linalg.yield %res : f32
  } -> tensor<?x?xf32>
  return %out : tensor<?x?xf32>
}

// quilt_ref_mask_blockdiag(w: K x N, b) -> K x N
//   Block-diagonal mask with b diagonal blocks of (K/b) x (N/b):
//     out[i,j] = (i / (K/b) == j / (N/b)) ? w[i,j] : 0
//   Precondition: b divides K and N.
func.func private @quilt_ref_mask_blockdiag(%w: tensor<?x?xf32>, %b: index) -> tensor<?x?xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f32
  %K = tensor.dim %w, %c0 : tensor<?x?xf32>
  %N = tensor.dim %w, %c1 : tensor<?x?xf32>
  %kb = arith.divui %K, %b : index
  %nb = arith.divui %N, %b : index
  %init = tensor.empty(%K, %N) : tensor<?x?xf32>
  %out = linalg.generic {
      indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>],
      iterator_types = ["parallel", "parallel"]}
      ins(%w : tensor<?x?xf32>) outs(%init : tensor<?x?xf32>) {
  ^bb0(%x: f32, %unused: f32):
    %i = linalg.index 0 : index
    %j = linalg.index 1 : index
    %bi = arith.divui %i, %kb : index
    %bj = arith.divui %j, %nb : index
    %keep = arith.cmpi eq, %bi, %bj : index
    %res = arith.select %keep, %x, %zero : f32
    linalg.yield %res : f32
  } -> tensor<?x?xf32>
  return %out : tensor<?x?xf32>
}

//===----------------------------------------------------------------------===//
// 8. Monarch
//===----------------------------------------------------------------------===//
//
// With b blocks, k = K/b and n = N/b, a Monarch matrix is
//     W[p*k + i, q*n + o] = L[p, i, q] * R[q, p, o]
// with L: b x k x b and R: b x b x n. Equivalently every k x n sub-block
//     S_{p,q} = W[p*k:(p+1)*k, q*n:(q+1)*n]
// is the rank-1 matrix L[p, :, q] (x) R[q, p, :].

// quilt_ref_monarch_factors(w: K x N, b) -> (L: b x k x b, R: b x b x n)
//   Optimal (Frobenius) Monarch projection: every sub-block S = S_{p,q} is
//   replaced by its best rank-1 approximation sigma_1 u_1 v_1^T, returned as
//       L[p, :, q] = S v,   R[q, p, :] = v,     v = top right singular vector.
//   v is found by power iteration on S^T S, for all b*b blocks at once, in
//   f64:
//       v_0        = S^T e_i*, i* the first row of S of largest norm
//       v_{t+1}    = S^T S v_t / ||S^T S v_t||_2   (0 if that norm is 0)
//   stopping after the first iteration t+1 where max over all blocks and o
//   of |v_{t+1} - v_t| < 1e-7 (v is unit-norm, so this is relative), or after
//   1000 iterations. L and R are computed in f64 and rounded to f32.
//   All-zero blocks give zero L and R (never NaN). The sign of v is whatever
//   the iteration converges to; only the product L R matters.
//   Precondition: b divides K and N.
func.func private @quilt_ref_monarch_factors(%w: tensor<?x?xf32>, %b: index)
    -> (tensor<?x?x?xf32>, tensor<?x?x?xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %max_iters = arith.constant 1000 : index
  %tol = arith.constant 1.0e-7 : f64
  %K = tensor.dim %w, %c0 : tensor<?x?xf32>
  %N = tensor.dim %w, %c1 : tensor<?x?xf32>
  %k = arith.divui %K, %b : index
  %n = arith.divui %N, %b : index
  // s[p, i, q, o] = f64(W[p*k + i, q*n + o]) = S_{p,q}[i, o]
  %w4_shape = tensor.from_elements %b, %k, %b, %n : tensor<4xindex>
  %w4 = tensor.reshape %w(%w4_shape)
      : (tensor<?x?xf32>, tensor<4xindex>) -> tensor<?x?x?x?xf32>
  %s_empty = tensor.empty(%b, %k, %b, %n) : tensor<?x?x?x?xf64>
  %s = linalg.generic {
      indexing_maps = [affine_map<(p, i, q, o) -> (p, i, q, o)>,
                       affine_map<(p, i, q, o) -> (p, i, q, o)>],
      iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%w4 : tensor<?x?x?x?xf32>) outs(%s_empty : tensor<?x?x?x?xf64>) {
  ^bb0(%x: f32, %unused: f64):
    %xd = arith.extf %x : f32 to f64
    linalg.yield %xd : f64
  } -> tensor<?x?x?x?xf64>
  // v0 = the first row of largest norm of each block, S^T e_i*: it is never
  // orthogonal to the top right singular vector unless the block is zero
  // (v0 . v1 = sigma_1 u1[i*], and u1[i*] != 0 for the largest row of a
  // rank-1 block), and for a rank-1 block it already is that vector.
  // rn[p, q, i] = ||S_{p,q}[i, :]||^2
  %zero = arith.constant 0.0 : f64
  %rn_empty = tensor.empty(%b, %b, %k) : tensor<?x?x?xf64>
  %rn_init = linalg.fill ins(%zero : f64) outs(%rn_empty : tensor<?x?x?xf64>) -> tensor<?x?x?xf64>
  %rn = linalg.generic {
      indexing_maps = [affine_map<(p, q, i, o) -> (p, i, q, o)>,
                       affine_map<(p, q, i, o) -> (p, q, i)>],
      iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%s : tensor<?x?x?x?xf64>) outs(%rn_init : tensor<?x?x?xf64>) {
  ^bb0(%x: f64, %acc: f64):
    %x2 = arith.mulf %x, %x : f64
    %sum = arith.addf %acc, %x2 : f64
    linalg.yield %sum : f64
  } -> tensor<?x?x?xf64>
  // rmax[p, q] = max_i rn[p, q, i]
  %rmax_empty = tensor.empty(%b, %b) : tensor<?x?xf64>
  %rmax_init = linalg.fill ins(%zero : f64) outs(%rmax_empty : tensor<?x?xf64>) -> tensor<?x?xf64>
  %rmax = linalg.generic {
      indexing_maps = [affine_map<(p, q, i) -> (p, q, i)>, affine_map<(p, q, i) -> (p, q)>],
      iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%rn : tensor<?x?x?xf64>) outs(%rmax_init : tensor<?x?xf64>) {
  ^bb0(%x: f64, %acc: f64):
    %m = arith.maximumf %acc, %x : f64
    linalg.yield %m : f64
  } -> tensor<?x?xf64>
  // best[p, q] = min { i : rn[p, q, i] == rmax[p, q] }
  %k_i64 = arith.index_cast %k : index to i64
  %best_empty = tensor.empty(%b, %b) : tensor<?x?xi64>
  %best_init = linalg.fill ins(%k_i64 : i64) outs(%best_empty : tensor<?x?xi64>) -> tensor<?x?xi64>
  %best = linalg.generic {
      indexing_maps = [affine_map<(p, q, i) -> (p, q, i)>, affine_map<(p, q, i) -> (p, q)>,
                       affine_map<(p, q, i) -> (p, q)>],
      iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%rn, %rmax : tensor<?x?x?xf64>, tensor<?x?xf64>) outs(%best_init : tensor<?x?xi64>) {
  ^bb0(%x: f64, %mx: f64, %acc: i64):
    %i = linalg.index 2 : index
    %i_i64 = arith.index_cast %i : index to i64
    %is_max = arith.cmpf oeq, %x, %mx : f64
    %cand = arith.select %is_max, %i_i64, %acc : i64
    %first = arith.minsi %acc, %cand : i64
    linalg.yield %first : i64
  } -> tensor<?x?xi64>
  // v0[p, q, o] = S_{p,q}[best[p, q], o]
  %v0_empty = tensor.empty(%b, %b, %n) : tensor<?x?x?xf64>
  %v0_init = linalg.fill ins(%zero : f64) outs(%v0_empty : tensor<?x?x?xf64>) -> tensor<?x?x?xf64>
  %v0 = linalg.generic {
      indexing_maps = [affine_map<(p, q, o, i) -> (p, i, q, o)>, affine_map<(p, q, o, i) -> (p, q)>,
                       affine_map<(p, q, o, i) -> (p, q, o)>],
      iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%s, %best : tensor<?x?x?x?xf64>, tensor<?x?xi64>) outs(%v0_init : tensor<?x?x?xf64>) {
  ^bb0(%x: f64, %row: i64, %acc: f64):
    %i = linalg.index 3 : index
    %i_i64 = arith.index_cast %i : index to i64
    %is_row = arith.cmpi eq, %i_i64, %row : i64
    %picked = arith.select %is_row, %x, %acc : f64
    linalg.yield %picked : f64
  } -> tensor<?x?x?xf64>
  %iter:2 = scf.while (%v = %v0, %it = %c0) : (tensor<?x?x?xf64>, index)
      -> (tensor<?x?x?xf64>, index) {
    %v_next = func.call @quilt_ref_monarch_power_step(%s, %v)
        : (tensor<?x?x?x?xf64>, tensor<?x?x?xf64>) -> tensor<?x?x?xf64>
    %delta = func.call @quilt_ref_max_abs_diff3(%v_next, %v)
        : (tensor<?x?x?xf64>, tensor<?x?x?xf64>) -> f64
    %it_next = arith.addi %it, %c1 : index
    %not_converged = arith.cmpf oge, %delta, %tol : f64
    %budget_left = arith.cmpi ult, %it_next, %max_iters : index
    %continue = arith.andi %not_converged, %budget_left : i1
    // Write v_next into the loop-carried tensor: one-shot bufferization
    // requires loop results to be equivalent to the loop arguments.
    %v_carried = linalg.copy ins(%v_next : tensor<?x?x?xf64>)
        outs(%v : tensor<?x?x?xf64>) -> tensor<?x?x?xf64>
    scf.condition(%continue) %v_carried, %it_next : tensor<?x?x?xf64>, index
  } do {
  ^bb0(%v: tensor<?x?x?xf64>, %it: index):
    scf.yield %v, %it : tensor<?x?x?xf64>, index
  }
  // sv[p, q, i] = (S_{p,q} v_{p,q})[i]
  %sv = func.call @quilt_ref_monarch_apply(%s, %iter#0)
      : (tensor<?x?x?x?xf64>, tensor<?x?x?xf64>) -> tensor<?x?x?xf64>
  // L[p, i, q] = sv[p, q, i]
  %l_empty = tensor.empty(%b, %k, %b) : tensor<?x?x?xf32>
  %l = linalg.generic {
      indexing_maps = [affine_map<(p, i, q) -> (p, q, i)>, affine_map<(p, i, q) -> (p, i, q)>],
      iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%sv : tensor<?x?x?xf64>) outs(%l_empty : tensor<?x?x?xf32>) {
  ^bb0(%x: f64, %unused: f32):
    %xf = arith.truncf %x : f64 to f32
    linalg.yield %xf : f32
  } -> tensor<?x?x?xf32>
  // R[q, p, o] = v[p, q, o]
  %r_empty = tensor.empty(%b, %b, %n) : tensor<?x?x?xf32>
  %r = linalg.generic {
      indexing_maps = [affine_map<(q, p, o) -> (p, q, o)>, affine_map<(q, p, o) -> (q, p, o)>],
      iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%iter#0 : tensor<?x?x?xf64>) outs(%r_empty : tensor<?x?x?xf32>) {
  ^bb0(%x: f64, %unused: f32):
    %xf = arith.truncf %x : f64 to f32
    linalg.yield %xf : f32
  } -> tensor<?x?x?xf32>
  return %l, %r : tensor<?x?x?xf32>, tensor<?x?x?xf32>
}

// quilt_ref_monarch_apply(s: b x k x b x n, v: b x b x n) -> sv: b x b x k
//   Block-wise matrix-vector product: sv[p, q, i] = sum_o s[p, i, q, o] * v[p, q, o],
//   i.e. S_{p,q} v_{p,q} for every block (f64).
func.func private @quilt_ref_monarch_apply(%s: tensor<?x?x?x?xf64>, %v: tensor<?x?x?xf64>)
    -> tensor<?x?x?xf64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f64
  %b = tensor.dim %s, %c0 : tensor<?x?x?x?xf64>
  %k = tensor.dim %s, %c1 : tensor<?x?x?x?xf64>
  %empty = tensor.empty(%b, %b, %k) : tensor<?x?x?xf64>
  %zeros = linalg.fill ins(%zero : f64) outs(%empty : tensor<?x?x?xf64>) -> tensor<?x?x?xf64>
  %sv = linalg.generic {
      indexing_maps = [affine_map<(p, q, i, o) -> (p, i, q, o)>,
                       affine_map<(p, q, i, o) -> (p, q, o)>,
                       affine_map<(p, q, i, o) -> (p, q, i)>],
      iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%s, %v : tensor<?x?x?x?xf64>, tensor<?x?x?xf64>)
      outs(%zeros : tensor<?x?x?xf64>) {
  ^bb0(%a: f64, %x: f64, %acc: f64):
    %prod = arith.mulf %a, %x : f64
    %sum = arith.addf %acc, %prod : f64
    linalg.yield %sum : f64
  } -> tensor<?x?x?xf64>
  return %sv : tensor<?x?x?xf64>
}

// quilt_ref_monarch_power_step(s: b x k x b x n, v: b x b x n) -> b x b x n
//   One normalized power-iteration step on S^T S for every block (f64):
//     y[p, q, :] = S_{p,q}^T (S_{p,q} v[p, q, :])
//     out[p, q, :] = y[p, q, :] / ||y[p, q, :]||_2, or 0 if that norm is 0.
func.func private @quilt_ref_monarch_power_step(%s: tensor<?x?x?x?xf64>,
                                                %v: tensor<?x?x?xf64>) -> tensor<?x?x?xf64> {
  %c0 = arith.constant 0 : index
  %c3 = arith.constant 3 : index
  %zero = arith.constant 0.0 : f64
  %b = tensor.dim %s, %c0 : tensor<?x?x?x?xf64>
  %n = tensor.dim %s, %c3 : tensor<?x?x?x?xf64>
  %sv = func.call @quilt_ref_monarch_apply(%s, %v)
      : (tensor<?x?x?x?xf64>, tensor<?x?x?xf64>) -> tensor<?x?x?xf64>
  // y[p, q, o] = sum_i s[p, i, q, o] * sv[p, q, i]
  %y_empty = tensor.empty(%b, %b, %n) : tensor<?x?x?xf64>
  %y_zero = linalg.fill ins(%zero : f64) outs(%y_empty : tensor<?x?x?xf64>) -> tensor<?x?x?xf64>
  %y = linalg.generic {
      indexing_maps = [affine_map<(p, q, o, i) -> (p, i, q, o)>,
                       affine_map<(p, q, o, i) -> (p, q, i)>,
                       affine_map<(p, q, o, i) -> (p, q, o)>],
      iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%s, %sv : tensor<?x?x?x?xf64>, tensor<?x?x?xf64>)
      outs(%y_zero : tensor<?x?x?xf64>) {
  ^bb0(%a: f64, %x: f64, %acc: f64):
    %prod = arith.mulf %a, %x : f64
    %sum = arith.addf %acc, %prod : f64
    linalg.yield %sum : f64
  } -> tensor<?x?x?xf64>
  // nrm2[p, q] = sum_o y[p, q, o]^2
  %n2_empty = tensor.empty(%b, %b) : tensor<?x?xf64>
  %n2_zero = linalg.fill ins(%zero : f64) outs(%n2_empty : tensor<?x?xf64>) -> tensor<?x?xf64>
  %nrm2 = linalg.generic {
      indexing_maps = [affine_map<(p, q, o) -> (p, q, o)>, affine_map<(p, q, o) -> (p, q)>],
      iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%y : tensor<?x?x?xf64>) outs(%n2_zero : tensor<?x?xf64>) {
  ^bb0(%x: f64, %acc: f64):
    %x2 = arith.mulf %x, %x : f64
    %sum = arith.addf %acc, %x2 : f64
    linalg.yield %sum : f64
  } -> tensor<?x?xf64>
  %out_empty = tensor.empty(%b, %b, %n) : tensor<?x?x?xf64>
  %out = linalg.generic {
      indexing_maps = [affine_map<(p, q, o) -> (p, q, o)>, affine_map<(p, q, o) -> (p, q)>,
                       affine_map<(p, q, o) -> (p, q, o)>],
      iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%y, %nrm2 : tensor<?x?x?xf64>, tensor<?x?xf64>)
      outs(%out_empty : tensor<?x?x?xf64>) {
  ^bb0(%x: f64, %sq: f64, %unused: f64):
    %norm = math.sqrt %sq : f64
    %scaled = arith.divf %x, %norm : f64
    %is_zero = arith.cmpf oeq, %sq, %zero : f64
    %res = arith.select %is_zero, %zero, %scaled : f64
    linalg.yield %res : f64
  } -> tensor<?x?x?xf64>
  return %out : tensor<?x?x?xf64>
}

// quilt_ref_max_abs_diff3(x, y) -> max over all entries of |x - y|
//   (0 for empty tensors; NaN if any difference is NaN).
func.func private @quilt_ref_max_abs_diff3(%x: tensor<?x?x?xf64>, %y: tensor<?x?x?xf64>) -> f64 {
  %zero = arith.constant 0.0 : f64
  %empty = tensor.empty() : tensor<f64>
  %init = linalg.fill ins(%zero : f64) outs(%empty : tensor<f64>) -> tensor<f64>
  %m = linalg.generic {
      indexing_maps = [affine_map<(a, b, c) -> (a, b, c)>, affine_map<(a, b, c) -> (a, b, c)>,
                       affine_map<(a, b, c) -> ()>],
      iterator_types = ["reduction", "reduction", "reduction"]}
      ins(%x, %y : tensor<?x?x?xf64>, tensor<?x?x?xf64>) outs(%init : tensor<f64>) {
  ^bb0(%a: f64, %b: f64, %acc: f64):
    %d = arith.subf %a, %b : f64
    %ad = math.absf %d : f64
    %mx = arith.maximumf %acc, %ad : f64
    linalg.yield %mx : f64
  } -> tensor<f64>
  %r = tensor.extract %m[] : tensor<f64>
  return %r : f64
}

// quilt_ref_monarch_expand(l: b x k x b, r: b x b x n) -> W: (b*k) x (b*n)
//   W[p*k + i, q*n + o] = L[p, i, q] * R[q, p, o]   (f32).
func.func private @quilt_ref_monarch_expand(%l: tensor<?x?x?xf32>, %r: tensor<?x?x?xf32>)
    -> tensor<?x?xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %b = tensor.dim %l, %c0 : tensor<?x?x?xf32>
  %k = tensor.dim %l, %c1 : tensor<?x?x?xf32>
  %n = tensor.dim %r, %c2 : tensor<?x?x?xf32>
  %empty = tensor.empty(%b, %k, %b, %n) : tensor<?x?x?x?xf32>
  %w4 = linalg.generic {
      indexing_maps = [affine_map<(p, i, q, o) -> (p, i, q)>,
                       affine_map<(p, i, q, o) -> (q, p, o)>,
                       affine_map<(p, i, q, o) -> (p, i, q, o)>],
      iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%l, %r : tensor<?x?x?xf32>, tensor<?x?x?xf32>)
      outs(%empty : tensor<?x?x?x?xf32>) {
  ^bb0(%x: f32, %y: f32, %unused: f32):
    %prod = arith.mulf %x, %y : f32
    linalg.yield %prod : f32
  } -> tensor<?x?x?x?xf32>
  %w = tensor.collapse_shape %w4 [[0, 1], [2, 3]] : tensor<?x?x?x?xf32> into tensor<?x?xf32>
  return %w : tensor<?x?xf32>
}

//===----------------------------------------------------------------------===//
// 9. Low rank
//===----------------------------------------------------------------------===//

// quilt_ref_lowrank_factors(w: K x N, r) -> (U: K x r, V: r x N)
//   Rank-r approximation by subspace iteration with Rayleigh-Ritz (Halko,
//   Martinsson & Tropp 2011, Alg. 4.4 + 5.1), all in f64, results rounded
//   to f32. It costs O(K N p) instead of the O(N^3) of a full
//   eigendecomposition of W^T W, so 4096 x 11008 weights pack in seconds.
//     p  = min(N, r + 16) probe columns
//     Q  = orth(P),  P[c, j] = hash(c, j) in [-1, 1)    (N x p, fixed)
//     twice:  Q = orth(W^T (W Q))                         (power iterations)
//     Y  = W Q;  Y^T Y = E diag(lambda) E^T               (quilt_ref_jacobi_eigh)
//     order eigenpairs by lambda descending, ties to the lower index, keep
//     the first r:  S[l, s] = E[l, j_s]
//     V  = (Q S)^T;  U = Y S                              (= W V^T)
//   orth(A) = A E diag(1/sqrt(mu)) with A^T A = E diag(mu) E^T: the columns
//   of A made orthonormal; directions with mu <= 1e-24 * max(mu) (numerically
//   absent) become zero columns.
//   So U V = W V^T V is W projected onto the Ritz subspace. When p = N
//   (r >= N - 16) the subspace is all of R^N and U V is exactly the truncated
//   SVD; when W has rank <= p, U V reproduces W to round-off. Rows of V are
//   sorted by decreasing Ritz value; their signs are arbitrary.
//   Precondition: r <= N.
func.func private @quilt_ref_lowrank_factors(%w: tensor<?x?xf32>, %r: index)
    -> (tensor<?x?xf32>, tensor<?x?xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %zero = arith.constant 0.0 : f64
  %c0_i64 = arith.constant 0 : i64
  %K = tensor.dim %w, %c0 : tensor<?x?xf32>
  %N = tensor.dim %w, %c1 : tensor<?x?xf32>
  %r16 = arith.addi %r, %c16 : index
  %p = arith.minui %N, %r16 : index
  // wd = f64(w)
  %wd_empty = tensor.empty(%K, %N) : tensor<?x?xf64>
  %wd = linalg.generic {
      indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>],
      iterator_types = ["parallel", "parallel"]}
      ins(%w : tensor<?x?xf32>) outs(%wd_empty : tensor<?x?xf64>) {
  ^bb0(%x: f32, %unused: f64):
    %xd = arith.extf %x : f32 to f64
    linalg.yield %xd : f64
  } -> tensor<?x?xf64>
  %probe = func.call @quilt_ref_lowrank_probe(%N, %p) : (index, index) -> tensor<?x?xf64>
  %q0 = func.call @quilt_ref_orth_columns(%probe) : (tensor<?x?xf64>) -> tensor<?x?xf64>
  %q1 = func.call @quilt_ref_lowrank_power_step(%wd, %q0)
      : (tensor<?x?xf64>, tensor<?x?xf64>) -> tensor<?x?xf64>
  %q = func.call @quilt_ref_lowrank_power_step(%wd, %q1)
      : (tensor<?x?xf64>, tensor<?x?xf64>) -> tensor<?x?xf64>
  %y = func.call @quilt_ref_matmul_f64(%wd, %q)
      : (tensor<?x?xf64>, tensor<?x?xf64>) -> tensor<?x?xf64>
  %t = func.call @quilt_ref_tmatmul_f64(%y, %y)
      : (tensor<?x?xf64>, tensor<?x?xf64>) -> tensor<?x?xf64>
  %eig:2 = func.call @quilt_ref_jacobi_eigh(%t)
      : (tensor<?x?xf64>) -> (tensor<?xf64>, tensor<?x?xf64>)
  // rank[j] = #{ j2 : lambda[j2] > lambda[j] or (lambda[j2] == lambda[j] and j2 < j) }
  %rank_empty = tensor.empty(%p) : tensor<?xi64>
  %rank_zero = linalg.fill ins(%c0_i64 : i64) outs(%rank_empty : tensor<?xi64>) -> tensor<?xi64>
  %rank = linalg.generic {
      indexing_maps = [affine_map<(j, j2) -> (j)>, affine_map<(j, j2) -> (j2)>,
                       affine_map<(j, j2) -> (j)>],
      iterator_types = ["parallel", "reduction"]}
      ins(%eig#0, %eig#0 : tensor<?xf64>, tensor<?xf64>) outs(%rank_zero : tensor<?xi64>) {
  ^bb0(%lj: f64, %lj2: f64, %acc: i64):
    %j = linalg.index 0 : index
    %j2 = linalg.index 1 : index
    %greater = arith.cmpf ogt, %lj2, %lj : f64
    %equal = arith.cmpf oeq, %lj2, %lj : f64
    %before = arith.cmpi ult, %j2, %j : index
    %tie_win = arith.andi %equal, %before : i1
    %beats = arith.ori %greater, %tie_win : i1
    %inc = arith.extui %beats : i1 to i64
    %sum = arith.addi %acc, %inc : i64
    linalg.yield %sum : i64
  } -> tensor<?xi64>
  // sel[l, s] = E[l, j] for the unique j with rank[j] == s
  %sel_empty = tensor.empty(%p, %r) : tensor<?x?xf64>
  %sel_zero = linalg.fill ins(%zero : f64) outs(%sel_empty : tensor<?x?xf64>) -> tensor<?x?xf64>
  %sel = linalg.generic {
      indexing_maps = [affine_map<(l, s, j) -> (j)>, affine_map<(l, s, j) -> (l, j)>,
                       affine_map<(l, s, j) -> (l, s)>],
      iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%rank, %eig#1 : tensor<?xi64>, tensor<?x?xf64>) outs(%sel_zero : tensor<?x?xf64>) {
  ^bb0(%rk: i64, %x: f64, %acc: f64):
    %s = linalg.index 1 : index
    %s_i = arith.index_cast %s : index to i64
    %hit = arith.cmpi eq, %rk, %s_i : i64
    %res = arith.select %hit, %x, %acc : f64
    linalg.yield %res : f64
  } -> tensor<?x?xf64>
  // vt = Q sel (N x r), ud = Y sel (K x r), vd = vt^T
  %vt = func.call @quilt_ref_matmul_f64(%q, %sel)
      : (tensor<?x?xf64>, tensor<?x?xf64>) -> tensor<?x?xf64>
  %ud = func.call @quilt_ref_matmul_f64(%y, %sel)
      : (tensor<?x?xf64>, tensor<?x?xf64>) -> tensor<?x?xf64>
  %vd_empty = tensor.empty(%r, %N) : tensor<?x?xf64>
  %vd = linalg.generic {
      indexing_maps = [affine_map<(s, c) -> (c, s)>, affine_map<(s, c) -> (s, c)>],
      iterator_types = ["parallel", "parallel"]}
      ins(%vt : tensor<?x?xf64>) outs(%vd_empty : tensor<?x?xf64>) {
  ^bb0(%x: f64, %unused: f64):
    linalg.yield %x : f64
  } -> tensor<?x?xf64>
  %u = func.call @quilt_ref_truncf_2d(%ud) : (tensor<?x?xf64>) -> tensor<?x?xf32>
  %v = func.call @quilt_ref_truncf_2d(%vd) : (tensor<?x?xf64>) -> tensor<?x?xf32>
  return %u, %v : tensor<?x?xf32>, tensor<?x?xf32>
}

// quilt_ref_lowrank_power_step(w: K x N, q: N x p) -> orth(w^T (w q))
func.func private @quilt_ref_lowrank_power_step(%w: tensor<?x?xf64>, %q: tensor<?x?xf64>)
    -> tensor<?x?xf64> {
  %y = func.call @quilt_ref_matmul_f64(%w, %q)
      : (tensor<?x?xf64>, tensor<?x?xf64>) -> tensor<?x?xf64>
  %z = func.call @quilt_ref_tmatmul_f64(%w, %y)
      : (tensor<?x?xf64>, tensor<?x?xf64>) -> tensor<?x?xf64>
  %o = func.call @quilt_ref_orth_columns(%z) : (tensor<?x?xf64>) -> tensor<?x?xf64>
  return %o : tensor<?x?xf64>
}

// quilt_ref_lowrank_probe(n, p) -> P (n x p), P[c, j] in [-1, 1): the top
//   31 bits of a murmur3-style finalizer of c * p + j (as i64), scaled.
func.func private @quilt_ref_lowrank_probe(%n: index, %p: index) -> tensor<?x?xf64> {
  %e = tensor.empty(%n, %p) : tensor<?x?xf64>
  %probe = linalg.generic {indexing_maps = [affine_map<(c, j) -> (c, j)>],
                           iterator_types = ["parallel", "parallel"]}
      outs(%e : tensor<?x?xf64>) {
  ^bb0(%out: f64):
    %c = linalg.index 0 : index
    %j = linalg.index 1 : index
    %cp = arith.muli %c, %p : index
    %cpj = arith.addi %cp, %j : index
    %h0 = arith.index_cast %cpj : index to i64
    %s33 = arith.constant 33 : i64
    %m1 = arith.constant -49064778989728563 : i64
    %m2 = arith.constant -4265267296055464877 : i64
    %t0 = arith.shrui %h0, %s33 : i64
    %h1 = arith.xori %h0, %t0 : i64
    %h2 = arith.muli %h1, %m1 : i64
    %t1 = arith.shrui %h2, %s33 : i64
    %h3 = arith.xori %h2, %t1 : i64
    %h4 = arith.muli %h3, %m2 : i64
    %t2 = arith.shrui %h4, %s33 : i64
    %h5 = arith.xori %h4, %t2 : i64
    %top = arith.shrui %h5, %s33 : i64
    %f = arith.uitofp %top : i64 to f64
    %inv = arith.constant 9.31322574615478515625e-10 : f64
    %one = arith.constant 1.0 : f64
    %u = arith.mulf %f, %inv : f64
    %v = arith.subf %u, %one : f64
    linalg.yield %v : f64
  } -> tensor<?x?xf64>
  return %probe : tensor<?x?xf64>
}

// quilt_ref_orth_columns(a: n x p) -> a E diag(d), where a^T a = E diag(mu) E^T
//   (quilt_ref_jacobi_eigh) and d[j] = 1 / sqrt(mu[j]) if
//   mu[j] > 1e-24 * max(mu), else 0: orthonormal columns spanning a's range
//   (plus zero columns for directions a does not have).
func.func private @quilt_ref_orth_columns(%a: tensor<?x?xf64>) -> tensor<?x?xf64> {
  %c0 = arith.constant 0 : index
  %zero = arith.constant 0.0 : f64
  %g = func.call @quilt_ref_tmatmul_f64(%a, %a)
      : (tensor<?x?xf64>, tensor<?x?xf64>) -> tensor<?x?xf64>
  %eig:2 = func.call @quilt_ref_jacobi_eigh(%g)
      : (tensor<?x?xf64>) -> (tensor<?xf64>, tensor<?x?xf64>)
  %p = tensor.dim %g, %c0 : tensor<?x?xf64>
  %max_init = tensor.from_elements %zero : tensor<f64>
  %max = linalg.generic {
      indexing_maps = [affine_map<(j) -> (j)>, affine_map<(j) -> ()>],
      iterator_types = ["reduction"]}
      ins(%eig#0 : tensor<?xf64>) outs(%max_init : tensor<f64>) {
  ^bb0(%x: f64, %acc: f64):
    %m = arith.maximumf %x, %acc : f64
    linalg.yield %m : f64
  } -> tensor<f64>
  %scaled_empty = tensor.empty(%p, %p) : tensor<?x?xf64>
  %scaled = linalg.generic {
      indexing_maps = [affine_map<(l, j) -> (l, j)>, affine_map<(l, j) -> (j)>,
                       affine_map<(l, j) -> ()>, affine_map<(l, j) -> (l, j)>],
      iterator_types = ["parallel", "parallel"]}
      ins(%eig#1, %eig#0, %max : tensor<?x?xf64>, tensor<?xf64>, tensor<f64>)
      outs(%scaled_empty : tensor<?x?xf64>) {
  ^bb0(%e: f64, %mu: f64, %mx: f64, %unused: f64):
    %tol = arith.constant 1.0e-24 : f64
    %floor = arith.mulf %mx, %tol : f64
    %keep = arith.cmpf ogt, %mu, %floor : f64
    %root = math.sqrt %mu : f64
    %d = arith.divf %e, %root : f64
    %res = arith.select %keep, %d, %zero : f64
    linalg.yield %res : f64
  } -> tensor<?x?xf64>
  %o = func.call @quilt_ref_matmul_f64(%a, %scaled)
      : (tensor<?x?xf64>, tensor<?x?xf64>) -> tensor<?x?xf64>
  return %o : tensor<?x?xf64>
}

// quilt_ref_matmul_f64(a: m x k, b: k x n) -> a b. Loops (i, l, j): the
//   innermost runs along rows of b and of the result (contiguous).
func.func private @quilt_ref_matmul_f64(%a: tensor<?x?xf64>, %b: tensor<?x?xf64>)
    -> tensor<?x?xf64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f64
  %m = tensor.dim %a, %c0 : tensor<?x?xf64>
  %n = tensor.dim %b, %c1 : tensor<?x?xf64>
  %empty = tensor.empty(%m, %n) : tensor<?x?xf64>
  %init = linalg.fill ins(%zero : f64) outs(%empty : tensor<?x?xf64>) -> tensor<?x?xf64>
  %c = linalg.generic {
      indexing_maps = [affine_map<(i, l, j) -> (i, l)>, affine_map<(i, l, j) -> (l, j)>,
                       affine_map<(i, l, j) -> (i, j)>],
      iterator_types = ["parallel", "reduction", "parallel"]}
      ins(%a, %b : tensor<?x?xf64>, tensor<?x?xf64>) outs(%init : tensor<?x?xf64>) {
  ^bb0(%x: f64, %y: f64, %acc: f64):
    %prod = arith.mulf %x, %y : f64
    %sum = arith.addf %acc, %prod : f64
    linalg.yield %sum : f64
  } -> tensor<?x?xf64>
  return %c : tensor<?x?xf64>
}

// quilt_ref_tmatmul_f64(a: k x m, b: k x n) -> a^T b. Loops (l, i, j): the
//   innermost runs along rows of b and of the result (contiguous).
func.func private @quilt_ref_tmatmul_f64(%a: tensor<?x?xf64>, %b: tensor<?x?xf64>)
    -> tensor<?x?xf64> {
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f64
  %m = tensor.dim %a, %c1 : tensor<?x?xf64>
  %n = tensor.dim %b, %c1 : tensor<?x?xf64>
  %empty = tensor.empty(%m, %n) : tensor<?x?xf64>
  %init = linalg.fill ins(%zero : f64) outs(%empty : tensor<?x?xf64>) -> tensor<?x?xf64>
  %c = linalg.generic {
      indexing_maps = [affine_map<(l, i, j) -> (l, i)>, affine_map<(l, i, j) -> (l, j)>,
                       affine_map<(l, i, j) -> (i, j)>],
      iterator_types = ["reduction", "parallel", "parallel"]}
      ins(%a, %b : tensor<?x?xf64>, tensor<?x?xf64>) outs(%init : tensor<?x?xf64>) {
  ^bb0(%x: f64, %y: f64, %acc: f64):
    %prod = arith.mulf %x, %y : f64
    %sum = arith.addf %acc, %prod : f64
    linalg.yield %sum : f64
  } -> tensor<?x?xf64>
  return %c : tensor<?x?xf64>
}

// quilt_ref_truncf_2d(x: f64 tensor) -> f32(x), round-to-nearest-even.
func.func private @quilt_ref_truncf_2d(%x: tensor<?x?xf64>) -> tensor<?x?xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %d0 = tensor.dim %x, %c0 : tensor<?x?xf64>
  %d1 = tensor.dim %x, %c1 : tensor<?x?xf64>
  %init = tensor.empty(%d0, %d1) : tensor<?x?xf32>
  %y = linalg.generic {
      indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>],
      iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<?x?xf64>) outs(%init : tensor<?x?xf32>) {
  ^bb0(%v: f64, %unused: f32):
    %t = arith.truncf %v : f64 to f32
    linalg.yield %t : f32
  } -> tensor<?x?xf32>
  return %y : tensor<?x?xf32>
}

// quilt_ref_jacobi_eigh(g: N x N symmetric, f64) -> (lambda: N, Q: N x N)
//   Eigendecomposition g = Q diag(lambda) Q^T by the cyclic Jacobi method
//   (Golub & Van Loan, Alg. 8.5.3; f64 throughout). Columns of Q are the
//   eigenvectors, lambda[j] = final A[j, j]; no sorting.
//   A sweep visits all pairs (p, q), p < q, in row order. Pair (p, q) is
//   rotated iff |A[p,q]| > 1e-12 * sqrt(|A[p,p] * A[q,q]|); the rotation
//       tau = (A[q,q] - A[p,p]) / (2 A[p,q])
//       t   = sign(tau) / (|tau| + sqrt(1 + tau^2))      (sign(0) = +1)
//       c   = 1 / sqrt(1 + t^2),  s = t c,  J = [[c, s], [-s, c]] on (p, q)
//   gives A <- J^T A J (A[p,q] and A[q,p] then set to exactly 0) and
//   Q <- Q J. Sweeps stop after one that rotates nothing, or after 50.
//   Sequential numerics, so this works on memrefs.
func.func private @quilt_ref_jacobi_eigh(%g: tensor<?x?xf64>)
    -> (tensor<?xf64>, tensor<?x?xf64>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %max_sweeps = arith.constant 50 : index
  %zero = arith.constant 0.0 : f64
  %one = arith.constant 1.0 : f64
  %minus_one = arith.constant -1.0 : f64
  %two = arith.constant 2.0 : f64
  %tol = arith.constant 1.0e-12 : f64
  %false = arith.constant false
  %N = tensor.dim %g, %c0 : tensor<?x?xf64>
  // a := g (working copy), qm := identity
  %a = memref.alloc(%N, %N) : memref<?x?xf64>
  bufferization.materialize_in_destination %g in restrict writable %a
      : (tensor<?x?xf64>, memref<?x?xf64>) -> ()
  %qm = memref.alloc(%N, %N) : memref<?x?xf64>
  scf.for %i = %c0 to %N step %c1 {
    scf.for %j = %c0 to %N step %c1 {
      %diag = arith.cmpi eq, %i, %j : index
      %val = arith.select %diag, %one, %zero : f64
      memref.store %val, %qm[%i, %j] : memref<?x?xf64>
    }
  }
  %num_sweeps = scf.while (%sweep = %c0) : (index) -> index {
    %rotated = scf.for %p = %c0 to %N step %c1 iter_args(%any_p = %false) -> (i1) {
      %p1 = arith.addi %p, %c1 : index
      %any_row = scf.for %q = %p1 to %N step %c1 iter_args(%any_q = %false) -> (i1) {
        %app = memref.load %a[%p, %p] : memref<?x?xf64>
        %aqq = memref.load %a[%q, %q] : memref<?x?xf64>
        %apq = memref.load %a[%p, %q] : memref<?x?xf64>
        %dprod = arith.mulf %app, %aqq : f64
        %dprod_abs = math.absf %dprod : f64
        %dscale = math.sqrt %dprod_abs : f64
        %bound = arith.mulf %tol, %dscale : f64
        %apq_abs = math.absf %apq : f64
        %needed = arith.cmpf ogt, %apq_abs, %bound : f64
        scf.if %needed {
          // Rotation angle.
          %diff = arith.subf %aqq, %app : f64
          %two_apq = arith.mulf %two, %apq : f64
          %tau = arith.divf %diff, %two_apq : f64
          %tau_neg = arith.cmpf olt, %tau, %zero : f64
          %sign = arith.select %tau_neg, %minus_one, %one : f64
          %tau_abs = math.absf %tau : f64
          %tau2 = arith.mulf %tau, %tau : f64
          %tau2p1 = arith.addf %tau2, %one : f64
          %hyp = math.sqrt %tau2p1 : f64
          %den = arith.addf %tau_abs, %hyp : f64
          %t = arith.divf %sign, %den : f64
          %t2 = arith.mulf %t, %t : f64
          %t2p1 = arith.addf %t2, %one : f64
          %csq = math.sqrt %t2p1 : f64
          %c = arith.divf %one, %csq : f64
          %s = arith.mulf %t, %c : f64
          // A <- A J (columns p, q)
          scf.for %r = %c0 to %N step %c1 {
            %arp = memref.load %a[%r, %p] : memref<?x?xf64>
            %arq = memref.load %a[%r, %q] : memref<?x?xf64>
            %c_arp = arith.mulf %c, %arp : f64
            %s_arq = arith.mulf %s, %arq : f64
            %s_arp = arith.mulf %s, %arp : f64
            %c_arq = arith.mulf %c, %arq : f64
            %new_p = arith.subf %c_arp, %s_arq : f64
            %new_q = arith.addf %s_arp, %c_arq : f64
            memref.store %new_p, %a[%r, %p] : memref<?x?xf64>
            memref.store %new_q, %a[%r, %q] : memref<?x?xf64>
          }
          // A <- J^T A (rows p, q)
          scf.for %r = %c0 to %N step %c1 {
            %apr = memref.load %a[%p, %r] : memref<?x?xf64>
            %aqr = memref.load %a[%q, %r] : memref<?x?xf64>
            %c_apr = arith.mulf %c, %apr : f64
            %s_aqr = arith.mulf %s, %aqr : f64
            %s_apr = arith.mulf %s, %apr : f64
            %c_aqr = arith.mulf %c, %aqr : f64
            %new_p = arith.subf %c_apr, %s_aqr : f64
            %new_q = arith.addf %s_apr, %c_aqr : f64
            memref.store %new_p, %a[%p, %r] : memref<?x?xf64>
            memref.store %new_q, %a[%q, %r] : memref<?x?xf64>
          }
          memref.store %zero, %a[%p, %q] : memref<?x?xf64>
          memref.store %zero, %a[%q, %p] : memref<?x?xf64>
          // Q <- Q J (columns p, q)
          scf.for %r = %c0 to %N step %c1 {
            %qrp = memref.load %qm[%r, %p] : memref<?x?xf64>
            %qrq = memref.load %qm[%r, %q] : memref<?x?xf64>
            %c_qrp = arith.mulf %c, %qrp : f64
            %s_qrq = arith.mulf %s, %qrq : f64
            %s_qrp = arith.mulf %s, %qrp : f64
            %c_qrq = arith.mulf %c, %qrq : f64
            %new_p = arith.subf %c_qrp, %s_qrq : f64
            %new_q = arith.addf %s_qrp, %c_qrq : f64
            memref.store %new_p, %qm[%r, %p] : memref<?x?xf64>
            memref.store %new_q, %qm[%r, %q] : memref<?x?xf64>
          }
        }
        %any_next = arith.ori %any_q, %needed : i1
        scf.yield %any_next : i1
      }
      %any_p_next = arith.ori %any_p, %any_row : i1
      scf.yield %any_p_next : i1
    }
    %sweep_next = arith.addi %sweep, %c1 : index
    %budget_left = arith.cmpi ult, %sweep_next, %max_sweeps : index
    %continue = arith.andi %rotated, %budget_left : i1
    scf.condition(%continue) %sweep_next : index
  } do {
  ^bb0(%sweep: index):
    scf.yield %sweep : index
  }
  // lambda[j] = A[j, j]
  %lam = memref.alloc(%N) : memref<?xf64>
  scf.for %j = %c0 to %N step %c1 {
    %d = memref.load %a[%j, %j] : memref<?x?xf64>
    memref.store %d, %lam[%j] : memref<?xf64>
  }
  %lambda = bufferization.to_tensor %lam restrict writable : memref<?xf64> to tensor<?xf64>
  %q_t = bufferization.to_tensor %qm restrict writable : memref<?x?xf64> to tensor<?x?xf64>
  return %lambda, %q_t : tensor<?xf64>, tensor<?x?xf64>
}

//===----------------------------------------------------------------------===//
// 9b. Low-rank expansion
//===----------------------------------------------------------------------===//

// quilt_ref_lowrank_expand(u: K x r, v: r x N) -> U V  (K x N, f32 matmul)
func.func private @quilt_ref_lowrank_expand(%u: tensor<?x?xf32>, %v: tensor<?x?xf32>)
    -> tensor<?x?xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f32
  %K = tensor.dim %u, %c0 : tensor<?x?xf32>
  %N = tensor.dim %v, %c1 : tensor<?x?xf32>
  %empty = tensor.empty(%K, %N) : tensor<?x?xf32>
  %zeros = linalg.fill ins(%zero : f32) outs(%empty : tensor<?x?xf32>) -> tensor<?x?xf32>
  %w = linalg.matmul ins(%u, %v : tensor<?x?xf32>, tensor<?x?xf32>)
      outs(%zeros : tensor<?x?xf32>) -> tensor<?x?xf32>
  return %w : tensor<?x?xf32>
}
