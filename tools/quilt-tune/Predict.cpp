//===- Predict.cpp - quilt-tune predict / features ------------------------===//
//
// This file implements two inspection subcommands: `predict` asks a cost
// model, loaded through createCostModel exactly as the passes load it, for
// the time of every sample of a dataset; `features` prints the learned
// model's feature vector of every costed op of a module.
//
//===----------------------------------------------------------------------===//

#include "Tune.h"

#include "mlir/AsmParser/AsmParser.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "quilt/CostModel/AnalyticalModel.h"
#include "quilt/Runtime/JitRunner.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

namespace cl = llvm::cl;
using namespace mlir;
using namespace mlir::quilt::cost;

namespace quilt::tune {

cl::SubCommand &getFeaturesCommand() {
  static cl::SubCommand command("features",
                                "Print the features of a module's ops");
  return command;
}

cl::SubCommand &getPredictCommand() {
  static cl::SubCommand command("predict",
                                "Predicted time (us) of every sample");
  return command;
}

static cl::opt<std::string> modelPath("model", cl::desc("Model file"),
                                      cl::sub(getPredictCommand()));

static cl::opt<std::string> inputFile(cl::Positional, cl::Required,
                                      cl::desc("<input .mlir>"),
                                      cl::sub(getFeaturesCommand()));
static cl::opt<std::string> weightFormat(
    "weight-format",
    cl::desc("Ask about the ops' weights in this !quilt.packed type instead "
             "(CostQuery::weightFormat)"),
    cl::sub(getFeaturesCommand()));
static cl::opt<unsigned> threads("num-threads", cl::init(1),
                                 cl::desc("Threads of the queries"),
                                 cl::sub(getFeaturesCommand()));

int runPredict() {
  auto samples = readDataset(dataPath);
  if (!samples)
    return fail(llvm::toString(samples.takeError()));
  auto context = makeContext();
  CostModelOptions options;
  options.modelPath = modelPath;
  auto model = createCostModel(options, [](const llvm::Twine &message) {
    llvm::errs() << "quilt-tune: warning: " << message << "\n";
  });
  llvm::errs() << "quilt-tune predict: " << model->getName() << " model\n";
  for (const Sample &s : *samples) {
    auto module = parseSourceString<ModuleOp>(s.mlir, context.get());
    std::vector<Operation *> ops =
        module ? getCostedOps(*module) : std::vector<Operation *>();
    if (ops.size() != 1)
      return fail("sample " + s.key + ": expected one costed op");
    FailureOr<CostEstimate> e = model->estimate({ops[0], {}, s.threads});
    if (failed(e))
      return fail("sample " + s.key + ": no estimate");
    llvm::outs() << llvm::format("%.6g\n", e->seconds * 1e6);
  }
  return 0;
}

int runFeatures() {
  auto context = makeContext();
  llvm::SourceMgr sourceMgr;
  SourceMgrDiagnosticHandler handler(sourceMgr, context.get());
  auto module = parseSourceFile<ModuleOp>(inputFile, sourceMgr,
                                          ParserConfig(context.get()));
  if (!module)
    return 1;
  mlir::quilt::PackedType format;
  if (!weightFormat.empty()) {
    format = dyn_cast_or_null<mlir::quilt::PackedType>(
        parseType(weightFormat, context.get()));
    if (!format)
      return fail("--weight-format: not a !quilt.packed type: " + weightFormat);
  }
  TargetDescription target = loadTarget(targetPath, dataPath);
  std::vector<std::string> names = getFeatureNames(/*irTokens=*/true);
  for (Operation *op : getCostedOps(*module)) {
    FailureOr<OpWork> work = analyzeOp({op, format, threads});
    llvm::outs() << op->getName() << " at " << op->getLoc() << ":";
    if (failed(work)) {
      llvm::outs() << " no features\n";
      continue;
    }
    double analytical = estimateRooflineSeconds(*work, target);
    std::vector<float> f = extractFeatures(*work, target, analytical, true);
    for (size_t i = 0; i < f.size(); ++i)
      llvm::outs() << " " << names[i] << "=" << llvm::format("%g", f[i]);
    llvm::outs() << "\n";
  }
  return 0;
}

} // namespace quilt::tune
