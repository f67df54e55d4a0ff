//===- Bench.h - Suites, cases and implementations of quilt-bench -*- C++
//-*-===//
//
// The driver's data model. A suite is a list of cases; a case, given a thread
// count, builds the list of implementations that compute it; an
// implementation is set up once (untimed) and then called repeatedly (timed).
// Suites register themselves, so adding one is adding a Suites*.cpp file.
//
// This header is free of LLVM/MLIR headers on purpose: the oneDNN baseline
// is compiled with C++ exceptions (dnnl.hpp reports errors by throwing),
// while code that includes LLVM headers is compiled without them.
//
//===----------------------------------------------------------------------===//

#ifndef QUILT_BENCH_BENCH_H
#define QUILT_BENCH_BENCH_H

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace quilt::bench {

/// One implementation of a case, ready to be timed.
struct Impl {
  /// Reported name, `<library>-<format>`: "openblas-f32", "quilt-int8".
  std::string name;
  /// Untimed: compiles, allocates, packs weights. Returns an empty string on
  /// success, otherwise why the impl cannot run (it is then skipped).
  std::function<std::string()> setup;
  /// One timed call. Returns an empty string on success.
  std::function<std::string()> run;
  /// Optional, untimed, after every call: frees what the call returned
  /// (Quilt entries allocate their results), so free() of one call does not
  /// land in the next call's time.
  std::function<void()> release;
  /// Optional: the f32 output of the latest run, row-major, to compare impls
  /// of a case with each other (once, untimed).
  std::function<std::vector<float>()> result;
  /// Work of one call, for GFLOP/s and GB/s.
  double flops = 0;
  double bytes = 0;
  /// Optional, after setup: bytes of the weight as the impl stores it.
  std::function<double()> weightBytes;
};

/// A measured problem: all of its impls run in the same process, interleaved.
struct Case {
  /// Reported name, e.g. "linear-128x4096x4096" (M x K x N).
  std::string name;
  /// Builds the impls for `threads` worker threads. Called once per thread
  /// count, after the baselines' global thread settings are applied.
  std::function<std::vector<Impl>(unsigned threads)> makeImpls;
};

struct Suite {
  std::string name;
  std::string description;
  std::function<std::vector<Case>()> makeCases;
};

/// Adds a suite to the registry (see QUILT_BENCH_REGISTER_SUITE).
bool registerSuite(Suite suite);
/// All registered suites, sorted by name.
std::vector<const Suite *> getSuites();
const Suite *findSuite(const std::string &name);

/// Registers a suite at static-initialization time from a Suites*.cpp file.
/// The object files are linked directly into quilt-bench, so the registrar
/// is never dropped by the linker.
#define QUILT_BENCH_REGISTER_SUITE(ID, ...)                                    \
  static const bool quiltBenchSuite_##ID =                                     \
      ::quilt::bench::registerSuite(__VA_ARGS__)

//===----------------------------------------------------------------------===//
// Shared data of linear cases
//===----------------------------------------------------------------------===//

/// Inputs of `y[M,N] = x[M,K] * w[K,N]`, dense f32 row-major, from a fixed
/// seed, so every impl of a case sees the same numbers.
struct LinearProblem {
  int64_t m = 0, k = 0, n = 0;
  std::vector<float> x; // M x K
  std::vector<float> w; // K x N
  double flops() const { return 2.0 * double(m) * double(n) * double(k); }
};

/// Uniform values in [-1, 1) from `seed` (SplitMix64, portable).
std::vector<float> makeRandomF32(int64_t count, uint64_t seed);
std::shared_ptr<const LinearProblem>
makeLinearProblem(int64_t m, int64_t k, int64_t n, uint64_t seed);

/// 64-byte aligned buffer for baseline operands.
struct AlignedBuffer {
  std::shared_ptr<void> storage;
  size_t size = 0;
  static AlignedBuffer allocate(size_t bytes);
  void *data() const { return storage.get(); }
};

//===----------------------------------------------------------------------===//
// Implementations provided by the Baselines*.cpp / Quilt*.cpp files
//===----------------------------------------------------------------------===//

/// Worker threads of each library for the following setups and calls.
void setOpenBlasThreads(unsigned threads);
void setOneDnnThreads(unsigned threads);
/// The OPENBLAS_CORETYPE that selects the kernels this CPU supports when
/// OpenBLAS picked generic ones; empty when its choice is fine.
std::string getOpenBlasCoreOverride();
/// Compares OpenBLAS with a naive loop on small shapes; returns an error
/// message when they disagree (empty when OpenBLAS is not built in).
std::string checkOpenBlas();
/// Library versions and threading, for the report header.
std::string describeOpenBlas();
std::string describeOneDnn();

/// cblas_sgemm (cblas_sgemv when M == 1), row-major, f32.
Impl makeOpenBlasF32(std::shared_ptr<const LinearProblem> p);
/// oneDNN matmul, bf16 x bf16 -> f32, weights prepacked.
Impl makeOneDnnBf16(std::shared_ptr<const LinearProblem> p);
/// oneDNN matmul, s8 x s8 -> f32 with per-channel output scales.
Impl makeOneDnnInt8(std::shared_ptr<const LinearProblem> p);

/// The Quilt formats of the core linears.
enum class QuiltFormat { F32, BF16, Int8 };

/// One Quilt linear: the impl's name suffix, the weight's format as written
/// inside `!quilt.packed<KxN, ...>` and the `act` precision (empty: f32).
struct QuiltLinearSpec {
  std::string name;   // "int4-g128" gives impl "quilt-int4-g128"
  std::string format; // "precision<i4, group<128>>"
  std::string act;    // "<i8, channel>"
};
QuiltLinearSpec getQuiltLinearSpec(QuiltFormat format);

/// The quilt IR module of one linear with a packed weight.
std::string makeQuiltLinearModule(int64_t m, int64_t k, int64_t n,
                                  const QuiltLinearSpec &spec);
/// Lowers the quilt-* impls with quilt-reference-pipeline instead of
/// quilt-cpu-pipeline; they are then named quilt-ref-<format>. For checking
/// the runtime wiring, not for performance.
void setQuiltReferencePipeline(bool reference);
/// Quilt's JIT-compiled linear through quilt-cpu-pipeline.
Impl makeQuiltLinear(std::shared_ptr<const LinearProblem> p,
                     const QuiltLinearSpec &spec, unsigned threads);
inline Impl makeQuiltLinear(std::shared_ptr<const LinearProblem> p,
                            QuiltFormat format, unsigned threads) {
  return makeQuiltLinear(std::move(p), getQuiltLinearSpec(format), threads);
}
/// One argument of a Quilt module impl: dense f32 row-major values (a
/// `!quilt.packed` argument takes the dense weight, packed in prepare()).
struct QuiltInput {
  std::shared_ptr<const std::vector<float>> values;
  std::vector<int64_t> shape;
};
/// The entry `main` of `text` JIT-compiled through quilt-cpu-pipeline, named
/// `name`; with `fuse`, `quilt-fuse-blocks` runs on the module first. The
/// caller sets the impl's flops and bytes.
Impl makeQuiltModule(std::string name, std::string text,
                     std::vector<QuiltInput> inputs, bool fuse,
                     unsigned threads);
/// Parses a module text with the Quilt dialect; returns the diagnostics.
std::string checkQuiltModuleParses(const std::string &text);

} // namespace quilt::bench

#endif // QUILT_BENCH_BENCH_H
