//===- Pipelines.h - Quilt pass pipelines -----------------------*- C++ -*-===//
//
// Declares Quilt's registered pass pipelines.
//
//===----------------------------------------------------------------------===//

#ifndef QUILT_PIPELINES_PIPELINES_H
#define QUILT_PIPELINES_PIPELINES_H

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"

namespace mlir::quilt {

/// Options of `quilt-reference-pipeline`.
struct ReferencePipelineOptions
    : public PassPipelineOptions<ReferencePipelineOptions> {
  Option<bool> lowerToLLVM{
      *this, "lower-to-llvm",
      llvm::cl::desc("Lower all the way to the LLVM dialect (otherwise stop "
                     "after bufferization, on scf loops over memrefs)"),
      llvm::cl::init(true)};
};

/// quilt IR -> reference linalg on dense f32 -> bufferized loops -> LLVM
/// dialect, ready for mlir-runner or quilt-run.
void populateReferencePipeline(OpPassManager &pm,
                               const ReferencePipelineOptions &options);

/// Registers every Quilt pipeline under its name.
void registerPipelines();

} // namespace mlir::quilt

#endif // QUILT_PIPELINES_PIPELINES_H
