//===- FakeCudaDriver.cpp - A host-only stand-in for libcuda ----*- C++ -*-===//
//
// This file implements the CUDA driver entry points quilt-cuda-run calls,
// on the host, so that its tests exercise the whole tool (loading, copies,
// poisoning, launches, checks, timing, output) on machines without a GPU
// (QUILT_CUDA_DRIVER=libQuiltFakeCudaDriver.so). "Kernels" are the ones of
// Inputs/kernels.ptx and Inputs/tma.ptx, emulated by name; a launch of add_f32
// with less than the 64 KiB of shared memory it touches faults like the real
// one would.
//
//===----------------------------------------------------------------------===//

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

namespace {

using CUresult = int;

constexpr CUresult kSuccess = 0, kInvalidValue = 1, kInvalidPtx = 218,
                   kNotFound = 500, kIllegalAddress = 700,
                   kInvalidClusterSize = 912;

/// cuLaunchKernelEx's configuration, in the driver's layout.
struct LaunchAttribute {
  int id;
  char pad[4];
  union {
    char bytes[64];
    struct {
      unsigned x, y, z;
    } clusterDim;
  } value;
};
struct LaunchConfig {
  unsigned grid[3], block[3], sharedBytes;
  void *stream;
  LaunchAttribute *attrs;
  unsigned numAttrs;
};

struct Module {
  std::string ptx;
};

struct Function {
  std::string name;
};

/// What the fake cuTensorMapEncodeTiled stores in a CUtensorMap's 128
/// bytes (the real layout is opaque): enough for tma_copy_f32 to read the
/// box the launcher described.
struct FakeTensorMap {
  unsigned long long magic;
  const char *address;
  int dataType;
  unsigned long long dims[2], rowStride;
  unsigned box[2];
  int swizzle;
};
static_assert(sizeof(FakeTensorMap) <= 128, "a CUtensorMap is 128 bytes");
constexpr unsigned long long kTensorMapMagic = 0x70616d726f736e65; // "ensormap"

/// A launch of `spin` is running (forever).
bool spinning = false;

/// An error of an earlier launch, reported by the next synchronization.
CUresult pendingError = kSuccess;

double nowMs() {
  return std::chrono::duration<double, std::milli>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

} // namespace

extern "C" {

CUresult cuInit(unsigned) { return kSuccess; }
CUresult cuDriverGetVersion(int *version) {
  *version = 12040;
  return kSuccess;
}
CUresult cuDeviceGetCount(int *count) {
  *count = 1;
  return kSuccess;
}
CUresult cuDeviceGet(int *device, int ordinal) {
  *device = ordinal;
  return kSuccess;
}
CUresult cuDeviceGetName(char *name, int length, int) {
  std::strncpy(name, "Fake CUDA Device", size_t(length));
  return kSuccess;
}
CUresult cuDeviceGetAttribute(int *value, int attribute, int) {
  // Compute capability 9.0 and the H100's opt-in shared memory per block.
  *value = attribute == 75 ? 9 : attribute == 76 ? 0 : 232448;
  return kSuccess;
}
CUresult cuGetErrorName(CUresult error, const char **name) {
  switch (error) {
  case kSuccess:
    *name = "CUDA_SUCCESS";
    return kSuccess;
  case kInvalidValue:
    *name = "CUDA_ERROR_INVALID_VALUE";
    return kSuccess;
  case kInvalidPtx:
    *name = "CUDA_ERROR_INVALID_PTX";
    return kSuccess;
  case kNotFound:
    *name = "CUDA_ERROR_NOT_FOUND";
    return kSuccess;
  case kIllegalAddress:
    *name = "CUDA_ERROR_ILLEGAL_ADDRESS";
    return kSuccess;
  }
  return kInvalidValue;
}
CUresult cuGetErrorString(CUresult error, const char **text) {
  const char *name;
  if (cuGetErrorName(error, &name) != kSuccess)
    return kInvalidValue;
  *text = error == kIllegalAddress ? "an illegal memory access was encountered"
                                   : "fake driver error";
  return kSuccess;
}
CUresult cuCtxCreate_v2(void **context, unsigned, int) {
  *context = std::malloc(1);
  return kSuccess;
}
CUresult cuCtxDestroy_v2(void *context) {
  std::free(context);
  return kSuccess;
}
CUresult cuCtxSynchronize() {
  // Inputs/kernels.ptx's spin never finishes: neither does the wait.
  while (spinning)
    std::this_thread::sleep_for(std::chrono::seconds(1));
  CUresult error = pendingError;
  pendingError = kSuccess;
  return error;
}
CUresult cuModuleLoadDataEx(Module **module, const void *image,
                            unsigned numOptions, int *options, void **values) {
  std::string ptx = static_cast<const char *>(image);
  if (ptx.find("%bogus") != std::string::npos) {
    // Like ptxas: the message goes to the error log buffer.
    char *log = nullptr;
    size_t size = 0;
    for (unsigned i = 0; i < numOptions; ++i) {
      if (options[i] == 5)
        log = static_cast<char *>(values[i]);
      if (options[i] == 6)
        size = reinterpret_cast<size_t>(values[i]);
    }
    if (log && size)
      std::strncpy(log,
                   "ptxas application ptx input, line 1; error   : "
                   "Unknown symbol '%bogus'",
                   size - 1);
    return kInvalidPtx;
  }
  *module = new Module{ptx};
  return kSuccess;
}
CUresult cuModuleUnload(Module *module) {
  delete module;
  return kSuccess;
}
CUresult cuModuleGetFunction(Function **function, Module *module,
                             const char *name) {
  if (module->ptx.find(".entry " + std::string(name) + "(") ==
      std::string::npos)
    return kNotFound;
  *function = new Function{name}; // leaked: lives as long as the module
  return kSuccess;
}
CUresult cuFuncSetAttribute(Function *, int, int) { return kSuccess; }
CUresult cuMemAlloc_v2(unsigned long long *pointer, size_t bytes) {
  *pointer = reinterpret_cast<unsigned long long>(std::malloc(bytes));
  return kSuccess;
}
CUresult cuMemFree_v2(unsigned long long pointer) {
  std::free(reinterpret_cast<void *>(pointer));
  return kSuccess;
}
CUresult cuMemcpyHtoD_v2(unsigned long long destination, const void *source,
                         size_t bytes) {
  std::memcpy(reinterpret_cast<void *>(destination), source, bytes);
  return kSuccess;
}
CUresult cuMemcpyDtoH_v2(void *destination, unsigned long long source,
                         size_t bytes) {
  std::memcpy(destination, reinterpret_cast<void *>(source), bytes);
  return kSuccess;
}
CUresult cuMemsetD8_v2(unsigned long long destination, unsigned char value,
                       size_t count) {
  std::memset(reinterpret_cast<void *>(destination), value, count);
  return kSuccess;
}
CUresult cuLaunchKernel(Function *function, unsigned, unsigned, unsigned,
                        unsigned, unsigned, unsigned, unsigned sharedBytes,
                        void *, void **params, void **) {
  auto arg = [&](int i) {
    return reinterpret_cast<float *>(
        *static_cast<unsigned long long *>(params[i]));
  };
  // The 15-element kernels of Inputs/kernels.ptx.
  if (function->name == "spin") {
    spinning = true;
  } else if (function->name == "tma_copy_f32") {
    // Inputs/tma.ptx: the box at {0, 0}, zeros outside the tensor.
    auto *map = reinterpret_cast<const FakeTensorMap *>(arg(0));
    if (map->magic != kTensorMapMagic || map->dataType != 7) {
      pendingError = kIllegalAddress;
      return kSuccess;
    }
    float *dst = arg(1);
    for (unsigned r = 0; r < map->box[1]; ++r)
      for (unsigned c = 0; c < map->box[0]; ++c)
        *dst++ = r < map->dims[1] && c < map->dims[0]
                     ? reinterpret_cast<const float *>(map->address +
                                                       r * map->rowStride)[c]
                     : 0.0f;
  } else if (function->name == "copy_f32") {
    std::memcpy(arg(1), arg(0), 15 * sizeof(float));
  } else if (function->name == "add_f32") {
    if (sharedBytes < 65536) {
      pendingError = kIllegalAddress;
      return kSuccess;
    }
    for (int i = 0; i < 15; ++i)
      arg(2)[i] = arg(0)[i] + arg(1)[i];
  }
  return kSuccess;
}
/// The cluster attribute's rules (CUDA_ERROR_INVALID_CLUSTER_SIZE): each
/// dimension divides the grid's, at most 8 CTAs; then the kernel runs as
/// cuLaunchKernel's would (the emulated kernels do not use clusters).
CUresult cuLaunchKernelEx(const LaunchConfig *config, Function *function,
                          void **params, void **extra) {
  for (unsigned i = 0; i < config->numAttrs; ++i) {
    const LaunchAttribute &attr = config->attrs[i];
    if (attr.id != 4) // CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION
      return kInvalidValue;
    unsigned dims[3] = {attr.value.clusterDim.x, attr.value.clusterDim.y,
                        attr.value.clusterDim.z};
    for (int d = 0; d < 3; ++d)
      if (!dims[d] || config->grid[d] % dims[d])
        return kInvalidClusterSize;
    if (dims[0] * dims[1] * dims[2] > 8)
      return kInvalidClusterSize;
  }
  return cuLaunchKernel(function, config->grid[0], config->grid[1],
                        config->grid[2], config->block[0], config->block[1],
                        config->block[2], config->sharedBytes, config->stream,
                        params, extra);
}
CUresult cuTensorMapEncodeTiled(void *tensorMap, int dataType, unsigned rank,
                                void *globalAddress,
                                const unsigned long long *globalDim,
                                const unsigned long long *globalStrides,
                                const unsigned *boxDim,
                                const unsigned *elementStrides, int interleave,
                                int swizzle, int, int) {
  // The documented rules the launcher's arguments must meet (rank 2, f32).
  static const unsigned kElementBytes[] = {1, 2, 4, 4, 8, 8, 2, 4, 8, 2};
  if (rank != 2 || dataType < 0 || dataType > 9 || interleave != 0 ||
      reinterpret_cast<unsigned long long>(globalAddress) % 16 ||
      globalStrides[0] % 16 ||
      globalStrides[0] < globalDim[0] * kElementBytes[dataType] ||
      elementStrides[0] != 1 || elementStrides[1] != 1)
    return kInvalidValue;
  unsigned inner = boxDim[0] * kElementBytes[dataType];
  unsigned span = swizzle ? 16u << swizzle : ~0u;
  if (boxDim[0] > 256 || boxDim[1] > 256 || inner % 16 || inner > span)
    return kInvalidValue;
  FakeTensorMap map{kTensorMapMagic,  static_cast<const char *>(globalAddress),
                    dataType,         {globalDim[0], globalDim[1]},
                    globalStrides[0], {boxDim[0], boxDim[1]},
                    swizzle};
  std::memset(tensorMap, 0, 128);
  std::memcpy(tensorMap, &map, sizeof(map));
  return kSuccess;
}
CUresult cuEventCreate(double **event, unsigned) {
  *event = new double(0);
  return kSuccess;
}
CUresult cuEventDestroy_v2(double *event) {
  delete event;
  return kSuccess;
}
CUresult cuEventRecord(double *event, void *) {
  *event = nowMs();
  return kSuccess;
}
CUresult cuEventSynchronize(double *) { return kSuccess; }
CUresult cuEventElapsedTime(float *ms, double *start, double *end) {
  *ms = float(*end - *start);
  return kSuccess;
}

} // extern "C"
