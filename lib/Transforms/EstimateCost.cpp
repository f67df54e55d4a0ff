//===- EstimateCost.cpp - Annotate ops with predicted times -----*- C++ -*-===//
//
// This file implements quilt-estimate-cost, which records the cost model's
// predicted time on every costed op: quilt.fused blocks as a whole, and
// compute ops outside blocks.
//
//===----------------------------------------------------------------------===//

#include "quilt/CostModel/CostModel.h"
#include "quilt/Dialect/Quilt/QuiltOps.h"
#include "quilt/Transforms/Passes.h"
#include "llvm/Support/FormatVariadic.h"

namespace mlir::quilt {
#define GEN_PASS_DEF_QUILTESTIMATECOST
#include "quilt/Transforms/Passes.h.inc"
} // namespace mlir::quilt

using namespace mlir;
using namespace mlir::quilt;

namespace {
struct QuiltEstimateCostPass
    : quilt::impl::QuiltEstimateCostBase<QuiltEstimateCostPass> {
  using QuiltEstimateCostBase::QuiltEstimateCostBase;

  LogicalResult initialize(MLIRContext *) override {
    // Loaded once per pass instance; the warnings are reported on the IR
    // the pass runs on, where diagnostics have a location.
    warnings.clear();
    cost::CostModelOptions options;
    options.modelPath = model;
    options.targetPath = target;
    costModel = cost::createCostModel(options, [&](const Twine &message) {
      warnings.push_back(message.str());
    });
    return success();
  }

  void runOnOperation() override {
    for (const std::string &w : warnings)
      getOperation()->emitWarning(w);
    MLIRContext *context = &getContext();
    getOperation()->walk<WalkOrder::PreOrder>([&](Operation *op) {
      bool block = isa<FusedOp>(op);
      if (!block && !isa<LinearOp, MatmulOp, SoftmaxOp, RMSNormOp, LayerNormOp,
                         ElementwiseOpInterface>(op))
        return WalkResult::advance();
      FailureOr<cost::CostEstimate> estimate =
          costModel->estimate({op, {}, threads});
      if (succeeded(estimate)) {
        double us = estimate->seconds * 1e6;
        op->setAttr("quilt.predicted_time_us",
                    FloatAttr::get(Float64Type::get(context), us));
        op->setAttr("quilt.cost_model",
                    StringAttr::get(context, estimate->model));
        if (remarks)
          op->emitRemark() << "predicted " << llvm::formatv("{0:f3}", us).str()
                           << " us (" << estimate->model << " model, "
                           << unsigned(threads) << " threads)";
      }
      // A block is costed as one kernel: its body is not costed apart.
      return block ? WalkResult::skip() : WalkResult::advance();
    });
  }

  std::shared_ptr<cost::CostModel> costModel;
  std::vector<std::string> warnings;
};
} // namespace
