//===- LinearOps.cpp - quilt.pack/unpack/linear to CPU kernels --*- C++ -*-===//
//
// Replaces each op by a call to a generated kernel function (one per
// signature, shared by all call sites), choosing the microkernel from the
// weight's layout, the activation precision and the target's features.
//
//===----------------------------------------------------------------------===//

#include "LinearOps.h"
#include "GemmKernel.h"
#include "KernelUtils.h"
#include "PatternUtils.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "quilt/Dialect/Quilt/QuiltOps.h"
#include "llvm/ADT/StringExtras.h"

using namespace mlir;
using namespace mlir::quilt;
using namespace mlir::quilt::cpu;

namespace {

StringRef encodingName(CPUWeightEncoding encoding) {
  switch (encoding) {
  case CPUWeightEncoding::F32:
    return "f32";
  case CPUWeightEncoding::BF16Pairs:
    return "bf16";
  case CPUWeightEncoding::I8Quads:
    return "i8";
  }
  llvm_unreachable("unknown encoding");
}

std::string layoutName(const CPUWeightLayout &layout) {
  return (encodingName(layout.encoding) + (layout.perTensorScale ? "t_" : "_") +
          Twine(layout.rows) + "x" + Twine(layout.cols))
      .str();
}

RankedTensorType bytesType(MLIRContext *ctx, const CPUWeightLayout &layout) {
  return RankedTensorType::get({layout.totalBytes}, IntegerType::get(ctx, 8));
}

RankedTensorType denseType(MLIRContext *ctx, const CPUWeightLayout &layout) {
  return RankedTensorType::get({layout.rows, layout.cols},
                               Float32Type::get(ctx));
}

/// Calls the kernel that packs a dense f32 K x N tensor into `layout`.
Value callPack(OpBuilder &b, Location loc, ModuleOp module, Value dense,
               const CPUWeightLayout &layout) {
  MLIRContext *ctx = b.getContext();
  auto type =
      FunctionType::get(ctx, denseType(ctx, layout), bytesType(ctx, layout));
  func::FuncOp kernel = getOrCreateKernel(
      b, module, "quilt_cpu_pack_" + layoutName(layout), type,
      [&](OpBuilder &kb, Location kl, ValueRange args) -> SmallVector<Value> {
        Value w = toBuffer(kb, kl, args[0]);
        Value bytes = allocBytes(kb, kl, kb.getIndexAttr(layout.totalBytes));
        emitWeightPacking(kb, kl, w, bytes, layout);
        return {toTensor(kb, kl, bytes)};
      });
  return func::CallOp::create(b, loc, kernel, dense).getResult(0);
}

struct LowerPack : OpConversionPattern<PackOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(PackOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto layout = CPUWeightLayout::get(op.getResult().getType());
    if (!layout)
      return rewriter.notifyMatchFailure(op, "no native CPU layout");
    rewriter.replaceOp(op, callPack(rewriter, op.getLoc(),
                                    op->getParentOfType<ModuleOp>(),
                                    adaptor.getInput(), *layout));
    return success();
  }
};

struct LowerUnpack : OpConversionPattern<UnpackOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(UnpackOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto layout = CPUWeightLayout::get(op.getInput().getType());
    if (!layout)
      return rewriter.notifyMatchFailure(op, "no native CPU layout");
    MLIRContext *ctx = getContext();
    auto type = FunctionType::get(ctx, bytesType(ctx, *layout),
                                  denseType(ctx, *layout));
    func::FuncOp kernel = getOrCreateKernel(
        rewriter, op->getParentOfType<ModuleOp>(),
        "quilt_cpu_unpack_" + layoutName(*layout), type,
        [&](OpBuilder &kb, Location kl, ValueRange args) -> SmallVector<Value> {
          Value bytes = toBuffer(kb, kl, args[0]);
          auto wType =
              MemRefType::get({layout->rows, layout->cols}, kb.getF32Type());
          Value w = memref::AllocOp::create(kb, kl, wType, ValueRange{},
                                            kb.getI64IntegerAttr(64));
          emitWeightUnpacking(kb, kl, bytes, w, *layout);
          return {toTensor(kb, kl, w)};
        });
    Value dense =
        func::CallOp::create(rewriter, op.getLoc(), kernel, adaptor.getInput())
            .getResult(0);
    rewriter.replaceOp(op, dense);
    return success();
  }
};

