//===- NMSparseFormat.cpp - N:M sparse weights on CPU -----------*- C++ -*-===//
//
// A `sparsity<nm<N, M>>` weight (f32, bf16 or int8 values) keeps N of every
// M consecutive K entries of a column. It is stored as the kept values only,
// each with a one-byte row offset:
//
//   K is cut into blocks of B = M * d rows (d the largest divisor of K / M
//   with B <= max(M, 64)), a block holding L = N * d entries of every
//   column. The columns go in groups of 8; entry e = (block * groups +
//   group) * L + j holds, for column c of the group, value[e * 8 + c] and
//   its row offset in the block rows[e * 8 + c] (one byte, M <= 256). The
//   kernel walks K block by block, so the bytes are stored in that order and
//   stream sequentially. Groups of M rows with fewer than N non-zeros (kept
//   zeros) and padding columns get zero values.
//
//   bytes: values (entries * 8 x 4|2|1 B), rows (entries * 8 B, at a 64 B
//   boundary), int8 only: scales f32[groups * 8].
//
// The linear is the shared x-transposed kernel (SparseKernels.h): its work is
// N / M of the dense one, and it reads (4|2|1 + 1) bytes per kept value.
//
//===----------------------------------------------------------------------===//

#include "CompressedFormat.h"
#include "KernelUtils.h"
#include "PatternUtils.h"
#include "SparseKernels.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "quilt/Dialect/Quilt/QuiltAttrs.h"

using namespace mlir;
using namespace mlir::quilt;
using namespace mlir::quilt::cpu;
using namespace mlir::quilt::cpu::sparse;

namespace {

struct NMLayout {
  sparse::ValueKind kind;
  bool perTensor;
  int64_t n, m, k, cols, groups;
  int64_t blockRows, blocks, blockEntries, entries;
  int64_t rowsOffset, scalesOffset, totalBytes;

  static std::optional<NMLayout> get(PackedType type) {
    SparsityAttr sparsity = type.getSparsity();
    if (sparsity.getKind() != SparsityKind::NM ||
        !type.getStructure().isDense())
      return std::nullopt;
    std::optional<sparse::ValueKind> kind = getValueKind(type.getPrecision());
    NMLayout l;
    l.n = sparsity.getN();
    l.m = sparsity.getM();
    l.k = type.getRows();
    l.cols = type.getCols();
    if (!kind || l.m > 256 || l.k % l.m != 0)
      return std::nullopt;
    l.kind = *kind;
    l.perTensor = type.getPrecision().getGranularity() == Granularity::Tensor;
    l.groups = (l.cols + kGroupCols - 1) / kGroupCols;
    int64_t mGroups = l.k / l.m, d = 1;
    for (int64_t i = 1; i <= mGroups && i * l.m <= std::max<int64_t>(l.m, 64);
         ++i)
      if (mGroups % i == 0)
        d = i;
    l.blockRows = l.m * d;
    l.blocks = l.k / l.blockRows;
    l.blockEntries = l.n * d;
    l.entries = l.groups * l.blocks * l.blockEntries;
    int64_t slots = l.entries * kGroupCols;
    l.rowsOffset = alignTo64(slots * getValueBytes(l.kind));
    l.scalesOffset = alignTo64(l.rowsOffset + slots);
    l.totalBytes = l.scalesOffset;
    if (l.kind == sparse::ValueKind::I8)
      l.totalBytes += alignTo64(l.groups * kGroupCols * 4);
    return l;
  }
};

struct Views {
  Value values, rows, scales;
};

Views view(OpBuilder &b, Location loc, const NMLayout &l, Value bytes) {
  int64_t slots = l.entries * kGroupCols;
  Views v;
  v.values = viewAs(b, loc, bytes, 0,
                    MemRefType::get({slots}, getValueType(b, l.kind)));
  v.rows = viewAs(b, loc, bytes, l.rowsOffset,
                  MemRefType::get({slots}, b.getI8Type()));
  if (l.kind == sparse::ValueKind::I8)
    v.scales = viewAs(b, loc, bytes, l.scalesOffset,
                      MemRefType::get({l.groups * kGroupCols}, b.getF32Type()));
  return v;
}

/// Builds body(group, block, j, column in group, slot index) over all slots.
void forEachSlot(
    OpBuilder &b, Location loc, const NMLayout &l,
    function_ref<void(Value g, Value kb, Value j, int64_t c, Value at)> body) {
  Value c0 = indexConst(b, loc, 0);
  forLoop(b, loc, c0, indexConst(b, loc, l.groups), 1,
          [&](OpBuilder &, Location, Value g) {
            forLoop(b, loc, c0, indexConst(b, loc, l.blocks), 1,
                    [&](OpBuilder &, Location, Value kb) {
                      forLoop(b, loc, c0, indexConst(b, loc, l.blockEntries), 1,
                              [&](OpBuilder &, Location, Value j) {
                                Value e = arith::MulIOp::create(
                                    b, loc, kb, indexConst(b, loc, l.groups));
                                e = arith::AddIOp::create(b, loc, e, g);
                                e = arith::MulIOp::create(
                                    b, loc, e,
                                    indexConst(b, loc, l.blockEntries));
                                e = arith::AddIOp::create(b, loc, e, j);
                                e = arith::MulIOp::create(
                                    b, loc, e, indexConst(b, loc, kGroupCols));
                                for (int64_t c = 0; c < kGroupCols; ++c)
                                  body(g, kb, j, c,
                                       arith::AddIOp::create(
                                           b, loc, e, indexConst(b, loc, c)));
                              });
                    });
          });
}

class NMSparseFormat final : public CompressedFormat {
public:
  StringRef getName() const override { return "nm"; }

