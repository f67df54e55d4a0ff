//===- CompressedFormat.cpp - CPU lowerings of compressed weights -*- C++ -*-=//
//
// The registry of compressed format families and the patterns that replace
// quilt.pack, quilt.unpack and quilt.linear on their weights by calls to the
// family's generated kernels (one per signature, shared by all call sites).
//
//===----------------------------------------------------------------------===//

#include "CompressedFormat.h"
#include "KernelUtils.h"
#include "PatternUtils.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "quilt/Dialect/Quilt/QuiltOps.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace mlir::quilt;
using namespace mlir::quilt::cpu;

const CompressedFormat *cpu::lookupCompressedFormat(PackedType type) {
  // Dense formats with a native panel layout never reach the families.
  if (CPUWeightLayout::get(type))
    return nullptr;
  static const CompressedFormat *const families[] = {
      &getInt4Format(),         &getLowRankFormat(),     &getNMSparseFormat(),
      &getUnstructuredFormat(), &getBlockSparseFormat(), &getBlockDiagFormat(),
      &getMonarchFormat(),
  };
  for (const CompressedFormat *family : families)
    if (family->supports(type))
      return family;
  return nullptr;
}

bool cpu::hasCompressedLayout(PackedType type) {
  return lookupCompressedFormat(type) != nullptr;
}

namespace {

std::string precisionSymbol(PrecisionAttr precision) {
  std::string out;
  llvm::raw_string_ostream os(out);
  Type element = precision.getElementType();
  if (auto integer = dyn_cast<IntegerType>(element))
    os << "i" << integer.getWidth();
  else
    os << element;
  switch (precision.getGranularity()) {
  case Granularity::None:
    break;
  case Granularity::Tensor:
    os << "t";
    break;
  case Granularity::Channel:
    os << "c";
    break;
  case Granularity::Group:
    os << "g" << precision.getGroupSize();
    break;
  }
  if (precision.getZeroPoint())
    os << "z";
  return out;
}

std::string densitySymbol(SparsityAttr sparsity) {
  // 0.25 -> "d0p25": exact enough to tell formats apart in symbol names.
  std::string text =
      llvm::formatv("{0}", sparsity.getDensity().convertToDouble()).str();
  std::replace(text.begin(), text.end(), '.', 'p');
  return "d" + text;
}

} // namespace

std::string cpu::getFormatSymbol(PackedType type) {
  std::string out = precisionSymbol(type.getPrecision());
  llvm::raw_string_ostream os(out);
  SparsityAttr sparsity = type.getSparsity();
  switch (sparsity.getKind()) {
  case SparsityKind::Dense:
    break;
  case SparsityKind::NM:
    os << "_nm" << sparsity.getN() << "of" << sparsity.getM();
    break;
  case SparsityKind::Block:
    os << "_blk" << sparsity.getBlockRows() << "x" << sparsity.getBlockCols()
       << densitySymbol(sparsity);
    break;
  case SparsityKind::Unstructured:
    os << "_unstr" << densitySymbol(sparsity);
    break;
  }
  StructureAttr structure = type.getStructure();
  switch (structure.getKind()) {
  case StructureKind::Dense:
    break;
  case StructureKind::Monarch:
    os << "_monarch" << structure.getSize();
    break;
  case StructureKind::BlockDiag:
    os << "_blockdiag" << structure.getSize();
    break;
  case StructureKind::LowRank:
    os << "_lowrank" << structure.getSize();
    break;
  }
  os << "_" << type.getRows() << "x" << type.getCols();
  return out;
}

namespace {

RankedTensorType bytesType(MLIRContext *ctx) {
  return RankedTensorType::get({ShapedType::kDynamic},
                               IntegerType::get(ctx, 8));
}

struct LowerCompressedPack : OpConversionPattern<PackOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(PackOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    PackedType type = op.getResult().getType();
    const CompressedFormat *family = lookupCompressedFormat(type);
    if (!family)
      return rewriter.notifyMatchFailure(op, "no compressed CPU layout");
    Location loc = op.getLoc();
    MLIRContext *ctx = getContext();
    Value dense = reference::convertElements(rewriter, loc, adaptor.getInput(),
                                             rewriter.getF32Type());
    dense =
        tensor::CastOp::create(rewriter, loc, type.getUnpackedType(), dense);
    auto fnType =
        FunctionType::get(ctx, type.getUnpackedType(), bytesType(ctx));
    func::FuncOp kernel = getOrCreateKernel(
        rewriter, op->getParentOfType<ModuleOp>(),
        ("quilt_cpu_pack_" + family->getName() + "_" + getFormatSymbol(type))
            .str(),
        fnType,
        [&](OpBuilder &kb, Location kl, ValueRange args) -> SmallVector<Value> {
          return {family->buildPack(kb, kl, type, args[0])};
        });
    rewriter.replaceOp(
        op, func::CallOp::create(rewriter, loc, kernel, dense).getResult(0));
    return success();
  }
};

