//===- SparseKernels.cpp - Shared pieces of the sparse families -*- C++ -*-===//
//
// Implements SparseKernels.h: value encoding, scales and the x-transposed
// linear kernel of the N:M and unstructured families.
//
//===----------------------------------------------------------------------===//

#include "SparseKernels.h"
#include "KernelUtils.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace mlir::quilt;
using namespace mlir::quilt::cpu;
using namespace mlir::quilt::cpu::sparse;

std::optional<ValueKind> sparse::getValueKind(PrecisionAttr precision) {
  Type element = precision.getElementType();
  if (element.isF32())
    return ValueKind::F32;
  if (element.isBF16())
    return ValueKind::BF16;
  Granularity granularity = precision.getGranularity();
  if (element.isSignlessInteger(8) && !precision.getZeroPoint() &&
      (granularity == Granularity::Channel ||
       granularity == Granularity::Tensor))
    return ValueKind::I8;
  return std::nullopt;
}

int64_t sparse::getValueBytes(ValueKind kind) {
  switch (kind) {
  case ValueKind::F32:
    return 4;
  case ValueKind::BF16:
    return 2;
  case ValueKind::I8:
    return 1;
  }
  llvm_unreachable("unknown value kind");
}

Type sparse::getValueType(OpBuilder &b, ValueKind kind) {
  switch (kind) {
  case ValueKind::F32:
    return b.getF32Type();
  case ValueKind::BF16:
    return b.getBF16Type();
  case ValueKind::I8:
    return b.getI8Type();
  }
  llvm_unreachable("unknown value kind");
}

namespace {
Value f32Const(OpBuilder &b, Location loc, double value) {
  return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(value));
}
Value add(OpBuilder &b, Location loc, Value x, Value y) {
  return arith::AddIOp::create(b, loc, x, y);
}
Value mul(OpBuilder &b, Location loc, Value x, int64_t y) {
  return arith::MulIOp::create(b, loc, x, indexConst(b, loc, y));
}
} // namespace

void sparse::emitScales(OpBuilder &b, Location loc, Value w, Value scales,
                        int64_t k, int64_t n, int64_t paddedCols,
                        bool perTensor) {
  Value c0 = indexConst(b, loc, 0);
  Value zero = f32Const(b, loc, 0);
  Value cols = indexConst(b, loc, n);
  forLoop(b, loc, c0, indexConst(b, loc, paddedCols), 1,
          [&](OpBuilder &, Location, Value col) {
            memref::StoreOp::create(b, loc, zero, scales, col);
          });
  // Column absmax, row by row (maximumf from 0, as quilt_ref_group_max0).
  forLoop(
      b, loc, c0, indexConst(b, loc, k), 1,
      [&](OpBuilder &, Location, Value row) {
        forLoop(b, loc, c0, cols, 1, [&](OpBuilder &, Location, Value col) {
          Value value = memref::LoadOp::create(b, loc, w, ValueRange{row, col});
          Value abs = math::AbsFOp::create(b, loc, value);
          Value max = memref::LoadOp::create(b, loc, scales, col);
          max = arith::MaximumFOp::create(b, loc, max, abs);
          memref::StoreOp::create(b, loc, max, scales, col);
        });
      });
  Value global;
  if (perTensor) {
    auto loop = scf::ForOp::create(
        b, loc, c0, cols, indexConst(b, loc, 1), ValueRange{zero},
        [&](OpBuilder &, Location, Value col, ValueRange acc) {
          Value max = memref::LoadOp::create(b, loc, scales, col);
          scf::YieldOp::create(
              b, loc,
              arith::MaximumFOp::create(b, loc, acc[0], max).getResult());
        });
    global = loop.getResult(0);
  }
  Value qmax = f32Const(b, loc, 127);
  forLoop(b, loc, c0, cols, 1, [&](OpBuilder &, Location, Value col) {
    Value max = global
                    ? global
                    : memref::LoadOp::create(b, loc, scales, col).getResult();
    memref::StoreOp::create(b, loc, arith::DivFOp::create(b, loc, max, qmax),
                            scales, col);
  });
}

