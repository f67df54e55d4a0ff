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

/// Options of `quilt-nvptx-pipeline`.
struct NVPTXPipelineOptions : public PassPipelineOptions<NVPTXPipelineOptions> {
  Option<std::string> chip{
      *this, "chip", llvm::cl::desc("GPU to compile for (sm_80, sm_90a, ...)"),
      llvm::cl::init("sm_90a")};
  Option<std::string> tiles{
      *this, "tiles",
      llvm::cl::desc("CTA tile MxNxK of every linear, or `auto`"),
      llvm::cl::init("auto")};
  Option<std::string> warps{*this, "warps",
                            llvm::cl::desc("Warps per CTA as MxN, or `auto`"),
                            llvm::cl::init("auto")};
  Option<unsigned> stages{*this, "stages",
                          llvm::cl::desc("cp.async pipeline depth (0: auto)"),
                          llvm::cl::init(0)};
  Option<std::string> mma{
      *this, "mma",
      llvm::cl::desc(
          "Dense 16-bit and W8A8 linears on `sync` (mma.sync) or `wgmma` "
          "(sm_90a) tensor cores"),
      llvm::cl::init("sync")};
  Option<unsigned> wgmmaInFlight{
      *this, "wgmma-in-flight",
      llvm::cl::desc("wgmma batches left running per K slice (0 or 1)"),
      llvm::cl::init(0)};
  Option<bool> tma{
      *this, "tma",
      llvm::cl::desc("With mma=wgmma: stages filled by TMA, not cp.async"),
      llvm::cl::init(false)};
  Option<std::string> tmaRelease{
      *this, "tma-release",
      llvm::cl::desc("With tma: stages freed by a CTA `barrier` per K slice "
                     "or by per-stage `mbarrier`s"),
      llvm::cl::init("barrier")};
  Option<std::string> tmaProducer{
      *this, "tma-producer",
      llvm::cl::desc("With tma-release=mbarrier: loads issued by consumer "
                     "`thread` 0 or a producer `warpgroup`"),
      llvm::cl::init("thread")};
  Option<unsigned> persistentCtas{
      *this, "persistent-ctas",
      llvm::cl::desc("With tma-producer=warpgroup: at most this many CTAs, "
                     "each looping over output tiles (0: one per tile)"),
      llvm::cl::init(0)};
  Option<bool> setmaxnreg{
      *this, "setmaxnreg",
      llvm::cl::desc("With tma-producer=warpgroup: move the producer's "
                     "registers to the consumers (setmaxnreg)"),
      llvm::cl::init(true)};
  Option<unsigned> cluster{
      *this, "cluster",
      llvm::cl::desc("With tma-release=mbarrier: CTAs per cluster along M "
                     "(1, 2 or 4) sharing W^T slices by TMA multicast"),
      llvm::cl::init(1)};
  Option<std::string> int4Load{
      *this, "int4-load",
      llvm::cl::desc("How int4 GEMM warps read their weights: `direct` "
                     "(16-byte loads into registers) or `bulk` (sm_90: "
                     "cp.async.bulk into a shared-memory ring per warp)"),
      llvm::cl::init("direct")};
  Option<std::string> outputDir{
      *this, "output-dir",
      llvm::cl::desc("Write kernels.ptx and one manifest per entry here"),
      llvm::cl::init("")};
  Option<std::string> registerModel{
      *this, "register-model",
      llvm::cl::desc("Register model vetting the tilings: a file, `auto` "
                     "(models/nvptx/register-model.json) or `none`"),
      llvm::cl::init("auto")};
  Option<std::string> timingModel{
      *this, "timing-model",
      llvm::cl::desc("GPU timing model ranking the tilings `auto` may pick: "
                     "a file, `auto` (models/nvptx/timing-model-smNN.json "
                     "of the chip) or `none`"),
      llvm::cl::init("auto")};
  Option<std::string> ptxas{
      *this, "ptxas",
      llvm::cl::desc("Record ptxas -v's registers and spills in the "
                     "manifests: a path, `auto`, or empty (off)"),
      llvm::cl::init("")};
};

/// convert-quilt-to-nvptx, the kernels lowered to NVVM and compiled to PTX
/// by LLVM's NVPTX backend (gpu-module-to-binary, format isa), then
/// exported with quilt-export-nvptx.
void populateNVPTXPipeline(OpPassManager &pm,
                           const NVPTXPipelineOptions &options);

