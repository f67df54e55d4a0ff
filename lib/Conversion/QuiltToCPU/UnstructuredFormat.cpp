//===- UnstructuredFormat.cpp - Unstructured sparse weights -----*- C++ -*-===//
//
// A `sparsity<unstructured, density = d>` weight (f32, bf16 or int8 values,
// K <= 65536) is stored in compressed columns, 8 columns interleaved: group
// g (columns 8g .. 8g+7) is a run of entries ptr[g] .. ptr[g+1] - 1, entry e
// holding for column c the value value[e * 8 + c] and its row rows[e * 8 +
// c] (u16), the non-zeros of each column in row order; the run is as long as
// its longest column, the shorter ones padded with zero values. The number
// of entries depends on the data, so the pack kernel counts them first:
//
//   bytes: ptr i32[groups + 1]; int8 only: scales f32[groups * 8]; values
//   (entries * 8 x 4|2|1 B); rows (entries * 8 x 2 B); each at a 64 B
//   boundary.
//
// The linear is the shared x-transposed kernel (SparseKernels.h), one
// segment per group: its work is about d of the dense one.
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

struct UnstructuredLayout {
  sparse::ValueKind kind;
  bool perTensor;
  int64_t k, cols, groups;
  int64_t scalesOffset, valuesOffset; // static; rows follow the values

  static std::optional<UnstructuredLayout> get(PackedType type) {
    if (type.getSparsity().getKind() != SparsityKind::Unstructured ||
        !type.getStructure().isDense() || type.getRows() > 65536)
      return std::nullopt;
    std::optional<sparse::ValueKind> kind = getValueKind(type.getPrecision());
    if (!kind)
      return std::nullopt;
    UnstructuredLayout l;
    l.kind = *kind;
    l.perTensor = type.getPrecision().getGranularity() == Granularity::Tensor;
    l.k = type.getRows();
    l.cols = type.getCols();
    l.groups = (l.cols + kGroupCols - 1) / kGroupCols;
    l.scalesOffset = alignTo64(4 * (l.groups + 1));
    l.valuesOffset = l.scalesOffset;
    if (l.kind == sparse::ValueKind::I8)
      l.valuesOffset += alignTo64(4 * l.groups * kGroupCols);
    return l;
  }
};

struct Views {
  Value ptr, scales, values, rows;
};

Value align64(OpBuilder &b, Location loc, Value bytes) {
  Value sum = arith::AddIOp::create(b, loc, bytes, indexConst(b, loc, 63));
  return arith::MulIOp::create(
      b, loc, arith::DivUIOp::create(b, loc, sum, indexConst(b, loc, 64)),
      indexConst(b, loc, 64));
}

/// Bytes of the values of `entries` entries, and of the whole buffer.
std::pair<Value, Value> sizes(OpBuilder &b, Location loc,
                              const UnstructuredLayout &l, Value entries) {
  Value slots =
      arith::MulIOp::create(b, loc, entries, indexConst(b, loc, kGroupCols));
  Value valueBytes =
      align64(b, loc,
              arith::MulIOp::create(b, loc, slots,
                                    indexConst(b, loc, getValueBytes(l.kind))));
  Value rowBytes = align64(
      b, loc, arith::MulIOp::create(b, loc, slots, indexConst(b, loc, 2)));
  Value total = arith::AddIOp::create(
      b, loc, indexConst(b, loc, l.valuesOffset),
      arith::AddIOp::create(b, loc, valueBytes, rowBytes));
  return {valueBytes, total};
}

Value loadIndex(OpBuilder &b, Location loc, Value memref, Value at) {
  Value value = memref::LoadOp::create(b, loc, memref, at);
  return arith::IndexCastOp::create(b, loc, b.getIndexType(), value);
}

/// Views of `bytes`; the entry count is read from ptr[groups].
Views view(OpBuilder &b, Location loc, const UnstructuredLayout &l,
           Value bytes) {
  Views v;
  v.ptr =
      viewAs(b, loc, bytes, 0, MemRefType::get({l.groups + 1}, b.getI32Type()));
  if (l.kind == sparse::ValueKind::I8)
    v.scales = viewAs(b, loc, bytes, l.scalesOffset,
                      MemRefType::get({l.groups * kGroupCols}, b.getF32Type()));
  Value entries = loadIndex(b, loc, v.ptr, indexConst(b, loc, l.groups));
  Value slots =
      arith::MulIOp::create(b, loc, entries, indexConst(b, loc, kGroupCols));
  auto [valueBytes, total] = sizes(b, loc, l, entries);
  (void)total;
  v.values = viewElements(b, loc, bytes, indexConst(b, loc, l.valuesOffset),
                          getValueType(b, l.kind), slots);
  Value rowsOffset = arith::AddIOp::create(
      b, loc, indexConst(b, loc, l.valuesOffset), valueBytes);
  v.rows = viewElements(b, loc, bytes, rowsOffset, b.getI16Type(), slots);
  return v;
}

