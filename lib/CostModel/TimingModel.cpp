//===- TimingModel.cpp - GPU times of NVPTX kernels -----------------------===//
//
// Trees over a kernel's tiling, problem and launch predict how far its
// time lies above the roofline of its chip. The roofline carries the
// problem's scale, so the trees learn what tiling choices cost (waves left
// partly empty, too few CTAs per SM, operand traffic from L2, pipeline
// depth) rather than how big a GEMM is; that is what lets a model timed on
// a few bench shapes rank the tilings of others.
//
//===----------------------------------------------------------------------===//

#include "quilt/CostModel/TimingModel.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>

using namespace llvm;

namespace mlir::quilt::cost {

static Error bad(const Twine &why) {
  return createStringError(inconvertibleErrorCode(), why);
}

GpuPeaks getTypicalGpuPeaks(int64_t sm) {
  // Vendor figures of dense tensor-core math (no sparsity) and HBM/GDDR.
  if (sm >= 100) // B200
    return {148, 8.0e12, 2250e12, 4500e12, 228 * 1024, 2048};
  if (sm >= 90) // H100 SXM (H200: same SMs and math, 4.8 TB/s)
    return {132, 3.35e12, 989e12, 1979e12, 228 * 1024, 2048};
  if (sm >= 89) // L40S
    return {142, 0.864e12, 362e12, 733e12, 100 * 1024, 1536};
  if (sm >= 86) // A40
    return {84, 0.696e12, 150e12, 299e12, 100 * 1024, 1536};
  return {108, 2.039e12, 312e12, 624e12, 164 * 1024, 2048}; // A100 SXM
}

double getMinimumBytes(const NVPTXKernelConfig &c) {
  double m = double(c.m), n = double(c.n), k = double(c.k);
  double outBytes = double(c.outputBits) / 8;
  double x = 0, w = 0;
  switch (c.family) {
  case NVPTXKernelFamily::Int4:
    // Nibbles and one f16 scale per 128 (the usual group).
    x = 2 * m * k, w = n * k / 2 + n * k / 64;
    break;
  case NVPTXKernelFamily::Sparse24:
    // The kept half and 2 bits of metadata per kept value.
    x = 2 * m * k, w = n * k + n * k / 8;
    break;
  default:
    if (c.operandBits == 8) // quantized x and W, each with f32 scales
      x = m * k + 4 * m, w = n * k + 4 * n;
    else
      x = 2 * m * k, w = 2 * n * k;
  }
  double epilogue = (c.bias ? n : 0) + (c.residual ? m * n : 0);
  return x + w + (epilogue + m * n) * outBytes;
}

double getRooflineMicroseconds(const NVPTXKernelConfig &c) {
  GpuPeaks peaks = getTypicalGpuPeaks(c.sm);
  double flops = 2 * double(c.m) * double(c.n) * double(c.k);
  double rate = c.operandBits == 8 ? peaks.flops8PerSecond
                : c.family == NVPTXKernelFamily::Sparse24
                    ? 2 * peaks.flops16PerSecond
                    : peaks.flops16PerSecond;
  double seconds =
      std::max(flops / rate, getMinimumBytes(c) / peaks.dramBytesPerSecond);
  return std::max(seconds * 1e6, 1e-3);
}

int64_t getCtasPerMultiprocessor(const NVPTXTimingQuery &q) {
  const NVPTXKernelConfig &c = q.config;
  GpuPeaks peaks = getTypicalGpuPeaks(c.sm);
  int64_t threads = std::max<int64_t>(c.getThreads(), 32);
  // setmaxnreg hands one CTA the SM's whole register file.
  if (c.consumerRegisters)
    return 1;
  int64_t ctas =
      std::min<int64_t>(32, peaks.threadsPerMultiprocessor / threads);
  // The runtime reserves 1 KB of shared memory per CTA.
  if (c.sharedBytes)
    ctas = std::min<int64_t>(ctas, peaks.sharedBytesPerMultiprocessor /
                                       (c.sharedBytes + 1024));
  if (q.registers > 0) {
    // Registers go to warps in units of 256.
    int64_t perWarp = llvm::alignTo(q.registers * 32, 256);
    int64_t warps = 65536 / perWarp;
    ctas = std::min<int64_t>(ctas, warps / llvm::divideCeil(threads, 32));
  }
  return std::max<int64_t>(1, ctas);
}

/// Operand bytes the CTAs read from L2 over all output tiles, against the
/// minimum: how much of the problem's reuse the tiling leaves to L2.
static double getOperandTraffic(const NVPTXKernelConfig &c) {
  double m = double(c.m), n = double(c.n), k = double(c.k);
  if (c.family == NVPTXKernelFamily::Int4)
    // Each CTA streams its columns' weights once and all of x.
    return double(c.ctas) * 2 * m * k + n * k / 2;
  double xBytes = c.operandBits == 8 ? 1 : 2;
  double wBytes = c.operandBits == 8                        ? 1
                  : c.family == NVPTXKernelFamily::Sparse24 ? 1.125
                                                            : 2;
  double tilesM = std::ceil(m / double(std::max<int64_t>(c.blockM, 1)));
  double tilesN = std::ceil(n / double(std::max<int64_t>(c.blockN, 1)));
  // A cluster multicasts its W^T slices to all its CTAs.
  return tilesM * tilesN *
         (double(c.blockM) * xBytes +
          double(c.blockN) * wBytes / double(c.clusterM)) *
         k;
}

std::vector<std::pair<StringRef, int64_t>>
getTilingKnobs(const NVPTXKernelConfig &c) {
  return {{"block_m", c.blockM},
          {"block_n", c.blockN},
          {"block_k", c.blockK},
          {"stages", c.stages},
          {"warps_n", c.warpsN},
          {"split_k", c.splitK},
          {"tiles_per_warp", c.tilesPerWarp},
          {"ahead", c.ahead},
          {"persistent_ctas", c.persistentCtas},
          {"cluster_m", c.clusterM}};
}

std::string getKernelForm(const NVPTXKernelConfig &c) {
  std::string form = getFamilyName(c.family).str();
  if (c.family == NVPTXKernelFamily::Int4)
    return c.tma ? form + "-bulk" : form;
  if (c.tma)
    form += "-tma";
  if (c.mbarrierRelease)
    form += "-mbarrier";
  if (c.producerWarpgroup)
    form += "-producer";
  if (c.persistentCtas)
    form += "-persistent";
  if (c.clusterM > 1)
    form += "-cluster";
  return form;
}

std::vector<std::string> getTimingFeatureNames() {
  std::vector<std::string> names = getRegisterFeatureNames();
  for (const char *name :
       {"log2_m", "log2_n", "log2_k", "log2_ctas", "ctas_per_sm", "waves",
        "wave_efficiency", "log2_roofline_us", "log2_memory_over_math",
        "log2_operand_traffic", "k_steps", "registers", "warps_per_sm",
        "persistent_ctas", "cluster_m", "extra_launches"})
    names.push_back(name);
  return names;
}

std::vector<float> extractTimingFeatures(const NVPTXTimingQuery &q) {
  const NVPTXKernelConfig &c = q.config;
  std::vector<float> row = extractRegisterFeatures(c);
  GpuPeaks peaks = getTypicalGpuPeaks(c.sm);
  auto log2 = [](double v) { return float(std::log2(std::max(v, 1e-9))); };
  int64_t perSm = getCtasPerMultiprocessor(q);
  double waves = double(c.ctas) / double(peaks.multiprocessors * perSm);
  double flops = 2 * double(c.m) * double(c.n) * double(c.k);
  double bytes = getMinimumBytes(c);
  double mathRate =
      c.operandBits == 8 ? peaks.flops8PerSecond : peaks.flops16PerSecond;
  double kSteps = c.family == NVPTXKernelFamily::Int4
                      ? double(c.blocksPerWarp)
                      : double(c.k) / double(std::max<int64_t>(c.blockK, 1));
  for (float v :
       {log2(double(c.m)), log2(double(c.n)), log2(double(c.k)),
        log2(double(c.ctas)), float(perSm), float(waves),
        float(waves > 0 ? waves / std::ceil(waves) : 0),
        log2(getRooflineMicroseconds(c)),
        log2((bytes / peaks.dramBytesPerSecond) / (flops / mathRate)),
        log2(getOperandTraffic(c) / bytes), float(kSteps), float(q.registers),
        float(perSm * llvm::divideCeil(c.getThreads(), 32)),
        float(c.persistentCtas), float(c.clusterM), float(q.extraLaunches)})
    row.push_back(v);
  return row;
}

Expected<TimingModelFile> readTimingModelFile(StringRef path) {
  auto object = readModelObject(path, "nvptx-timing", kTimingModelSchemaVersion,
                                "timing model");
  if (!object)
    return object.takeError();
  const json::Object *o = &*object;
  TimingModelFile file;
  const json::Array *features = o->getArray("features");
  const json::Object *domain = o->getObject("domain");
  std::optional<StringRef> booster = o->getString("booster");
  std::optional<int64_t> sm = o->getInteger("sm");
  if (!features || !domain || !booster || !sm)
    return bad(path + ": corrupt timing model: needs sm, domain, features "
                      "and booster");
  for (const auto &[form, knobs] : *domain) {
    const json::Object *byKnob = knobs.getAsObject();
    if (!byKnob)
      return bad(path + ": corrupt timing model: domain." + form.str() +
                 " is not an object");
    for (const auto &[knob, values] : *byKnob) {
      const json::Array *seen = values.getAsArray();
      if (!seen)
        return bad(path + ": corrupt timing model: domain." + form.str() + "." +
                   knob.str() + " is not an array");
      for (const json::Value &v : *seen)
        file.domain[form.str()][knob.str()].push_back(
            v.getAsInteger().value_or(0));
    }
  }
  file.sm = *sm;
  file.device = o->getString("device").value_or("").str();
  for (const json::Value &f : *features)
    file.featureNames.push_back(f.getAsString().value_or("").str());
  file.booster = booster->str();
  if (const json::Object *training = o->getObject("training"))
    file.training = *training;
  return file;
}

Error writeTimingModelFile(StringRef path, const TimingModelFile &file) {
  std::error_code ec;
  raw_fd_ostream os(path, ec);
  if (ec)
    return createStringError(ec, "cannot write " + path + ": " + ec.message());
  json::Object domain;
  for (const auto &[family, knobs] : file.domain) {
    json::Object values;
    for (const auto &[knob, seen] : knobs)
      values[knob] = json::Array(seen);
    domain[family] = std::move(values);
  }
  os << json::Value(json::Object{
            {"kind", "nvptx-timing"},
            {"schema_version", file.schemaVersion},
            {"sm", file.sm},
            {"device", file.device},
            {"domain", std::move(domain)},
            {"features", json::Array(file.featureNames)},
            {"training", json::Object(file.training)},
            {"booster", file.booster},
        })
     << "\n";
  return Error::success();
}

std::string getDefaultTimingModelPath(int64_t sm) {
  const char *models = std::getenv("QUILT_MODELS_DIR");
  std::string path = formatv("{0}/nvptx/timing-model-sm{1}.json",
                             models ? models : QUILT_MODELS_DIR, sm)
                         .str();
  return sys::fs::exists(path) ? path : "";
}

Expected<std::unique_ptr<TimingModel>> TimingModel::load(StringRef path,
                                                         int64_t sm) {
  std::string resolved =
      path == "auto" ? getDefaultTimingModelPath(sm) : path.str();
  if (resolved.empty())
    return bad(formatv("no timing model for sm_{0} under models/nvptx/", sm));
  auto file = readTimingModelFile(resolved);
  if (!file)
    return file.takeError();
  if (file->sm != sm)
    return bad(formatv("{0}: timed sm_{1} kernels, not sm_{2}", resolved,
                       file->sm, sm));
  if (file->featureNames != getTimingFeatureNames())
    return bad(resolved + ": the model's feature list differs from this "
                          "build's timing features");
  auto booster = Booster::load(file->booster);
  if (!booster)
    return booster.takeError();
  return std::unique_ptr<TimingModel>(
      new TimingModel(std::move(*file), std::move(*booster)));
}

bool TimingModel::knows(NVPTXKernelFamily family) const {
  StringRef name = getFamilyName(family);
  return llvm::any_of(file.domain, [&](const auto &entry) {
    StringRef form = entry.first;
    return form == name || form.starts_with((name + "-").str());
  });
}

bool TimingModel::covers(const NVPTXKernelConfig &config) const {
  auto form = file.domain.find(getKernelForm(config));
  if (form == file.domain.end())
    return false;
  for (auto [knob, value] : getTilingKnobs(config)) {
    auto seen = form->second.find(knob.str());
    if (seen == form->second.end() || !llvm::is_contained(seen->second, value))
      return false;
  }
  return true;
}

double TimingModel::predictMicroseconds(const NVPTXTimingQuery &query) const {
  std::vector<float> row = extractTimingFeatures(query);
  // The trees predict log2 of the time over the roofline.
  return getRooflineMicroseconds(query.config) *
         std::exp2(double(booster->predict(row, row.size())[0]));
}

} // namespace mlir::quilt::cost
