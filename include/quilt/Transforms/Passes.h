//===- Passes.h - Quilt transformation passes -------------------*- C++ -*-===//
//
// Declares the passes that rewrite quilt IR within the dialect.
//
//===----------------------------------------------------------------------===//

#ifndef QUILT_TRANSFORMS_PASSES_H
#define QUILT_TRANSFORMS_PASSES_H

#include "mlir/Pass/Pass.h"
#include "quilt/Dialect/Quilt/QuiltDialect.h"
#include "quilt/Dialect/Quilt/QuiltOps.h"

namespace mlir {
class RewritePatternSet;
class RewriterBase;
namespace quilt {

#define GEN_PASS_DECL
#include "quilt/Transforms/Passes.h.inc"

/// Replaces `op` by the ops of its body (what quilt-unfuse does to each).
void inlineFusedOp(RewriterBase &rewriter, FusedOp op);

/// Adds the pattern that inlines a quilt.fused op into its parent.
void populateUnfusePatterns(RewritePatternSet &patterns);

#define GEN_PASS_REGISTRATION
#include "quilt/Transforms/Passes.h.inc"

} // namespace quilt
} // namespace mlir

#endif // QUILT_TRANSFORMS_PASSES_H
