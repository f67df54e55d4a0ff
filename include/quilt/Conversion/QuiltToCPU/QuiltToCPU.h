//===- QuiltToCPU.h - The x86 CPU backend -----------------------*- C++ -*-===//
//
// Declares the pieces of convert-quilt-to-cpu that other components (the
// pipeline, the runtime, the cost model) rely on: the target description and
// the byte layout of packed weights the CPU kernels read.
//
//===----------------------------------------------------------------------===//

#ifndef QUILT_CONVERSION_QUILTTOCPU_QUILTTOCPU_H
#define QUILT_CONVERSION_QUILTTOCPU_QUILTTOCPU_H

#include "mlir/Transforms/DialectConversion.h"
#include "quilt/Dialect/Quilt/QuiltAttrs.h"
#include "quilt/Dialect/Quilt/QuiltTypes.h"

#include <optional>
#include <string>

namespace mlir::quilt {

/// The attribute naming the LLVM intrinsic a bodiless stand-in function
/// means (see quilt-inline-intrinsic-calls).
inline constexpr llvm::StringLiteral kIntrinsicAttrName =
    "quilt.llvm_intrinsic";

/// What the generated code may use.
struct CPUTarget {
  std::string cpu = "generic"; // LLVM CPU name (target-cpu)
  std::string features;        // LLVM feature string, "+a,+b,-c"
  bool hasAVX512 = false;      // avx512f (+bw, +vl, +dq)
  bool hasVNNI = false;        // avx512vnni: vpdpbusd
  bool hasBF16 = false;        // avx512bf16: vdpbf16ps
  /// Use vdpbf16ps for bf16 x bf16 (else FMAs on widened bf16, which are
  /// faster where vdpbf16ps retires at half the FMA rate).
  bool preferBF16Dot = false;

  /// `spec` is "host" (the running CPU) or a comma list of LLVM features.
  static CPUTarget get(StringRef spec);
};

/// How a packed weight is encoded for the CPU kernels.
enum class CPUWeightEncoding {
  F32,       // [P][K][32] f32
  BF16Pairs, // [P][ceil(K/2)][32] words, each two bf16 along K
  I8Quads,   // [P][ceil(K/4)][32] words, each four i8 along K; then scales
             // f32[P*32] and column sums i32[P*32]
};

/// The byte layout of a packed weight in one buffer (offsets 64-aligned).
struct CPUWeightLayout {
  static constexpr int64_t kPanelWidth = 32; // columns per panel
  CPUWeightEncoding encoding;
  int64_t rows, cols; // K, N
  int64_t kStep;      // K elements per 32-bit word: 1, 2 or 4
  int64_t kWords;     // ceil(K / kStep)
  int64_t panels;     // ceil(N / 32)
  int64_t scalesOffset = 0, sumsOffset = 0; // I8Quads only
  int64_t totalBytes;
  bool perTensorScale = false; // I8Quads: one scale replicated per column

  /// The layout of `type`, or none when the CPU kernels do not read its
  /// format natively (it then keeps the reference, dense f32 lowering).
  static std::optional<CPUWeightLayout> get(PackedType type);
  /// The dense layout storing a K x N matrix of `precision`, if native.
  static std::optional<CPUWeightLayout> forPrecision(PrecisionAttr precision,
                                                     int64_t k, int64_t n);
  /// The layout of a K x N weight in `encoding`.
  static CPUWeightLayout make(CPUWeightEncoding encoding, int64_t k, int64_t n,
                              bool perTensorScale = false);
  int64_t getPaddedCols() const { return panels * kPanelWidth; }
};

/// How the CPU backend stores a `lowrank<r>` weight: factor U (K x r) in
/// the dense layout of packed type `left`, factor V (r x N) in that of
/// `right` from byte `rightOffset` on, so that packing each factor as its
/// dense type and placing the bytes there gives the weight's bytes.
struct CPULowRankLayout {
  PackedType left, right;
  int64_t rightOffset, totalBytes;

  static std::optional<CPULowRankLayout> get(PackedType type);
};

namespace cpu {
/// Whether a compressed-format lowering (int4 groups, N:M, block-sparse,
/// unstructured, block-diagonal, Monarch, low-rank) reads `type` in a layout
/// of its own.
bool hasCompressedLayout(PackedType type);
} // namespace cpu

/// Packed types with a native layout become `tensor<totalBytes x i8>`,
/// compressed layouts `tensor<? x i8>` (the size may depend on the data);
/// other packed types become the dense `tensor<K x N x f32>` they decode to.
class CPUTypeConverter : public TypeConverter {
public:
  CPUTypeConverter();
};

} // namespace mlir::quilt

#endif // QUILT_CONVERSION_QUILTTOCPU_QUILTTOCPU_H
