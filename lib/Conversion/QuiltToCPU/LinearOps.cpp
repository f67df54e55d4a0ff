//===- LinearOps.cpp - Linears and matmuls as CPU kernels -------*- C++ -*-===//
//
// Replaces each op by a call to a generated kernel function (one per
// signature, shared by all call sites), choosing the microkernel from the
// weight's layout, the activation precision and the target's features.
//
//===----------------------------------------------------------------------===//

#include "LinearOps.h"
#include "KernelUtils.h"
#include "NativeLinear.h"
#include "PatternUtils.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
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
        emitWeightPacking(kb, kl, w, bytes, /*byteOffset=*/0, layout);
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

/// A weight packed at compile time: its bytes as a constant, once they are
/// checked against the layout this backend would pack the type into.
struct LowerPackedConstant : OpConversionPattern<PackedConstantOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(PackedConstantOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = dyn_cast_or_null<RankedTensorType>(
        getTypeConverter()->convertType(op.getResult().getType()));
    auto bytes = cast<RankedTensorType>(op.getBytes().getType());
    if (!type || !type.getElementType().isInteger(8) ||
        (type.hasStaticShape() && type != bytes))
      return op.emitOpError("bytes do not match the CPU layout of ")
             << op.getResult().getType() << " (" << bytes << " vs " << type
             << ")";
    Value constant = arith::ConstantOp::create(rewriter, op.getLoc(),
                                               cast<TypedAttr>(op.getBytes()));
    rewriter.replaceOp(
        op, tensor::CastOp::create(rewriter, op.getLoc(), type, constant));
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
          emitWeightUnpacking(kb, kl, bytes, /*byteOffset=*/0, w, *layout);
          return {toTensor(kb, kl, w)};
        });
    Value dense =
        func::CallOp::create(rewriter, op.getLoc(), kernel, adaptor.getInput())
            .getResult(0);
    rewriter.replaceOp(op, dense);
    return success();
  }
};

/// y = x W (+ bias) on f32 tensors through a generated GEMM kernel. `weight`
/// holds the bytes of `layout`, or, without a layout, is a dense f32 K x N
/// tensor, read in place where it can be (canReadRowMajorWeight), else
/// packed into f32 panels at run time. A `serial` kernel runs on one thread
/// inside the caller's parallel loop.
Value emitLinear(OpBuilder &b, Location loc, ModuleOp module, Value x,
                 Value weight, std::optional<CPUWeightLayout> layout, int64_t k,
                 int64_t n, Value bias, PrecisionAttr act,
                 const CPUTarget &target, unsigned threads,
                 bool serial = false) {
  MLIRContext *ctx = b.getContext();
  Type f32 = b.getF32Type();
  x = reference::convertElements(b, loc, x, f32);
  int64_t m = cast<RankedTensorType>(x.getType()).getDimSize(0);
  std::optional<int64_t> staticM;
  if (!ShapedType::isDynamic(m))
    staticM = m;
  bool rowMajor = false;
  if (!layout) {
    layout = CPUWeightLayout::make(CPUWeightEncoding::F32, k, n);
    GemmConfig probe{GemmKind::F32, *layout, staticM};
    rowMajor = canReadRowMajorWeight(probe);
    if (!rowMajor)
      weight = callPack(b, loc, module, weight, *layout);
  }
  KernelChoice choice = chooseKernel(*layout, act, target);
  if (act && !choice.actHandled) {
    // Rounded exactly as the reference does, then a float product.
    Value rounded = reference::roundToPrecision(
        b, loc, reference::transpose2D(b, loc, x), act);
    x = reference::transpose2D(b, loc, rounded);
  }

  SmallVector<Value> operands = {x, weight};
  if (bias)
    operands.push_back(reference::convertElements(b, loc, bias, f32));
  SmallVector<Type> argTypes;
  for (Value operand : operands)
    argTypes.push_back(operand.getType());
  auto type =
      FunctionType::get(ctx, argTypes, RankedTensorType::get({m, n}, f32));
  std::string name =
      ("quilt_cpu_linear_" + getGemmKindName(choice.kind) + "_" +
       layoutName(*layout) + (rowMajor ? "_rowmajor" : "") + "_m" +
       (staticM ? Twine(*staticM) : Twine("dyn")) + (bias ? "_bias" : "") +
       (choice.perTensorAct ? "_acttensor" : "") +
       (choice.roundActToBF16 ? "_actbf16" : "") +
       // Beside the threaded kernel of the same shape, in a module whose
       // batched matmuls run single-threaded products in parallel.
       (serial ? "_serial" : ""))
          .str();
  GemmConfig config{choice.kind, *layout, staticM, serial ? 1 : threads,
                    getMaxTileRows(target)};
  func::FuncOp kernel = getOrCreateKernel(
      b, module, name, type,
      [&](OpBuilder &kb, Location kl, ValueRange args) -> SmallVector<Value> {
        Value bias = args.size() > 2 ? toBuffer(kb, kl, args[2]) : Value();
        return {toTensor(kb, kl,
                         emitNativeLinear(kb, kl, config, choice,
                                          toBuffer(kb, kl, args[0]),
                                          toBuffer(kb, kl, args[1]),
                                          /*byteOffset=*/0, bias))};
      });
  return func::CallOp::create(b, loc, kernel, operands).getResult(0);
}

