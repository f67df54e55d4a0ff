//===- TargetDescription.h - Measured figures of a CPU target ---*- C++ -*-===//
//
// What the analytical cost model knows about a machine: peak operation rates
// per precision and bandwidth per memory level, as `quilt-tune calibrate`
// measured them, plus the fingerprint (CPU name and ISA features) that says
// which machines a calibration or a learned model is valid for.
//
//===----------------------------------------------------------------------===//

#ifndef QUILT_COSTMODEL_TARGETDESCRIPTION_H
#define QUILT_COSTMODEL_TARGETDESCRIPTION_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"

#include <string>
#include <vector>

namespace mlir::quilt::cost {

/// One level of the memory hierarchy: its capacity and the read bandwidth
/// one core measured streaming a buffer that fits it.
struct MemoryLevel {
  std::string name; // "L1", "L2", "L3", "DRAM"
  double bytes = 0;
  double bytesPerSecond = 0;
};

/// TargetDescription::source of a calibration measured on its machine.
constexpr llvm::StringLiteral kCalibratedSource = "quilt-tune calibrate";

struct TargetDescription {
  /// LLVM's host CPU name ("sapphirerapids") and /proc/cpuinfo's model name.
  std::string cpuName, modelName;
  /// The ISA features that change code generation (avx512*, amx*, fma...),
  /// sorted.
  std::vector<std::string> features;
  unsigned cores = 1;
  /// Operations (2 per multiply-add) per second on one core.
  double peakF32 = 0, peakBF16 = 0, peakInt8 = 0;
  /// Fastest level first; the last is DRAM.
  std::vector<MemoryLevel> levels;
  /// Time of one call of a trivial JIT-compiled entry (argument
  /// descriptors, result allocation). Files from before it was measured
  /// keep the 2 us their models were trained against.
  double callOverheadSeconds = 2e-6;
  /// Where the figures come from ("calibrated", or why they are a guess).
  std::string source;

  /// cpuName + ":" + features joined by ",": what a model must match.
  std::string getFingerprint() const;
  llvm::json::Value toJson() const;
  static llvm::Expected<TargetDescription> fromJson(const llvm::json::Value &v);
};

/// The identity of this machine (cpuName, modelName, features, cores); the
/// measured figures are left zero.
TargetDescription getHostIdentity();

/// Conservative figures for an uncalibrated host, used with a warning.
TargetDescription getUncalibratedHost();

llvm::Expected<TargetDescription> readTargetDescription(llvm::StringRef path);
llvm::Error writeTargetDescription(llvm::StringRef path,
                                   const TargetDescription &target);

/// The directory of the source tree's models/ (or of $QUILT_MODELS_DIR)
/// committed for this machine type: the one whose target-cpu.json has this
/// host's fingerprint, or "" when no machine of this type was measured.
std::string getMachineModelDir();

/// The calibration committed for this machine type
/// (getMachineModelDir()/target-cpu.json), or "".
std::string getDefaultTargetPath();

} // namespace mlir::quilt::cost

#endif // QUILT_COSTMODEL_TARGETDESCRIPTION_H
