//===- RegisterModel.h - Registers and spills of NVPTX kernels --*- C++ -*-===//
//
// The GPU side of the cost model that needs no GPU: how many registers a
// generated NVPTX kernel takes and whether it spills, learned from what
// `ptxas -v` reports for kernels of many tilings (quilt-tune collect-ptx,
// train-registers). convert-quilt-to-nvptx asks it before committing to a
// tiling; ptxas itself is needed only to collect the data.
//
//===----------------------------------------------------------------------===//

#ifndef QUILT_COSTMODEL_REGISTERMODEL_H
#define QUILT_COSTMODEL_REGISTERMODEL_H

#include "quilt/CostModel/LearnedModel.h"

#include "llvm/ADT/StringMap.h"

namespace mlir::quilt::cost {

/// The kernel families of convert-quilt-to-nvptx. Int8 is the dense
/// kernel on int8 operands (blockK counts int8 values); Wgmma the dense
/// 16-bit GEMM on sm_90a's warpgroup MMA.
enum class NVPTXKernelFamily { Dense, Sparse24, Int4, Int8, Wgmma };

/// "dense", "sparse24", "int4", "int8" or "wgmma" (the configs' `family`).
llvm::StringRef getFamilyName(NVPTXKernelFamily family);

/// What decides a generated GEMM kernel's registers: its family, chip,
/// tiling (dense, int8 and 2:4: the CTA tile, warp grid and cp.async
/// stages; int4: rows of x, 16-column tiles per warp, warps side by side
/// (warpsN) and splitting K, K blocks loaded ahead) and fused epilogue.
/// The most registers ptxas gives each thread of a CTA of `threads`
/// threads (16K per quarter of the SM, which holds every fourth warp,
/// allocated in multiples of 8; at most 255).
int64_t getRegisterCap(int64_t threads);

struct NVPTXKernelConfig {
  NVPTXKernelFamily family = NVPTXKernelFamily::Dense;
  int64_t sm = 80;
  int64_t blockM = 0, blockN = 0, blockK = 0, warpsM = 1, warpsN = 1,
          stages = 0;
  int64_t rows = 0, tilesPerWarp = 0, splitK = 1, ahead = 0;
  /// int4: the 64-deep K blocks each warp streams, all unrolled (0 in
  /// records from before it was kept).
  int64_t blocksPerWarp = 0;
  bool bias = false, residual = false;
  /// wgmma: stages filled by TMA rather than cp.async, and freed by
  /// mbarriers rather than a CTA barrier.
  bool tma = false, mbarrierRelease = false;
  /// wgmma with TMA: a producer warpgroup (128 threads) beside the warps.
  bool producerWarpgroup = false;
  /// wgmma with a producer warpgroup: CTAs looping over the output tiles
  /// (0: one CTA per tile). Recorded, not a feature: no data yet.
  int64_t persistentCtas = 0;
  /// wgmma with per-stage mbarriers: CTAs per cluster sharing W^T by TMA
  /// multicast (1: none). Recorded, not a feature.
  int64_t clusterM = 1;
  /// wgmma with a producer warpgroup: the registers setmaxnreg gives each
  /// consumer thread (0: none). ptxas reports the launch's count, which it
  /// caps; the consumers' code may use this many. Recorded, not a feature.
  int64_t consumerRegisters = 0;
  /// nvptx::Activation: 0 none, 1 relu, 2 silu, 3 gelu (erf), 4 gelu (tanh).
  int64_t activation = 0;
  int64_t outputBits = 16;
  /// Bits of a weight value: 16, 8 (int8 and int8 wgmma: blockK counts
  /// int8 values) or 4.
  int64_t operandBits = 16;
  /// The GEMM (m rows of x, n outputs, k deep) and its launch: CTAs and
  /// dynamic shared memory per CTA. Recorded for the timing model, not
  /// register features (0 in records from before they were kept).
  int64_t m = 0, n = 0, k = 0, ctas = 0, sharedBytes = 0;

