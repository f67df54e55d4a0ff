//===- Launcher.cpp - Run manifest launches on a CUDA device ----*- C++ -*-===//
//
// This file implements the device side of quilt-cuda-run. Every driver call
// is checked; a failure prints the call, the CUDA error name and its
// description, and exits, leaving the context to the process teardown.
//
//===----------------------------------------------------------------------===//

#include "Launcher.h"
#include "Watchdog.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>

using namespace quilt_cuda_run;

void quilt_cuda_run::fail(const std::string &message) {
  std::cout.flush();
  std::cerr << "quilt-cuda-run: error: " << message << "\n";
  std::exit(1);
}

std::string DeviceInfo::getSm() const {
  return "sm_" + std::to_string(major) + std::to_string(minor);
}

std::string DeviceInfo::getDriverVersion() const {
  return std::to_string(driverVersion / 1000) + "." +
         std::to_string(driverVersion % 1000 / 10);
}

void Launcher::check(CUresult result, const std::string &call) const {
  if (result != CUDA_SUCCESS)
    fail(call + " failed: " + driver->describe(result));
}

Launcher::Launcher(std::unique_ptr<CudaDriver> loaded, int ordinal)
    : driver(std::move(loaded)) {
  if (CUresult result = driver->cuInit(0))
    fail("no CUDA device found (cuInit failed: " + driver->describe(result) +
         ")");
  int count = 0;
  check(driver->cuDeviceGetCount(&count), "cuDeviceGetCount");
  if (count == 0)
    fail("no CUDA device found (the driver reports 0 devices)");
  if (ordinal < 0 || ordinal >= count)
    fail("--device " + std::to_string(ordinal) + ": the machine has " +
         std::to_string(count) + " CUDA device(s)");
  check(driver->cuDeviceGet(&handle, ordinal), "cuDeviceGet");
  char name[256] = {0};
  check(driver->cuDeviceGetName(name, sizeof(name) - 1, handle),
        "cuDeviceGetName");
  device.name = name;
  check(
      driver->cuDeviceGetAttribute(
          &device.major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, handle),
      "cuDeviceGetAttribute(COMPUTE_CAPABILITY_MAJOR)");
  check(
      driver->cuDeviceGetAttribute(
          &device.minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, handle),
      "cuDeviceGetAttribute(COMPUTE_CAPABILITY_MINOR)");
  check(driver->cuDriverGetVersion(&device.driverVersion),
        "cuDriverGetVersion");
  check(driver->cuCtxCreate(&context, 0, handle), "cuCtxCreate_v2");
}

Launcher::~Launcher() {
  // Teardown errors are not reported: the results are already out.
  for (CUevent event : events)
    driver->cuEventDestroy(event);
  for (CUdeviceptr pointer : pointers)
    if (pointer)
      driver->cuMemFree(pointer);
  if (module)
    driver->cuModuleUnload(module);
  if (context)
    driver->cuCtxDestroy(context);
}

void Launcher::checkChip(const std::string &chip) const {
  // "sm_90a": compute capability 9.0; the "a" suffix marks
  // architecture-specific features that run on exactly that one.
  int number = 0;
  char suffix = 0;
  if (chip.empty() ||
      std::sscanf(chip.c_str(), "sm_%d%c", &number, &suffix) < 1)
    return;
  int wanted = number, have = device.major * 10 + device.minor;
  bool exact = suffix == 'a';
  if (exact ? have != wanted : have < wanted)
    fail("the manifest's chip '" + chip + "' does not run on " + device.name +
         " (" + device.getSm() + ")");
}

