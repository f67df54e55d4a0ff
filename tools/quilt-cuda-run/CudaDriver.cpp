//===- CudaDriver.cpp - The CUDA driver API, loaded at run time -*- C++ -*-===//
//
// This file implements loading libcuda.so.1 with dlopen and resolving the
// entry points quilt-cuda-run calls. The library is never unloaded: the
// driver keeps threads and state alive until the process exits.
//
//===----------------------------------------------------------------------===//

#include "CudaDriver.h"

#include <cstdlib>
#include <dlfcn.h>
#include <type_traits>

using namespace quilt_cuda_run;

std::string CudaDriver::describe(CUresult result) const {
  const char *name = nullptr, *text = nullptr;
  if (cuGetErrorName(result, &name) != CUDA_SUCCESS || !name)
    name = "unknown CUresult";
  if (cuGetErrorString(result, &text) != CUDA_SUCCESS || !text)
    text = "no description";
  return std::string(name) + ": " + text;
}

std::unique_ptr<CudaDriver> CudaDriver::load(std::string &error) {
  const char *path = std::getenv("QUILT_CUDA_DRIVER");
  if (!path || !*path)
    path = "libcuda.so.1";
  void *library = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!library) {
    const char *reason = dlerror();
    error = std::string("cannot load the CUDA driver (") + path +
            "): " + (reason ? reason : "unknown error") +
            "; running PTX needs an NVIDIA GPU and its driver";
    return nullptr;
  }

  std::unique_ptr<CudaDriver> driver(new CudaDriver());
  driver->library = library;
  bool ok = true;
  auto resolve = [&](auto &pointer, const char *symbol) {
    void *address = dlsym(library, symbol);
    if (!address && ok) {
      error = std::string("the CUDA driver (") + path + ") has no '" + symbol +
              "'; it is too old or not the CUDA driver";
      ok = false;
    }
    pointer =
        reinterpret_cast<std::remove_reference_t<decltype(pointer)>>(address);
  };
  resolve(driver->cuInit, "cuInit");
  resolve(driver->cuDriverGetVersion, "cuDriverGetVersion");
  resolve(driver->cuDeviceGetCount, "cuDeviceGetCount");
  resolve(driver->cuDeviceGet, "cuDeviceGet");
  resolve(driver->cuDeviceGetName, "cuDeviceGetName");
  resolve(driver->cuDeviceGetAttribute, "cuDeviceGetAttribute");
  resolve(driver->cuGetErrorName, "cuGetErrorName");
  resolve(driver->cuGetErrorString, "cuGetErrorString");
  resolve(driver->cuCtxCreate, "cuCtxCreate_v2");
  resolve(driver->cuCtxDestroy, "cuCtxDestroy_v2");
  resolve(driver->cuCtxSynchronize, "cuCtxSynchronize");
  resolve(driver->cuModuleLoadDataEx, "cuModuleLoadDataEx");
  resolve(driver->cuModuleUnload, "cuModuleUnload");
  resolve(driver->cuModuleGetFunction, "cuModuleGetFunction");
  resolve(driver->cuFuncSetAttribute, "cuFuncSetAttribute");
  resolve(driver->cuMemAlloc, "cuMemAlloc_v2");
  resolve(driver->cuMemFree, "cuMemFree_v2");
  resolve(driver->cuMemcpyHtoD, "cuMemcpyHtoD_v2");
  resolve(driver->cuMemcpyDtoH, "cuMemcpyDtoH_v2");
  resolve(driver->cuMemsetD8, "cuMemsetD8_v2");
  resolve(driver->cuLaunchKernel, "cuLaunchKernel");
  resolve(driver->cuEventCreate, "cuEventCreate");
  resolve(driver->cuEventDestroy, "cuEventDestroy_v2");
  resolve(driver->cuEventRecord, "cuEventRecord");
  resolve(driver->cuEventSynchronize, "cuEventSynchronize");
  resolve(driver->cuEventElapsedTime, "cuEventElapsedTime");
  if (!ok)
    return nullptr;
  driver->cuLaunchKernelEx =
      reinterpret_cast<decltype(driver->cuLaunchKernelEx)>(
          dlsym(library, "cuLaunchKernelEx"));
  driver->cuTensorMapEncodeTiled =
      reinterpret_cast<decltype(driver->cuTensorMapEncodeTiled)>(
          dlsym(library, "cuTensorMapEncodeTiled"));
  return driver;
}
