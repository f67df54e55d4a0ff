//===- Passes.td - Quilt transformation passes -------------*- tablegen -*-===//
//
// Passes that rewrite quilt IR within the dialect.
//
//===----------------------------------------------------------------------===//

#ifndef QUILT_TRANSFORMS_PASSES_TD
#define QUILT_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def QuiltUnfuse : Pass<"quilt-unfuse"> {
  let summary = "Inline every quilt.fused block into its parent";
  let description = [{
    Undoes fusion: each `quilt.fused` op is replaced by the ops of its body,
    with the block arguments bound to the op's inputs and the results taken
    from `quilt.yield`. Used to compare fused against unfused code and by the
    reference lowering, which gives a fused block the meaning of its body.

    ```mlir
    %y = quilt.fused (%a = %x) : (tensor<4xf32>) -> tensor<4xf32> {
      %r = quilt.relu %a : tensor<4xf32>
      quilt.yield %r : tensor<4xf32>
    }
    // becomes
    %y = quilt.relu %x : tensor<4xf32>
    ```
  }];
  let dependentDialects = ["::mlir::quilt::QuiltDialect"];
}

def QuiltPackWeights : Pass<"quilt-pack-weights", "::mlir::ModuleOp"> {
  let summary = "Pack constant weights at compile time for the CPU kernels";
  let description = [{
    Folds every `quilt.pack` of a constant (`arith.constant`) whose format
    the CPU backend stores in a layout of its own (the panel layouts of f32,
    bf16 and int8, and the compressed layouts: int4 groups, N:M,
    block-sparse, unstructured, block-diagonal, Monarch, low-rank) into a
    `quilt.packed_constant "cpu"` holding the packed bytes. The bytes are
    produced by running the very packing kernel the CPU backend generates
    for run-time packing, JIT-compiled through `quilt-cpu-pipeline`, so
    compile-time and run-time packing agree bit for bit; the weights are not
    packed again when the program runs. A `quilt.pack_factors` of two
    constant factors is folded the same way, each factor packed in the
    layout the low-rank weight keeps it in, so the factors are stored as
    given and never factorized again. One JIT packs all the module's weights.

    ```mlir
    %w = arith.constant dense<...> : tensor<64x32xf32>
    %p = quilt.pack %w : tensor<64x32xf32> -> !quilt.packed<64x32, precision<i8, channel>>
    // becomes
    %p = quilt.packed_constant "cpu" dense<"0x..."> : tensor<4160xi8> -> !quilt.packed<64x32, precision<i8, channel>>
    ```

    The result is only lowered by the CPU backend (`quilt-cpu-pipeline` runs
    this pass first); formats without a CPU layout are left alone.
  }];
  let options = [
    Option<"threads", "threads", "unsigned", /*default=*/"1",
           "Threads of the packing kernels">,
  ];
  let dependentDialects = ["::mlir::quilt::QuiltDialect"];
}

def QuiltEstimateCost : Pass<"quilt-estimate-cost"> {
  let summary = "Annotate ops with the cost model's predicted time";
  let description = [{
    Asks the cost model (lib/CostModel) for the time of every
    `quilt.fused` block and every `quilt.linear`, `quilt.matmul`,
    element-wise and normalization op outside a block, and records it on the
    op: `quilt.predicted_time_us` (f64 microseconds) and `quilt.cost_model`
    (`"learned"` or `"analytical"`). With `model` the learned model of that
    file is used; a missing, corrupt or mismatched file (schema version,
    target fingerprint) gives a warning and the analytical roofline model,
    never a failure. Ops the model cannot cost (dynamic shapes) are left
    alone. `remarks=1` also emits one remark per op.

    ```mlir
    %y = quilt.linear %x, %w : tensor<16x512xf32>, !quilt.packed<512x512, precision<i8, channel>> -> tensor<16x512xf32>
    // becomes
    %y = quilt.linear %x, %w {quilt.cost_model = "analytical", quilt.predicted_time_us = 8.1 : f64} : ...
    ```
  }];
  let options = [
    Option<"model", "model", "std::string", /*default=*/"\"\"",
           "Learned model file; `auto`: the one committed under "
           "models/<machine>/ for this machine type; empty: analytical model">,
    Option<"target", "target", "std::string", /*default=*/"\"\"",
           "Calibration file of quilt-tune calibrate; empty: the model's, "
           "else the one committed for this machine type">,
    Option<"threads", "threads", "unsigned", /*default=*/"1",
           "Threads the ops will run on">,
    Option<"remarks", "remarks", "bool", /*default=*/"false",
           "Emit a remark with the predicted time of each op">,
  ];
  let dependentDialects = ["::mlir::quilt::QuiltDialect"];
}