  int64_t getThreads() const;
  /// The most registers ptxas gives a thread of a CTA of getThreads()
  /// threads (255, fewer once 64K registers run out).
  int64_t getRegisterCap() const;
  /// The registers the threads that hold the accumulators can have:
  /// consumerRegisters where set, else getRegisterCap().
  int64_t getAccumulatorRegisterCap() const;
  llvm::json::Object toJson() const;
  static llvm::Expected<NVPTXKernelConfig> fromJson(const llvm::json::Value &v);
};

/// One entry function's line of `ptxas -v`.
struct KernelResources {
  int64_t registers = 0, stackBytes = 0, spillStoreBytes = 0,
          spillLoadBytes = 0;
  /// Any local memory at all.
  bool usesLocalMemory() const {
    return stackBytes || spillStoreBytes || spillLoadBytes;
  }
  /// Register pressure spilled to local memory. ptxas sometimes keeps 8-16
  /// bytes on the stack of kernels far below the register cap; no tiling
  /// feature predicts those few values, so they do not count.
  bool spills() const {
    return std::max(stackBytes, spillStoreBytes) >= kMinSpillBytes;
  }
  static constexpr int64_t kMinSpillBytes = 64;
};

/// The resources of every entry function in ptxas -v's report.
llvm::StringMap<KernelResources> parsePtxasReport(llvm::StringRef report);

/// ptxas on PATH, else under /usr/local/cuda/bin; "" when neither.
std::string findPtxas();

/// Assembles `ptxPath` for `chip` with `ptxas -v`; returns its report.
llvm::Expected<llvm::StringMap<KernelResources>>
runPtxas(llvm::StringRef ptxas, llvm::StringRef ptxPath, llvm::StringRef chip);

/// The version `ptxas --version` names, e.g. "V13.0.88".
llvm::Expected<std::string> getPtxasVersion(llvm::StringRef ptxas);

/// Feature names of the register model, in vector order.
std::vector<std::string> getRegisterFeatureNames();
std::vector<float> extractRegisterFeatures(const NVPTXKernelConfig &config);

/// What the trees learn: the registers a kernel would need. Without spills,
/// those it got; with them, one more per 4 bytes of stack frame (what did
/// not fit), clamped to 16-64 above `cap` so that "spills" is exactly
/// "demand over the cap" (ptxas may hand out fewer registers than the cap
/// once it spills) and far spills do not swamp the fit.
double getRegisterDemand(const KernelResources &resources, int64_t cap);

/// Bumped whenever the register features or the file layout change.
constexpr int64_t kRegisterModelSchemaVersion = 2;

/// A register model file (models/nvptx/register-model.json).
struct RegisterModelFile {
  int64_t schemaVersion = kRegisterModelSchemaVersion;
  std::vector<std::string> featureNames;
  std::string booster;
  /// ptxas version, dataset, samples, held-out accuracy.
  llvm::json::Object training;
};

llvm::Expected<RegisterModelFile> readRegisterModelFile(llvm::StringRef path);

/// The JSON object of an NVPTX model file of `kind` ("nvptx-registers",
/// "nvptx-timing") at `schemaVersion`; errors name the file and the
/// `model` ("register model", "timing model").
llvm::Expected<llvm::json::Object> readModelObject(llvm::StringRef path,
                                                   llvm::StringRef kind,
                                                   int64_t schemaVersion,
                                                   llvm::StringRef model);
llvm::Error writeRegisterModelFile(llvm::StringRef path,
                                   const RegisterModelFile &file);

/// The committed model (models/nvptx/register-model.json of the source
/// tree, or of $QUILT_MODELS_DIR), or "" when there is none.
std::string getDefaultRegisterModelPath();

/// A prediction for one kernel.
struct RegisterEstimate {
  double demand = 0;     // registers it would need
  int64_t registers = 0; // what it gets: demand capped
  bool spills = false;   // demand over the cap
  int64_t cap = 0;       // registers a thread can have
};

class RegisterModel {
public:
  /// Loads `path` ("auto": getDefaultRegisterModelPath()); fails with why.
  static llvm::Expected<std::unique_ptr<RegisterModel>>
  load(llvm::StringRef path);
  RegisterEstimate estimate(const NVPTXKernelConfig &config) const;

private:
  explicit RegisterModel(std::unique_ptr<Booster> booster)
      : booster(std::move(booster)) {}
  std::unique_ptr<Booster> booster;
};

} // namespace mlir::quilt::cost

#endif // QUILT_COSTMODEL_REGISTERMODEL_H
