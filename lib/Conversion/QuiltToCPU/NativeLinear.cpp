//===- NativeLinear.cpp - Linears on the dense panel layouts ----*- C++ -*-===//
//
// Chooses the microkernel of a linear from its weight layout, activation
// precision and target, prepares the activations for it and emits the GEMM.
//
//===----------------------------------------------------------------------===//

#include "NativeLinear.h"
#include "KernelUtils.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

using namespace mlir;
using namespace mlir::quilt;
using namespace mlir::quilt::cpu;

KernelChoice cpu::chooseKernel(const CPUWeightLayout &layout, PrecisionAttr act,
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

StringRef cpu::getGemmKindName(GemmKind kind) {
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

PreparedInput cpu::prepareLinearInput(OpBuilder &b, Location loc,
                                      const GemmConfig &config,
                                      const KernelChoice &choice, Value x) {
  const CPUWeightLayout &layout = config.weight;
  PreparedInput input;
  input.m = config.staticM ? indexConst(b, loc, *config.staticM)
                           : memref::DimOp::create(b, loc, x, 0).getResult();
  switch (choice.kind) {
  case GemmKind::F32: {
    // x itself when no padding or rounding is needed (a padded copy was
    // measured slower, not faster).
    bool direct = layout.rows % layout.kStep == 0 && !choice.roundActToBF16;
    input.a = direct ? x
                     : prepareF32Activations(b, loc, x, input.m, layout,
                                             choice.roundActToBF16);
    break;
  }
  case GemmKind::BF16Dot:
    input.a = prepareBF16Activations(b, loc, x, input.m, layout);
    break;
  case GemmKind::I8Dot:
    input.a = prepareI8Activations(b, loc, x, input.m, layout,
                                   choice.perTensorAct, input.rowScale);
    break;
  }
  return input;
}

bool cpu::canShareInput(const CPUWeightLayout &a, const KernelChoice &choiceA,
                        const CPUWeightLayout &b, const KernelChoice &choiceB) {
  return choiceA.kind == choiceB.kind &&
         choiceA.perTensorAct == choiceB.perTensorAct &&
         choiceA.roundActToBF16 == choiceB.roundActToBF16 && a.rows == b.rows &&
         a.kStep == b.kStep && a.kWords == b.kWords;
}

bool cpu::canReadRowMajorWeight(const GemmConfig &config) {
  return config.kind == GemmKind::F32 &&
         config.weight.encoding == CPUWeightEncoding::F32 &&
         config.weight.cols % CPUWeightLayout::kPanelWidth == 0 &&
         streamsWholePanels(config);
}

namespace {
/// Views of the weight bytes of `layout` at `byteOffset`: the panels, and
/// for int8 the column scales and sums. A row-major f32 K x N memref
/// instead of bytes (see isRowMajorWeight) is viewed in place as panels:
/// panel p, row k is W[k, 32p : 32p + 32].
void bindWeight(OpBuilder &b, Location loc, const CPUWeightLayout &layout,
                Value bytes, int64_t byteOffset, Value &panels, Value &colScale,
                Value &colSum) {
  if (cast<MemRefType>(bytes.getType()).getRank() == 2) {
    int64_t width = CPUWeightLayout::kPanelWidth;
    auto type =
        MemRefType::get({layout.panels, layout.rows, width}, b.getF32Type(),
                        StridedLayoutAttr::get(b.getContext(), /*offset=*/0,
                                               {width, layout.cols, 1}));
    panels = memref::ReinterpretCastOp::create(
        b, loc, type, bytes, /*offset=*/0, {layout.panels, layout.rows, width},
        {width, layout.cols, 1});
    return;
  }
  Type word = layout.encoding == CPUWeightEncoding::F32 ? (Type)b.getF32Type()
                                                        : (Type)b.getI32Type();
  panels = viewAs(
      b, loc, bytes, byteOffset,
      MemRefType::get(
          {layout.panels, layout.kWords, CPUWeightLayout::kPanelWidth}, word));
  if (layout.encoding == CPUWeightEncoding::I8Quads) {
    int64_t cols = layout.getPaddedCols();
    colScale = viewAs(b, loc, bytes, byteOffset + layout.scalesOffset,
                      MemRefType::get({cols}, b.getF32Type()));
    colSum = viewAs(b, loc, bytes, byteOffset + layout.sumsOffset,
                    MemRefType::get({cols}, b.getI32Type()));
  }
}

/// Operands of a GEMM of `input` into a new zeroed C.
GemmOperands makeOperands(OpBuilder &b, Location loc, const GemmConfig &config,
                          const PreparedInput &input, Value bytes,
                          int64_t byteOffset, Value bias) {
  GemmOperands ops;
  ops.bias = bias;
  ops.m = input.m;
  ops.a = input.a;
  ops.rowScale = input.rowScale;
  auto cType =
      MemRefType::get({config.staticM ? *config.staticM : ShapedType::kDynamic,
                       config.weight.cols},
                      b.getF32Type());
  SmallVector<Value> dynSizes;
  if (!config.staticM)
    dynSizes.push_back(ops.m);
  ops.c =
      memref::AllocOp::create(b, loc, cType, dynSizes, b.getI64IntegerAttr(64));
  Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0));
  linalg::FillOp::create(b, loc, ValueRange{zero}, ValueRange{ops.c});
  bindWeight(b, loc, config.weight, bytes, byteOffset, ops.b, ops.colScale,
             ops.colSum);
  return ops;
}
} // namespace

Value cpu::emitNativeGemm(OpBuilder &b, Location loc, const GemmConfig &config,
                          const PreparedInput &input, Value bytes,
                          int64_t byteOffset, Value bias,
                          GemmEpilogueFn epilogue) {
  GemmOperands ops =
      makeOperands(b, loc, config, input, bytes, byteOffset, bias);
  ops.epilogue = std::move(epilogue);
  emitGemm(b, loc, config, ops);
  return ops.c;
}

Value cpu::emitNativePairGemm(OpBuilder &b, Location loc,
                              const GemmConfig &config,
                              const PreparedInput &input, Value bytes,
                              Value bias, Value bytes2, Value bias2,
                              GemmPairEpilogueFn epilogue) {
  GemmOperands ops =
      makeOperands(b, loc, config, input, bytes, /*byteOffset=*/0, bias);
  Value unusedSums;
  bindWeight(b, loc, config.weight, bytes2, /*byteOffset=*/0, ops.b2,
             ops.colScale2, unusedSums);
  ops.bias2 = bias2;
  ops.pairEpilogue = std::move(epilogue);
  emitGemm(b, loc, config, ops);
  return ops.c;
}

Value cpu::emitNativeLinear(OpBuilder &b, Location loc,
                            const GemmConfig &config,
                            const KernelChoice &choice, Value x, Value bytes,
                            int64_t byteOffset, Value bias) {
  return emitNativeGemm(b, loc, config,
                        prepareLinearInput(b, loc, config, choice, x), bytes,
                        byteOffset, bias);
}
