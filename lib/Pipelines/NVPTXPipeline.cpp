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
#include "llvm/ADT/StringExtras.h"

using namespace mlir;

/// The PTX ISA the kernels are emitted in: the first that has the chip
/// (LLVM refuses older ones), and at least 7.1, the first with the sparse
/// mma.sp on Ampere.
static std::string getPtxFeature(StringRef chip, bool tma) {
  unsigned sm = 0;
  chip.drop_front(3).take_while(llvm::isDigit).getAsInteger(10, sm);
  unsigned ptx = 71;
  if (sm >= 120)
    ptx = 87;
  else if (sm >= 100)
    ptx = 86;
  else if (sm >= 90)
    ptx = tma ? 83 : 80; // sm_90a needs 8.0; the tensormap fence 8.3
  else if (sm >= 89)
    ptx = 78;
  else if (sm >= 87)
    ptx = 74;
  return "+ptx" + std::to_string(ptx);
}

void mlir::quilt::populateNVPTXPipeline(OpPassManager &pm,
                                        const NVPTXPipelineOptions &options) {
  ConvertQuiltToNVPTXOptions convert;
  convert.chip = options.chip;
  convert.tiles = options.tiles;
  convert.warps = options.warps;
  convert.stages = options.stages;
  convert.mma = options.mma;
  convert.wgmmaInFlight = options.wgmmaInFlight;
  convert.tma = options.tma;
  convert.tmaRelease = options.tmaRelease;
  convert.tmaProducer = options.tmaProducer;
  convert.persistentCtas = options.persistentCtas;
  convert.cluster = options.cluster;
  convert.int4Load = options.int4Load;
  convert.setmaxnreg = options.setmaxnreg;
  convert.registerModelPath = options.registerModel;
  convert.timingModelPath = options.timingModel;
  pm.addPass(createConvertQuiltToNVPTX(convert));

  GpuNVVMAttachTargetOptions target;
  target.chip = options.chip;
  target.features = getPtxFeature(options.chip, options.tma);
  target.optLevel = 3;
  pm.addPass(createGpuNVVMAttachTarget(target));

  OpPassManager &kernels = pm.nest<gpu::GPUModuleOp>();
  kernels.addPass(createSCFToControlFlowPass());
  ConvertGpuOpsToNVVMOpsOptions nvvm;
  // Every kernel argument is one pointer, as the manifest describes.
  nvvm.useBarePtrCallConv = true;
  kernels.addPass(createConvertGpuOpsToNVVMOps(nvvm));
  // NVVM ops without an LLVM intrinsic (wgmma) become their inline PTX.
  kernels.addPass(createConvertNVVMToLLVMPass());
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