Value sparse::encodeValue(OpBuilder &b, Location loc, ValueKind kind,
                          Value value, Value scales, Value col) {
  switch (kind) {
  case ValueKind::F32:
    return value;
  case ValueKind::BF16:
    return arith::TruncFOp::create(b, loc, b.getBF16Type(), value);
  case ValueKind::I8: {
    // quilt_ref_fake_quant_int_symmetric, operation for operation.
    Value scale = memref::LoadOp::create(b, loc, scales, col);
    Value zero = f32Const(b, loc, 0);
    Value q = arith::DivFOp::create(b, loc, value, scale);
    q = math::RoundEvenOp::create(b, loc, q);
    q = arith::MaximumFOp::create(b, loc, q, f32Const(b, loc, -128));
    q = arith::MinimumFOp::create(b, loc, q, f32Const(b, loc, 127));
    Value isZero =
        arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, scale, zero);
    q = arith::SelectOp::create(b, loc, isZero, zero, q);
    Value qi = arith::FPToSIOp::create(b, loc, b.getI32Type(), q);
    return arith::TruncIOp::create(b, loc, b.getI8Type(), qi);
  }
  }
  llvm_unreachable("unknown value kind");
}

namespace {
/// The f32 value of a stored element, before the scale.
Value widenValue(OpBuilder &b, Location loc, ValueKind kind, Value stored) {
  switch (kind) {
  case ValueKind::F32:
    return stored;
  case ValueKind::BF16:
    return arith::ExtFOp::create(b, loc, b.getF32Type(), stored);
  case ValueKind::I8:
    return arith::SIToFPOp::create(b, loc, b.getF32Type(), stored);
  }
  llvm_unreachable("unknown value kind");
}
} // namespace

Value sparse::decodeValue(OpBuilder &b, Location loc, ValueKind kind,
                          Value stored, Value scales, Value col) {
  Value value = widenValue(b, loc, kind, stored);
  if (kind != ValueKind::I8)
    return value;
  // q * scale; a zero scale has only zero codes, so this is 0 as well.
  Value scale = memref::LoadOp::create(b, loc, scales, col);
  return arith::MulFOp::create(b, loc, value, scale);
}

void sparse::addDecodedValue(OpBuilder &b, Location loc, ValueKind kind,
                             Value values, Value scales, Value at, Value dense,
                             Value row, Value col) {
  Value stored = memref::LoadOp::create(b, loc, values, at);
  Value value = decodeValue(b, loc, kind, stored, scales, col);
  Value old = memref::LoadOp::create(b, loc, dense, ValueRange{row, col});
  memref::StoreOp::create(b, loc, arith::AddFOp::create(b, loc, old, value),
                          dense, ValueRange{row, col});
}

Value sparse::viewElements(OpBuilder &b, Location loc, Value bytes,
                           Value byteOffset, Type element, Value count) {
  auto type = MemRefType::get({ShapedType::kDynamic}, element);
  return memref::ViewOp::create(b, loc, type, bytes, byteOffset,
                                ValueRange{count});
}

