//===- QuiltCanonicalize.cpp - Folds and canonicalizations ------*- C++ -*-===//
//
// This file implements the folders and canonicalization patterns of the
// quilt ops.
//
//===----------------------------------------------------------------------===//

#include "mlir/IR/PatternMatch.h"
#include "quilt/Dialect/Quilt/QuiltOps.h"

using namespace mlir;
using namespace mlir::quilt;

/// unpack(pack(w)) is w when the format loses nothing (dense f32).
OpFoldResult UnpackOp::fold(FoldAdaptor) {
  auto pack = getInput().getDefiningOp<PackOp>();
  if (pack && getInput().getType().getFormat().isDenseF32())
    return pack.getInput();
  return {};
}

namespace {
/// linear(x, unpack(p)) -> linear(x, p): the product with a packed weight is
/// defined as the product with its decoded matrix, and keeping the packed
/// operand lets backends use the format.
struct LinearOfUnpack : OpRewritePattern<LinearOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(LinearOp op,
                                PatternRewriter &rewriter) const override {
    auto unpack = op.getWeight().getDefiningOp<UnpackOp>();
    if (!unpack)
      return failure();
    rewriter.modifyOpInPlace(
        op, [&] { op.getWeightMutable().assign(unpack.getInput()); });
    return success();
  }
};
} // namespace

void LinearOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                           MLIRContext *context) {
  results.add<LinearOfUnpack>(context);
}