def QuiltFuseBlocks : Pass<"quilt-fuse-blocks"> {
  let summary = "Group ops into quilt.fused blocks, each compiled as one kernel";
  let description = [{
    Finds groups of ops that one kernel computes better than a chain of
    kernels and outlines each into a `quilt.fused` op whose `kind` names the
    pattern. Groups are formed in this order (an op joins at most one):

    - `gated-mlp`: `mul(silu(x Wg), x Wu)` (either operand order), the two
      up-projections sharing `x`, plus the down-projection that consumes the
      product and its epilogue when it is the product's only user;
    - `attention`: `matmul(q, k transpose_b)`, an optional element-wise
      chain (scale, mask), `softmax` on the last axis and `matmul(p, v)`,
      when the key length is at most `attention-max-seq` (short sequences:
      the score tile stays in cache);
    - `prologue`: `rmsnorm`/`layernorm` whose only user is a linear's input,
      with that linear's epilogue;
    - `horizontal`: linears reading the same input with the same `act`
      (Q, K, V projections), each with its epilogue;
    - `epilogue`: a linear and the chain of element-wise ops (bias add, gelu,
      silu, relu, residual add, mul) that consume its result;
    - `elementwise`: connected element-wise ops with at least two members.

    Legality, checked for every group: a member's result that is used
    outside the group is used after the block's position (this also rules
    out cycles through outside ops); the members of a chain have a single
    user inside the group, except that with `recompute` a normalization or
    an element-wise op whose other users are outside is cloned into the
    block (recomputed) instead of blocking the fusion; shapes are those the
    ops already verify (same input, same element-wise types); horizontal
    members share the input value and `act`.

    Whether a legal group is fused is decided in one place. Without
    `cost-model`, every legal group is (the kernels of every kind save a
    round trip of an intermediate through memory and never re-read a
    weight). With `cost-model`, the block is built detached and the model
    is asked for its time and for the time of its members run apart; the
    group is fused only when the block is not predicted slower (ties fuse:
    fewer kernel calls). A group the model refuses leaves its ops free for
    the kinds tried after it (a refused gated MLP may still fuse its two
    up-projections horizontally). `remarks` reports each consulted
    decision with both predictions.

    ```mlir
    %l = quilt.linear %x, %w bias %b : tensor<128x64xf32>, !w, tensor<32xf32> -> tensor<128x32xf32>
    %g = quilt.gelu %l : tensor<128x32xf32>
    // becomes
    %g = quilt.fused (%a = %x, %c = %w, %d = %b) {kind = "epilogue"} : ... {
      %l = quilt.linear %a, %c bias %d : ...
      %g = quilt.gelu %l : tensor<128x32xf32>
      quilt.yield %g : tensor<128x32xf32>
    }
    ```

    Each kind can be switched off for testing and comparison;
    `quilt-unfuse` undoes the pass.
  }];
  let options = [
    Option<"epilogues", "epilogues", "bool", /*default=*/"true",
           "Fuse element-wise epilogues into their linear">,
    Option<"prologues", "prologues", "bool", /*default=*/"true",
           "Fuse a normalization into the linear it feeds">,
    Option<"horizontal", "horizontal", "bool", /*default=*/"true",
           "Fuse linears that share their input">,
    Option<"blocks", "blocks", "bool", /*default=*/"true",
           "Fuse whole blocks (gated MLP, short-sequence attention)">,
    Option<"elementwise", "elementwise", "bool", /*default=*/"true",
           "Fuse chains of element-wise ops">,
    Option<"recompute", "recompute", "bool", /*default=*/"false",
           "Clone cheap producers (element-wise, normalization) with users "
           "outside the block into it instead of refusing the fusion">,
    Option<"attentionMaxSeq", "attention-max-seq", "int64_t",
           /*default=*/"512",
           "Longest key sequence fused as one attention block">,
    Option<"costModel", "cost-model", "std::string", /*default=*/"\"\"",
           "Consult a cost model: `analytical`, `auto` (the learned model "
           "committed for this machine type) or a learned model file; "
           "empty: fuse every legal group">,
    Option<"threads", "threads", "unsigned", /*default=*/"1",
           "Threads the blocks will run on (the cost model's queries)">,
    Option<"remarks", "remarks", "bool", /*default=*/"false",
           "Emit a remark with each cost-model decision">,
  ];
  let dependentDialects = ["::mlir::quilt::QuiltDialect"];
}

