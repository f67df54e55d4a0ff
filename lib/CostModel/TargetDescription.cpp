//===- TargetDescription.cpp - Measured figures of a CPU target -----------===//
//
// This file implements the target description's JSON form and the host's
// identity (LLVM's CPU name and ISA features).
//
//===----------------------------------------------------------------------===//

#include "quilt/CostModel/TargetDescription.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/TargetParser/Host.h"

#include <algorithm>
#include <cstdlib>
#include <thread>

using namespace llvm;

namespace mlir::quilt::cost {

std::string TargetDescription::getFingerprint() const {
  return cpuName + ":" + join(features, ",");
}

json::Value TargetDescription::toJson() const {
  json::Array levelArray;
  for (const MemoryLevel &l : levels)
    levelArray.push_back(json::Object{{"name", l.name},
                                      {"bytes", l.bytes},
                                      {"bytes_per_second", l.bytesPerSecond}});
  return json::Object{
      {"cpu_name", cpuName},
      {"model_name", modelName},
      {"features", json::Array(features)},
      {"cores", int64_t(cores)},
      {"peak_ops_per_second", json::Object{{"f32_fma", peakF32},
                                           {"bf16_dot", peakBF16},
                                           {"int8_vnni", peakInt8}}},
      {"memory_levels", std::move(levelArray)},
      {"call_overhead_seconds", callOverheadSeconds},
      {"source", source},
  };
}

Expected<TargetDescription> TargetDescription::fromJson(const json::Value &v) {
  auto bad = [](const Twine &what) {
    return createStringError(inconvertibleErrorCode(),
                             "target description: " + what);
  };
  const json::Object *o = v.getAsObject();
  if (!o)
    return bad("not a JSON object");
  TargetDescription t;
  auto cpu = o->getString("cpu_name");
  const json::Array *features = o->getArray("features");
  auto cores = o->getInteger("cores");
  const json::Object *peaks = o->getObject("peak_ops_per_second");
  const json::Array *levels = o->getArray("memory_levels");
  if (!cpu || !features || !cores || !peaks || !levels)
    return bad("needs cpu_name, features, cores, peak_ops_per_second and "
               "memory_levels");
  t.cpuName = cpu->str();
  t.modelName = o->getString("model_name").value_or("").str();
  t.source = o->getString("source").value_or("").str();
  for (const json::Value &f : *features)
    if (auto s = f.getAsString())
      t.features.push_back(s->str());
  t.cores = unsigned(std::max<int64_t>(*cores, 1));
  auto f32 = peaks->getNumber("f32_fma");
  auto bf16 = peaks->getNumber("bf16_dot");
  auto i8 = peaks->getNumber("int8_vnni");
  if (!f32 || *f32 <= 0)
    return bad("peak_ops_per_second.f32_fma must be positive");
  t.peakF32 = *f32;
  t.peakBF16 = bf16 && *bf16 > 0 ? *bf16 : *f32;
  t.peakInt8 = i8 && *i8 > 0 ? *i8 : *f32;
  if (auto overhead = o->getNumber("call_overhead_seconds")) {
    if (*overhead < 0)
      return bad("call_overhead_seconds must not be negative");
    t.callOverheadSeconds = *overhead;
  }
  for (const json::Value &lv : *levels) {
    const json::Object *lo = lv.getAsObject();
    auto bytes = lo ? lo->getNumber("bytes") : std::nullopt;
    auto bw = lo ? lo->getNumber("bytes_per_second") : std::nullopt;
    if (!bytes || !bw || *bw <= 0)
      return bad("each memory level needs bytes and a positive "
                 "bytes_per_second");
    t.levels.push_back({lo->getString("name").value_or("").str(), *bytes, *bw});
  }
  if (t.levels.empty())
    return bad("no memory levels");
  return t;
}

TargetDescription getHostIdentity() {
  TargetDescription t;
  t.cpuName = sys::getHostCPUName().str();
  for (const auto &f : sys::getHostCPUFeatures()) {
    StringRef name = f.getKey();
    if (f.getValue() &&
        (name.starts_with("avx512") || name.starts_with("amx") ||
         name == "avxvnni" || name == "fma" || name == "avx2"))
      t.features.push_back(name.str());
  }
  llvm::sort(t.features);
  t.cores = std::max(1u, std::thread::hardware_concurrency());
  if (auto info = MemoryBuffer::getFileAsStream("/proc/cpuinfo")) {
    for (StringRef line : split((*info)->getBuffer(), '\n'))
      if (line.starts_with("model name")) {
        t.modelName = line.split(':').second.trim().str();
        break;
      }
  }
  return t;
}

TargetDescription getUncalibratedHost() {
  TargetDescription t = getHostIdentity();
  auto has = [&](StringRef f) { return llvm::is_contained(t.features, f); };
  // One core: 2 FMA ports x 8 (AVX2) or 16 (AVX-512) lanes x 2 ops at
  // ~2.5 GHz. The CPU backend multiplies int8 with vpdpbusd only where
  // avx512vnni is (4x the f32 multiply-adds per instruction); elsewhere it
  // widens int8 and bf16 to f32 in registers, measured slower than f32 on
  // Zen 3 (digits MLP: f32 21 ms, bf16 24-32 ms, W8A8 50-56 ms).
  bool avx512 = has("avx512f");
  t.peakF32 = avx512 ? 160e9 : 80e9;
  t.peakBF16 = avx512 ? t.peakF32 : 0.75 * t.peakF32;
  t.peakInt8 = has("avx512vnni") ? 4 * t.peakF32 : 0.4 * t.peakF32;
  t.levels = {{"L1", 32e3, 100e9},
              {"L2", 1e6, 50e9},
              {"L3", 16e6, 25e9},
              {"DRAM", 1e15, 10e9}};
  t.source = "uncalibrated guess (run quilt-tune calibrate)";
  return t;
}

Expected<TargetDescription> readTargetDescription(StringRef path) {
  auto buffer = MemoryBuffer::getFile(path);
  if (!buffer)
    return createStringError(buffer.getError(),
                             "cannot read " + path + ": " +
                                 buffer.getError().message());
  auto value = json::parse((*buffer)->getBuffer());
  if (!value)
    return createStringError(inconvertibleErrorCode(),
                             path + ": " + toString(value.takeError()));
  return TargetDescription::fromJson(*value);
}

Error writeTargetDescription(StringRef path, const TargetDescription &target) {
  std::error_code ec;
  raw_fd_ostream os(path, ec);
  if (ec)
    return createStringError(ec, "cannot write " + path + ": " + ec.message());
  os << formatv("{0:2}", target.toJson()) << "\n";
  return Error::success();
}

std::string getMachineModelDir() {
  // Each machine type has a directory of its own under models/; the
  // calibration inside names the machine by its fingerprint.
  std::string host = getHostIdentity().getFingerprint();
  const char *models = std::getenv("QUILT_MODELS_DIR");
  std::error_code ec;
  std::vector<std::string> dirs;
  for (sys::fs::directory_iterator it(models ? models : QUILT_MODELS_DIR, ec),
       end;
       it != end && !ec; it.increment(ec))
    if (it->type() == sys::fs::file_type::directory_file)
      dirs.push_back(it->path());
  llvm::sort(dirs); // directory order is the file system's
  for (const std::string &dir : dirs) {
    auto target = readTargetDescription(dir + "/target-cpu.json");
    if (!target) {
      consumeError(target.takeError());
      continue;
    }
    if (target->getFingerprint() == host)
      return dir;
  }
  return "";
}

std::string getDefaultTargetPath() {
  std::string dir = getMachineModelDir();
  return dir.empty() ? "" : dir + "/target-cpu.json";
}

} // namespace mlir::quilt::cost