/// Which microkernel a linear uses, and whether it consumes `act` itself.
struct KernelChoice {
  GemmKind kind = GemmKind::F32;
  bool actHandled = false;
  bool perTensorAct = false;
  bool roundActToBF16 = false; // the F32 kernel's A copy rounds to bf16
};

KernelChoice chooseKernel(const CPUWeightLayout &layout, PrecisionAttr act,
                          const CPUTarget &target) {
  KernelChoice choice;
  if (!act)
    return choice;
  Type element = act.getElementType();
  if (element.isBF16()) {
    // bf16 x bf16 products are exact in f32, so FMAs on widened bf16 give
    // the same sums as vdpbf16ps, which is only faster where its throughput
    // is (the CPUs this was measured on retire one per two cycles).
    choice.actHandled = true;
    if (layout.encoding == CPUWeightEncoding::BF16Pairs && target.hasBF16 &&
        target.preferBF16Dot)
      choice.kind = GemmKind::BF16Dot;
    else
      choice.roundActToBF16 = true;
  }
  if (layout.encoding == CPUWeightEncoding::I8Quads &&
      element.isSignlessInteger(8) && !act.getZeroPoint() &&
      act.getGranularity() != Granularity::Group && target.hasVNNI) {
    choice.kind = GemmKind::I8Dot;
    choice.actHandled = true;
    choice.perTensorAct = act.getGranularity() == Granularity::Tensor;
  }
  return choice;
}

StringRef kindName(GemmKind kind) {
  switch (kind) {
  case GemmKind::F32:
    return "fma";
  case GemmKind::BF16Dot:
    return "bf16dot";
  case GemmKind::I8Dot:
    return "vnni";
  }
  llvm_unreachable("unknown kind");
}

struct LowerLinear : OpConversionPattern<LinearOp> {
  LowerLinear(const TypeConverter &converter, MLIRContext *ctx,
              const CPUTarget &target, unsigned threads)
      : OpConversionPattern(converter, ctx, /*benefit=*/10), target(target),
        threads(threads) {}

  LogicalResult
  matchAndRewrite(LinearOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    OpBuilder &b = rewriter;
    MLIRContext *ctx = getContext();
    auto module = op->getParentOfType<ModuleOp>();
    int64_t k = op.getReductionSize(), n = op.getOutputSize();
    Type f32 = b.getF32Type();

    // The weight in a native layout; anything else is packed (at run time)
    // as f32 panels from the dense matrix it decodes to.
    Value weight = adaptor.getWeight();
    std::optional<CPUWeightLayout> layout;
    if (auto packed = dyn_cast<PackedType>(op.getWeight().getType()))
      layout = CPUWeightLayout::get(packed);
    if (!layout) {
      layout = CPUWeightLayout::make(CPUWeightEncoding::F32, k, n);
      weight = callPack(b, loc, module, weight, *layout);
    }

    KernelChoice choice = chooseKernel(*layout, op.getActAttr(), target);
    Value x = reference::convertElements(b, loc, adaptor.getInput(), f32);
    if (PrecisionAttr act = op.getActAttr(); act && !choice.actHandled) {
      // Rounded exactly as the reference does, then a float product.
      Value rounded = reference::roundToPrecision(
          b, loc, reference::transpose2D(b, loc, x), act);
      x = reference::transpose2D(b, loc, rounded);
    }
    auto xType = cast<RankedTensorType>(x.getType());
    int64_t m = xType.getDimSize(0);
    std::optional<int64_t> staticM;
    if (!ShapedType::isDynamic(m))
      staticM = m;

    SmallVector<Value> operands = {x, weight};
    Value bias = adaptor.getBias();
    if (bias)
      operands.push_back(reference::convertElements(b, loc, bias, f32));
    auto outType = RankedTensorType::get({m, n}, f32);
    SmallVector<Type> argTypes;
    for (Value operand : operands)
      argTypes.push_back(operand.getType());
    auto type = FunctionType::get(ctx, argTypes, outType);
    std::string name =
        ("quilt_cpu_linear_" + kindName(choice.kind) + "_" +
         layoutName(*layout) + "_m" +
         (staticM ? Twine(*staticM) : Twine("dyn")) + (bias ? "_bias" : "") +
         (choice.perTensorAct ? "_acttensor" : "") +
         (choice.roundActToBF16 ? "_actbf16" : ""))
            .str();
    GemmConfig config{choice.kind, *layout, staticM, threads};
    func::FuncOp kernel = getOrCreateKernel(
        b, module, name, type,
        [&](OpBuilder &kb, Location kl, ValueRange args) -> SmallVector<Value> {
          return {buildLinearKernel(kb, kl, config, choice, args)};
        });
    Value result = func::CallOp::create(b, loc, kernel, operands).getResult(0);
    Type elementType = op.getResult().getType().getElementType();
    result = reference::convertElements(b, loc, result, elementType);
    rewriter.replaceOp(
        op, tensor::CastOp::create(b, loc, op.getResult().getType(), result));
    return success();
  }

