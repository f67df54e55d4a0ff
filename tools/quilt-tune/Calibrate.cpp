//===- Calibrate.cpp - quilt-tune calibrate: peak rates, bandwidths -------===//
//
// This file implements `quilt-tune calibrate`: microbenchmarks measure one
// core's peak f32 FMA (AVX-512, else AVX2), bf16 dot (vdpbf16ps) and int8
// VNNI (vpdpbusd) rates with enough independent accumulators to hide
// latency, and the read bandwidth of buffers sized for each cache level and
// for DRAM; the result is the target description the analytical model reads.
//
//===----------------------------------------------------------------------===//

#include "Tune.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "quilt/CostModel/TargetDescription.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <immintrin.h>

namespace cl = llvm::cl;
using namespace mlir::quilt::cost;

namespace quilt::tune {

cl::SubCommand &getCalibrateCommand() {
  static cl::SubCommand command("calibrate",
                                "Measure peak rates and bandwidths");
  return command;
}

static cl::opt<std::string> targetOut("o",
                                      cl::desc("Target description to write"),
                                      cl::init("target-cpu.json"),
                                      cl::sub(getCalibrateCommand()));

namespace {

double now() {
  return std::chrono::duration<double>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

/// Best of 25 runs of `body` (which does `ops` operations), in ops/s: the
/// peak is what the core can do, interference only slows it down.
template <typename F> double bestRate(double ops, F body) {
  double best = 0;
  for (int r = 0; r < 25; ++r) {
    double t0 = now();
    body();
    best = std::max(best, ops / (now() - t0));
  }
  return best;
}

volatile float sinkF;
volatile int sinkI;
// Short runs (about 1 ms), many of them: on a shared machine the best one
// is the one that had the core to itself.
constexpr long kIters = 4000000 / 12;

__attribute__((target("avx512f"))) void fmaLoop() {
  __m512 acc[12];
  for (auto &a : acc)
    a = _mm512_set1_ps(0.f);
  __m512 x = _mm512_set1_ps(1.0001f), y = _mm512_set1_ps(0.9999f);
  for (long i = 0; i < kIters; ++i)
    for (auto &a : acc) // 12 chains hide the 4-cycle latency on 2 ports
      a = _mm512_fmadd_ps(x, y, a);
  __m512 s = acc[0];
  for (int j = 1; j < 12; ++j)
    s = _mm512_add_ps(s, acc[j]);
  sinkF = _mm512_reduce_add_ps(s);
}

__attribute__((target("avx512f,avx512bf16"))) void bf16Loop() {
  __m512 acc[12];
  for (auto &a : acc)
    a = _mm512_set1_ps(0.f);
  __m512bh x = (__m512bh)_mm512_set1_epi16(0x3f80);
  for (long i = 0; i < kIters; ++i)
    for (auto &a : acc)
      a = _mm512_dpbf16_ps(a, x, x);
  __m512 s = acc[0];
  for (int j = 1; j < 12; ++j)
    s = _mm512_add_ps(s, acc[j]);
  sinkF = _mm512_reduce_add_ps(s);
}

__attribute__((target("avx512f,avx512vnni"))) void vnniLoop() {
  __m512i acc[12];
  for (auto &a : acc)
    a = _mm512_setzero_si512();
  __m512i x = _mm512_set1_epi8(1);
  for (long i = 0; i < kIters; ++i)
    for (auto &a : acc)
      a = _mm512_dpbusd_epi32(a, x, x);
  __m512i s = acc[0];
  for (int j = 1; j < 12; ++j)
    s = _mm512_add_epi32(s, acc[j]);
  sinkI = _mm512_reduce_add_epi32(s);
}

/// fmaLoop on 8 lanes, for CPUs without AVX-512 (the backend's vectors are
/// split into two ymm registers there).
__attribute__((target("avx2,fma"))) void fmaLoopAVX2() {
  __m256 acc[12];
  for (auto &a : acc)
    a = _mm256_set1_ps(0.f);
  __m256 x = _mm256_set1_ps(1.0001f), y = _mm256_set1_ps(0.9999f);
  for (long i = 0; i < kIters; ++i)
    for (auto &a : acc)
      a = _mm256_fmadd_ps(x, y, a);
  __m256 s = acc[0];
  for (int j = 1; j < 12; ++j)
    s = _mm256_add_ps(s, acc[j]);
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, s);
  sinkF = lanes[0];
}

/// Streams `bytes` of `buffer` `passes` times with 64-byte loads.
__attribute__((target("avx512f"))) void readLoop(const float *buffer,
                                                 size_t bytes, long passes) {
  __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(),
                   _mm512_setzero_ps(), _mm512_setzero_ps()};
  size_t n = bytes / sizeof(float);
  for (long p = 0; p < passes; ++p)
    for (size_t i = 0; i + 64 <= n; i += 64)
      for (int j = 0; j < 4; ++j)
        acc[j] = _mm512_add_ps(acc[j], _mm512_load_ps(buffer + i + 16 * j));
  sinkF = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(acc[0], acc[1]),
                                             _mm512_add_ps(acc[2], acc[3])));
}

