//===- CompressedFormat.h - CPU lowerings of compressed weights -*- C++ -*-===//
//
// A compressed format family (int4 groups, N:M, block-sparse, unstructured,
// block-diagonal, Monarch, low-rank) stores a packed weight in a byte layout
// of its own, `tensor<? x i8>` after type conversion, and generates three
// kernels for it: packing (from the dense f32 weight given to quilt.pack),
// decoding (back to the dense matrix the reference projection gives) and the
// linear itself, which reads the compressed bytes directly (dequantization in
// registers, never a decoded copy of the weight).
//
// Each family lives in its own file and is listed in CompressedFormat.cpp.
//
//===----------------------------------------------------------------------===//

#ifndef QUILT_LIB_CONVERSION_QUILTTOCPU_COMPRESSEDFORMAT_H
#define QUILT_LIB_CONVERSION_QUILTTOCPU_COMPRESSEDFORMAT_H

#include "mlir/IR/Builders.h"
#include "quilt/Conversion/QuiltToCPU/QuiltToCPU.h"

#include <optional>
#include <string>

namespace mlir::quilt::cpu {

/// What one linear kernel of a compressed weight is specialized for.
struct CompressedLinear {
  PackedType weight;
  /// Activation precision the kernel must apply itself (null: f32 x, already
  /// rounded by the caller when the family does not handle `act`).
  PrecisionAttr act;
  std::optional<int64_t> staticM;
  bool hasBias = false;
  CPUTarget target;
  unsigned threads = 1;
};

class CompressedFormat {
public:
  virtual ~CompressedFormat() = default;

  /// Short symbol-safe family name, used in kernel names ("int4", "nm").
  virtual StringRef getName() const = 0;

  /// Whether this family stores `type`.
  virtual bool supports(PackedType type) const = 0;

  /// Whether the linear kernel applies activation precision `act` itself
  /// (e.g. int8 activations on vpdpbusd); otherwise the caller rounds x to
  /// `act` first, exactly as the reference does, and passes f32.
  virtual bool handlesAct(PackedType type, PrecisionAttr act,
                          const CPUTarget &target) const {
    return false;
  }

  /// Packing kernel body: `weight` is the dense K x N f32 tensor given to
  /// quilt.pack (not yet projected); returns the bytes, tensor<? x i8>.
  /// The stored weight must decode to exactly the reference projection.
  virtual Value buildPack(OpBuilder &b, Location loc, PackedType type,
                          Value weight) const = 0;

  /// Decoding kernel body: `bytes` (tensor<? x i8>) to the K x N f32 tensor.
  virtual Value buildUnpack(OpBuilder &b, Location loc, PackedType type,
                            Value bytes) const = 0;

  /// Linear kernel body: `x` (M x K f32 tensor), `bytes`, `bias` (N f32
  /// tensor or null) to y = x W (+ bias), an M x N f32 tensor.
  virtual Value buildLinear(OpBuilder &b, Location loc,
                            const CompressedLinear &linear, Value x,
                            Value bytes, Value bias) const = 0;
};

/// Packing kernel body of quilt.pack_factors: the bytes of a `lowrank<r>`
/// weight (which getLowRankFormat() supports) from its factors, K x r and
/// r x N f32 tensors.
Value buildLowRankPackFromFactors(OpBuilder &b, Location loc, PackedType type,
                                  Value left, Value right);

/// The family that stores `type`, or null.
const CompressedFormat *lookupCompressedFormat(PackedType type);

/// A symbol-safe spelling of `type`'s format and shape, for kernel names:
/// "i4g128_nm2of4_4096x4096".
std::string getFormatSymbol(PackedType type);

/// quilt.pack, quilt.unpack and quilt.linear on compressed weights.
void populateCompressedFormatPatterns(const TypeConverter &converter,
                                      RewritePatternSet &patterns,
                                      const CPUTarget &target,
                                      unsigned threads);

//===----------------------------------------------------------------------===//
// The families (one file each)
//===----------------------------------------------------------------------===//

const CompressedFormat &getInt4Format();
const CompressedFormat &getLowRankFormat();
const CompressedFormat &getNMSparseFormat();
const CompressedFormat &getUnstructuredFormat();
const CompressedFormat &getBlockSparseFormat();
const CompressedFormat &getBlockDiagFormat();
const CompressedFormat &getMonarchFormat();

} // namespace mlir::quilt::cpu

#endif // QUILT_LIB_CONVERSION_QUILTTOCPU_COMPRESSEDFORMAT_H
