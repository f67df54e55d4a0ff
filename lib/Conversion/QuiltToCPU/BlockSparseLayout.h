//===- BlockSparseLayout.h - Block-sparse weights: layout -------*- C++ -*-===//
//
// The byte layout of block-sparse weights (see BlockSparseFormat.cpp), shared
// by the packing kernels and the linear (BlockSparseLinear.cpp).
//
//===----------------------------------------------------------------------===//

#ifndef QUILT_LIB_CONVERSION_QUILTTOCPU_BLOCKSPARSELAYOUT_H
#define QUILT_LIB_CONVERSION_QUILTTOCPU_BLOCKSPARSELAYOUT_H

#include "CompressedFormat.h"
#include "KernelUtils.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "quilt/Dialect/Quilt/QuiltAttrs.h"

#include <optional>

namespace mlir::quilt::cpu::blocksparse {

inline constexpr int64_t kLanes = 16;

inline int64_t alignTo64(int64_t bytes) { return (bytes + 63) / 64 * 64; }

struct BlockSparseLayout {
  CPUWeightEncoding encoding;
  int64_t k, n;         // K, N
  int64_t r, c;         // block rows and columns
  int64_t kb, nb;       // block rows and block columns of W
  int64_t kStep;        // K elements per 32-bit word
  int64_t words;        // words per block column of a block: ceil(R/kStep)
  int64_t blockBytes;   // words * C * 4
  int64_t scalesOffset; // int8 only
  int64_t sumsOffset;   // int8 only
  int64_t valuesOffset;
  bool perTensorScale = false;

  static std::optional<BlockSparseLayout> get(PackedType type) {
    SparsityAttr sparsity = type.getSparsity();
    if (sparsity.getKind() != SparsityKind::Block ||
        !type.getStructure().isDense())
      return std::nullopt;
    auto dense = CPUWeightLayout::forPrecision(type.getPrecision(), 1, 1);
    if (!dense)
      return std::nullopt;
    BlockSparseLayout layout;
    layout.encoding = dense->encoding;
    layout.perTensorScale = dense->perTensorScale;
    layout.k = type.getRows();
    layout.n = type.getCols();
    layout.r = sparsity.getBlockRows();
    layout.c = sparsity.getBlockCols();
    // Whole 16-lane vectors per block row, at most 4 (the register tile).
    if (layout.r <= 0 || layout.c <= 0 || layout.c % kLanes ||
        layout.c > 4 * kLanes || layout.k % layout.r || layout.n % layout.c)
      return std::nullopt;
    layout.kb = layout.k / layout.r;
    layout.nb = layout.n / layout.c;
    layout.kStep = dense->kStep;
    layout.words = (layout.r + layout.kStep - 1) / layout.kStep;
    layout.blockBytes = layout.words * layout.c * 4;
    int64_t ptrBytes = alignTo64((layout.nb + 1) * 4);
    layout.scalesOffset = ptrBytes;
    layout.sumsOffset = ptrBytes;
    layout.valuesOffset = ptrBytes;
    if (layout.encoding == CPUWeightEncoding::I8Quads) {
      layout.sumsOffset = ptrBytes + alignTo64(layout.n * 4);
      layout.valuesOffset = layout.sumsOffset + alignTo64(layout.n * 4);
    }
    return layout;
  }

  int64_t vectors() const { return c / kLanes; }
  /// Rows of the register tile: about 24 accumulators.
  int64_t maxTileRows() const {
    // 28 x 1 f32 accumulators leave 4 zmm for the W vector and the
    // broadcasts (26-row tiles at M = 128, measured best against 16 and
    // 24); widened bf16 and int8 words take 2 and 4.
    return (encoding == CPUWeightEncoding::F32 ? 28 : 24) / vectors();
  }
};

/// Index arithmetic shorthands.
struct Ix {
  OpBuilder &b;
  Location loc;
  Value c(int64_t v) { return indexConst(b, loc, v); }
  Value add(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }
  Value add(Value x, int64_t y) { return y == 0 ? x : add(x, c(y)); }
  Value mul(Value x, Value y) { return arith::MulIOp::create(b, loc, x, y); }
  Value mul(Value x, int64_t y) { return y == 1 ? x : mul(x, c(y)); }
  Value div(Value x, int64_t y) {
    return arith::DivUIOp::create(b, loc, x, c(y));
  }
  Value align64(Value x) { return mul(div(add(x, 63), 64), 64); }
  Value toIndex(Value i32) {
    return arith::IndexCastOp::create(b, loc, b.getIndexType(), i32);
  }
  Value toI32(Value index) {
    return arith::IndexCastOp::create(b, loc, b.getI32Type(), index);
  }
};

/// The byte buffer `bytes` (memref<? x i8>) as a 1-d memref of `element`.
inline Value viewElements(OpBuilder &b, Location loc, Value bytes,
                          Type element) {
  int64_t width = element.getIntOrFloatBitWidth() / 8;
  Value size = memref::DimOp::create(b, loc, bytes, 0);
  if (width != 1)
    size = arith::DivUIOp::create(b, loc, size, indexConst(b, loc, width));
  return viewAs(b, loc, bytes, 0,
                MemRefType::get({ShapedType::kDynamic}, element), size);
}

/// y = x W + bias for a block-sparse `linear` whose packed bytes are `bytes`.
Value emitLinear(OpBuilder &b, Location loc, const CompressedLinear &linear,
                 Value x, Value bytes, Value bias);

} // namespace mlir::quilt::cpu::blocksparse

#endif // QUILT_LIB_CONVERSION_QUILTTOCPU_BLOCKSPARSELAYOUT_H
