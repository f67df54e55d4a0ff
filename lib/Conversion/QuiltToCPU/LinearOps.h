//===- LinearOps.h - Patterns of convert-quilt-to-cpu -----------*- C++ -*-===//
//
// The pattern groups of convert-quilt-to-cpu, one per file.
//
//===----------------------------------------------------------------------===//

#ifndef QUILT_LIB_CONVERSION_QUILTTOCPU_LINEAROPS_H
#define QUILT_LIB_CONVERSION_QUILTTOCPU_LINEAROPS_H

#include "quilt/Conversion/QuiltToCPU/QuiltToCPU.h"

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

} // namespace mlir::quilt::cpu

#endif // QUILT_LIB_CONVERSION_QUILTTOCPU_LINEAROPS_H
