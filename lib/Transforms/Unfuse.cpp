//===- Unfuse.cpp - Inline quilt.fused blocks -------------------*- C++ -*-===//
//
// This file implements quilt-unfuse, which replaces each quilt.fused op by
// the ops of its body.
//
//===----------------------------------------------------------------------===//

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "quilt/Dialect/Quilt/QuiltOps.h"
#include "quilt/Transforms/Passes.h"

namespace mlir::quilt {
#define GEN_PASS_DEF_QUILTUNFUSE
#include "quilt/Transforms/Passes.h.inc"
} // namespace mlir::quilt

using namespace mlir;
using namespace mlir::quilt;

namespace {
/// Moves the body of a quilt.fused op in front of it and forwards the
/// yielded values to the op's users.
struct InlineFusedOp : OpRewritePattern<FusedOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(FusedOp op,
                                PatternRewriter &rewriter) const override {
    inlineFusedOp(rewriter, op);
    return success();
  }
};

struct QuiltUnfusePass : quilt::impl::QuiltUnfuseBase<QuiltUnfusePass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateUnfusePatterns(patterns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace

void mlir::quilt::inlineFusedOp(RewriterBase &rewriter, FusedOp op) {
  YieldOp yield = op.getYield();
  rewriter.inlineBlockBefore(&op.getBody().front(), op, op.getInputs());
  // Read the yielded values only now: inlining rebinds block arguments.
  SmallVector<Value> results(yield.getValues());
  rewriter.replaceOp(op, results);
  rewriter.eraseOp(yield);
}

void mlir::quilt::populateUnfusePatterns(RewritePatternSet &patterns) {
  patterns.add<InlineFusedOp>(patterns.getContext());
}
