//===- quilt-tune.cpp - Measure this machine, fit the cost model -*- C++
//-*-===//
//
// quilt-tune SUBCOMMAND [options]: calibrate (peak FLOP/s and bandwidths to a
// target JSON), collect (time kernels into a JSONL dataset), train (fit the
// learned cost model), eval (held-out accuracy and decision regret), predict
// (a model's times of a dataset), features (the features of a module's
// ops), and for NVPTX kernels collect-ptx (ptxas -v's registers over a grid
// of tilings), train-registers (fit the register model to them) and
// train-timing (fit the timing model to the tiling grid timed on a GPU).
//
//===----------------------------------------------------------------------===//

#include "Tune.h"

#include "quilt/InitAllPasses.h"

#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/raw_ostream.h"

using namespace quilt::tune;

int main(int argc, char **argv) {
  llvm::InitLLVM y(argc, argv);
  // The CPU pipeline finds quilt-pack-weights by name, as in quilt-run.
  mlir::quilt::registerAllPasses();
  const Command commands[] = {
      {&getCalibrateCommand(), runCalibrate},
      {&getCollectCommand(), runCollect},
      {&getTrainCommand(), runTrain},
      {&getEvalCommand(), runEval},
      {&getPredictCommand(), runPredict},
      {&getFeaturesCommand(), runFeatures},
      {&getCollectPtxCommand(), runCollectPtx},
      {&getTrainRegistersCommand(), runTrainRegisters},
      {&getTrainTimingCommand(), runTrainTiming},
  };
  llvm::cl::ParseCommandLineOptions(argc, argv,
                                    "quilt-tune: measure this machine and fit "
                                    "the Quilt cost model\n");
  for (const Command &c : commands)
    if (*c.sub)
      return c.run();
  return fail("expected a subcommand (see --help)");
}
