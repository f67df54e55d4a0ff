//===- InitAllPasses.h - Register Quilt's passes and pipelines --*- C++ -*-===//
//
// Registers every pass and pipeline Quilt defines.
//
//===----------------------------------------------------------------------===//

#ifndef QUILT_INITALLPASSES_H
#define QUILT_INITALLPASSES_H

#include "quilt/Conversion/Passes.h"
#include "quilt/Pipelines/Pipelines.h"
#include "quilt/Transforms/Passes.h"

namespace mlir::quilt {

inline void registerAllPasses() {
  registerQuiltTransformsPasses();
  registerQuiltConversionPasses();
  registerPipelines();
}

} // namespace mlir::quilt

#endif // QUILT_INITALLPASSES_H