Value columnOf(OpBuilder &b, Location loc, Value g, int64_t c) {
  return arith::AddIOp::create(
      b, loc, arith::MulIOp::create(b, loc, g, indexConst(b, loc, kGroupCols)),
      indexConst(b, loc, c));
}

class UnstructuredFormat final : public CompressedFormat {
public:
  StringRef getName() const override { return "unstructured"; }

  bool supports(PackedType type) const override {
    return UnstructuredLayout::get(type).has_value();
  }

  Value buildPack(OpBuilder &b, Location loc, PackedType type,
                  Value weight) const override {
    UnstructuredLayout l = *UnstructuredLayout::get(type);
    Value pruned = reference::applySparsity(b, loc, weight, type.getSparsity());
    Value w = toBuffer(b, loc, pruned);
    Value c0 = indexConst(b, loc, 0), c1 = indexConst(b, loc, 1);
    Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0));
    Value lastCol = indexConst(b, loc, l.cols - 1);
    Value nCols = indexConst(b, loc, l.cols);

    // Scans column c of group g (zero past N), calling found(row, value,
    // count so far) on each non-zero; returns the count.
    auto scan = [&](Value g, int64_t c,
                    function_ref<void(Value, Value, Value)> found) -> Value {
      Value col = columnOf(b, loc, g, c);
      Value colOk =
          arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, col, nCols);
      Value colIn = arith::MinUIOp::create(b, loc, col, lastCol);
      auto loop = scf::ForOp::create(
          b, loc, c0, indexConst(b, loc, l.k), c1, ValueRange{c0},
          [&](OpBuilder &, Location, Value row, ValueRange count) {
            Value value =
                memref::LoadOp::create(b, loc, w, ValueRange{row, colIn});
            Value keep = arith::AndIOp::create(
                b, loc,
                arith::CmpFOp::create(b, loc, arith::CmpFPredicate::UNE, value,
                                      zero),
                colOk);
            if (found) {
              auto ifOp = scf::IfOp::create(b, loc, keep, false);
              OpBuilder::InsertionGuard guard(b);
              b.setInsertionPointToStart(ifOp.thenBlock());
              found(row, value, count[0]);
            }
            Value one = arith::SelectOp::create(b, loc, keep, c1, c0);
            scf::YieldOp::create(
                b, loc,
                arith::AddIOp::create(b, loc, count[0], one).getResult());
          });
      return loop.getResult(0);
    };

    // Run lengths (longest column of each group) and their prefix sums.
    Value groups = indexConst(b, loc, l.groups);
    Value starts = memref::AllocaOp::create(
        b, loc, MemRefType::get({l.groups + 1}, b.getIndexType()));
    memref::StoreOp::create(b, loc, c0, starts, c0);
    auto lengths = scf::ForOp::create(
        b, loc, c0, groups, c1, ValueRange{c0},
        [&](OpBuilder &, Location, Value g, ValueRange total) {
          Value longest = c0;
          for (int64_t c = 0; c < kGroupCols; ++c)
            longest =
                arith::MaxUIOp::create(b, loc, longest, scan(g, c, nullptr));
          Value next = arith::AddIOp::create(b, loc, total[0], longest);
          memref::StoreOp::create(
              b, loc, next, starts,
              arith::AddIOp::create(b, loc, g, c1).getResult());
          scf::YieldOp::create(b, loc, next);
        });
    Value entries = lengths.getResult(0);
    auto [valueBytes, total] = sizes(b, loc, l, entries);
    (void)valueBytes;
    Value bytes = allocBytes(b, loc, total);
    Views v;
    v.ptr = viewAs(b, loc, bytes, 0,
                   MemRefType::get({l.groups + 1}, b.getI32Type()));
    forLoop(b, loc, c0, indexConst(b, loc, l.groups + 1), 1,
            [&](OpBuilder &, Location, Value g) {
              Value start = memref::LoadOp::create(b, loc, starts, g);
              memref::StoreOp::create(
                  b, loc,
                  arith::IndexCastOp::create(b, loc, b.getI32Type(), start),
                  v.ptr, g);
            });
    Views full = view(b, loc, l, bytes);
    v.scales = full.scales;
    v.values = full.values;
    v.rows = full.rows;
    if (v.scales)
      emitScales(b, loc, w, v.scales, l.k, l.cols, l.groups * kGroupCols,
                 l.perTensor);

    Type valueType = getValueType(b, l.kind);
    Value zeroValue =
        arith::ConstantOp::create(b, loc, valueType, b.getZeroAttr(valueType));
    Value zeroRow = arith::ConstantOp::create(b, loc, b.getI16IntegerAttr(0));
    forLoop(b, loc, c0, groups, 1, [&](OpBuilder &, Location, Value g) {
      Value begin = memref::LoadOp::create(b, loc, starts, g);
      Value end = memref::LoadOp::create(
          b, loc, starts, arith::AddIOp::create(b, loc, g, c1).getResult());
      for (int64_t c = 0; c < kGroupCols; ++c) {
        auto slot = [&](Value e) -> Value {
          return arith::AddIOp::create(
              b, loc,
              arith::MulIOp::create(b, loc, e, indexConst(b, loc, kGroupCols)),
              indexConst(b, loc, c));
        };
        forLoop(b, loc, begin, end, 1, [&](OpBuilder &, Location, Value e) {
          memref::StoreOp::create(b, loc, zeroValue, v.values, slot(e));
          memref::StoreOp::create(b, loc, zeroRow, v.rows, slot(e));
        });
        Value col = columnOf(b, loc, g, c);
        scan(g, c, [&](Value row, Value value, Value count) {
          Value at = slot(arith::AddIOp::create(b, loc, begin, count));
          memref::StoreOp::create(
              b, loc, encodeValue(b, loc, l.kind, value, v.scales, col),
              v.values, at);
          memref::StoreOp::create(
              b, loc, arith::IndexCastOp::create(b, loc, b.getI16Type(), row),
              v.rows, at);
        });
      }
    });
    return toTensor(b, loc, bytes);
  }

  Value buildUnpack(OpBuilder &b, Location loc, PackedType type,
                    Value bytes) const override {
    UnstructuredLayout l = *UnstructuredLayout::get(type);
    Views v = view(b, loc, l, toBuffer(b, loc, bytes));
    auto denseType = MemRefType::get({l.k, l.cols}, b.getF32Type());
    Value dense = memref::AllocOp::create(b, loc, denseType, ValueRange{},
                                          b.getI64IntegerAttr(64));
    Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0));
    linalg::FillOp::create(b, loc, ValueRange{zero}, ValueRange{dense});
    Value c0 = indexConst(b, loc, 0), c1 = indexConst(b, loc, 1);
    forLoop(
        b, loc, c0, indexConst(b, loc, l.groups), 1,
        [&](OpBuilder &, Location, Value g) {
          Value begin = loadIndex(b, loc, v.ptr, g);
          Value end =
              loadIndex(b, loc, v.ptr, arith::AddIOp::create(b, loc, g, c1));
          forLoop(b, loc, begin, end, 1, [&](OpBuilder &, Location, Value e) {
            for (int64_t c = 0; c < kGroupCols; ++c) {
              Value col = columnOf(b, loc, g, c);
              Value colOk =
                  arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, col,
                                        indexConst(b, loc, l.cols));
              auto ifOp = scf::IfOp::create(b, loc, colOk, false);
              OpBuilder::InsertionGuard guard(b);
              b.setInsertionPointToStart(ifOp.thenBlock());
              Value at = arith::AddIOp::create(
                  b, loc,
                  arith::MulIOp::create(b, loc, e,
                                        indexConst(b, loc, kGroupCols)),
                  indexConst(b, loc, c));
              Value row = arith::IndexCastUIOp::create(
                  b, loc, b.getIndexType(),
                  memref::LoadOp::create(b, loc, v.rows, at));
              // Padding slots add a zero to row 0.
              addDecodedValue(b, loc, l.kind, v.values, v.scales, at, dense,
                              row, col);
            }
          });
        });
    return toTensor(b, loc, dense);
  }

  Value buildLinear(OpBuilder &b, Location loc, const CompressedLinear &linear,
                    Value x, Value bytes, Value bias) const override {
    UnstructuredLayout l = *UnstructuredLayout::get(linear.weight);
    Views v = view(b, loc, l, toBuffer(b, loc, bytes));
    SparseWeight w = SparseWeight::get(l, v);
    Value ptr = v.ptr;
    w.segment = [ptr](OpBuilder &b, Location loc, Value g,
                      Value) -> std::array<Value, 3> {
      Value next = arith::AddIOp::create(b, loc, g, indexConst(b, loc, 1));
      return {indexConst(b, loc, 0), loadIndex(b, loc, ptr, g),
              loadIndex(b, loc, ptr, next)};
    };
    Value y = emitSparseLinear(b, loc, w, toBuffer(b, loc, x),
                               bias ? toBuffer(b, loc, bias) : Value(),
                               linear.staticM, linear.threads);
    return toTensor(b, loc, y);
  }
};

} // namespace

const CompressedFormat &cpu::getUnstructuredFormat() {
  static const UnstructuredFormat format;
  return format;
}