namespace {
/// The vector of 8 f32 values a vector of 8 stored elements decodes to
/// (before the scale).
Value widenVector(OpBuilder &b, Location loc, ValueKind kind, Value stored) {
  auto type = VectorType::get({kGroupCols}, b.getF32Type());
  switch (kind) {
  case ValueKind::F32:
    return stored;
  case ValueKind::BF16:
    return arith::ExtFOp::create(b, loc, type, stored);
  case ValueKind::I8:
    return arith::SIToFPOp::create(b, loc, type, stored);
  }
  llvm_unreachable("unknown value kind");
}

/// Few rows: the lanes are the 8 columns of a group and x is gathered by
/// row index (vgatherdps), so the kernel does no lane work for rows that do
/// not exist and streams the weight at memory speed. Four accumulators per
/// row hide the FMA latency.
Value emitGatherLinear(OpBuilder &b, Location loc, const SparseWeight &w,
                       Value x, Value bias, int64_t rowsM, unsigned threads) {
  constexpr int64_t kCols = kGroupCols, kChains = 4;
  Type f32 = b.getF32Type();
  auto colVec = VectorType::get({kCols}, f32);
  auto idxVec = VectorType::get({kCols}, b.getI32Type());
  auto rowsType = VectorType::get(
      {kCols}, cast<MemRefType>(w.rows.getType()).getElementType());
  auto valuesType = VectorType::get(
      {kCols}, cast<MemRefType>(w.values.getType()).getElementType());
  Value c0 = indexConst(b, loc, 0);
  Value zero = arith::ConstantOp::create(
      b, loc, colVec, DenseElementsAttr::get(colVec, b.getF32FloatAttr(0)));
  auto maskType = VectorType::get({kCols}, b.getI1Type());
  Value allTrue = arith::ConstantOp::create(
      b, loc, maskType, DenseElementsAttr::get(maskType, true));
  Value y = memref::AllocOp::create(b, loc, MemRefType::get({rowsM, w.n}, f32),
                                    ValueRange{}, b.getI64IntegerAttr(64));

  int64_t blocks = std::clamp<int64_t>(threads, 1, w.groups);
  int64_t groupsPerBlock = (w.groups + blocks - 1) / blocks;
  blocks = (w.groups + groupsPerBlock - 1) / groupsPerBlock;
  bool chunked = w.numChunks > 1;
  int64_t slotSize = rowsM * kCols;
  auto accType =
      MemRefType::get({(chunked ? groupsPerBlock : 1) * slotSize}, f32);
  scf::ParallelOp::create(
      b, loc, ValueRange{c0}, ValueRange{indexConst(b, loc, blocks)},
      ValueRange{indexConst(b, loc, 1)},
      [&](OpBuilder &, Location, ValueRange ivs) {
        Value accBuffer = memref::AllocOp::create(b, loc, accType, ValueRange{},
                                                  b.getI64IntegerAttr(64));
        if (chunked)
          linalg::FillOp::create(b, loc, ValueRange{f32Const(b, loc, 0)},
                                 ValueRange{accBuffer});
        Value g0 = mul(b, loc, ivs[0], groupsPerBlock);
        Value g1 = arith::MinUIOp::create(
            b, loc, add(b, loc, g0, indexConst(b, loc, groupsPerBlock)),
            indexConst(b, loc, w.groups));
        Value lastChunk = indexConst(b, loc, w.numChunks - 1);
        forLoop(
            b, loc, c0, indexConst(b, loc, w.numChunks), 1,
            [&](OpBuilder &, Location, Value chunk) {
              forLoop(b, loc, g0, g1, 1, [&](OpBuilder &, Location, Value g) {
                Value slot =
                    chunked ? mul(b, loc, arith::SubIOp::create(b, loc, g, g0),
                                  slotSize)
                            : c0;
                SmallVector<Value> init(rowsM * kChains, zero);
                if (chunked)
                  for (int64_t r = 0; r < rowsM; ++r)
                    init[r * kChains] = vector::LoadOp::create(
                        b, loc, colVec, accBuffer,
                        ValueRange{
                            add(b, loc, slot, indexConst(b, loc, r * kCols))});
                auto [rowBase, begin, end] = w.segment(b, loc, g, chunk);
                Value base = vector::BroadcastOp::create(
                    b, loc, idxVec,
                    arith::IndexCastOp::create(b, loc, b.getI32Type(),
                                               rowBase));
                // acc[r][u] += values(e) * x[r, rows(e)] for entry e.
                auto step = [&](Value e, int64_t u, SmallVector<Value> &acc) {
                  Value at = mul(b, loc, e, kCols);
                  Value rows =
                      vector::LoadOp::create(b, loc, rowsType, w.rows, at);
                  Value index = arith::AddIOp::create(
                      b, loc, arith::ExtUIOp::create(b, loc, idxVec, rows),
                      base);
                  Value values = widenVector(
                      b, loc, w.kind,
                      vector::LoadOp::create(b, loc, valuesType, w.values, at));
                  for (int64_t r = 0; r < rowsM; ++r) {
                    Value xs = vector::GatherOp::create(
                        b, loc, colVec, x,
                        ValueRange{indexConst(b, loc, r), c0}, index, allTrue,
                        zero);
                    Value &a = acc[r * kChains + u];
                    a = vector::FMAOp::create(b, loc, values, xs, a);
                  }
                };
                Value length = arith::SubIOp::create(b, loc, end, begin);
                Value mainEnd =
                    add(b, loc, begin,
                        mul(b, loc,
                            arith::DivUIOp::create(b, loc, length,
                                                   indexConst(b, loc, kChains)),
                            kChains));
                auto main = scf::ForOp::create(
                    b, loc, begin, mainEnd, indexConst(b, loc, kChains), init,
                    [&](OpBuilder &, Location, Value e, ValueRange in) {
                      SmallVector<Value> acc(in);
                      for (int64_t u = 0; u < kChains; ++u)
                        step(add(b, loc, e, indexConst(b, loc, u)), u, acc);
                      scf::YieldOp::create(b, loc, acc);
                    });
                auto tail = scf::ForOp::create(
                    b, loc, mainEnd, end, indexConst(b, loc, 1),
                    main.getResults(),
                    [&](OpBuilder &, Location, Value e, ValueRange in) {
                      SmallVector<Value> acc(in);
                      step(e, 0, acc);
                      scf::YieldOp::create(b, loc, acc);
                    });
                SmallVector<Value> sums;
                for (int64_t r = 0; r < rowsM; ++r) {
                  Value sum = tail.getResult(r * kChains);
                  for (int64_t u = 1; u < kChains; ++u)
                    sum = arith::AddFOp::create(
                        b, loc, sum, tail.getResult(r * kChains + u));
                  sums.push_back(sum);
                  if (chunked)
                    vector::StoreOp::create(
                        b, loc, sum, accBuffer,
                        ValueRange{
                            add(b, loc, slot, indexConst(b, loc, r * kCols))});
                }
                Value isLast = arith::CmpIOp::create(
                    b, loc, arith::CmpIPredicate::eq, chunk, lastChunk);
                auto ifOp = scf::IfOp::create(b, loc, isLast, false);
                OpBuilder::InsertionGuard guard(b);
                b.setInsertionPointToStart(ifOp.thenBlock());
                Value col0 = mul(b, loc, g, kCols);
                Value mask =
                    tailMask(b, loc, col0, indexConst(b, loc, w.n), kCols);
                Value scale, biasVec;
                if (w.scales)
                  scale =
                      vector::LoadOp::create(b, loc, colVec, w.scales, col0);
                if (bias)
                  biasVec = vector::MaskedLoadOp::create(
                      b, loc, colVec, bias, ValueRange{col0}, mask, zero);
                for (int64_t r = 0; r < rowsM; ++r) {
                  Value out = sums[r];
                  if (scale)
                    out = arith::MulFOp::create(b, loc, out, scale);
                  if (biasVec)
                    out = arith::AddFOp::create(b, loc, out, biasVec);
                  vector::MaskedStoreOp::create(
                      b, loc, y, ValueRange{indexConst(b, loc, r), col0}, mask,
                      out);
                }
              });
            });
      });
  return y;
}
} // namespace

