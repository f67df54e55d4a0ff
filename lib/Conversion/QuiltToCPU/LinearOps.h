//===- LinearOps.h - Patterns of convert-quilt-to-cpu -----------*- C++ -*-===//
//
// The pattern groups of convert-quilt-to-cpu, one per file.
//
//===----------------------------------------------------------------------===//

#ifndef QUILT_LIB_CONVERSION_QUILTTOCPU_LINEAROPS_H
#define QUILT_LIB_CONVERSION_QUILTTOCPU_LINEAROPS_H

#include "mlir/Transforms/DialectConversion.h"
#include "quilt/Conversion/QuiltToCPU/QuiltToCPU.h"
#include "quilt/Dialect/Quilt/QuiltOps.h"

namespace mlir::quilt::cpu {

/// quilt.pack / quilt.unpack of native layouts and every quilt.linear.
void populateLinearPatterns(const TypeConverter &converter,
                            RewritePatternSet &patterns,
                            const CPUTarget &target, unsigned threads);

/// Element-wise ops (ElementwiseOpInterface) on static f32 tensors.
void populateElementwisePatterns(const TypeConverter &converter,
                                 RewritePatternSet &patterns);

/// softmax (last axis), rmsnorm and layernorm on static f32 tensors.
void populateNormalizationPatterns(const TypeConverter &converter,
                                   RewritePatternSet &patterns);

/// Whether emitNormalization handles `op` (rmsnorm or layernorm on static
/// f32 tensors).
bool canEmitNormalization(Operation *op);
/// Inside a kernel body: `op` (rmsnorm or layernorm) on the f32 tensors
/// `operands` (input, weight[, bias]); returns the result tensor.
Value emitNormalization(OpBuilder &b, Location loc, Operation *op,
                        ValueRange operands);

/// quilt.fused blocks compiled as one kernel (FusedOps.cpp).
void populateFusedPatterns(const TypeConverter &converter,
                           RewritePatternSet &patterns, const CPUTarget &target,
                           unsigned threads);
/// Whether the patterns of populateFusedPatterns compile `op` as one
/// kernel; other blocks are compiled as their bodies.
bool canLowerFused(FusedOp op, const CPUTarget &target);

/// Replaces the block `op` (whose converted inputs are `inputs`) by a call
/// of a new kernel function named after its kind, whose body `body` builds
/// from the kernel's arguments (one per block argument).
LogicalResult replaceWithFusedKernel(
    FusedOp op, ValueRange inputs, const TypeConverter &converter,
    ConversionPatternRewriter &rewriter,
    function_ref<SmallVector<Value>(OpBuilder &, Location, ValueRange)> body);

/// Attention blocks as one kernel (FusedAttention.cpp), included in
/// populateFusedPatterns.
void populateFusedAttentionPatterns(const TypeConverter &converter,
                                    RewritePatternSet &patterns);
bool canLowerFusedAttention(FusedOp op);

} // namespace mlir::quilt::cpu

#endif // QUILT_LIB_CONVERSION_QUILTTOCPU_LINEAROPS_H
