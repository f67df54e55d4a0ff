//===- CPUPipeline.cpp - quilt-cpu-pipeline ---------------------*- C++ -*-===//
//
// This file implements the pipeline that compiles quilt IR to fast x86 code:
// the CPU kernels of convert-quilt-to-cpu, bufferized, threaded with OpenMP
// and lowered to the LLVM dialect with the target's features attached.
//
//===----------------------------------------------------------------------===//

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"
#include "quilt/Conversion/Passes.h"
#include "quilt/Pipelines/Pipelines.h"

#include <algorithm>

using namespace mlir;

namespace {

/// Adds the registered pass `name` with `options`; false when the tool did
/// not register it.
bool addPassByName(OpPassManager &pm, StringRef name, StringRef options) {
  const PassInfo *info = PassInfo::lookup(name);
  if (!info)
    return false;
  (void)info->addToPipeline(pm, options,
                            [](const llvm::Twine &) { return failure(); });
  return true;
}

/// `text` quoted as a pass option value.
std::string quote(StringRef text) { return ("\"" + text + "\"").str(); }

} // namespace

void mlir::quilt::populateCPUPipeline(OpPassManager &pm,
                                      const CPUPipelineOptions &options) {
  // The passes that work on constant weights are found by name: they
  // JIT-compile through this very pipeline, so their libraries depend on
  // this one and cannot be linked from here.
  if (!options.weightsDir.empty())
    addPassByName(pm, "quilt-load-weights", "dir=" + quote(options.weightsDir));
  if (options.raiseLinalg)
    addPassByName(pm, "quilt-raise-linalg", "");
  if (options.selectFormats) {
    std::string select;
    llvm::raw_string_ostream os(select);
    os << "error-budget=" << options.errorBudget
       << " objective=" << options.objective << " threads=" << options.threads
       << " explain=" << (options.explain ? "true" : "false")
       << " store-packed=" << (options.packWeights ? "true" : "false");
    if (!options.costModel.empty())
      os << " model=" << quote(options.costModel);
    if (!options.calibration.empty())
      os << " calibration=" << quote(options.calibration);
    if (!options.formats.empty()) {
      std::string list = options.formats;
      std::replace(list.begin(), list.end(), '+', ',');
      os << " formats=" << list;
    }
    addPassByName(pm, "quilt-select-formats", select);
  }
  if (options.fuseBlocks) {
    std::string fuse;
    if (!options.costModel.empty())
      fuse = "cost-model=" + quote(options.costModel) +
             " threads=" + std::to_string(options.threads);
    addPassByName(pm, "quilt-fuse-blocks", fuse);
  }
  if (options.packWeights)
    addPassByName(pm, "quilt-pack-weights",
                  ("threads=" + llvm::Twine(options.threads)).str());
  ConvertQuiltToCPUOptions cpu;
  cpu.cpuFeatures = options.cpuFeatures;
  cpu.threads = options.threads;
  cpu.bf16Dot = options.bf16Dot;
  pm.addPass(createConvertQuiltToCPU(cpu));
  addBufferizationPasses(pm);
  pm.addPass(createQuiltInlineIntrinsicCalls());
  pm.addPass(createConvertLinalgToLoopsPass());
  if (options.threads > 1) {
    ConvertSCFToOpenMPPassOptions openmp;
    openmp.numThreads = options.threads;
    pm.addPass(createConvertSCFToOpenMPPass(openmp));
  }
  if (!options.lowerToLLVM)
    return;

  // Entries that return an argument or a constant copy it (bufferization
  // .clone); lower that first.
  pm.addPass(createConvertBufferizationToMemRefPass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  // Memrefs before scf: scf-to-openmp wraps each parallel body in a
  // single-block memref.alloca_scope, which scf-to-cf would split.
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  pm.addPass(createSCFToControlFlowPass());
  ConvertVectorToLLVMPassOptions vector;
  vector.x86Vector = true;
  pm.addPass(createConvertVectorToLLVMPass(vector));
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createConvertMathToLibmPass());
  if (options.threads > 1)
    pm.addPass(createConvertOpenMPToLLVMPass());
  pm.addPass(createConvertToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
  QuiltAnnotateCPUTargetOptions annotate;
  annotate.cpuFeatures = options.cpuFeatures;
  pm.addPass(createQuiltAnnotateCPUTarget(annotate));
}