  bool supports(PackedType type) const override {
    return NMLayout::get(type).has_value();
  }

  Value buildPack(OpBuilder &b, Location loc, PackedType type,
                  Value weight) const override {
    NMLayout l = *NMLayout::get(type);
    Value pruned = reference::applySparsity(b, loc, weight, type.getSparsity());
    Value w = toBuffer(b, loc, pruned);
    Value bytes = allocBytes(b, loc, b.getIndexAttr(l.totalBytes));
    Views v = view(b, loc, l, bytes);
    if (v.scales)
      emitScales(b, loc, w, v.scales, l.k, l.cols, l.groups * kGroupCols,
                 l.perTensor);
    Type valueType = getValueType(b, l.kind);
    Value zeroValue =
        arith::ConstantOp::create(b, loc, valueType, b.getZeroAttr(valueType));
    Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0));
    Value c0 = indexConst(b, loc, 0), c1 = indexConst(b, loc, 1);
    Value nValue = indexConst(b, loc, l.n);
    int64_t d = l.blockRows / l.m;
    // Group t of M rows of block kb: slots t * N .. t * N + N - 1 take its
    // non-zeros in row order, the others a zero value at the group's row.
    forEachSlot(
        b, loc, l, [&](Value g, Value kb, Value j, int64_t c, Value at) {
          Value t = arith::DivUIOp::create(b, loc, j, nValue);
          Value firstRow =
              arith::MulIOp::create(b, loc, t, indexConst(b, loc, l.m));
          memref::StoreOp::create(b, loc, zeroValue, v.values, at);
          memref::StoreOp::create(
              b, loc,
              arith::IndexCastOp::create(b, loc, b.getI8Type(), firstRow),
              v.rows, at);
          (void)g;
          (void)kb;
        });
    forLoop(
        b, loc, c0, indexConst(b, loc, l.groups), 1,
        [&](OpBuilder &, Location, Value g) {
          forLoop(
              b, loc, c0, indexConst(b, loc, l.blocks), 1,
              [&](OpBuilder &, Location, Value kb) {
                forLoop(
                    b, loc, c0, indexConst(b, loc, d), 1,
                    [&](OpBuilder &, Location, Value t) {
                      Value e0 = arith::MulIOp::create(
                          b, loc, kb, indexConst(b, loc, l.groups));
                      e0 = arith::AddIOp::create(b, loc, e0, g);
                      e0 = arith::MulIOp::create(
                          b, loc, e0, indexConst(b, loc, l.blockEntries));
                      e0 = arith::AddIOp::create(
                          b, loc, e0, arith::MulIOp::create(b, loc, t, nValue));
                      Value offset0 = arith::MulIOp::create(
                          b, loc, t, indexConst(b, loc, l.m));
                      Value row0 = arith::AddIOp::create(
                          b, loc,
                          arith::MulIOp::create(
                              b, loc, kb, indexConst(b, loc, l.blockRows)),
                          offset0);
                      for (int64_t c = 0; c < kGroupCols; ++c) {
                        Value col = arith::AddIOp::create(
                            b, loc,
                            arith::MulIOp::create(
                                b, loc, g, indexConst(b, loc, kGroupCols)),
                            indexConst(b, loc, c));
                        Value colOk = arith::CmpIOp::create(
                            b, loc, arith::CmpIPredicate::ult, col,
                            indexConst(b, loc, l.cols));
                        Value colIn = arith::MinUIOp::create(
                            b, loc, col, indexConst(b, loc, l.cols - 1));
                        scf::ForOp::create(
                            b, loc, c0, indexConst(b, loc, l.m), c1,
                            ValueRange{c0},
                            [&](OpBuilder &, Location, Value s,
                                ValueRange count) {
                              Value row =
                                  arith::AddIOp::create(b, loc, row0, s);
                              Value value = memref::LoadOp::create(
                                  b, loc, w, ValueRange{row, colIn});
                              Value nonZero = arith::CmpFOp::create(
                                  b, loc, arith::CmpFPredicate::UNE, value,
                                  zero);
                              Value room = arith::CmpIOp::create(
                                  b, loc, arith::CmpIPredicate::ult, count[0],
                                  nValue);
                              Value keep = arith::AndIOp::create(
                                  b, loc,
                                  arith::AndIOp::create(b, loc, nonZero, room),
                                  colOk);
                              auto ifOp =
                                  scf::IfOp::create(b, loc, keep, false);
                              {
                                OpBuilder::InsertionGuard guard(b);
                                b.setInsertionPointToStart(ifOp.thenBlock());
                                Value e =
                                    arith::AddIOp::create(b, loc, e0, count[0]);
                                Value at = arith::AddIOp::create(
                                    b, loc,
                                    arith::MulIOp::create(
                                        b, loc, e,
                                        indexConst(b, loc, kGroupCols)),
                                    indexConst(b, loc, c));
                                memref::StoreOp::create(
                                    b, loc,
                                    encodeValue(b, loc, l.kind, value, v.scales,
                                                col),
                                    v.values, at);
                                Value offset =
                                    arith::AddIOp::create(b, loc, offset0, s);
                                memref::StoreOp::create(
                                    b, loc,
                                    arith::IndexCastOp::create(
                                        b, loc, b.getI8Type(), offset),
                                    v.rows, at);
                              }
                              Value next = arith::AddIOp::create(
                                  b, loc, count[0],
                                  arith::IndexCastOp::create(
                                      b, loc, b.getIndexType(),
                                      arith::ExtUIOp::create(
                                          b, loc, b.getI64Type(), keep)));
                              scf::YieldOp::create(b, loc, next);
                            });
                      }
                    });
              });
        });
    auto dynamic = MemRefType::get({ShapedType::kDynamic}, b.getI8Type());
    return toTensor(b, loc, memref::CastOp::create(b, loc, dynamic, bytes));
  }

  Value buildUnpack(OpBuilder &b, Location loc, PackedType type,
                    Value bytes) const override {
    NMLayout l = *NMLayout::get(type);
    Views v = view(b, loc, l, toBuffer(b, loc, bytes));
    auto denseType = MemRefType::get({l.k, l.cols}, b.getF32Type());
    Value dense = memref::AllocOp::create(b, loc, denseType, ValueRange{},
                                          b.getI64IntegerAttr(64));
    Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0));
    linalg::FillOp::create(b, loc, ValueRange{zero}, ValueRange{dense});
    // Padding slots hold zeros, so adding every slot decodes exactly.
    forEachSlot(b, loc, l, [&](Value g, Value kb, Value, int64_t c, Value at) {
      Value col = arith::AddIOp::create(
          b, loc,
          arith::MulIOp::create(b, loc, g, indexConst(b, loc, kGroupCols)),
          indexConst(b, loc, c));
      Value colOk = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult,
                                          col, indexConst(b, loc, l.cols));
      auto ifOp = scf::IfOp::create(b, loc, colOk, false);
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(ifOp.thenBlock());
      Value offset = memref::LoadOp::create(b, loc, v.rows, at);
      Value row = arith::AddIOp::create(
          b, loc,
          arith::MulIOp::create(b, loc, kb, indexConst(b, loc, l.blockRows)),
          arith::IndexCastUIOp::create(b, loc, b.getIndexType(), offset));
      addDecodedValue(b, loc, l.kind, v.values, v.scales, at, dense, row, col);
    });
    return toTensor(b, loc, dense);
  }

  Value buildLinear(OpBuilder &b, Location loc, const CompressedLinear &linear,
                    Value x, Value bytes, Value bias) const override {
    NMLayout l = *NMLayout::get(linear.weight);
    Views v = view(b, loc, l, toBuffer(b, loc, bytes));
    SparseWeight w = SparseWeight::get(l, v);
    // One chunk per block: the blocks are stored one after the other, so
    // the kernel streams the weight in order.
    w.numChunks = l.blocks;
    w.segment = [l](OpBuilder &b, Location loc, Value g,
                    Value kb) -> std::array<Value, 3> {
      Value rowBase =
          arith::MulIOp::create(b, loc, kb, indexConst(b, loc, l.blockRows));
      Value e = arith::AddIOp::create(
          b, loc,
          arith::MulIOp::create(b, loc, kb, indexConst(b, loc, l.groups)), g);
      Value begin =
          arith::MulIOp::create(b, loc, e, indexConst(b, loc, l.blockEntries));
      Value end = arith::AddIOp::create(b, loc, begin,
                                        indexConst(b, loc, l.blockEntries));
      return {rowBase, begin, end};
    };
    Value y = emitSparseLinear(b, loc, w, toBuffer(b, loc, x),
                               bias ? toBuffer(b, loc, bias) : Value(),
                               linear.staticM, linear.threads);
    return toTensor(b, loc, y);
  }
};

} // namespace

const CompressedFormat &cpu::getNMSparseFormat() {
  static const NMSparseFormat format;
  return format;
}
