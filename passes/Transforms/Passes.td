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

#endif // QUILT_TRANSFORMS_PASSES_TD
