//===- PatternUtils.h - Shared helpers of the reference lowering -*- C++
//-*-===//
//
// Private helpers shared by the convert-quilt-to-linalg pattern files:
// building linalg.generic ops, element casts, calls into the reference
// kernels, and rounding a matrix to a precision.
//
//===----------------------------------------------------------------------===//

#ifndef QUILT_LIB_CONVERSION_QUILTTOLINALG_PATTERNUTILS_H
#define QUILT_LIB_CONVERSION_QUILTTOLINALG_PATTERNUTILS_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/Builders.h"
#include "quilt/Conversion/QuiltToLinalg/QuiltToLinalg.h"
#include "quilt/Dialect/Quilt/QuiltOps.h"

namespace mlir::quilt::reference {

/// Builds the body of a linalg.generic from its block arguments (inputs,
/// then the output) and returns the value to yield.
using BodyBuilder =
    function_ref<Value(OpBuilder &, Location, ValueRange blockArgs)>;

/// Creates a linalg.generic with one output `init` and returns its result.
Value buildGeneric(OpBuilder &b, Location loc, ValueRange inputs, Value init,
                   ArrayRef<AffineMap> maps,
                   ArrayRef<utils::IteratorType> iterators, BodyBuilder body);

/// A tensor.empty with element type `elementType` and the sizes of dims
/// `dims` of `like` (dynamic sizes read with tensor.dim).
Value emptyLike(OpBuilder &b, Location loc, Value like, ArrayRef<int64_t> dims,
                Type elementType);

/// A tensor.empty shaped like `like` (all dims) with `elementType`.
Value emptyLike(OpBuilder &b, Location loc, Value like, Type elementType);

/// `init` filled with `value`.
Value fill(OpBuilder &b, Location loc, Value init, double value);

/// Scalar `value` converted between float types (extf / truncf / identity).
Value convertScalar(OpBuilder &b, Location loc, Value value, Type to);

/// `tensor` with its elements converted to `elementType` (a float type).
Value convertElements(OpBuilder &b, Location loc, Value tensor,
                      Type elementType);

/// The transpose of the 2-d `matrix`.
Value transpose2D(OpBuilder &b, Location loc, Value matrix);

/// Size of dim `dim` of `tensor` as an index value.
Value dimSize(OpBuilder &b, Location loc, Value tensor, int64_t dim);

/// Calls the reference kernel `name`. Tensor operands are cast to fully
/// dynamic shapes; each result is cast back to the matching `resultTypes`
/// entry (tensor results) or returned as is.
SmallVector<Value> callKernel(OpBuilder &b, Location loc, StringRef name,
                              ValueRange operands, TypeRange resultTypes);

/// Rounds the 2-d f32 `matrix` (K x N, scales grouped along K) to
/// `precision`: fake quantization with the precision's scale granularity.
Value roundToPrecision(OpBuilder &b, Location loc, Value matrix,
                       PrecisionAttr precision);

/// The structure projection of `packed` applied to the dense f32 `weight`
/// (block-diagonal mask; Monarch and low-rank: factorized, factors rounded
/// to the precision, multiplied back).
Value applyStructure(OpBuilder &b, Location loc, Value weight,
                     PackedType packed);

/// `weight` with the entries `sparsity` does not keep set to zero.
Value applySparsity(OpBuilder &b, Location loc, Value weight,
                    SparsityAttr sparsity);

} // namespace mlir::quilt::reference

namespace mlir::quilt {
/// The pattern groups, one per file.
void populatePackPatterns(const TypeConverter &converter,
                          RewritePatternSet &patterns);
void populateContractionPatterns(const TypeConverter &converter,
                                 RewritePatternSet &patterns);
void populateElementwisePatterns(const TypeConverter &converter,
                                 RewritePatternSet &patterns);
} // namespace mlir::quilt

#endif // QUILT_LIB_CONVERSION_QUILTTOLINALG_PATTERNUTILS_H
