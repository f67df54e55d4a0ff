//===- OpCost.cpp - FLOPs and bytes of an entry's compute ops ---*- C++ -*-===//
//
// This file implements the op cost model behind quilt-run's throughput
// figures (see OpCost.h for the definitions).
//
//===----------------------------------------------------------------------===//

#include "quilt/Runtime/OpCost.h"

#include "quilt/Dialect/Quilt/QuiltOps.h"

using namespace mlir;
using namespace mlir::quilt;

namespace {

/// Bytes of a statically shaped tensor; nullopt when dynamic.
std::optional<double> getTensorBytes(Type type) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  if (!tensor || !tensor.hasStaticShape() ||
      !tensor.getElementType().isIntOrFloat())
    return std::nullopt;
  return double(tensor.getNumElements()) *
         tensor.getElementType().getIntOrFloatBitWidth() / 8.0;
}

std::optional<double> getWeightBytes(Type type) {
  if (auto packed = dyn_cast<PackedType>(type))
    return runtime::getStoredWeightBytes(packed);
  return getTensorBytes(type);
}

} // namespace

double runtime::getStoredWeightBytes(PackedType type) {
  double k = double(type.getRows()), n = double(type.getCols());
  StructureAttr structure = type.getStructure();
  double size = double(structure.getSize());
  double values = k * n;
  switch (structure.getKind()) {
  case StructureKind::Dense:
    break;
  case StructureKind::BlockDiag:
    values = k * n / size;
    break;
  case StructureKind::Monarch:
  case StructureKind::LowRank:
    values = (k + n) * size;
    break;
  }
  values *= type.getSparsity().getKeptFraction();

  PrecisionAttr precision = type.getPrecision();
  double scales = 0;
  switch (precision.getGranularity()) {
  case Granularity::None:
    break;
  case Granularity::Tensor:
    scales = 1;
    break;
  case Granularity::Channel:
    scales = n;
    break;
  case Granularity::Group:
    scales = k / double(precision.getGroupSize()) * n;
    break;
  }
  if (precision.getZeroPoint())
    scales *= 2;
  return values * precision.getBitWidth() / 8.0 + scales * 4.0;
}

runtime::EntryCost runtime::estimateEntryCost(Operation *entry) {
  EntryCost cost;
  bool complete = true;
  auto add = [&](Value result, int64_t k,
                 ArrayRef<std::optional<double>> operandBytes) {
    std::optional<double> resultBytes = getTensorBytes(result.getType());
    auto resultType = cast<RankedTensorType>(result.getType());
    if (!resultBytes || ShapedType::isDynamic(k)) {
      complete = false;
      return;
    }
    cost.flops += 2.0 * double(resultType.getNumElements()) * double(k);
    cost.bytes += *resultBytes;
    for (std::optional<double> bytes : operandBytes) {
      if (!bytes) {
        complete = false;
        return;
      }
      cost.bytes += *bytes;
    }
    ++cost.numOps;
  };

  entry->walk([&](Operation *op) {
    if (auto linear = dyn_cast<LinearOp>(op)) {
      auto input = cast<RankedTensorType>(linear.getInput().getType());
      SmallVector<std::optional<double>, 3> bytes = {
          getTensorBytes(input), getWeightBytes(linear.getWeight().getType())};
      if (Value bias = linear.getBias())
        bytes.push_back(getTensorBytes(bias.getType()));
      add(linear.getResult(), input.getShape().back(), bytes);
    } else if (auto matmul = dyn_cast<MatmulOp>(op)) {
      auto lhs = cast<RankedTensorType>(matmul.getLhs().getType());
      add(matmul.getResult(), lhs.getShape().back(),
          {getTensorBytes(lhs), getTensorBytes(matmul.getRhs().getType())});
    }
  });
  if (!complete)
    return EntryCost();
  return cost;
}
