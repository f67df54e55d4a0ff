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

using namespace mlir;

void mlir::quilt::populateCPUPipeline(OpPassManager &pm,
                                      const CPUPipelineOptions &options) {
  // By name: quilt-pack-weights JIT-compiles through this very pipeline, so
  // its library depends on this one and cannot be linked from here.
  if (options.packWeights)
    if (const PassInfo *packWeights = PassInfo::lookup("quilt-pack-weights"))
      (void)packWeights->addToPipeline(
          pm, ("threads=" + llvm::Twine(options.threads)).str(),
          [](const llvm::Twine &) { return failure(); });
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
