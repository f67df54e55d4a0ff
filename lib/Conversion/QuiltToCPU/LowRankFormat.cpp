//===- LowRankFormat.cpp - Low-rank weights on CPU --------------*- C++ -*-===//
//
// A `lowrank<r>` weight is stored as its two factors U (K x r) and V (r x N),
// each in the native panel layout of the weight's precision, V starting at
// the first 64-byte boundary after U. The linear is two GEMMs, (x U) V, so it
// costs M r (K + N) multiply-adds instead of M K N; the K x N product is
// never formed.
//
//===----------------------------------------------------------------------===//

#include "CompressedFormat.h"
#include "KernelUtils.h"
#include "NativeLinear.h"
#include "PatternUtils.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "quilt/Dialect/Quilt/QuiltAttrs.h"

using namespace mlir;
using namespace mlir::quilt;
using namespace mlir::quilt::cpu;

namespace {

struct LowRankLayout {
  CPUWeightLayout u, v;
  int64_t vOffset, totalBytes;

  static std::optional<LowRankLayout> get(PackedType type) {
    std::optional<CPULowRankLayout> factors = CPULowRankLayout::get(type);
    if (!factors)
      return std::nullopt;
    return LowRankLayout{*CPUWeightLayout::get(factors->left),
                         *CPUWeightLayout::get(factors->right),
                         factors->rightOffset, factors->totalBytes};
  }
};

/// The bytes of the factors `u` and `v` (f32 tensors) in `layout`.
Value packFactors(OpBuilder &b, Location loc, const LowRankLayout &layout,
                  Value u, Value v) {
  Value bytes = allocBytes(b, loc, b.getIndexAttr(layout.totalBytes));
  emitWeightPacking(b, loc, toBuffer(b, loc, u), bytes, 0, layout.u);
  emitWeightPacking(b, loc, toBuffer(b, loc, v), bytes, layout.vOffset,
                    layout.v);
  auto dynamic = MemRefType::get({ShapedType::kDynamic}, b.getI8Type());
  return toTensor(b, loc, memref::CastOp::create(b, loc, dynamic, bytes));
}

class LowRankFormat final : public CompressedFormat {
public:
  StringRef getName() const override { return "lowrank"; }

  bool supports(PackedType type) const override {
    return LowRankLayout::get(type).has_value();
  }

  Value buildPack(OpBuilder &b, Location loc, PackedType type,
                  Value weight) const override {
    LowRankLayout layout = *LowRankLayout::get(type);
    int64_t rank = layout.u.cols;
    Type f32 = b.getF32Type();
    // The reference factors; emitWeightPacking rounds them to the precision
    // exactly as the reference rounds each factor.
    SmallVector<Value> factors = reference::callKernel(
        b, loc, "quilt_ref_lowrank_factors",
        {weight, arith::ConstantIndexOp::create(b, loc, rank)},
        {RankedTensorType::get({layout.u.rows, rank}, f32),
         RankedTensorType::get({rank, layout.v.cols}, f32)});
    return packFactors(b, loc, layout, factors[0], factors[1]);
  }

  Value buildUnpack(OpBuilder &b, Location loc, PackedType type,
                    Value bytes) const override {
    LowRankLayout layout = *LowRankLayout::get(type);
    Value buffer = toBuffer(b, loc, bytes);
    auto decode = [&](const CPUWeightLayout &factor, int64_t offset) {
      auto memType =
          MemRefType::get({factor.rows, factor.cols}, b.getF32Type());
      Value dense = memref::AllocOp::create(b, loc, memType, ValueRange{},
                                            b.getI64IntegerAttr(64));
      emitWeightUnpacking(b, loc, buffer, offset, dense, factor);
      return toTensor(b, loc, dense);
    };
    Value u = decode(layout.u, 0), v = decode(layout.v, layout.vOffset);
    return reference::callKernel(b, loc, "quilt_ref_lowrank_expand", {u, v},
                                 type.getUnpackedType())[0];
  }

  Value buildLinear(OpBuilder &b, Location loc, const CompressedLinear &linear,
                    Value x, Value bytes, Value bias) const override {
    LowRankLayout layout = *LowRankLayout::get(linear.weight);
    Value buffer = toBuffer(b, loc, bytes);
    auto product = [&](const CPUWeightLayout &factor, Value a, int64_t offset,
                       Value addend) {
      KernelChoice choice =
          chooseKernel(factor, PrecisionAttr(), linear.target);
      GemmConfig config{choice.kind, factor, linear.staticM, linear.threads,
                        getMaxTileRows(linear.target)};
      return emitNativeLinear(b, loc, config, choice, a, buffer, offset,
                              addend);
    };
    // t = x U stays f32, so only x carries the activation rounding, as in
    // the reference's x (U V).
    Value t = product(layout.u, toBuffer(b, loc, x), 0, Value());
    Value y = product(layout.v, t, layout.vOffset,
                      bias ? toBuffer(b, loc, bias) : Value());
    return toTensor(b, loc, y);
  }
};

} // namespace

std::optional<CPULowRankLayout> CPULowRankLayout::get(PackedType type) {
  if (type.getStructure().getKind() != StructureKind::LowRank ||
      !type.getSparsity().isDense())
    return std::nullopt;
  int64_t rank = type.getStructure().getSize();
  MLIRContext *ctx = type.getContext();
  FormatAttr dense = FormatAttr::get(ctx);
  auto factor = [&](int64_t rows, int64_t cols) {
    return PackedType::get(ctx, rows, cols,
                           FormatAttr::get(ctx, type.getPrecision(),
                                           dense.getSparsity(),
                                           dense.getStructure()));
  };
  PackedType left = factor(type.getRows(), rank);
  PackedType right = factor(rank, type.getCols());
  auto u = CPUWeightLayout::get(left), v = CPUWeightLayout::get(right);
  if (!u || !v)
    return std::nullopt;
  int64_t rightOffset = (u->totalBytes + 63) / 64 * 64;
  return CPULowRankLayout{left, right, rightOffset,
                          rightOffset + v->totalBytes};
}

const CompressedFormat &cpu::getLowRankFormat() {
  static const LowRankFormat format;
  return format;
}

Value cpu::buildLowRankPackFromFactors(OpBuilder &b, Location loc,
                                       PackedType type, Value left,
                                       Value right) {
  return packFactors(b, loc, *LowRankLayout::get(type), left, right);
}