void Launcher::loadModule(const std::string &ptx, const Manifest &spec) {
  manifest = &spec;
  setActivity("the PTX's JIT compilation");
  // ptxas reports errors only through this buffer.
  std::string log(16384, '\0');
  CUjit_option options[] = {CU_JIT_ERROR_LOG_BUFFER,
                            CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES};
  void *values[] = {&log[0], reinterpret_cast<void *>(log.size())};
  if (CUresult result = driver->cuModuleLoadDataEx(&module, ptx.c_str(), 2,
                                                   options, values)) {
    log.resize(log.find('\0'));
    fail("cuModuleLoadDataEx failed: " + driver->describe(result) +
         (log.empty() ? "" : "\nptxas log:\n" + log));
  }

  int maxShared = 0;
  check(driver->cuDeviceGetAttribute(
            &maxShared, CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN,
            handle),
        "cuDeviceGetAttribute(MAX_SHARED_MEMORY_PER_BLOCK_OPTIN)");
  std::map<std::string, CUfunction> byName;
  for (size_t i = 0; i < spec.launches.size(); ++i) {
    const LaunchSpec &launch = spec.launches[i];
    CUfunction &function = byName[launch.kernel];
    if (!function)
      check(
          driver->cuModuleGetFunction(&function, module, launch.kernel.c_str()),
          "cuModuleGetFunction('" + launch.kernel + "')");
    if (launch.sharedBytes > unsigned(maxShared))
      fail("launch #" + std::to_string(i) + " ('" + launch.kernel +
           "'): shared_bytes " + std::to_string(launch.sharedBytes) +
           " exceeds the device's " + std::to_string(maxShared) +
           " bytes per block");
    // Above 48 KiB dynamic shared memory must be opted into per kernel.
    if (launch.sharedBytes > 48 * 1024)
      check(driver->cuFuncSetAttribute(
                function, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                int(launch.sharedBytes)),
            "cuFuncSetAttribute('" + launch.kernel +
                "', MAX_DYNAMIC_SHARED_SIZE_BYTES)");
    functions.push_back(function);
  }
}

void Launcher::allocateBuffers(const Manifest &spec,
                               const std::vector<HostBuffer> &inputs) {
  pointers.assign(spec.buffers.size(), 0);
  for (size_t i = 0; i < spec.buffers.size(); ++i) {
    const BufferSpec &buffer = spec.buffers[i];
    std::string what = " (buffer '" + buffer.name + "', " +
                       std::to_string(buffer.bytes) + " bytes)";
    // cuMemAlloc rejects 0 bytes; an empty buffer still needs a pointer.
    size_t bytes = std::max<size_t>(1, size_t(buffer.bytes));
    check(driver->cuMemAlloc(&pointers[i], bytes), "cuMemAlloc_v2" + what);
    switch (buffer.kind) {
    case BufferSpec::Kind::Input:
      if (buffer.bytes)
        check(driver->cuMemcpyHtoD(pointers[i], inputs[i].bytes.data(),
                                   size_t(buffer.bytes)),
              "cuMemcpyHtoD_v2" + what);
      break;
    case BufferSpec::Kind::Temp:
      check(driver->cuMemsetD8(pointers[i], 0, bytes), "cuMemsetD8_v2" + what);
      break;
    case BufferSpec::Kind::Output:
      check(driver->cuMemsetD8(pointers[i], 0xff, bytes),
            "cuMemsetD8_v2" + what);
      break;
    case BufferSpec::Kind::TensorMap:
      break; // encoded below, once every buffer has its address
    }
  }
  for (size_t i = 0; i < spec.buffers.size(); ++i)
    if (spec.buffers[i].kind == BufferSpec::Kind::TensorMap)
      encodeTensorMap(spec, i);
  check(driver->cuCtxSynchronize(), "cuCtxSynchronize (after the copies)");
}

/// CUtensorMapDataType of a manifest dtype.
static int getTensorMapDataType(DType dtype) {
  switch (dtype) {
  case DType::U8:
  case DType::I8:
    return 0; // UINT8: TMA copies bytes, the sign is the kernel's business
  case DType::F16:
    return 6;
  case DType::F32:
    return 7;
  case DType::BF16:
    return 9;
  case DType::I32:
    return 3;
  }
  return 0;
}

