//===- SparseKernels.h - Shared pieces of the sparse families ---*- C++ -*-===//
//
// The N:M and unstructured families store a pruned weight the same way: the
// columns in groups of 8 (kGroupCols), each group a run of entries, an entry
// being one kept value and its row index for each of the 8 columns (columns
// with fewer kept values than the run is long are padded with zeros). The
// families differ in how a group's run is split into segments (fixed-size K
// blocks with byte row offsets for N:M; one run per group found through a
// pointer array for unstructured), so the linear kernel, the value encoding
// and the scales live here.
//
// The linear kernel vectorizes over rows of x: x is copied transposed in
// tiles of Mt = 16 V rows (xT[tile][k][Mt]) and, for each entry, the kept
// weight of each of the 8 columns is broadcast and multiplied with the V
// vectors of xT at its row: 8 x V accumulators, one FMA per kept weight
// and 16 rows, and no work at all for the pruned ones. With few rows
// (M <= 4, where 16-row vectors would be mostly empty) the lanes are the 8
// columns of a group instead and x is gathered by row index.
//
//===----------------------------------------------------------------------===//

#ifndef QUILT_LIB_CONVERSION_QUILTTOCPU_SPARSEKERNELS_H
#define QUILT_LIB_CONVERSION_QUILTTOCPU_SPARSEKERNELS_H

#include "mlir/IR/Builders.h"
#include "quilt/Conversion/QuiltToCPU/QuiltToCPU.h"

#include <optional>

namespace mlir::quilt::cpu::sparse {

/// Columns interleaved in one run of entries.
inline constexpr int64_t kGroupCols = 8;

inline int64_t alignTo64(int64_t bytes) { return (bytes + 63) / 64 * 64; }

/// How the kept values are stored.
enum class ValueKind {
  F32,
  BF16,
  I8, // symmetric int8 codes, one f32 scale per column (replicated when the
      // precision has one scale for the tensor)
};

/// The value kind storing `precision`, if the sparse families handle it.
std::optional<ValueKind> getValueKind(PrecisionAttr precision);
int64_t getValueBytes(ValueKind kind);
Type getValueType(OpBuilder &b, ValueKind kind);

/// Scales of the (already pruned) f32 weight `w` (memref<K x N>) into
/// `scales` (memref<paddedCols x f32>), exactly as the reference computes
/// them: absmax / 127 per column, or over the whole tensor; padding 0.
void emitScales(OpBuilder &b, Location loc, Value w, Value scales, int64_t k,
                int64_t n, int64_t paddedCols, bool perTensor);

/// The stored element of the f32 `value` of column `col` (for I8, quantized
/// with `scales[col]` as the reference quantizes).
Value encodeValue(OpBuilder &b, Location loc, ValueKind kind, Value value,
                  Value scales, Value col);
/// The f32 value a stored element decodes to (scales applied).
Value decodeValue(OpBuilder &b, Location loc, ValueKind kind, Value stored,
                  Value scales, Value col);

/// dense[row, col] += the value stored in slot `at` of `values` (decoded with
/// `scales`), for the unpack kernels: padding slots hold zeros and add
/// nothing.
void addDecodedValue(OpBuilder &b, Location loc, ValueKind kind, Value values,
                     Value scales, Value at, Value dense, Value row, Value col);

/// The weight of one linear kernel, as the kernel sees it.
struct SparseWeight {
  ValueKind kind;
  int64_t k, n, groups;
  Value values; // memref<? x f32|bf16|i8>: entry e, column c at e * 8 + c
  Value rows;   // memref<? x i8|i16>: unsigned row offsets, same indexing
  Value scales; // memref<groups * 8 x f32> (I8) or null
  /// The kernel walks K in this many chunks (all groups for one chunk, then
  /// the next), each a segment of entries of every group.
  int64_t numChunks = 1;
  /// The segment of group `g` in chunk `s`: the row its offsets start from
  /// and its entries [begin, end).
  std::function<std::array<Value, 3>(OpBuilder &, Location, Value g, Value s)>
      segment;

  /// The fields a family's layout `l` and views `v` of its bytes give (all
  /// but the chunking).
  template <typename Layout, typename Views>
  static SparseWeight get(const Layout &l, const Views &v) {
    SparseWeight w;
    w.kind = l.kind;
    w.k = l.k;
    w.n = l.cols;
    w.groups = l.groups;
    w.values = v.values;
    w.rows = v.rows;
    w.scales = v.scales;
    return w;
  }
};

/// Inside a kernel body: returns a new memref<M x N x f32> with x W (+ bias)
/// for the f32 activations `x` (memref<M x K>), `bias` memref<N> or null.
Value emitSparseLinear(OpBuilder &b, Location loc, const SparseWeight &weight,
                       Value x, Value bias, std::optional<int64_t> staticM,
                       unsigned threads);

/// A view of `bytes` from the (dynamic) byte offset as a 1-d memref of
/// `count` elements of `element`.
Value viewElements(OpBuilder &b, Location loc, Value bytes, Value byteOffset,
                   Type element, Value count);

} // namespace mlir::quilt::cpu::sparse

#endif // QUILT_LIB_CONVERSION_QUILTTOCPU_SPARSEKERNELS_H