/// Options of `quilt-cpu-pipeline`.
struct CPUPipelineOptions : public PassPipelineOptions<CPUPipelineOptions> {
  Option<std::string> cpuFeatures{
      *this, "cpu-features",
      llvm::cl::desc("Target features: `host` (detect the running CPU) or a "
                     "comma list of LLVM features, e.g. "
                     "`+avx512f,+avx512bw,+avx512vnni,+avx512bf16`"),
      llvm::cl::init("host")};
  Option<unsigned> threads{
      *this, "threads",
      llvm::cl::desc("Threads the kernels split their columns over (OpenMP "
                     "when more than 1)"),
      llvm::cl::init(1)};
  Option<bool> bf16Dot{
      *this, "bf16-dot",
      llvm::cl::desc("Multiply bf16 x bf16 with vdpbf16ps instead of FMAs on "
                     "widened bf16 (see convert-quilt-to-cpu)"),
      llvm::cl::init(false)};
  Option<bool> lowerToLLVM{
      *this, "lower-to-llvm",
      llvm::cl::desc("Lower all the way to the LLVM dialect (otherwise stop "
                     "after bufferization, on scf/vector ops over memrefs)"),
      llvm::cl::init(true)};
  Option<bool> packWeights{
      *this, "pack-weights",
      llvm::cl::desc("Pack constant weights at compile time "
                     "(quilt-pack-weights; applies where that pass is "
                     "registered: quilt-opt, quilt-run, the plugin)"),
      llvm::cl::init(true)};
  Option<std::string> weightsDir{
      *this, "weights-dir",
      llvm::cl::desc("Run quilt-load-weights first, reading the .npy files "
                     "arguments name (`quilt.weight`) from this directory"),
      llvm::cl::init("")};
  Option<bool> raiseLinalg{
      *this, "raise-linalg",
      llvm::cl::desc("Raise linalg matmul/element-wise ops to quilt ops "
                     "first (quilt-raise-linalg)"),
      llvm::cl::init(false)};
  Option<bool> selectFormats{
      *this, "select-formats",
      llvm::cl::desc("Choose the formats of constant weights "
                     "(quilt-select-formats) before packing them"),
      llvm::cl::init(false)};
  Option<double> errorBudget{
      *this, "error-budget",
      llvm::cl::desc("quilt-select-formats' error-budget"),
      llvm::cl::init(0.01)};
  Option<std::string> objective{
      *this, "objective",
      llvm::cl::desc("quilt-select-formats' objective (latency or size)"),
      llvm::cl::init("latency")};
  Option<std::string> formats{
      *this, "formats",
      llvm::cl::desc("quilt-select-formats' allowed formats, separated by "
                     "`+` (e.g. `i8+nm24`; empty: all)"),
      llvm::cl::init("")};
  Option<std::string> costModel{
      *this, "cost-model",
      llvm::cl::desc("quilt-select-formats' learned model file (`auto`: "
                     "the one committed for this machine type; empty: the "
                     "analytical model); quilt-fuse-blocks consults it too "
                     "when given"),
      llvm::cl::init("")};
  Option<std::string> calibration{
      *this, "calibration",
      llvm::cl::desc("quilt-select-formats' calibration input (.npy)"),
      llvm::cl::init("")};
  Option<bool> explain{
      *this, "explain",
      llvm::cl::desc("quilt-select-formats prints its per-layer table"),
      llvm::cl::init(false)};
  Option<bool> fuseBlocks{
      *this, "fuse-blocks",
      llvm::cl::desc("Group ops into quilt.fused blocks after format "
                     "selection (quilt-fuse-blocks, where registered)"),
      llvm::cl::init(false)};
};

/// quilt IR -> tiled, vectorized x86 kernels (convert-quilt-to-cpu) ->
/// bufferized loops -> OpenMP -> LLVM dialect with x86 intrinsics.
void populateCPUPipeline(OpPassManager &pm, const CPUPipelineOptions &options);

/// The tensor-to-buffer part both pipelines share: element-wise arith/math
/// on tensors to linalg, cleanup, one-shot bufferization across function
/// boundaries with identity layouts (kernels take and return tensors of
/// any shape), and ownership-based deallocation.
void addBufferizationPasses(OpPassManager &pm);

/// Registers every Quilt pipeline under its name.
void registerPipelines();

} // namespace mlir::quilt

#endif // QUILT_PIPELINES_PIPELINES_H
