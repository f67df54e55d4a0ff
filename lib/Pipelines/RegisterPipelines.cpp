//===- RegisterPipelines.cpp - Quilt's named pipelines ----------*- C++ -*-===//
//
// Registers the pipelines under the names quilt-opt, the plugin and
// quilt-run use.
//
//===----------------------------------------------------------------------===//

#include "mlir/Pass/PassRegistry.h"
#include "quilt/Pipelines/Pipelines.h"

using namespace mlir;

void mlir::quilt::registerPipelines() {
  PassPipelineRegistration<ReferencePipelineOptions>(
      "quilt-reference-pipeline",
      "Lower quilt IR through its reference meaning (dense f32 linalg) to "
      "the LLVM dialect, for mlir-runner or quilt-run",
      populateReferencePipeline);
  PassPipelineRegistration<CPUPipelineOptions>(
      "quilt-cpu-pipeline",
      "Compile quilt IR to tiled, vectorized, multi-threaded x86 code (the "
      "LLVM dialect, for quilt-run or mlir-runner)",
      populateCPUPipeline);
  PassPipelineRegistration<NVPTXPipelineOptions>(
      "quilt-nvptx-pipeline",
      "Compile quilt linears to tensor-core PTX kernels and a launch "
      "manifest, for quilt-cuda-run",
      populateNVPTXPipeline);
}