  /// The body of a linear kernel: (x, weight bytes[, bias]) -> y.
  static Value buildLinearKernel(OpBuilder &b, Location loc,
                                 const GemmConfig &config,
                                 const KernelChoice &choice, ValueRange args) {
    const CPUWeightLayout &layout = config.weight;
    Value x = toBuffer(b, loc, args[0]);
    Value bytes = toBuffer(b, loc, args[1]);
    GemmOperands ops;
    ops.bias = args.size() > 2 ? toBuffer(b, loc, args[2]) : Value();
    ops.m = config.staticM ? indexConst(b, loc, *config.staticM)
                           : memref::DimOp::create(b, loc, x, 0).getResult();

    auto cType = MemRefType::get(
        {config.staticM ? *config.staticM : ShapedType::kDynamic, layout.cols},
        b.getF32Type());
    SmallVector<Value> dynSizes;
    if (!config.staticM)
      dynSizes.push_back(ops.m);
    ops.c = memref::AllocOp::create(b, loc, cType, dynSizes,
                                    b.getI64IntegerAttr(64));
    Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0));
    linalg::FillOp::create(b, loc, ValueRange{zero}, ValueRange{ops.c});

    switch (choice.kind) {
    case GemmKind::F32: {
      // x itself when no padding or rounding is needed (a padded copy was
      // measured slower, not faster).
      bool direct = layout.rows % layout.kStep == 0 && !choice.roundActToBF16;
      ops.a = direct ? x
                     : prepareF32Activations(b, loc, x, ops.m, layout,
                                             choice.roundActToBF16);
      break;
    }
    case GemmKind::BF16Dot:
      ops.a = prepareBF16Activations(b, loc, x, ops.m, layout);
      break;
    case GemmKind::I8Dot:
      ops.a = prepareI8Activations(b, loc, x, ops.m, layout,
                                   choice.perTensorAct, ops.rowScale);
      break;
    }
    Type word = layout.encoding == CPUWeightEncoding::F32
                    ? (Type)b.getF32Type()
                    : (Type)b.getI32Type();
    ops.b = viewAs(b, loc, bytes, 0,
                   MemRefType::get({layout.panels, layout.kWords,
                                    CPUWeightLayout::kPanelWidth},
                                   word));
    if (layout.encoding == CPUWeightEncoding::I8Quads) {
      int64_t cols = layout.getPaddedCols();
      ops.colScale = viewAs(b, loc, bytes, layout.scalesOffset,
                            MemRefType::get({cols}, b.getF32Type()));
      ops.colSum = viewAs(b, loc, bytes, layout.sumsOffset,
                          MemRefType::get({cols}, b.getI32Type()));
    }
    emitGemm(b, loc, config, ops);
    return toTensor(b, loc, ops.c);
  }

  CPUTarget target;
  unsigned threads;
};

} // namespace

void cpu::populateLinearPatterns(const TypeConverter &converter,
                                 RewritePatternSet &patterns,
                                 const CPUTarget &target, unsigned threads) {
  MLIRContext *ctx = patterns.getContext();
  patterns.add<LowerPack, LowerUnpack>(converter, ctx, /*benefit=*/10);
  patterns.add<LowerLinear>(converter, ctx, target, threads);
}