/// The result cast from the f32 product to the op's result type.
Value castResult(OpBuilder &b, Location loc, Value y, RankedTensorType type) {
  y = reference::convertElements(b, loc, y, type.getElementType());
  return tensor::CastOp::create(b, loc, type, y);
}

struct LowerLinear : OpConversionPattern<LinearOp> {
  LowerLinear(const TypeConverter &converter, MLIRContext *ctx,
              const CPUTarget &target, unsigned threads)
      : OpConversionPattern(converter, ctx, /*benefit=*/10), target(target),
        threads(threads) {}

  LogicalResult
  matchAndRewrite(LinearOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    std::optional<CPUWeightLayout> layout;
    if (auto packed = dyn_cast<PackedType>(op.getWeight().getType()))
      layout = CPUWeightLayout::get(packed);
    Value y = emitLinear(rewriter, op.getLoc(), op->getParentOfType<ModuleOp>(),
                         adaptor.getInput(), adaptor.getWeight(), layout,
                         op.getReductionSize(), op.getOutputSize(),
                         adaptor.getBias(), op.getActAttr(), target, threads);
    rewriter.replaceOp(
        op, castResult(rewriter, op.getLoc(), y, op.getResult().getType()));
    return success();
  }

  CPUTarget target;
  unsigned threads;
};

/// The transpose of the static f32 matrix `matrix` by a kernel of its own
/// (emitTranspose: vector blocks; the linalg transpose lowered to scalar
/// loops took a quarter of a batched Q K^T on Zen 3).
Value transposeMatrix(OpBuilder &b, Location loc, ModuleOp module,
                      Value matrix) {
  auto type = cast<RankedTensorType>(matrix.getType());
  int64_t rows = type.getDimSize(0), cols = type.getDimSize(1);
  auto transposed = RankedTensorType::get({cols, rows}, type.getElementType());
  func::FuncOp kernel = getOrCreateKernel(
      b, module,
      ("quilt_cpu_transpose_f32_" + Twine(rows) + "x" + Twine(cols)).str(),
      b.getFunctionType(type, transposed),
      [&](OpBuilder &kb, Location kl, ValueRange args) -> SmallVector<Value> {
        Value to = memref::AllocOp::create(
            kb, kl, MemRefType::get({cols, rows}, kb.getF32Type()),
            ValueRange{}, kb.getI64IntegerAttr(64));
        emitTranspose(kb, kl, toBuffer(kb, kl, args[0]), {}, to, {}, rows,
                      cols);
        return {toTensor(kb, kl, to)};
      });
  return func::CallOp::create(b, loc, kernel, matrix).getResult(0);
}

/// quilt.matmul with static shapes: per batch, the right operand (transposed
/// for transpose_b) is packed into f32 panels at run time and multiplied by
/// the same GEMM kernel as a linear.
struct LowerMatmul : OpConversionPattern<MatmulOp> {
  LowerMatmul(const TypeConverter &converter, MLIRContext *ctx,
              const CPUTarget &target, unsigned threads)
      : OpConversionPattern(converter, ctx, /*benefit=*/10), target(target),
        threads(threads) {}