/// readLoop with 32-byte loads.
__attribute__((target("avx2"))) void readLoopAVX2(const float *buffer,
                                                  size_t bytes, long passes) {
  __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(),
                   _mm256_setzero_ps(), _mm256_setzero_ps()};
  size_t n = bytes / sizeof(float);
  for (long p = 0; p < passes; ++p)
    for (size_t i = 0; i + 32 <= n; i += 32)
      for (int j = 0; j < 4; ++j)
        acc[j] = _mm256_add_ps(acc[j], _mm256_load_ps(buffer + i + 8 * j));
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, _mm256_add_ps(_mm256_add_ps(acc[0], acc[1]),
                                       _mm256_add_ps(acc[2], acc[3])));
  sinkF = lanes[0];
}

/// Cache sizes from sysfs: data/unified caches by level.
double cacheBytes(unsigned level) {
  for (unsigned index = 0; index < 8; ++index) {
    std::string dir =
        "/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(index);
    auto lvl = llvm::MemoryBuffer::getFileAsStream(dir + "/level");
    auto type = llvm::MemoryBuffer::getFileAsStream(dir + "/type");
    auto size = llvm::MemoryBuffer::getFileAsStream(dir + "/size");
    if (!lvl || !type || !size)
      continue;
    if ((*lvl)->getBuffer().trim() != std::to_string(level) ||
        (*type)->getBuffer().trim() == "Instruction")
      continue;
    llvm::StringRef s = (*size)->getBuffer().trim();
    double scale = s.consume_back("K")   ? 1024
                   : s.consume_back("M") ? 1 << 20
                                         : 1;
    unsigned long long v = 0;
    if (!s.getAsInteger(10, v))
      return double(v) * scale;
  }
  return 0;
}

double bandwidth(size_t bytes, bool avx512) {
  float *buffer = static_cast<float *>(std::aligned_alloc(64, bytes));
  std::memset(buffer, 0, bytes);
  // About 100 MB of traffic per run, at least one pass.
  long passes = std::max<long>(1, long(1e8 / double(bytes)));
  double rate = bestRate(double(bytes) * double(passes), [&] {
    if (avx512)
      readLoop(buffer, bytes, passes);
    else
      readLoopAVX2(buffer, bytes, passes);
  });
  std::free(buffer);
  return rate;
}

