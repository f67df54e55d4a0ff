//===- Int4Kernels.h - int4 weights with group scales on CPU ----*- C++ -*-===//
//
// The byte layout of `precision<i4, group<G> | channel | tensor
// [, zero_point]>` weights on CPU and the generator of their linear kernel,
// which reads the nibbles directly and dequantizes them in registers.
//
//===----------------------------------------------------------------------===//

#ifndef QUILT_LIB_CONVERSION_QUILTTOCPU_INT4KERNELS_H
#define QUILT_LIB_CONVERSION_QUILTTOCPU_INT4KERNELS_H

#include "mlir/IR/Builders.h"
#include "quilt/Conversion/QuiltToCPU/QuiltToCPU.h"

#include <optional>

namespace mlir::quilt::cpu {

/// One buffer, sections 64-byte aligned:
/// - codes: [units][octets][16] 32-bit words. A unit is 16 columns (one zmm
///   of results), an octet 8 rows of K; the word of column n holds the 8
///   codes of rows 8o..8o+7, byte b its rows 8o+b (low nibble) and 8o+4+b
///   (high nibble). A code is the unsigned nibble q + 8 (symmetric) or q
///   (zero point). Each unit's K is contiguous, so a tile of V units streams
///   V sequential runs.
/// - scales: [groups][units * 16] f32;
/// - zero points (zero_point only): [groups][units * 16] u8.
/// Per-channel and per-tensor scales are one group spanning K (per-tensor
/// replicated per column). Padding rows and columns hold the code of 0 and a
/// scale of 0.
struct Int4Layout {
  static constexpr int64_t kUnitCols = 16;
  static constexpr int64_t kOctetRows = 8;
  int64_t rows, cols;  // K, N
  int64_t octets;      // ceil(K / 8)
  int64_t units;       // ceil(N / 16)
  int64_t groupOctets; // octets per scale group
  int64_t groups;      // octets / groupOctets
  bool zeroPoint = false;
  bool perTensor = false;
  int64_t scalesOffset = 0, zerosOffset = 0, totalBytes = 0;

  int64_t getPaddedRows() const { return octets * kOctetRows; }
  int64_t getPaddedCols() const { return units * kUnitCols; }
  /// The layout of `type`, or none when the int4 kernels do not store it
  /// (not i4, not dense, or a group size that is not a multiple of 8).
  static std::optional<Int4Layout> get(PackedType type);
};

/// What one int4 linear kernel is specialized for.
struct Int4Linear {
  Int4Layout layout;
  /// W4A8: activations quantized to s8 per row (or per tensor) inside the
  /// kernel and multiplied with vpdpbusd; else f32 activations and FMAs.
  bool dotI8 = false;
  bool perTensorAct = false;
  /// 32 zmm registers (AVX-512); else 16 ymm (AVX2): smaller register
  /// tiles, and codes decoded with integer ops instead of vpermps (f32
  /// activations only: W4A8 needs AVX-512 VNNI).
  bool wideRegisters = true;
  std::optional<int64_t> staticM;
  unsigned threads = 1;
};

/// Inside a kernel body: a new memref<M x N x f32> holding x W (+ bias), for
/// `x` memref<M x K x f32>, the weight's bytes `bytes` (1-d i8 memref) and
/// `bias` (memref<N x f32> or null).
Value emitInt4Linear(OpBuilder &b, Location loc, const Int4Linear &linear,
                     Value x, Value bytes, Value bias);

} // namespace mlir::quilt::cpu

#endif // QUILT_LIB_CONVERSION_QUILTTOCPU_INT4KERNELS_H
