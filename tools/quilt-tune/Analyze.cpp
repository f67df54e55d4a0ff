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
#include "quilt/Runtime/JitRunner.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>

using namespace mlir;
using namespace mlir::quilt::cost;

namespace quilt::tune {

//===----------------------------------------------------------------------===//
// Options of several subcommands
//===----------------------------------------------------------------------===//

llvm::cl::opt<std::string> dataPath("data", llvm::cl::desc("Dataset (JSONL)"),
                                    llvm::cl::Required,
                                    llvm::cl::sub(getTrainCommand()),
                                    llvm::cl::sub(getEvalCommand()),
                                    llvm::cl::sub(getPredictCommand()));
llvm::cl::opt<std::string>
    targetPath("target",
               llvm::cl::desc("Calibration (default: target-cpu.json beside "
                              "--data, else models/<this machine type>/)"),
               llvm::cl::sub(getTrainCommand()),
               llvm::cl::sub(getEvalCommand()),
               llvm::cl::sub(getFeaturesCommand()));
llvm::cl::opt<bool>
    noIRTokens("no-ir-tokens",
               llvm::cl::desc("Leave out the IR-token features (ablation)"),
               llvm::cl::sub(getTrainCommand()),
               llvm::cl::sub(getEvalCommand()));
llvm::cl::opt<unsigned> rounds("rounds", llvm::cl::desc("Boosting rounds"),
                               llvm::cl::init(300),
                               llvm::cl::sub(getTrainCommand()),
                               llvm::cl::sub(getEvalCommand()));
llvm::cl::opt<unsigned> maxDepth("max-depth", llvm::cl::desc("Tree depth"),
                                 llvm::cl::init(4),
                                 llvm::cl::sub(getTrainCommand()),
                                 llvm::cl::sub(getEvalCommand()));

llvm::cl::opt<double> learningRate("eta", llvm::cl::desc("Learning rate"),
                                   llvm::cl::init(0.1),
                                   llvm::cl::sub(getTrainCommand()),
                                   llvm::cl::sub(getEvalCommand()));
llvm::cl::opt<double>
    subsample("subsample",
              llvm::cl::desc("Fraction of the samples each tree sees"),
              llvm::cl::init(1.0), llvm::cl::sub(getTrainCommand()),
              llvm::cl::sub(getEvalCommand()));
llvm::cl::opt<double>
    columnSample("colsample",
                 llvm::cl::desc("Fraction of the features each tree sees"),
                 llvm::cl::init(1.0), llvm::cl::sub(getTrainCommand()),
                 llvm::cl::sub(getEvalCommand()));
llvm::cl::opt<double>
    minChildWeight("min-child-weight",
                   llvm::cl::desc("Fewest samples (hessian) in a leaf"),
                   llvm::cl::init(3.0), llvm::cl::sub(getTrainCommand()),
                   llvm::cl::sub(getEvalCommand()));

llvm::cl::opt<std::string>
    objective("objective",
              llvm::cl::desc("XGBoost objective on log(measured / analytical)"),
              llvm::cl::init("reg:squarederror"),
              llvm::cl::sub(getTrainCommand()),
              llvm::cl::sub(getEvalCommand()));

TrainOptions getTrainOptions() {
  TrainOptions options;
  options.rounds = rounds;
  options.maxDepth = maxDepth;
  options.learningRate = learningRate;
  options.subsample = subsample;
  options.columnSample = columnSample;
  options.minChildWeight = minChildWeight;
  options.objective = objective;
  return options;
}

//===----------------------------------------------------------------------===//
// Samples
//===----------------------------------------------------------------------===//

std::unique_ptr<MLIRContext> makeContext() {
  DialectRegistry registry;
  mlir::quilt::runtime::registerRuntimeDependencies(registry);
  return std::make_unique<MLIRContext>(registry);
}

std::vector<Operation *> getCostedOps(Operation *module) {
  std::vector<Operation *> ops;
  module->walk<WalkOrder::PreOrder>([&](Operation *op) {
    if (!isCostedOp(op))
      return WalkResult::advance();
    ops.push_back(op);
    // A block is one kernel: its body is not costed apart.
    return isa<mlir::quilt::FusedOp>(op) ? WalkResult::skip()
                                         : WalkResult::advance();
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

TargetDescription loadTarget(llvm::StringRef targetPath,
                             llvm::StringRef dataPath) {
  // A dataset's own calibration sits beside it (models/<machine>/); else
  // this machine type's.
  std::string file = targetPath.str();
  if (file.empty() && !dataPath.empty()) {
    llvm::SmallString<256> beside = llvm::sys::path::parent_path(dataPath);
    llvm::sys::path::append(beside, "target-cpu.json");
    if (llvm::sys::fs::exists(beside))
      file = beside.str().str();
  }
  if (file.empty())
    file = getDefaultTargetPath();
  if (file.empty()) {
    llvm::errs() << "quilt-tune: warning: no calibration of this machine type "
                    "under models/; using uncalibrated figures\n";
    return getUncalibratedHost();
  }
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