struct LowerLowRankPackFactors : OpConversionPattern<PackFactorsOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(PackFactorsOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    PackedType type = op.getResult().getType();
    if (!getLowRankFormat().supports(type))
      return rewriter.notifyMatchFailure(op, "no low-rank CPU layout");
    MLIRContext *ctx = getContext();
    Type leftType = op.getLeft().getType(), rightType = op.getRight().getType();
    auto fnType = FunctionType::get(ctx, {leftType, rightType}, bytesType(ctx));
    func::FuncOp kernel = getOrCreateKernel(
        rewriter, op->getParentOfType<ModuleOp>(),
        "quilt_cpu_pack_factors_" + getFormatSymbol(type), fnType,
        [&](OpBuilder &kb, Location kl, ValueRange args) -> SmallVector<Value> {
          return {buildLowRankPackFromFactors(kb, kl, type, args[0], args[1])};
        });
    rewriter.replaceOp(op, func::CallOp::create(rewriter, op.getLoc(), kernel,
                                                ValueRange{adaptor.getLeft(),
                                                           adaptor.getRight()})
                               .getResult(0));
    return success();
  }
};

struct LowerCompressedUnpack : OpConversionPattern<UnpackOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(UnpackOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    PackedType type = op.getInput().getType();
    const CompressedFormat *family = lookupCompressedFormat(type);
    if (!family)
      return rewriter.notifyMatchFailure(op, "no compressed CPU layout");
    MLIRContext *ctx = getContext();
    auto fnType =
        FunctionType::get(ctx, bytesType(ctx), type.getUnpackedType());
    func::FuncOp kernel = getOrCreateKernel(
        rewriter, op->getParentOfType<ModuleOp>(),
        ("quilt_cpu_unpack_" + family->getName() + "_" + getFormatSymbol(type))
            .str(),
        fnType,
        [&](OpBuilder &kb, Location kl, ValueRange args) -> SmallVector<Value> {
          return {family->buildUnpack(kb, kl, type, args[0])};
        });
    Value dense =
        func::CallOp::create(rewriter, op.getLoc(), kernel, adaptor.getInput())
            .getResult(0);
    rewriter.replaceOp(op, reference::convertElements(
                               rewriter, op.getLoc(), dense,
                               op.getResult().getType().getElementType()));
    return success();
  }
};

struct LowerCompressedLinear : OpConversionPattern<LinearOp> {
  LowerCompressedLinear(const TypeConverter &converter, MLIRContext *ctx,
                        const CPUTarget &target, unsigned threads)
      : OpConversionPattern(converter, ctx, /*benefit=*/11), target(target),
        threads(threads) {}

  LogicalResult
  matchAndRewrite(LinearOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = dyn_cast<PackedType>(op.getWeight().getType());
    const CompressedFormat *family =
        type ? lookupCompressedFormat(type) : nullptr;
    if (!family)
      return rewriter.notifyMatchFailure(op, "no compressed CPU layout");
    Location loc = op.getLoc();
    OpBuilder &b = rewriter;
    MLIRContext *ctx = getContext();
    Type f32 = b.getF32Type();

    CompressedLinear linear;
    linear.weight = type;
    linear.target = target;
    linear.threads = threads;
    Value x = reference::convertElements(b, loc, adaptor.getInput(), f32);
    PrecisionAttr act = op.getActAttr();
    if (act && family->handlesAct(type, act, target)) {
      linear.act = act;
    } else if (act) {
      // Rounded exactly as the reference does (scales along K per row).
      Value rounded = reference::roundToPrecision(
          b, loc, reference::transpose2D(b, loc, x), act);
      x = reference::transpose2D(b, loc, rounded);
    }
    int64_t m = cast<RankedTensorType>(x.getType()).getDimSize(0);
    if (!ShapedType::isDynamic(m))
      linear.staticM = m;

    SmallVector<Value> operands = {x, adaptor.getWeight()};
    if (Value bias = adaptor.getBias()) {
      operands.push_back(reference::convertElements(b, loc, bias, f32));
      linear.hasBias = true;
    }
    SmallVector<Type> argTypes;
    for (Value operand : operands)
      argTypes.push_back(operand.getType());
    int64_t n = type.getCols();
    auto fnType =
        FunctionType::get(ctx, argTypes, RankedTensorType::get({m, n}, f32));
    std::string name =
        ("quilt_cpu_linear_" + family->getName() + "_" + getFormatSymbol(type) +
         "_m" + (linear.staticM ? Twine(*linear.staticM) : Twine("dyn")) +
         (linear.hasBias ? "_bias" : "") +
         (linear.act ? "_act" + precisionSymbol(linear.act) : ""))
            .str();
    func::FuncOp kernel = getOrCreateKernel(
        b, op->getParentOfType<ModuleOp>(), name, fnType,
        [&](OpBuilder &kb, Location kl, ValueRange args) -> SmallVector<Value> {
          Value bias = args.size() > 2 ? args[2] : Value();
          return {family->buildLinear(kb, kl, linear, args[0], args[1], bias)};
        });
    Value y = func::CallOp::create(b, loc, kernel, operands).getResult(0);
    RankedTensorType resultType = op.getResult().getType();
    y = reference::convertElements(b, loc, y, resultType.getElementType());
    rewriter.replaceOp(op, tensor::CastOp::create(b, loc, resultType, y));
    return success();
  }

  CPUTarget target;
  unsigned threads;
};

} // namespace

void cpu::populateCompressedFormatPatterns(const TypeConverter &converter,
                                           RewritePatternSet &patterns,
                                           const CPUTarget &target,
                                           unsigned threads) {
  MLIRContext *ctx = patterns.getContext();
  patterns
      .add<LowerCompressedPack, LowerCompressedUnpack, LowerLowRankPackFactors>(
          converter, ctx, /*benefit=*/11);
  patterns.add<LowerCompressedLinear>(converter, ctx, target, threads);
}