def QuiltLoadWeights : Pass<"quilt-load-weights", "::mlir::ModuleOp"> {
  let summary = "Bind function arguments to weights read from .npy files";
  let description = [{
    Weights do not belong in IR text. A function argument carrying the
    attribute `quilt.weight = "FILE.npy"` names the file that holds its
    value; this pass reads the file (relative paths are resolved against
    the `dir` option), checks its shape and element type against the
    argument, replaces every use of the argument by an `arith.constant`
    holding the array and removes the argument from the signature. The
    constant is a `dense_resource` whose blob is the file's data mapped into
    memory, not a copy (printed, a hex blob in the module's
    `dialect_resources`). Calls of the function are not
    rewritten: bind weights of entry points only. The result is what
    `quilt-select-formats` and `quilt-pack-weights` need: constant weights.

    ```mlir
    func.func @forward(%x: tensor<8x64xf32>,
                       %w: tensor<64x32xf32> {quilt.weight = "fc1_w.npy"})
        -> tensor<8x32xf32> {
      %y = quilt.linear %x, %w : tensor<8x64xf32>, tensor<64x32xf32> -> tensor<8x32xf32>
      return %y : tensor<8x32xf32>
    }
    // becomes, with dir=examples/digits
    func.func @forward(%x: tensor<8x64xf32>) -> tensor<8x32xf32> {
      %w = arith.constant dense_resource<fc1_w> : tensor<64x32xf32>
      ...
    ```
  }];
  let options = [
    Option<"dir", "dir", "std::string", /*default=*/"\"\"",
           "Directory relative weight paths are read from (default: the "
           "current directory)">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect"];
}

def QuiltSelectFormats : Pass<"quilt-select-formats", "::mlir::ModuleOp"> {
  let summary = "Choose each constant weight's format under an error budget";
  let description = [{
    For every `quilt.linear` whose weight is a constant dense f32 tensor
    (`arith.constant`, e.g. bound by `quilt-load-weights`), enumerates the
    candidate formats the target supports (option `formats`, names below),
    measures what each costs in accuracy on the actual weights, asks the
    cost model (`include/quilt/CostModel/CostModel.h`) for its time, and
    chooses one format per layer so that the whole function is fastest
    (`objective=latency`) or smallest (`objective=size`) while the
    root-sum-square of the per-layer errors (independent perturbations,
    whose energies add) stays within `error-budget`. The allocation across
    layers is exact dynamic programming over the squared budget (a
    knapsack, as in HAWQ-V2 / HIGGS), with squared errors rounded up to
    1/1000 of it.

    Error measure. With `calibration=FILE.npy` (the value of the function's
    first argument, e.g. a batch of real inputs) the function is run once
    with its dense weights to record each linear's input activations X; a
    candidate's error is the relative output error of that layer on X,
    `||X W - linear_c(X, W)||_F / ||X W||_F`, computed by JIT-running the
    layer in the candidate format through `quilt-cpu-pipeline` (its exact
    packing kernel and activation quantization). Layers wider than 1024
    columns whose candidates store every column on its own (channel or
    group scales, N:M along K) are measured on an even sample of 512
    columns (the LLM example's errors on 512 and on 1024 columns differ by
    under 3%). Per-layer errors are not
    additive, so the choice is then validated end to end: the function is
    run with the chosen formats and its relative output error on the
    calibration input must be within the budget; if not, the per-layer
    allocation budget is halved and the choice redone (at most 4 times,
    then dense f32). Without calibration the error is the weight-space
    proxy `||W - unpack(pack(W))||_F / ||W||_F` (activation quantization is
    then not measured) and there is no end-to-end check.

    Formats (target `cpu`): `f32` (dense f32, always a candidate, stored
    as `precision<f32>` so that its panels too are packed at compile time),
    `bf16`,
    `i8` (int8 per-channel weights, int8 per-row activations: W8A8),
    `i4` (int4 group-128 scales, f32 activations; the group shrinks to K
    when K < 128), `i4a8` (the same with int8 activations), `nm24` (2:4
    sparse f32), `nm24-i8` (2:4 sparse, W8A8), `lr16`, `lr32`, `lr64`,
    `lr128` (`structure<lowrank<R>>`, offered where 2 R (K + N) <= K N).

    Low rank fitted to the outputs. With calibration, a low-rank candidate
    is not the truncated SVD of W but `W V_r V_r^T`, V_r the top r right
    singular vectors of the layer's calibration output X W (the
    activation-aware low rank of SVD-LLM / ASVD): it keeps the directions
    the layer's real outputs use (digits MLP, 1024 x 1024 at r = 64:
    output error 0.036, against 0.29 for the SVD of W). Its error is
    computed exactly from the same decomposition, and the chosen weight is
    replaced by that fitted constant before `quilt.pack`.

    Candidates the cost model predicts no cheaper than dense f32 (error 0)
    can never be chosen; their errors are not measured ("no gain" in
    `explain`) unless `assign` is given.

    Packed once. The end-to-end check packs the chosen weights by the CPU
    backend's packing kernels (as `quilt-pack-weights` does) and runs the
    function on those bytes. With `store-packed` (which
    `quilt-cpu-pipeline` sets) the chosen weights are stored as those
    bytes, `quilt.packed_constant "cpu"`, rather than as `quilt.pack` ops
    that `quilt-pack-weights` would pack a second time. Dense f32 choices,
    formats without a CPU byte layout and choices not checked end to end
    still become `quilt.pack`.

    Pins: a linear whose weight is already a `!quilt.packed` value, or that
    carries the unit attribute `quilt.pinned`, is left alone.

    `explain` prints, per layer, every candidate's predicted time, error
    and size, the chosen one and why, to stderr. `assign` replaces the
    choice by a given format per layer (still measured and explained).

    ```mlir
    %w = arith.constant dense<...> : tensor<1024x1024xf32>
    %y = quilt.linear %x, %w : tensor<540x1024xf32>, tensor<1024x1024xf32> -> tensor<540x1024xf32>
    // may become
    %p = quilt.pack %w : tensor<1024x1024xf32> -> !quilt.packed<1024x1024, precision<i8, channel>>
    %y = quilt.linear %x, %p act <i8, channel> : ...
    ```
  }];
  let options = [
    Option<"target", "target", "std::string", /*default=*/"\"cpu\"",
           "Target whose formats are candidates (only `cpu`)">,
    Option<"errorBudget", "error-budget", "double", /*default=*/"0.01",
           "Largest allowed error (relative output error with calibration, "
           "relative weight errors without; per-layer errors combine as a "
           "root-sum-square)">,
    Option<"objective", "objective", "std::string", /*default=*/"\"latency\"",
           "`latency` (predicted time) or `size` (stored weight bytes)">,
    ListOption<"formats", "formats", "std::string",
               "Allowed formats (default: all the target supports)">,
    Option<"modelPath", "model", "std::string", /*default=*/"\"\"",
           "Learned cost model file (`auto`: the one committed for this "
           "machine type, if any; empty: the analytical model)">,
    Option<"calibration", "calibration", "std::string", /*default=*/"\"\"",
           ".npy value of the first argument used to measure output errors">,
    Option<"threads", "threads", "unsigned", /*default=*/"1",
           "Threads the cost model predicts for">,
    Option<"explain", "explain", "bool", /*default=*/"false",
           "Print the per-layer table of candidates to stderr">,
    ListOption<"assign", "assign", "std::string",
               "Skip the choice: one format per selectable linear, in IR "
               "order (for measuring fixed configurations: bench e2e's "
               "oracle and uniform ones)">,
    Option<"storePacked", "store-packed", "bool", /*default=*/"false",
           "Store the chosen formats the end-to-end check packed as "
           "`quilt.packed_constant \"cpu\"` (their CPU byte layouts) "
           "instead of `quilt.pack` ops: quilt-cpu-pipeline then packs each "
           "weight once">,
  ];
  let dependentDialects = ["::mlir::quilt::QuiltDialect"];
}

