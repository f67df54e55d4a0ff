//===- CPUTarget.cpp - What the generated CPU code may use ------*- C++ -*-===//
//
// Resolves the `cpu-features` option: the running CPU (`host`) or an explicit
// LLVM feature list, so lit tests can pin a target independent of the
// machine they run on.
//
//===----------------------------------------------------------------------===//

#include "quilt/Conversion/QuiltToCPU/QuiltToCPU.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/TargetParser/Host.h"

using namespace mlir;
using namespace mlir::quilt;

CPUTarget CPUTarget::get(StringRef spec) {
  CPUTarget target;
  llvm::StringMap<bool> enabled;
  if (spec == "host") {
    target.cpu = llvm::sys::getHostCPUName().str();
    for (auto &feature : llvm::sys::getHostCPUFeatures())
      enabled[feature.getKey()] = feature.getValue();
  } else {
    // An explicit list targets the newest x86 CPUs the features describe.
    target.cpu = "x86-64-v3";
    SmallVector<StringRef> parts;
    spec.split(parts, ',', /*MaxSplit=*/-1, /*KeepEmpty=*/false);
    for (StringRef part : parts) {
      part = part.trim();
      bool on = !part.consume_front("-");
      part.consume_front("+");
      enabled[part] = on;
    }
    if (enabled.lookup("avx512f"))
      target.cpu = "x86-64-v4";
  }
  SmallVector<std::string> features;
  for (auto &feature : enabled)
    features.push_back((feature.getValue() ? "+" : "-") +
                       feature.getKey().str());
  llvm::sort(features);
  target.features = llvm::join(features, ",");
  target.hasAVX512 = enabled.lookup("avx512f") && enabled.lookup("avx512bw");
  target.hasVNNI = target.hasAVX512 && enabled.lookup("avx512vnni");
  target.hasBF16 = target.hasAVX512 && enabled.lookup("avx512bf16");
  return target;
}
