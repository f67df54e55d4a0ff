//===- CudaDriver.h - The CUDA driver API, loaded at run time ---*- C++ -*-===//
//
// This file declares the part of the CUDA driver API quilt-cuda-run uses,
// resolved with dlopen/dlsym from libcuda.so.1 at run time. The types and
// enum values are declared here (ABI-stable since CUDA 4) because the tool
// must build on machines without the CUDA toolkit; a machine without a GPU
// still runs every validation before the driver is needed.
//
//===----------------------------------------------------------------------===//

#ifndef QUILT_TOOLS_QUILT_CUDA_RUN_CUDADRIVER_H
#define QUILT_TOOLS_QUILT_CUDA_RUN_CUDADRIVER_H

#include <memory>
#include <string>

namespace quilt_cuda_run {

using CUresult = int;
using CUdevice = int;
using CUdeviceptr = unsigned long long;
using CUcontext = struct CUctx_st *;
using CUmodule = struct CUmod_st *;
using CUfunction = struct CUfunc_st *;
using CUstream = struct CUstream_st *;
using CUevent = struct CUevent_st *;
using CUjit_option = int;
using CUfunction_attribute = int;
using CUdevice_attribute = int;

/// CUtensorMap: 128 opaque bytes, 64-byte aligned.
struct alignas(64) CUtensorMap {
  unsigned long long opaque[16];
};
using CUtensorMapDataType = int;
using CUtensorMapInterleave = int;
using CUtensorMapSwizzle = int;
using CUtensorMapL2promotion = int;
using CUtensorMapFloatOOBfill = int;

/// cuLaunchKernelEx's configuration (CUDA 12), declared with the driver's
/// layout: an attribute is an 8-byte id slot and a 64-byte value union.
using CUlaunchAttributeID = int;
constexpr CUlaunchAttributeID CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION = 4;
struct CUlaunchAttribute {
  CUlaunchAttributeID id;
  char pad[8 - sizeof(CUlaunchAttributeID)];
  union {
    char bytes[64];
    struct {
      unsigned x, y, z;
    } clusterDim;
  } value;
};
static_assert(sizeof(CUlaunchAttribute) == 72, "the driver's layout");
struct CUlaunchConfig {
  unsigned gridDimX, gridDimY, gridDimZ;
  unsigned blockDimX, blockDimY, blockDimZ;
  unsigned sharedMemBytes;
  CUstream hStream;
  CUlaunchAttribute *attrs;
  unsigned numAttrs;
};

constexpr CUresult CUDA_SUCCESS = 0;
constexpr CUjit_option CU_JIT_ERROR_LOG_BUFFER = 5;
constexpr CUjit_option CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES = 6;
constexpr CUfunction_attribute CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES =
    8;
constexpr CUdevice_attribute CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75;
constexpr CUdevice_attribute CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76;
constexpr CUdevice_attribute
    CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN = 97;

/// The driver entry points, one pointer each (the `_v2` ABI where the
/// driver exports one: the unsuffixed names are the CUDA 3 ABI).
struct CudaDriver {
  CUresult (*cuInit)(unsigned flags);
  CUresult (*cuDriverGetVersion)(int *version);
  CUresult (*cuDeviceGetCount)(int *count);
  CUresult (*cuDeviceGet)(CUdevice *device, int ordinal);
  CUresult (*cuDeviceGetName)(char *name, int length, CUdevice device);
  CUresult (*cuDeviceGetAttribute)(int *value, CUdevice_attribute attribute,
                                   CUdevice device);
  CUresult (*cuGetErrorName)(CUresult error, const char **name);
  CUresult (*cuGetErrorString)(CUresult error, const char **text);
  CUresult (*cuCtxCreate)(CUcontext *context, unsigned flags, CUdevice device);
  CUresult (*cuCtxDestroy)(CUcontext context);
  CUresult (*cuCtxSynchronize)();
  CUresult (*cuModuleLoadDataEx)(CUmodule *module, const void *image,
                                 unsigned numOptions, CUjit_option *options,
                                 void **optionValues);
  CUresult (*cuModuleUnload)(CUmodule module);
  CUresult (*cuModuleGetFunction)(CUfunction *function, CUmodule module,
                                  const char *name);
  CUresult (*cuFuncSetAttribute)(CUfunction function,
                                 CUfunction_attribute attribute, int value);
  CUresult (*cuMemAlloc)(CUdeviceptr *pointer, size_t bytes);
  CUresult (*cuMemFree)(CUdeviceptr pointer);
  CUresult (*cuMemcpyHtoD)(CUdeviceptr destination, const void *source,
                           size_t bytes);
  CUresult (*cuMemcpyDtoH)(void *destination, CUdeviceptr source, size_t bytes);
  CUresult (*cuMemsetD8)(CUdeviceptr destination, unsigned char value,
                         size_t count);
  CUresult (*cuLaunchKernel)(CUfunction function, unsigned gridX,
                             unsigned gridY, unsigned gridZ, unsigned blockX,
                             unsigned blockY, unsigned blockZ,
                             unsigned sharedBytes, CUstream stream,
                             void **kernelParams, void **extra);
  CUresult (*cuEventCreate)(CUevent *event, unsigned flags);
  CUresult (*cuEventDestroy)(CUevent event);
  CUresult (*cuEventRecord)(CUevent event, CUstream stream);
  CUresult (*cuEventSynchronize)(CUevent event);
  CUresult (*cuEventElapsedTime)(float *milliseconds, CUevent start,
                                 CUevent end);
  /// CUDA 12's launch with attributes; null when the driver predates it
  /// (only launches in clusters need it).
  CUresult (*cuLaunchKernelEx)(const CUlaunchConfig *config,
                               CUfunction function, void **kernelParams,
                               void **extra);
  /// CUDA 12's TMA descriptors; null when the driver predates them (only
  /// manifests with tensor maps need it).
  CUresult (*cuTensorMapEncodeTiled)(
      CUtensorMap *map, CUtensorMapDataType dataType, unsigned rank,
      void *globalAddress, const unsigned long long *globalDim,
      const unsigned long long *globalStrides, const unsigned *boxDim,
      const unsigned *elementStrides, CUtensorMapInterleave interleave,
      CUtensorMapSwizzle swizzle, CUtensorMapL2promotion l2Promotion,
      CUtensorMapFloatOOBfill oobFill);

  /// "CUDA_ERROR_INVALID_PTX: a PTX JIT compilation failed".
  std::string describe(CUresult result) const;

  /// dlopen's `path` (libcuda.so.1 unless $QUILT_CUDA_DRIVER names another)
  /// and resolves every entry point; on failure returns null and sets
  /// `error` to the full message.
  static std::unique_ptr<CudaDriver> load(std::string &error);

private:
  CudaDriver() = default;
  void *library = nullptr;
};

} // namespace quilt_cuda_run

#endif // QUILT_TOOLS_QUILT_CUDA_RUN_CUDADRIVER_H
