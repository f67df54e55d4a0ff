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
    packed again when the program runs.

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
           "Learned model file (models/*.json); empty: analytical model">,
    Option<"target", "target", "std::string", /*default=*/"\"\"",
           "Calibration file of quilt-tune calibrate; empty: the model's, "
           "else models/target-cpu.json">,
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
    members share the input value and `act`. Whether a legal group is
    fused is decided by one function, `shouldFuse` (a documented heuristic
    until the cost model is consulted there).

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
  ];
  let dependentDialects = ["::mlir::quilt::QuiltDialect"];
}

#endif // QUILT_TRANSFORMS_PASSES_TD
