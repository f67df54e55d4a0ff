//===- NVPTXPipeline.cpp - quilt-nvptx-pipeline -----------------*- C++ -*-===//
//
// Compiles quilt IR to PTX: Quilt's kernels (NVVM dialect), lowered inside
// the gpu.module to the LLVM dialect and handed to LLVM's NVPTX backend.
//
//===----------------------------------------------------------------------===//

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/LLVMIR/Transforms/Passes.h"
#include "mlir/Transforms/Passes.h"
#include "quilt/Conversion/Passes.h"
#include "quilt/Pipelines/Pipelines.h"

using namespace mlir;

void mlir::quilt::populateNVPTXPipeline(OpPassManager &pm,
                                        const NVPTXPipelineOptions &options) {
  ConvertQuiltToNVPTXOptions convert;
  convert.chip = options.chip;
  convert.tiles = options.tiles;
  convert.warps = options.warps;
  convert.stages = options.stages;
  convert.registerModelPath = options.registerModel;
  pm.addPass(createConvertQuiltToNVPTX(convert));

  GpuNVVMAttachTargetOptions target;
  target.chip = options.chip;
  // PTX 8.0 is the first ISA with sm_90a; 7.0 suffices for Ampere.
  target.features = StringRef(options.chip.getValue()).starts_with("sm_9")
                        ? "+ptx80"
                        : "+ptx70";
  target.optLevel = 3;
  pm.addPass(createGpuNVVMAttachTarget(target));

  OpPassManager &kernels = pm.nest<gpu::GPUModuleOp>();
  kernels.addPass(createSCFToControlFlowPass());
  ConvertGpuOpsToNVVMOpsOptions nvvm;
  // Every kernel argument is one pointer, as the manifest describes.
  nvvm.useBarePtrCallConv = true;
  kernels.addPass(createConvertGpuOpsToNVVMOps(nvvm));
  kernels.addPass(createCanonicalizerPass());
  kernels.addPass(createCSEPass());
  kernels.addPass(createReconcileUnrealizedCastsPass());

  GpuModuleToBinaryPassOptions binary;
  binary.compilationTarget = "isa";
  pm.addPass(createGpuModuleToBinaryPass(binary));
  QuiltExportNVPTXOptions exportOptions;
  exportOptions.outputDir = options.outputDir;
  exportOptions.ptxas = options.ptxas;
  pm.addPass(createQuiltExportNVPTX(exportOptions));
}
