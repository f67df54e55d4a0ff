//===- QuiltToLinalg.h - Reference lowering of quilt ops --------*- C++ -*-===//
//
// Declares the patterns of convert-quilt-to-linalg, which give every quilt op
// its reference meaning on dense f32.
//
//===----------------------------------------------------------------------===//

#ifndef QUILT_CONVERSION_QUILTTOLINALG_QUILTTOLINALG_H
#define QUILT_CONVERSION_QUILTTOLINALG_QUILTTOLINALG_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Transforms/DialectConversion.h"

namespace mlir::quilt {

/// Converts !quilt.packed<K x N, ...> to the tensor<K x N x f32> it decodes to
/// and leaves every other type alone.
class ReferenceTypeConverter : public TypeConverter {
public:
  ReferenceTypeConverter();
};

/// Adds the patterns lowering every quilt op to linalg/tensor/arith/math.
/// quilt.pack and activation rounding call the reference kernels, which must
/// already be in the module (see `insertReferenceKernels`).
void populateQuiltToLinalgConversionPatterns(const TypeConverter &converter,
                                             RewritePatternSet &patterns);

/// Converts the types of functions, calls, returns, branches and scf ops
/// that carry packed weights, and marks them legal once converted. Shared by
/// every lowering that gives packed types a new representation.
void populateQuiltStructuralConversions(const TypeConverter &converter,
                                        RewritePatternSet &patterns,
                                        ConversionTarget &target);

/// What every lowering of quilt IR does first: inlines quilt.fused blocks
/// (their meaning is their body) and copies in the reference kernels the
/// reference patterns call.
LogicalResult prepareQuiltModuleForLowering(ModuleOp module);

/// Copies the reference kernel library (`quilt_ref_*` private functions) into
/// `module`, skipping functions it already has.
LogicalResult insertReferenceKernels(ModuleOp module);

/// Erases the `quilt_ref_*` functions nothing calls.
void eraseUnusedReferenceKernels(ModuleOp module);

} // namespace mlir::quilt

#endif // QUILT_CONVERSION_QUILTTOLINALG_QUILTTOLINALG_H
