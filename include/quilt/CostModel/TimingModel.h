//===- TimingModel.h - GPU times of NVPTX kernels ---------------*- C++ -*-===//
//
// The GPU side of the cost model that needs a GPU: how long a generated
// NVPTX GEMM kernel runs, learned from the tiling grid timed on a GPU
// (bench/gpu/make_grid.py, `bench/run gpu`; quilt-tune train-timing). The
// trees predict log2 of the measured time over the kernel's roofline time
// at the typical peaks of its chip, from the register model's tiling
// features plus the problem, the launch's waves and occupancy.
// convert-quilt-to-nvptx asks it to rank the tilings `auto` may pick.
//
//===----------------------------------------------------------------------===//

#ifndef QUILT_COSTMODEL_TIMINGMODEL_H
#define QUILT_COSTMODEL_TIMINGMODEL_H

#include "quilt/CostModel/RegisterModel.h"

#include <map>

namespace mlir::quilt::cost {

/// Peak figures of the usual data-center part of compute capability `sm`
/// (sm_90: H100 SXM). They scale the roofline the trees correct; a part
/// with other figures is learned through the correction.
struct GpuPeaks {
  int64_t multiprocessors;
  double dramBytesPerSecond;
  /// Dense tensor-core throughput on 16-bit and on 8-bit operands.
  double flops16PerSecond, flops8PerSecond;
  int64_t sharedBytesPerMultiprocessor, threadsPerMultiprocessor;
};
GpuPeaks getTypicalGpuPeaks(int64_t sm);

/// What one timing is a sample of, and what a prediction is asked about.
struct NVPTXTimingQuery {
  /// The GEMM kernel, with its problem and launch (m, n, k, ctas,
  /// sharedBytes set).
  NVPTXKernelConfig config;
  /// Registers per thread: ptxas's in the data, the register model's
  /// estimate when choosing a tiling; 0 when unknown.
  int64_t registers = 0;
  /// Other kernels timed with it every call (W8A8's quantizer of x).
  int64_t extraLaunches = 0;
};

/// Bytes the GEMM must move at least: x, the packed weight, the epilogue's
/// operands and y, each once.
double getMinimumBytes(const NVPTXKernelConfig &c);

/// The larger of the DRAM and tensor-core times of the GEMM at its chip's
/// peaks (microseconds).
double getRooflineMicroseconds(const NVPTXKernelConfig &c);

/// CTAs of the kernel that fit on one SM at a time (at least 1).
int64_t getCtasPerMultiprocessor(const NVPTXTimingQuery &query);

/// Feature names of the timing model, in vector order: the register
/// features, then the problem and launch features.
std::vector<std::string> getTimingFeatureNames();
std::vector<float> extractTimingFeatures(const NVPTXTimingQuery &query);

/// The tiling knobs of a kernel (block_m, block_n, block_k, stages, warps_n,
/// split_k, tiles_per_warp, ahead, persistent_ctas, cluster_m) with their
/// values: the search asks the
/// model only about values it has timings of.
std::vector<std::pair<llvm::StringRef, int64_t>>
getTilingKnobs(const NVPTXKernelConfig &config);

/// The kernel's family and form: "wgmma", "wgmma-tma-mbarrier-producer",
/// "int4-bulk", ... (tiling aside, what the pass options choose).
std::string getKernelForm(const NVPTXKernelConfig &config);

/// Bumped whenever the timing features or the file layout change.
constexpr int64_t kTimingModelSchemaVersion = 1;

/// A timing model file (models/nvptx/timing-model-smNN.json).
struct TimingModelFile {
  int64_t schemaVersion = kTimingModelSchemaVersion;
  /// The compute capability the kernels were compiled for (90 for sm_90a)
  /// and the GPU that timed them.
  int64_t sm = 0;
  std::string device;
  /// For each kernel form it has timings of (getKernelForm), the values
  /// of each tiling knob among them: trees say nothing about the others.
  std::map<std::string, std::map<std::string, std::vector<int64_t>>> domain;
  std::vector<std::string> featureNames;
  std::string booster;
  /// Datasets, samples, held-out figures.
  llvm::json::Object training;
};

llvm::Expected<TimingModelFile> readTimingModelFile(llvm::StringRef path);
llvm::Error writeTimingModelFile(llvm::StringRef path,
                                 const TimingModelFile &file);

/// The committed model for compute capability `sm`
/// (models/nvptx/timing-model-sm<sm>.json of the source tree, or of
/// $QUILT_MODELS_DIR), or "" when there is none.
std::string getDefaultTimingModelPath(int64_t sm);

class TimingModel {
public:
  /// Loads `path` ("auto": getDefaultTimingModelPath(sm)); fails with why,
  /// also when the model was trained for another compute capability.
  static llvm::Expected<std::unique_ptr<TimingModel>> load(llvm::StringRef path,
                                                           int64_t sm);
  /// Whether the model was trained on kernels of `family` (in any form).
  bool knows(NVPTXKernelFamily family) const;
  /// Whether it has timings of the form of `config` with each of its knob
  /// values.
  bool covers(const NVPTXKernelConfig &config) const;
  /// Predicted time of the kernel (microseconds).
  double predictMicroseconds(const NVPTXTimingQuery &query) const;
  const TimingModelFile &getFile() const { return file; }

private:
  TimingModel(TimingModelFile file, std::unique_ptr<Booster> booster)
      : file(std::move(file)), booster(std::move(booster)) {}
  TimingModelFile file;
  std::unique_ptr<Booster> booster;
};

} // namespace mlir::quilt::cost

#endif // QUILT_COSTMODEL_TIMINGMODEL_H
