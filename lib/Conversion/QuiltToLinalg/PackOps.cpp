//===- PackOps.cpp - Reference lowering of pack and unpack -------*- C++
//-*-===//
//
// This file lowers quilt.pack to the projection its format defines and
// quilt.unpack to the identity: in the reference lowering a packed weight is
// the dense f32 matrix it decodes to.
//
//===----------------------------------------------------------------------===//

#include "PatternUtils.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace mlir::quilt;
using namespace mlir::quilt::reference;

namespace {

/// Rounds a factor array (2-d or 3-d) with a single per-tensor scale: the
/// array is collapsed to 2-d, rounded and expanded back.
Value roundFactor(OpBuilder &b, Location loc, Value factor,
                  PrecisionAttr precision) {
  auto type = cast<RankedTensorType>(factor.getType());
  if (type.getRank() == 2)
    return roundToPrecision(b, loc, factor, precision);
  SmallVector<ReassociationIndices> reassociation = {{0, 1}, {2}};
  Value flat = tensor::CollapseShapeOp::create(b, loc, factor, reassociation);
  Value rounded = roundToPrecision(b, loc, flat, precision);
  return tensor::ExpandShapeOp::create(b, loc, type, rounded, reassociation);
}

/// The weight `expandKernel` multiplies back from two factors rounded to
/// `precision` (per tensor).
Value expandFactors(OpBuilder &b, Location loc, Value first, Value second,
                    StringRef expandKernel, Type weightType,
                    PrecisionAttr precision) {
  first = roundFactor(b, loc, first, precision);
  second = roundFactor(b, loc, second, precision);
  return callKernel(b, loc, expandKernel, {first, second}, weightType)[0];
}

/// A factorized structure: `factorKernel` splits the weight into two factors
/// of the given types, which are rounded to `precision` (per tensor) and
/// multiplied back by `expandKernel`.
Value projectFactorized(OpBuilder &b, Location loc, Value weight, Value size,
                        StringRef factorKernel, StringRef expandKernel,
                        TypeRange factorTypes, PrecisionAttr precision) {
  SmallVector<Value> factors =
      callKernel(b, loc, factorKernel, {weight, size}, factorTypes);
  return expandFactors(b, loc, factors[0], factors[1], expandKernel,
                       weight.getType(), precision);
}

} // namespace

/// Applies the structure of `packed` to `weight`. Factorized structures
/// (Monarch, low-rank) also round their factors to the precision.
Value reference::applyStructure(OpBuilder &b, Location loc, Value weight,
                                PackedType packed) {
  StructureAttr structure = packed.getStructure();
  int64_t k = packed.getRows(), n = packed.getCols(),
          size = structure.getSize();
  Type f32 = b.getF32Type();
  auto sizeValue = [&]() -> Value {
    return arith::ConstantIndexOp::create(b, loc, size);
  };
  switch (structure.getKind()) {
  case StructureKind::Dense:
    return weight;
  case StructureKind::BlockDiag:
    return callKernel(b, loc, "quilt_ref_mask_blockdiag", {weight, sizeValue()},
                      weight.getType())[0];
  case StructureKind::Monarch:
    return projectFactorized(
        b, loc, weight, sizeValue(), "quilt_ref_monarch_factors",
        "quilt_ref_monarch_expand",
        {RankedTensorType::get({size, k / size, size}, f32),
         RankedTensorType::get({size, size, n / size}, f32)},
        packed.getPrecision());
  case StructureKind::LowRank:
    return projectFactorized(b, loc, weight, sizeValue(),
                             "quilt_ref_lowrank_factors",
                             "quilt_ref_lowrank_expand",
                             {RankedTensorType::get({k, size}, f32),
                              RankedTensorType::get({size, n}, f32)},
                             packed.getPrecision());
  }
  llvm_unreachable("unknown structure kind");
}

/// Zeroes the entries the sparsity of `packed` does not keep.
Value reference::applySparsity(OpBuilder &b, Location loc, Value weight,
                               SparsityAttr sparsity) {
  auto index = [&](int64_t v) -> Value {
    return arith::ConstantIndexOp::create(b, loc, v);
  };
  auto density = [&]() -> Value {
    return arith::ConstantOp::create(
        b, loc, b.getF32FloatAttr(sparsity.getDensity().convertToDouble()));
  };
  Type type = weight.getType();
  switch (sparsity.getKind()) {
  case SparsityKind::Dense:
    return weight;
  case SparsityKind::NM:
    return callKernel(b, loc, "quilt_ref_prune_nm",
                      {weight, index(sparsity.getN()), index(sparsity.getM())},
                      type)[0];
  case SparsityKind::Block:
    return callKernel(b, loc, "quilt_ref_prune_blocks",
                      {weight, index(sparsity.getBlockRows()),
                       index(sparsity.getBlockCols()), density()},
                      type)[0];
  case SparsityKind::Unstructured:
    return callKernel(b, loc, "quilt_ref_prune_unstructured",
                      {weight, density()}, type)[0];
  }
  llvm_unreachable("unknown sparsity kind");
}

namespace {

/// quilt.pack: structure, then sparsity, then precision.
struct LowerPack : OpConversionPattern<PackOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(PackOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    PackedType packed = op.getResult().getType();
    Value weight = applyStructure(rewriter, loc, adaptor.getInput(), packed);
    weight = applySparsity(rewriter, loc, weight, packed.getSparsity());
    StructureKind structure = packed.getStructure().getKind();
    bool factorized = structure == StructureKind::Monarch ||
                      structure == StructureKind::LowRank;
    if (!factorized)
      weight = roundToPrecision(rewriter, loc, weight, packed.getPrecision());
    rewriter.replaceOp(op, weight);
    return success();
  }
};

/// quilt.pack_factors: the factors' product, each rounded as quilt.pack
/// rounds the factors it computes.
struct LowerPackFactors : OpConversionPattern<PackFactorsOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(PackFactorsOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    PackedType packed = op.getResult().getType();
    rewriter.replaceOp(
        op, expandFactors(rewriter, op.getLoc(), adaptor.getLeft(),
                          adaptor.getRight(), "quilt_ref_lowrank_expand",
                          packed.getUnpackedType(), packed.getPrecision()));
    return success();
  }
};

/// quilt.packed_constant holds a backend's bytes, which the reference
/// lowering (dense f32 packed values) cannot read back.
struct RejectPackedConstant : OpConversionPattern<PackedConstantOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(PackedConstantOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    return op.emitOpError("holds bytes in the '")
           << op.getLayout()
           << "' layout, which only that backend lowers; run "
              "quilt-pack-weights in the CPU pipeline only";
  }
};

/// quilt.unpack: the packed value already is its decoded matrix.
struct LowerUnpack : OpConversionPattern<UnpackOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(UnpackOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOp(op, adaptor.getInput());
    return success();
  }
};

} // namespace

void mlir::quilt::populatePackPatterns(const TypeConverter &converter,
                                       RewritePatternSet &patterns) {
  patterns.add<LowerPack, LowerPackFactors, LowerUnpack, RejectPackedConstant>(
      converter, patterns.getContext());
}