void Launcher::encodeTensorMap(const Manifest &spec, size_t index) {
  const BufferSpec &buffer = spec.buffers[index];
  const TensorMapSpec &map = buffer.tensorMap;
  std::string what = " (tensor map '" + buffer.name + "' of buffer '" +
                     spec.buffers[map.of].name + "')";
  if (!driver->cuTensorMapEncodeTiled)
    fail("the CUDA driver has no cuTensorMapEncodeTiled (TMA needs CUDA 12 "
         "or newer)" +
         what);
  unsigned long long dims[2] = {(unsigned long long)map.dims[0],
                                (unsigned long long)map.dims[1]};
  // Bytes between rows; the innermost stride is the element's.
  unsigned long long strides[1] = {dims[0] * getDTypeSize(map.dtype)};
  unsigned box[2] = {unsigned(map.box[0]), unsigned(map.box[1])};
  unsigned elementStrides[2] = {1, 1};
  int swizzle = map.swizzle == 128  ? 3
                : map.swizzle == 64 ? 2
                : map.swizzle == 32 ? 1
                                    : 0;
  CUtensorMap encoded;
  // No interleave, L2 promotion of 256-byte lines (CUTLASS's choice),
  // zeros outside the tensor.
  check(driver->cuTensorMapEncodeTiled(
            &encoded, getTensorMapDataType(map.dtype), 2,
            reinterpret_cast<void *>(pointers[map.of]), dims, strides, box,
            elementStrides, /*interleave=*/0, swizzle, /*l2Promotion=*/3,
            /*oobFill=*/0),
        "cuTensorMapEncodeTiled" + what);
  check(driver->cuMemcpyHtoD(pointers[index], &encoded, sizeof(encoded)),
        "cuMemcpyHtoD_v2" + what);
}

void Launcher::launch(size_t index, const std::string &what) {
  const LaunchSpec &spec = manifest->launches[index];
  setActivity("launch #" + std::to_string(index) + ", kernel '" + spec.kernel +
              "'");
  // Every kernel parameter is a device pointer, passed by address.
  std::vector<CUdeviceptr> values;
  for (size_t buffer : spec.args)
    values.push_back(pointers[buffer]);
  std::vector<void *> params;
  for (CUdeviceptr &value : values)
    params.push_back(&value);
  if (spec.cluster != std::array<unsigned, 3>{{1, 1, 1}}) {
    if (!driver->cuLaunchKernelEx)
      fail("the CUDA driver has no cuLaunchKernelEx (clusters need CUDA 12 "
           "or newer)" +
           what);
    CUlaunchAttribute cluster = {};
    cluster.id = CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION;
    cluster.value.clusterDim = {spec.cluster[0], spec.cluster[1],
                                spec.cluster[2]};
    CUlaunchConfig config = {spec.grid[0],     spec.grid[1],
                             spec.grid[2],     spec.block[0],
                             spec.block[1],    spec.block[2],
                             spec.sharedBytes, nullptr,
                             &cluster,         1};
    check(driver->cuLaunchKernelEx(&config, functions[index],
                                   params.empty() ? nullptr : params.data(),
                                   nullptr),
          "cuLaunchKernelEx" + what);
    return;
  }
  check(driver->cuLaunchKernel(
            functions[index], spec.grid[0], spec.grid[1], spec.grid[2],
            spec.block[0], spec.block[1], spec.block[2], spec.sharedBytes,
            nullptr, params.empty() ? nullptr : params.data(), nullptr),
        "cuLaunchKernel" + what);
}

void Launcher::runPhase(bool setup) {
  for (size_t i = 0; i < manifest->launches.size(); ++i) {
    if (manifest->launches[i].isSetup != setup)
      continue;
    std::string what = " (launch #" + std::to_string(i) + ", kernel '" +
                       manifest->launches[i].kernel + "')";
    launch(i, what);
    check(driver->cuCtxSynchronize(), "cuCtxSynchronize" + what);
  }
}

/// Reads `chunks` 16-byte chunks with a grid-stride loop; the (never
/// taken) store of their XOR keeps the loads.
static const char kFlushPtx[] = R"(.version 7.0
.target sm_70
.address_size 64
.visible .entry quilt_l2_flush_read(.param .u64 base, .param .u64 chunks)
{
  .reg .pred %p<3>;
  .reg .b32 %r<12>;
  .reg .b64 %rd<8>;
  ld.param.u64 %rd1, [base];
  ld.param.u64 %rd2, [chunks];
  mov.u32 %r1, %ctaid.x;
  mov.u32 %r2, %ntid.x;
  mov.u32 %r3, %tid.x;
  mov.u32 %r4, %nctaid.x;
  mad.lo.s32 %r5, %r1, %r2, %r3;
  cvt.u64.u32 %rd3, %r5;
  mul.lo.s32 %r6, %r4, %r2;
  cvt.u64.u32 %rd4, %r6;
  mov.u32 %r7, 0;
LOOP:
  setp.ge.u64 %p1, %rd3, %rd2;
  @%p1 bra DONE;
  shl.b64 %rd5, %rd3, 4;
  add.s64 %rd6, %rd1, %rd5;
  ld.global.v4.u32 {%r8, %r9, %r10, %r11}, [%rd6];
  xor.b32 %r7, %r7, %r8;
  xor.b32 %r7, %r7, %r11;
  add.s64 %rd3, %rd3, %rd4;
  bra LOOP;
DONE:
  setp.ne.u32 %p2, %r7, 0x7fc00001;
  @%p2 bra END;
  st.global.u32 [%rd1], %r7;
END:
  ret;
}
)";