/// The time of one call of a JIT-compiled entry that does almost nothing,
/// timed as collect times kernels (best of 9 medians): what every call
/// costs on top of its work.
llvm::Expected<double> callOverheadSeconds() {
  auto context = makeContext();
  auto module = mlir::parseSourceString<mlir::ModuleOp>(
      "func.func @tiny(%x: tensor<1x16xf32>, %y: tensor<1x16xf32>) -> "
      "tensor<1x16xf32> {\n"
      "  %z = quilt.add %x, %y : tensor<1x16xf32>\n"
      "  return %z : tensor<1x16xf32>\n}\n",
      context.get());
  if (!module)
    return llvm::createStringError("cannot parse the call-overhead kernel");
  auto jit = mlir::quilt::runtime::JitModule::compile(*module, /*options=*/{});
  if (!jit)
    return jit.takeError();
  double best = 1;
  for (int r = 0; r < 9; ++r) {
    auto timed = timeEntry(**jit, "tiny", 31);
    if (!timed)
      return timed.takeError();
    best = std::min(best, timed->first * 1e-6);
  }
  return best;
}

} // namespace

int runCalibrate() {
  TargetDescription t = getHostIdentity();
  bool avx512 = llvm::is_contained(t.features, "avx512f");
  if (!avx512 && !llvm::is_contained(t.features, "avx2"))
    return fail("calibration needs AVX2 or AVX-512 (the CPU backend's "
                "targets)");
  double ops = double(kIters) * 12 * (avx512 ? 16 : 8) * 2;
  t.peakF32 = avx512 ? bestRate(ops, fmaLoop) : bestRate(ops, fmaLoopAVX2);
  t.peakBF16 = llvm::is_contained(t.features, "avx512bf16")
                   ? bestRate(ops * 2, bf16Loop)
                   : t.peakF32;
  t.peakInt8 = llvm::is_contained(t.features, "avx512vnni")
                   ? bestRate(ops * 4, vnniLoop)
                   : t.peakF32;
  double l1 = cacheBytes(1), l2 = cacheBytes(2), l3 = cacheBytes(3);
  if (l1 <= 0 || l2 <= 0)
    return fail("cannot read cache sizes from /sys/devices/system/cpu");
  // Half of a level fits it with room for everything else. A VM reports
  // the whole host's L3, of which it gets a share: L3 is probed at 4x L2,
  // DRAM well beyond the reported L3.
  t.levels.push_back({"L1", l1, bandwidth(size_t(l1 / 2), avx512)});
  t.levels.push_back({"L2", l2, bandwidth(size_t(l2 / 2), avx512)});
  if (l3 > 0)
    t.levels.push_back(
        {"L3", l3, bandwidth(size_t(std::min(l3 / 2, 4 * l2)), avx512)});
  double dram = std::max(2 * std::max(l3, l2), 256e6);
  t.levels.push_back(
      {"DRAM", 1e15, bandwidth(size_t(std::min(dram, 1e9)), avx512)});
  auto overhead = callOverheadSeconds();
  if (!overhead)
    return fail(llvm::toString(overhead.takeError()));
  t.callOverheadSeconds = *overhead;
  t.source = kCalibratedSource.str();
  if (llvm::Error e = writeTargetDescription(targetOut, t))
    return fail(llvm::toString(std::move(e)));
  llvm::outs()
      << "quilt-tune calibrate: " << t.modelName << " (" << t.getFingerprint()
      << "), " << t.cores << " cores\n"
      << llvm::format("  peak f32 FMA   %8.1f GFLOP/s\n", t.peakF32 / 1e9)
      << llvm::format("  peak bf16 dot  %8.1f GFLOP/s\n", t.peakBF16 / 1e9)
      << llvm::format("  peak int8 VNNI %8.1f GOP/s\n", t.peakInt8 / 1e9);
  for (const MemoryLevel &l : t.levels)
    llvm::outs() << llvm::format("  %-4s %10.0f KiB %8.1f GB/s\n",
                                 l.name.c_str(), l.bytes / 1024,
                                 l.bytesPerSecond / 1e9);
  llvm::outs() << llvm::format("  call overhead  %8.2f us\n",
                               t.callOverheadSeconds * 1e6)
               << "  -> " << targetOut << "\n";
  return 0;
}

} // namespace quilt::tune