  LogicalResult
  matchAndRewrite(MatmulOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto lhsType = op.getLhs().getType();
    auto rhsType = op.getRhs().getType();
    auto resultType = op.getResult().getType();
    if (!lhsType.hasStaticShape() || !rhsType.hasStaticShape())
      return rewriter.notifyMatchFailure(op, "needs static shapes");
    Location loc = op.getLoc();
    OpBuilder &b = rewriter;
    auto module = op->getParentOfType<ModuleOp>();
    Type f32 = b.getF32Type();
    int64_t rank = lhsType.getRank();
    int64_t m = lhsType.getDimSize(rank - 2), k = lhsType.getDimSize(rank - 1);
    int64_t n = resultType.getDimSize(rank - 1);
    Value lhs = reference::convertElements(b, loc, adaptor.getLhs(), f32);
    Value rhs = reference::convertElements(b, loc, adaptor.getRhs(), f32);
    // A batch of at least `threads` products runs one product per thread
    // (each single-threaded); fewer split each product's columns instead.
    // Splitting every small product of a long batch (attention: 32 heads of
    // 256 x 128) paid a parallel region per product, slower than one thread.
    bool batchParallel = rank > 2 && threads > 1;
    auto product = [&](Value x, Value w, bool serial) {
      if (op.getTransposeB())
        w = transposeMatrix(b, loc, module, w);
      return emitLinear(b, loc, module, x, w, std::nullopt, k, n, Value(),
                        PrecisionAttr(), target, threads, serial);
    };
    if (rank == 2) {
      rewriter.replaceOp(
          op, castResult(b, loc, product(lhs, rhs, false), resultType));
      return success();
    }

    // Batch dims folded into one, then one product per batch.
    int64_t batch = 1;
    for (int64_t d = 0; d < rank - 2; ++d)
      batch *= lhsType.getDimSize(d);
    batchParallel = batchParallel && batch >= threads;
    SmallVector<ReassociationIndices> fold = {{}, {rank - 2}, {rank - 1}};
    for (int64_t d = 0; d < rank - 2; ++d)
      fold[0].push_back(d);
    auto collapse = [&](Value t) -> Value {
      return rank == 3 ? t : tensor::CollapseShapeOp::create(b, loc, t, fold);
    };
    lhs = collapse(lhs);
    rhs = collapse(rhs);
    int64_t rhsRows = rhsType.getDimSize(rank - 2),
            rhsCols = rhsType.getDimSize(rank - 1);
    Value init = tensor::EmptyOp::create(b, loc, {batch, m, n}, f32);
    SmallVector<OpFoldResult> sliceSizes3 = {
        b.getIndexAttr(1), b.getIndexAttr(m), b.getIndexAttr(n)};
    auto slice = [&](Value t, Value i, int64_t rows, int64_t cols) -> Value {
      auto type = RankedTensorType::get({rows, cols}, f32);
      return tensor::ExtractSliceOp::create(
          b, loc, type, t, ValueRange{i}, ValueRange{}, ValueRange{},
          ArrayRef<int64_t>{ShapedType::kDynamic, 0, 0},
          ArrayRef<int64_t>{1, rows, cols}, ArrayRef<int64_t>{1, 1, 1});
    };
    Value result;
    if (batchParallel) {
      auto forall = scf::ForallOp::create(
          b, loc, ArrayRef<OpFoldResult>{b.getIndexAttr(batch)},
          ValueRange{init}, std::nullopt);
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(forall.getBody());
      Value i = forall.getInductionVars()[0];
      Value y = product(slice(lhs, i, m, k), slice(rhs, i, rhsRows, rhsCols),
                        /*serial=*/true);
      b.setInsertionPointToStart(forall.getTerminator().getBody());
      tensor::ParallelInsertSliceOp::create(
          b, loc, y, forall.getRegionIterArgs()[0],
          ArrayRef<OpFoldResult>{i, b.getIndexAttr(0), b.getIndexAttr(0)},
          sliceSizes3,
          ArrayRef<OpFoldResult>{b.getIndexAttr(1), b.getIndexAttr(1),
                                 b.getIndexAttr(1)});
      result = forall.getResult(0);
    } else {
      auto loop = scf::ForOp::create(b, loc, indexConst(b, loc, 0),
                                     indexConst(b, loc, batch),
                                     indexConst(b, loc, 1), ValueRange{init});
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(loop.getBody());
      Value i = loop.getInductionVar();
      Value y = product(slice(lhs, i, m, k), slice(rhs, i, rhsRows, rhsCols),
                        /*serial=*/false);
      Value out = tensor::InsertSliceOp::create(
          b, loc, y, loop.getRegionIterArgs()[0], ValueRange{i}, ValueRange{},
          ValueRange{}, ArrayRef<int64_t>{ShapedType::kDynamic, 0, 0},
          ArrayRef<int64_t>{1, m, n}, ArrayRef<int64_t>{1, 1, 1});
      scf::YieldOp::create(b, loc, out);
      result = loop.getResult(0);
    }
    if (rank > 3) {
      auto expanded = RankedTensorType::get(resultType.getShape(), f32);
      result = tensor::ExpandShapeOp::create(b, loc, expanded, result, fold);
    }
    rewriter.replaceOp(op, castResult(b, loc, result, resultType));
    return success();
  }

  CPUTarget target;
  unsigned threads;
};

} // namespace

void cpu::populateLinearPatterns(const TypeConverter &converter,
                                 RewritePatternSet &patterns,
                                 const CPUTarget &target, unsigned threads) {
  MLIRContext *ctx = patterns.getContext();
  patterns.add<LowerPack, LowerPackedConstant, LowerUnpack>(converter, ctx,
                                                            /*benefit=*/10);
  patterns.add<LowerLinear, LowerMatmul>(converter, ctx, target, threads);
}
