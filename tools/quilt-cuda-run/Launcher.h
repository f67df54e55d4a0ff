//===- Launcher.h - Run a manifest's launches on a CUDA device --*- C++ -*-===//
//
// This file declares the device side of quilt-cuda-run: one context on one
// device, the PTX module, the manifest's buffers, and the setup and run
// launches, checked one by one or timed with CUDA events.
//
//===----------------------------------------------------------------------===//

#ifndef QUILT_TOOLS_QUILT_CUDA_RUN_LAUNCHER_H
#define QUILT_TOOLS_QUILT_CUDA_RUN_LAUNCHER_H

#include "CudaDriver.h"
#include "HostBuffer.h"
#include "Manifest.h"

#include <memory>
#include <string>
#include <vector>

namespace quilt_cuda_run {

/// Prints `quilt-cuda-run: error: <message>` and exits with status 1.
[[noreturn]] void fail(const std::string &message);

struct DeviceInfo {
  std::string name;
  int major = 0, minor = 0;
  int driverVersion = 0;

  /// "sm_90".
  std::string getSm() const;
  /// "12.4".
  std::string getDriverVersion() const;
};

class Launcher {
public:
  /// Creates a context on device `ordinal`; fails when there is none.
  Launcher(std::unique_ptr<CudaDriver> driver, int ordinal);
  ~Launcher();
  Launcher(const Launcher &) = delete;
  Launcher &operator=(const Launcher &) = delete;

  const DeviceInfo &getDevice() const { return device; }

  /// Fails unless the device can run code built for `chip` ("sm_90a").
  void checkChip(const std::string &chip) const;

  /// JIT-compiles `ptx` (ptxas errors are printed) and looks up every
  /// launched kernel, raising its dynamic shared memory limit when needed.
  void loadModule(const std::string &ptx, const Manifest &manifest);

  /// Allocates every buffer: inputs are copied from `inputs` (one per
  /// buffer, empty for others), temps zeroed, outputs filled with 0xFF
  /// bytes (NaN for floats) so that unwritten elements fail the check, and
  /// tensor maps encoded from their buffer's address.
  void allocateBuffers(const Manifest &manifest,
                       const std::vector<HostBuffer> &inputs);

  /// Runs the setup (or run) launches in order, synchronizing after each
  /// so that a fault names its launch.
  void runPhase(bool setup);

  /// `warmup` untimed and then `runs` timed iterations of all run
  /// launches; the milliseconds of each timed iteration (CUDA events).
  std::vector<double> benchmark(unsigned warmup, unsigned runs,
                                bool flushByWrite = false);

  /// Copies buffer `index` of the manifest back to the host.
  HostBuffer readBuffer(size_t index) const;

private:
  void check(CUresult result, const std::string &call) const;
  void launch(size_t index, const std::string &what);
  void encodeTensorMap(const Manifest &spec, size_t index);

  std::unique_ptr<CudaDriver> driver;
  DeviceInfo device;
  CUdevice handle = 0;
  CUcontext context = nullptr;
  CUmodule module = nullptr;
  const Manifest *manifest = nullptr;
  std::vector<CUfunction> functions; // per launch
  std::vector<CUdeviceptr> pointers; // per buffer
  std::vector<CUevent> events;
};

} // namespace quilt_cuda_run

#endif // QUILT_TOOLS_QUILT_CUDA_RUN_LAUNCHER_H
