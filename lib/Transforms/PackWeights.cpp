//===- PackWeights.cpp - quilt-pack-weights ---------------------*- C++ -*-===//
//
// Folds quilt.pack (and quilt.pack_factors) of constant weights into
// quilt.packed_constant "cpu", packed at compile time by the CPU backend's
// own packing kernels (HostPacking.h).
//
//===----------------------------------------------------------------------===//

#include "HostPacking.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Matchers.h"
#include "quilt/Transforms/Passes.h"
#include "llvm/ADT/SetVector.h"

namespace mlir::quilt {
#define GEN_PASS_DEF_QUILTPACKWEIGHTS
#include "quilt/Transforms/Passes.h.inc"
} // namespace mlir::quilt

using namespace mlir;
using namespace mlir::quilt;

namespace {

/// The weight a pack op of constants stores, if the CPU backend can pack
/// it at compile time.
std::optional<packing::WeightToPack> matchFold(Operation *op) {
  packing::WeightToPack weight;
  if (auto pack = dyn_cast<PackOp>(op)) {
    weight.type = pack.getResult().getType();
    if (!matchPattern(pack.getInput(), m_Constant(&weight.weight)))
      return std::nullopt;
  } else if (auto pack = dyn_cast<PackFactorsOp>(op)) {
    weight.type = pack.getResult().getType();
    if (!matchPattern(pack.getLeft(), m_Constant(&weight.left)) ||
        !matchPattern(pack.getRight(), m_Constant(&weight.right)))
      return std::nullopt;
  } else {
    return std::nullopt;
  }
  if (!packing::canPackOnHost(weight))
    return std::nullopt;
  return weight;
}

struct QuiltPackWeightsPass
    : quilt::impl::QuiltPackWeightsBase<QuiltPackWeightsPass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<Operation *> ops;
    std::vector<packing::WeightToPack> weights;
    getOperation().walk([&](Operation *op) {
      if (std::optional<packing::WeightToPack> weight = matchFold(op)) {
        ops.push_back(op);
        weights.push_back(*weight);
      }
    });
    std::string error;
    auto packed = packing::packOnHost(weights, threads, error);
    if (failed(packed)) {
      getOperation().emitError(
          "cannot pack the constant weights at compile time: ")
          << error;
      return signalPassFailure();
    }

    for (auto [op, weight, bytes] : llvm::zip(ops, weights, *packed)) {
      OpBuilder b(op);
      auto constant =
          packing::createPackedConstant(b, op->getLoc(), weight.type, bytes);
      llvm::SetVector<Operation *> inputs;
      for (Value input : op->getOperands())
        inputs.insert(input.getDefiningOp());
      op->getResult(0).replaceAllUsesWith(constant.getResult());
      op->erase();
      for (Operation *def : inputs)
        if (def && def->use_empty())
          def->erase();
    }
  }
};

} // namespace
