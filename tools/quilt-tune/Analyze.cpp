//===- Analyze.cpp - The cost model's view of dataset samples -------------===//
//
// This file implements what train, eval and features share: finding the op
// of an entry, analyzing it with the cost model's feature code (the same
// code the passes run), loading the calibration, and the family folds.
//
//===----------------------------------------------------------------------===//

#include "Tune.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "quilt/CostModel/AnalyticalModel.h"
#include "quilt/Dialect/Quilt/QuiltOps.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>

using namespace mlir;
using namespace mlir::quilt::cost;

namespace quilt::tune {

std::vector<Operation *> getCostedOps(Operation *module) {
  std::vector<Operation *> ops;
  module->walk<WalkOrder::PreOrder>([&](Operation *op) {
    if (isa<mlir::quilt::FusedOp>(op)) {
      ops.push_back(op);
      return WalkResult::skip();
    }
    if (isa<mlir::quilt::LinearOp, mlir::quilt::MatmulOp,
            mlir::quilt::SoftmaxOp, mlir::quilt::RMSNormOp,
            mlir::quilt::LayerNormOp, mlir::quilt::ElementwiseOpInterface>(op))
      ops.push_back(op);
    return WalkResult::advance();
  });
  return ops;
}

llvm::Expected<std::vector<AnalyzedSample>>
analyzeSamples(MLIRContext &context, const std::vector<Sample> &samples,
               const TargetDescription &target) {
  std::vector<AnalyzedSample> out;
  std::string diagnostics;
  ScopedDiagnosticHandler handler(&context, [&](Diagnostic &d) {
    diagnostics += d.str() + "\n";
    return success();
  });
  for (const Sample &s : samples) {
    auto fail = [&](const llvm::Twine &why) {
      return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                     "sample " + s.key + ": " + why);
    };
    // OpWork keeps types, which the context owns, not the module.
    OwningOpRef<ModuleOp> module =
        parseSourceString<ModuleOp>(s.mlir, &context);
    if (!module)
      return fail("does not parse: " + diagnostics);
    std::vector<Operation *> ops = getCostedOps(*module);
    if (ops.size() != 1)
      return fail("expected one costed op, found " + llvm::Twine(ops.size()));
    FailureOr<OpWork> work = analyzeOp({ops[0], {}, s.threads});
    if (failed(work))
      return fail("the cost model cannot analyze its op");
    out.push_back({&s, *work, estimateRooflineSeconds(*work, target)});
  }
  return out;
}

TargetDescription loadTarget(llvm::StringRef path) {
  std::string file = path.empty() ? getDefaultTargetPath() : path.str();
  auto target = readTargetDescription(file);
  if (target)
    return *target;
  llvm::errs() << "quilt-tune: warning: " << llvm::toString(target.takeError())
               << "; using uncalibrated figures\n";
  return getUncalibratedHost();
}

void buildTrainingSet(const std::vector<AnalyzedSample> &samples,
                      const TargetDescription &target, bool irTokens,
                      std::vector<float> &rows, std::vector<float> &labels) {
  for (const AnalyzedSample &a : samples) {
    std::vector<float> f =
        extractFeatures(a.work, target, a.analyticalSeconds, irTokens);
    rows.insert(rows.end(), f.begin(), f.end());
    labels.push_back(
        float(std::log(a.sample->medianUs * 1e-6 / a.analyticalSeconds)));
  }
}

unsigned getFold(llvm::StringRef family, unsigned numFolds) {
  return getStableHash(family) % numFolds;
}

} // namespace quilt::tune