std::vector<double> Launcher::benchmark(unsigned warmup, unsigned runs,
                                        bool flushByWrite) {
  auto runIteration = [&] {
    for (size_t i = 0; i < manifest->launches.size(); ++i)
      if (!manifest->launches[i].isSetup)
        launch(i, " (launch #" + std::to_string(i) + ", kernel '" +
                      manifest->launches[i].kernel + "')");
  };
  for (unsigned i = 0; i < warmup; ++i)
    runIteration();
  check(driver->cuCtxSynchronize(), "cuCtxSynchronize (after the warm-up)");

  // One event pair per iteration, read after the last: no host round trip
  // between iterations.
  events.assign(2 * size_t(runs), nullptr);
  for (CUevent &event : events)
    check(driver->cuEventCreate(&event, 0), "cuEventCreate");
  // Cold L2 for every timed iteration: a model's weights stream from
  // memory, so a weight that fits the 50 MB L2 of an H100 must not be
  // timed from it. Touching 256 MiB between iterations evicts it, outside
  // the events. Reading (a kernel of our own) leaves clean lines; writing
  // (a memset) leaves 50 MB of dirty lines that the timed kernels' misses
  // must first write back, a cost no real forward pass pays.
  constexpr size_t kFlushBytes = size_t(256) << 20;
  CUdeviceptr flush = 0;
  check(driver->cuMemAlloc(&flush, kFlushBytes), "cuMemAlloc (L2 flush)");
  check(driver->cuMemsetD8(flush, 0, kFlushBytes), "cuMemsetD8 (L2 flush)");
  CUmodule flushModule = nullptr;
  CUfunction flushRead = nullptr;
  if (!flushByWrite) {
    check(driver->cuModuleLoadDataEx(&flushModule, kFlushPtx, 0, nullptr,
                                     nullptr),
          "cuModuleLoadDataEx (L2 flush)");
    check(driver->cuModuleGetFunction(&flushRead, flushModule,
                                      "quilt_l2_flush_read"),
          "cuModuleGetFunction (L2 flush)");
  }
  for (unsigned i = 0; i < runs; ++i) {
    if (flushByWrite) {
      check(
          driver->cuMemsetD8(flush, static_cast<unsigned char>(i), kFlushBytes),
          "cuMemsetD8 (L2 flush)");
    } else {
      unsigned long long chunks = kFlushBytes / 16;
      void *params[] = {&flush, &chunks};
      check(driver->cuLaunchKernel(flushRead, 1024, 1, 1, 256, 1, 1, 0, nullptr,
                                   params, nullptr),
            "cuLaunchKernel (L2 flush)");
    }
    check(driver->cuEventRecord(events[2 * i], nullptr), "cuEventRecord");
    runIteration();
    check(driver->cuEventRecord(events[2 * i + 1], nullptr), "cuEventRecord");
  }
  if (runs)
    check(driver->cuEventSynchronize(events.back()), "cuEventSynchronize");
  check(driver->cuCtxSynchronize(), "cuCtxSynchronize (after the timed runs)");
  check(driver->cuMemFree(flush), "cuMemFree (L2 flush)");
  if (flushModule)
    check(driver->cuModuleUnload(flushModule), "cuModuleUnload (L2 flush)");
  std::vector<double> times;
  for (unsigned i = 0; i < runs; ++i) {
    float ms = 0;
    check(driver->cuEventElapsedTime(&ms, events[2 * i], events[2 * i + 1]),
          "cuEventElapsedTime");
    times.push_back(ms);
  }
  return times;
}

HostBuffer Launcher::readBuffer(size_t index) const {
  const BufferSpec &buffer = manifest->buffers[index];
  HostBuffer host(buffer.dtype, buffer.shape);
  if (buffer.bytes)
    check(driver->cuMemcpyDtoH(host.bytes.data(), pointers[index],
                               size_t(buffer.bytes)),
          "cuMemcpyDtoH_v2 (buffer '" + buffer.name + "')");
  return host;
}
