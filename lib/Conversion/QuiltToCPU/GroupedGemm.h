//===- GroupedGemm.h - Many small GEMMs in one loop nest --------*- C++ -*-===//
//
// The products of block-diagonal and Monarch weights: G independent GEMMs
//   C(m, g, o) = sum_i A(m, g, i) W_g[i, o]      (+ bias[g * n + o])
// with small k x n blocks W_g, each stored in the native panel layout of
// its precision. A and C are 2-d f32 memrefs whose group g and inner index
// map to columns through strides, so column slices (block-diagonal) and
// permutations (Monarch's intermediate z, read along a strided column) are
// plain access patterns: nothing is copied or permuted before or after the
// products. A may have any inner stride (it is read by broadcast loads); C
// is written in whole vectors, so its inner stride is 1.
//
// All G GEMMs run in one loop nest (one scf.parallel over groups, no
// allocation or activation copy per GEMM), so per-GEMM overhead stays a few
// loop iterations even for 64 x 64 blocks.
//
//===----------------------------------------------------------------------===//

#ifndef QUILT_LIB_CONVERSION_QUILTTOCPU_GROUPEDGEMM_H
#define QUILT_LIB_CONVERSION_QUILTTOCPU_GROUPEDGEMM_H

#include "mlir/IR/Builders.h"
#include "quilt/Conversion/QuiltToCPU/QuiltToCPU.h"

#include <optional>

namespace mlir::quilt::cpu {

/// Element (m, g, j) of a grouped operand: row m, column
/// g * groupStride + j * elemStride of a 2-d f32 memref.
struct GroupedAccess {
  Value memref;
  int64_t groupStride = 0;
  int64_t elemStride = 1;
};

struct GroupedGemm {
  /// The layout of one group's weight (rows k, cols n; F32, BF16Pairs or
  /// I8Quads, widened in registers).
  CPUWeightLayout block;
  int64_t groups = 1;
  /// Byte offset of group 0's weight in `bytes`, and the distance between
  /// consecutive groups' weights (both multiples of 64).
  int64_t weightOffset = 0;
  int64_t groupBytes = 0;
  std::optional<int64_t> staticM;
  unsigned threads = 1;
  int64_t maxTileRows = 12; // getMaxTileRows of the target

  Value bytes; // memref<? x i8>
  Value m;     // rows, index
  GroupedAccess a, c;
  Value bias; // memref<groups * n x f32> or null
};

/// Emits C = the grouped products (every element of C the groups cover is
/// written, none is read).
void emitGroupedGemm(OpBuilder &b, Location loc, const GroupedGemm &gemm);

/// The f32 vectors of a vector of 32-bit weight words (F32: the words
/// themselves; BF16Pairs: 2, the pair's first element first; I8Quads: 4).
SmallVector<Value> widenWords(OpBuilder &b, Location loc,
                              CPUWeightEncoding encoding, Value words);

/// The register-tile rows the grouped and block-sparse kernels use for M
/// rows (balanced tiles of at most `maxRows` when M is static).
int64_t balancedTileRows(std::optional<int64_t> staticM, int64_t maxRows);

/// Packs the dense f32 block `w` (memref<k x n>, any layout) in `layout` at
/// byte `byteOffset` (an index, multiple of 64) of the 1-d i8 buffer `bytes`,
/// quantizing as emitWeightPacking does.
void packBlockAt(OpBuilder &b, Location loc, Value w, Value bytes,
                 Value byteOffset, const CPUWeightLayout &layout);
/// Decodes the block at byte `byteOffset` of `bytes` into `w`
/// (memref<k x n>, any layout).
void unpackBlockAt(OpBuilder &b, Location loc, Value bytes, Value byteOffset,
                   Value w, const CPUWeightLayout &layout);

} // namespace mlir::quilt::cpu

#endif // QUILT_LIB_CONVERSION_QUILTTOCPU_GROUPEDGEMM_H
