//===- ReferencePipeline.cpp - quilt-reference-pipeline ---------*- C++ -*-===//
//
// This file implements the pipeline that takes quilt IR, through its
// reference meaning on dense f32, down to the LLVM dialect.
//
//===----------------------------------------------------------------------===//

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Dialect/SCF/Transforms/Passes.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"
#include "quilt/Conversion/Passes.h"
#include "quilt/Pipelines/Pipelines.h"

using namespace mlir;

void mlir::quilt::addBufferizationPasses(OpPassManager &pm) {
  // Lets tests and examples use arith/math directly on tensors.
  pm.addPass(createConvertElementwiseToLinalgPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  bufferization::OneShotBufferizePassOptions bufferize;
  bufferize.bufferizeFunctionBoundaries = true;
  bufferize.functionBoundaryTypeConversion =
      bufferization::LayoutMapOption::IdentityLayoutMap;
  pm.addPass(bufferization::createOneShotBufferizePass(bufferize));
  // Bufferized scf.forall (batched matmuls on several threads) as the
  // scf.parallel that scf-to-openmp threads.
  pm.addPass(createForallToParallelLoopPass());
  bufferization::buildBufferDeallocationPipeline(pm);
}

void mlir::quilt::populateReferencePipeline(
    OpPassManager &pm, const ReferencePipelineOptions &options) {
  pm.addPass(createConvertQuiltToLinalg());
  addBufferizationPasses(pm);
  pm.addPass(createConvertLinalgToLoopsPass());
  if (!options.lowerToLLVM)
    return;

  // Deallocation clones the results it does not own (returned arguments and
  // constants): clone becomes alloc + copy.
  pm.addPass(createConvertBufferizationToMemRefPass());
  // expand-strided-metadata emits affine.apply, so lower affine after it.
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createSCFToControlFlowPass());
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  // Math ops with LLVM intrinsics first; the rest (erf) become libm calls.
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createConvertMathToLibmPass());
  pm.addPass(createConvertToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
}
