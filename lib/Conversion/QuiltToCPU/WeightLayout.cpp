//===- WeightLayout.cpp - Byte layout of packed weights on CPU --*- C++ -*-===//
//
// Decides which formats the CPU kernels read natively and where each part of
// a packed weight lives in its byte buffer (see CPUWeightLayout).
//
//===----------------------------------------------------------------------===//

#include "mlir/IR/BuiltinTypes.h"
#include "quilt/Conversion/QuiltToCPU/QuiltToCPU.h"
#include "quilt/Dialect/Quilt/QuiltAttrs.h"

using namespace mlir;
using namespace mlir::quilt;

static int64_t alignTo64(int64_t bytes) { return (bytes + 63) / 64 * 64; }

CPUWeightLayout CPUWeightLayout::make(CPUWeightEncoding encoding, int64_t k,
                                      int64_t n, bool perTensorScale) {
  CPUWeightLayout layout;
  layout.encoding = encoding;
  layout.rows = k;
  layout.cols = n;
  layout.perTensorScale = perTensorScale;
  layout.kStep = encoding == CPUWeightEncoding::F32         ? 1
                 : encoding == CPUWeightEncoding::BF16Pairs ? 2
                                                            : 4;
  layout.kWords = (k + layout.kStep - 1) / layout.kStep;
  layout.panels = (n + kPanelWidth - 1) / kPanelWidth;
  int64_t values = alignTo64(layout.panels * layout.kWords * kPanelWidth * 4);
  layout.totalBytes = values;
  if (encoding == CPUWeightEncoding::I8Quads) {
    int64_t perColumn = alignTo64(layout.getPaddedCols() * 4);
    layout.scalesOffset = values;
    layout.sumsOffset = values + perColumn;
    layout.totalBytes = values + 2 * perColumn;
  }
  return layout;
}

std::optional<CPUWeightLayout>
CPUWeightLayout::forPrecision(PrecisionAttr precision, int64_t k, int64_t n) {
  Type element = precision.getElementType();
  if (element.isF32())
    return make(CPUWeightEncoding::F32, k, n);
  if (element.isBF16())
    return make(CPUWeightEncoding::BF16Pairs, k, n);
  if (element.isSignlessInteger(8) && !precision.getZeroPoint() &&
      precision.getGranularity() != Granularity::Group)
    return make(CPUWeightEncoding::I8Quads, k, n,
                precision.getGranularity() == Granularity::Tensor);
  return std::nullopt;
}

std::optional<CPUWeightLayout> CPUWeightLayout::get(PackedType type) {
  if (!type.getSparsity().isDense() || !type.getStructure().isDense())
    return std::nullopt;
  return forPrecision(type.getPrecision(), type.getRows(), type.getCols());
}

CPUTypeConverter::CPUTypeConverter() {
  addConversion([](Type type) { return type; });
  addConversion([](PackedType type) -> Type {
    auto i8 = IntegerType::get(type.getContext(), 8);
    if (std::optional<CPUWeightLayout> layout = CPUWeightLayout::get(type))
      return RankedTensorType::get({layout->totalBytes}, i8);
    if (cpu::hasCompressedLayout(type))
      return RankedTensorType::get({ShapedType::kDynamic}, i8);
    return type.getUnpackedType();
  });
}