Value sparse::emitSparseLinear(OpBuilder &b, Location loc,
                               const SparseWeight &w, Value x, Value bias,
                               std::optional<int64_t> staticM,
                               unsigned threads) {
  if (staticM && *staticM <= 4)
    return emitGatherLinear(b, loc, w, x, bias, *staticM, threads);
  constexpr int64_t kLanes = 16;
  constexpr int64_t kCols = kGroupCols;
  Type f32 = b.getF32Type();
  auto f32Vec = VectorType::get({kLanes}, f32);
  auto colVec = VectorType::get({kCols}, f32);
  Value c0 = indexConst(b, loc, 0);
  Value m = staticM ? indexConst(b, loc, *staticM)
                    : memref::DimOp::create(b, loc, x, 0).getResult();

  // The M tile: V vectors of 16 rows, 8 x V accumulators (at most 24 of
  // the 32 zmm registers, the rest for the broadcast weights).
  int64_t vecs = 3;
  if (staticM)
    vecs = std::clamp<int64_t>((*staticM + kLanes - 1) / kLanes, 1, 3);
  int64_t tileRows = vecs * kLanes;
  int64_t kPadded = (w.k + kLanes - 1) / kLanes * kLanes;
  Value tileRowsValue = indexConst(b, loc, tileRows);
  Value tiles = arith::CeilDivUIOp::create(b, loc, m, tileRowsValue);

  // xT[tile][k][row in tile], rows past M zero (their lanes are computed
  // and dropped; zeros keep them free of NaNs and denormals).
  Value xtSize = mul(b, loc, tiles, kPadded * tileRows);
  Value xt = memref::AllocOp::create(
      b, loc, MemRefType::get({ShapedType::kDynamic}, f32), ValueRange{xtSize},
      b.getI64IntegerAttr(64));
  if (!staticM || *staticM % tileRows != 0)
    linalg::FillOp::create(b, loc, ValueRange{f32Const(b, loc, 0)},
                           ValueRange{xt});
  Value zeroVec = arith::ConstantOp::create(
      b, loc, f32Vec, DenseElementsAttr::get(f32Vec, b.getF32FloatAttr(0)));
  auto rowsOfTile = [&](Value tile) -> std::pair<Value, Value> {
    Value m0 = arith::MulIOp::create(b, loc, tile, tileRowsValue);
    Value left = arith::SubIOp::create(b, loc, m, m0);
    return {m0, arith::MinUIOp::create(b, loc, left, tileRowsValue)};
  };
  scf::ParallelOp::create(
      b, loc, ValueRange{c0}, ValueRange{tiles},
      ValueRange{indexConst(b, loc, 1)},
      [&](OpBuilder &, Location, ValueRange ivs) {
        std::pair<Value, Value> span = rowsOfTile(ivs[0]);
        Value m0 = span.first, rows = span.second;
        Value tileBase = mul(b, loc, ivs[0], kPadded * tileRows);
        forLoop(b, loc, c0, rows, 1, [&](OpBuilder &, Location, Value r) {
          Value row = add(b, loc, m0, r);
          forLoop(b, loc, c0, indexConst(b, loc, kPadded), kLanes,
                  [&](OpBuilder &, Location, Value k) {
                    Value mask =
                        tailMask(b, loc, k, indexConst(b, loc, w.k), kLanes);
                    Value chunk = vector::MaskedLoadOp::create(
                        b, loc, f32Vec, x, ValueRange{row, k}, mask, zeroVec);
                    Value base = add(b, loc, tileBase,
                                     add(b, loc, mul(b, loc, k, tileRows), r));
                    for (int64_t i = 0; i < kLanes; ++i) {
                      Value element =
                          vector::ExtractOp::create(b, loc, chunk, i);
                      memref::StoreOp::create(
                          b, loc, element, xt,
                          ValueRange{add(b, loc, base,
                                         indexConst(b, loc, i * tileRows))});
                    }
                  });
        });
      });

  auto yType =
      MemRefType::get({staticM ? *staticM : ShapedType::kDynamic, w.n}, f32);
  SmallVector<Value> ySizes;
  if (!staticM)
    ySizes.push_back(m);
  Value y =
      memref::AllocOp::create(b, loc, yType, ySizes, b.getI64IntegerAttr(64));

  int64_t blocks = std::clamp<int64_t>(threads, 1, w.groups);
  int64_t groupsPerBlock = (w.groups + blocks - 1) / blocks;
  blocks = (w.groups + groupsPerBlock - 1) / groupsPerBlock;
  // With K chunks, a thread keeps the accumulators of all its groups
  // (acc[group][column][row]) between chunks, so that the chunk of xT in use
  // stays in L1 while every group streams through it.
  bool chunked = w.numChunks > 1;
  int64_t slotSize = kCols * tileRows;
  auto accType =
      MemRefType::get({(chunked ? groupsPerBlock : 1) * slotSize}, f32);
  scf::ParallelOp::create(
      b, loc, ValueRange{c0}, ValueRange{indexConst(b, loc, blocks)},
      ValueRange{indexConst(b, loc, 1)},
      [&](OpBuilder &, Location, ValueRange ivs) {
        Value accBuffer = memref::AllocOp::create(b, loc, accType, ValueRange{},
                                                  b.getI64IntegerAttr(64));
        Value g0 = mul(b, loc, ivs[0], groupsPerBlock);
        Value g1 = arith::MinUIOp::create(
            b, loc, add(b, loc, g0, indexConst(b, loc, groupsPerBlock)),
            indexConst(b, loc, w.groups));
        forLoop(b, loc, c0, tiles, 1, [&](OpBuilder &, Location, Value tile) {
          std::pair<Value, Value> span = rowsOfTile(tile);
          Value m0 = span.first, rows = span.second;
          Value tileBase = mul(b, loc, tile, kPadded);
          if (chunked)
            linalg::FillOp::create(b, loc, ValueRange{f32Const(b, loc, 0)},
                                   ValueRange{accBuffer});
          Value lastChunk = indexConst(b, loc, w.numChunks - 1);
          forLoop(
              b, loc, c0, indexConst(b, loc, w.numChunks), 1,
              [&](OpBuilder &, Location, Value chunk) {
                forLoop(b, loc, g0, g1, 1, [&](OpBuilder &, Location, Value g) {
                  Value slot =
                      chunked
                          ? mul(b, loc, arith::SubIOp::create(b, loc, g, g0),
                                slotSize)
                          : c0;
                  auto accAt = [&](int64_t c, int64_t v) -> Value {
                    return add(b, loc, slot,
                               indexConst(b, loc, c * tileRows + v * kLanes));
                  };
                  SmallVector<Value> init(kCols * vecs, zeroVec);
                  if (chunked)
                    for (int64_t c = 0; c < kCols; ++c)
                      for (int64_t v = 0; v < vecs; ++v)
                        init[c * vecs + v] = vector::LoadOp::create(
                            b, loc, f32Vec, accBuffer, ValueRange{accAt(c, v)});
                  auto [rowBase, begin, end] = w.segment(b, loc, g, chunk);
                  Value base = add(b, loc, tileBase, rowBase);
                  auto entries = scf::ForOp::create(
                      b, loc, begin, end, indexConst(b, loc, 1), init,
                      [&](OpBuilder &, Location, Value e, ValueRange in) {
                        SmallVector<Value> acc(in);
                        Value e8 = mul(b, loc, e, kCols);
                        for (int64_t c = 0; c < kCols; ++c) {
                          Value at = add(b, loc, e8, indexConst(b, loc, c));
                          Value stored =
                              memref::LoadOp::create(b, loc, w.values, at);
                          Value weight = vector::BroadcastOp::create(
                              b, loc, f32Vec,
                              widenValue(b, loc, w.kind, stored));
                          Value offset =
                              memref::LoadOp::create(b, loc, w.rows, at);
                          Value row = arith::IndexCastUIOp::create(
                              b, loc, b.getIndexType(), offset);
                          Value start =
                              mul(b, loc, add(b, loc, base, row), tileRows);
                          for (int64_t v = 0; v < vecs; ++v) {
                            Value xv = vector::LoadOp::create(
                                b, loc, f32Vec, xt,
                                ValueRange{
                                    add(b, loc, start,
                                        indexConst(b, loc, v * kLanes))});
                            Value &a = acc[c * vecs + v];
                            a = vector::FMAOp::create(b, loc, weight, xv, a);
                          }
                        }
                        scf::YieldOp::create(b, loc, acc);
                      });
                  for (int64_t c = 0; c < kCols; ++c)
                    for (int64_t v = 0; v < vecs; ++v)
                      vector::StoreOp::create(
                          b, loc, entries.getResult(c * vecs + v), accBuffer,
                          ValueRange{accAt(c, v)});
                  // Epilogue after the last chunk: through the accumulator
                  // slot, columns of 16 rows become rows of 8 columns, scaled,
                  // biased and stored with a mask.
                  Value isLast = arith::CmpIOp::create(
                      b, loc, arith::CmpIPredicate::eq, chunk, lastChunk);
                  auto ifOp = scf::IfOp::create(b, loc, isLast, false);
                  OpBuilder::InsertionGuard guard(b);
                  b.setInsertionPointToStart(ifOp.thenBlock());
                  Value col0 = mul(b, loc, g, kCols);
                  Value mask =
                      tailMask(b, loc, col0, indexConst(b, loc, w.n), kCols);
                  Value zeroCols = arith::ConstantOp::create(
                      b, loc, colVec,
                      DenseElementsAttr::get(colVec, b.getF32FloatAttr(0)));
                  Value scale, biasVec;
                  if (w.scales)
                    scale =
                        vector::LoadOp::create(b, loc, colVec, w.scales, col0);
                  if (bias)
                    biasVec = vector::MaskedLoadOp::create(
                        b, loc, colVec, bias, ValueRange{col0}, mask, zeroCols);
                  forLoop(
                      b, loc, c0, rows, 1, [&](OpBuilder &, Location, Value r) {
                        SmallVector<Value> elements;
                        for (int64_t c = 0; c < kCols; ++c)
                          elements.push_back(memref::LoadOp::create(
                              b, loc, accBuffer,
                              ValueRange{
                                  add(b, loc, slot,
                                      add(b, loc, r,
                                          indexConst(b, loc, c * tileRows)))}));
                        Value out = vector::FromElementsOp::create(
                            b, loc, colVec, elements);
                        if (scale)
                          out = arith::MulFOp::create(b, loc, out, scale);
                        if (biasVec)
                          out = arith::AddFOp::create(b, loc, out, biasVec);
                        vector::MaskedStoreOp::create(
                            b, loc, y, ValueRange{add(b, loc, m0, r), col0},
                            mask, out);
                      });
                });
              });
        });
      });
  return y;
}
