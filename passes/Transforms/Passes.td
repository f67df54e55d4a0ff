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

#endif // QUILT_TRANSFORMS_PASSES_TD