def QuiltRaiseLinalg : Pass<"quilt-raise-linalg"> {
  let summary = "Raise linalg matmuls and element-wise generics to quilt ops";
  let description = [{
    Lets IR from torch-mlir or StableHLO -> linalg enter Quilt. Rewrites, on
    f32 tensors:
    - `linalg.matmul ins(%x, %w : MxK, KxN) outs(%init)` to
      `quilt.linear %x, %w` when `%init` is a `linalg.fill` of zero (else
      the linear plus a `quilt.add` of `%init`);
    - an all-parallel `linalg.generic` adding a row vector broadcast along
      rows (`(d0, d1) -> (d1)`) to the result of such a linear (its only
      use) into the linear's `bias`;
    - all-parallel `linalg.generic`s with identity maps whose body is one
      `arith.addf` or `arith.mulf` of the two inputs to `quilt.add` /
      `quilt.mul`, and one `arith.maximumf` / `arith.maxnumf` of the input
      and `0.0` to `quilt.relu`.
    Anything else is left alone.

    ```mlir
    %z = arith.constant 0.0 : f32
    %f = linalg.fill ins(%z : f32) outs(%e : tensor<8x32xf32>) -> tensor<8x32xf32>
    %m = linalg.matmul ins(%x, %w : tensor<8x64xf32>, tensor<64x32xf32>)
                       outs(%f : tensor<8x32xf32>) -> tensor<8x32xf32>
    // becomes
    %m = quilt.linear %x, %w : tensor<8x64xf32>, tensor<64x32xf32> -> tensor<8x32xf32>
    ```
  }];
  let dependentDialects = ["::mlir::quilt::QuiltDialect"];
}

#endif // QUILT_TRANSFORMS_PASSES_TD
