//===- Tune.h - quilt-tune subcommands --------------------------*- C++ -*-===//
//
// quilt-tune measures this machine and fits the cost model to it; each
// subcommand lives in its own file and registers an llvm::cl::SubCommand.
//
//===----------------------------------------------------------------------===//

#ifndef QUILT_TOOLS_QUILT_TUNE_TUNE_H
#define QUILT_TOOLS_QUILT_TUNE_TUNE_H

#include "quilt/CostModel/LearnedModel.h"
#include "quilt/Runtime/JitRunner.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/JSON.h"

#include <string>
#include <vector>

namespace quilt::tune {

/// A subcommand: its llvm::cl::SubCommand and the function that runs it
/// once its options are parsed (returns the exit status).
struct Command {
  llvm::cl::SubCommand *sub;
  int (*run)();
};

llvm::cl::SubCommand &getCalibrateCommand();
llvm::cl::SubCommand &getCollectCommand();
llvm::cl::SubCommand &getTrainCommand();
llvm::cl::SubCommand &getEvalCommand();
llvm::cl::SubCommand &getFeaturesCommand();
llvm::cl::SubCommand &getPredictCommand();
llvm::cl::SubCommand &getCollectPtxCommand();
llvm::cl::SubCommand &getTrainRegistersCommand();
llvm::cl::SubCommand &getTrainTimingCommand();
int runCalibrate();
int runCollect();
int runTrain();
int runEval();
int runFeatures();
int runPredict();
int runCollectPtx();
int runTrainRegisters();
int runTrainTiming();

/// Options of several subcommands (Analyze.cpp).
extern llvm::cl::opt<std::string> dataPath;      // train, eval, predict
extern llvm::cl::opt<std::string> targetPath;    // train, eval, features
extern llvm::cl::opt<bool> noIRTokens;           // train, eval
extern llvm::cl::opt<unsigned> rounds, maxDepth; // train, eval
extern llvm::cl::opt<double> learningRate, subsample, columnSample,
    minChildWeight; // train, eval

/// The training options the command line gives.
mlir::quilt::cost::TrainOptions getTrainOptions();

/// Prints "quilt-tune: error: MESSAGE" and returns 1.
int fail(const llvm::Twine &message);

/// One measured kernel, a line of the JSONL dataset.
struct Sample {
  std::string key;      // unique: family|format|variant|threads|m
  std::string category; // llm, cnn, odd, attention, elementwise
  std::string family;   // the shape family held out together in eval
  std::string group;    // samples that differ only by weight format
  std::string format;   // short format name ("int4-g32"), "-" without weight
  unsigned threads = 1;
  double medianUs = 0;
  std::string mlir; // the entry function (one op or one quilt.fused block)
  /// The collection pass that measured it (collect --passes); after
  /// readDataset, how many passes its time is the fastest of.
  unsigned pass = 0, passes = 1;
};

/// Reads a JSONL dataset; lines that do not parse are an error naming the
/// line. With `mergePasses`, the lines of one key (one per collection
/// pass) become one sample whose time is the fastest of theirs.
llvm::Expected<std::vector<Sample>> readDataset(llvm::StringRef path,
                                                bool mergePasses = true);
llvm::json::Object sampleToJson(const Sample &sample);

/// A sample with the cost model's view of its op. The work refers to
/// types of the context analyzeSamples was given.
struct AnalyzedSample {
  const Sample *sample;
  mlir::quilt::cost::OpWork work;
  double analyticalSeconds;
};

/// A context that parses any quilt module (the runtime's dialects).
std::unique_ptr<mlir::MLIRContext> makeContext();

/// Parses each sample's entry and analyzes its op (the function's quilt.fused
/// block or its single quilt op) at the sample's thread count.
llvm::Expected<std::vector<AnalyzedSample>>
analyzeSamples(mlir::MLIRContext &context, const std::vector<Sample> &samples,
               const mlir::quilt::cost::TargetDescription &target);

/// The ops of `module` a cost model is asked about: quilt.fused blocks and
/// quilt compute ops outside them.
std::vector<mlir::Operation *> getCostedOps(mlir::Operation *module);

/// The calibration at `path`, else the target-cpu.json beside the dataset
/// `dataPath`, else the one committed for this machine type, else (with a
/// warning) a guess.
mlir::quilt::cost::TargetDescription loadTarget(llvm::StringRef path,
                                                llvm::StringRef dataPath);

/// The feature rows (row-major) and labels log(measured / analytical) of
/// `samples`.
void buildTrainingSet(const std::vector<AnalyzedSample> &samples,
                      const mlir::quilt::cost::TargetDescription &target,
                      bool irTokens, std::vector<float> &rows,
                      std::vector<float> &labels);

/// Fits a learned model to `samples` (train and eval's folds).
llvm::Expected<mlir::quilt::cost::ModelFile>
fitModel(const std::vector<AnalyzedSample> &samples,
         const mlir::quilt::cost::TargetDescription &target, bool irTokens,
         const mlir::quilt::cost::TrainOptions &options);

/// Times `entry` of `jit` as collect does: one warm-up call, then up to
/// `maxRepeats` calls or 50 ms; the median (us) and the number of calls.
llvm::Expected<std::pair<double, unsigned>>
timeEntry(mlir::quilt::runtime::JitModule &jit, llvm::StringRef entry,
          unsigned maxRepeats);

/// The shape family's fold in group k-fold cross-validation (stable hash).
unsigned getFold(llvm::StringRef family, unsigned numFolds);

} // namespace quilt::tune

#endif // QUILT_TOOLS_QUILT_TUNE_TUNE_H
