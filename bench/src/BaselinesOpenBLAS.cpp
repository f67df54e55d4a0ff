//===- BaselinesOpenBLAS.cpp - OpenBLAS f32 baseline -----------*- C++ -*-===//
//
// This file implements the `openblas-f32` impl (cblas_sgemm, cblas_sgemv for
// a single row) and the startup check that OpenBLAS computes what the driver
// thinks it computes. Built without OpenBLAS, the impl reports itself skipped.
//
//===----------------------------------------------------------------------===//

#include "Bench.h"

#include <cmath>
#include <cstdio>

#if QUILT_BENCH_HAVE_OPENBLAS
#include <cblas.h>
// Debian's openblas-pthread cblas.h declares these; the netlib cblas.h does
// not, so declare them again (a compatible redeclaration is harmless).
extern "C" void openblas_set_num_threads(int numThreads);
extern "C" char *openblas_get_config(void);
extern "C" char *openblas_get_corename(void);
#endif

#include <cstring>

namespace quilt::bench {

void setOpenBlasThreads(unsigned threads) {
#if QUILT_BENCH_HAVE_OPENBLAS
  openblas_set_num_threads(int(threads));
#else
  (void)threads;
#endif
}

std::string describeOpenBlas() {
#if QUILT_BENCH_HAVE_OPENBLAS
  return std::string("OpenBLAS ") + openblas_get_config();
#else
  return "OpenBLAS: not found at build time";
#endif
}

std::string getOpenBlasCoreOverride() {
#if QUILT_BENCH_HAVE_OPENBLAS && defined(__x86_64__)
  // OpenBLAS 0.3.21 does not recognize some recent or virtualized Xeons and
  // falls back to its SSE3 "Prescott" kernels, several times slower than the
  // AVX-512 ones: a baseline that weak would flatter every ratio.
  const char *core = openblas_get_corename();
  bool generic =
      core &&
      (!std::strcmp(core, "Prescott") || !std::strcmp(core, "Core2") ||
       !std::strcmp(core, "Nehalem") || !std::strcmp(core, "Sandybridge"));
  if (!generic)
    return "";
  if (__builtin_cpu_supports("avx512bf16"))
    return "Cooperlake";
  if (__builtin_cpu_supports("avx512f"))
    return "SkylakeX";
  if (__builtin_cpu_supports("avx2"))
    return "Haswell";
#endif
  return "";
}

#if QUILT_BENCH_HAVE_OPENBLAS
/// y = x * w, row-major: the one place the call convention lives, shared by
/// the impl and the startup check.
static void openBlasLinear(int64_t m, int64_t k, int64_t n, const float *x,
                           const float *w, float *y) {
  if (m == 1) {
    // y[N] = W[K,N]^T x[K]: gemv on the row-major weight, transposed.
    cblas_sgemv(CblasRowMajor, CblasTrans, int(k), int(n), 1.0f, w, int(n), x,
                1, 0.0f, y, 1);
    return;
  }
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(m), int(n), int(k),
              1.0f, x, int(k), w, int(n), 0.0f, y, int(n));
}
#endif

std::string checkOpenBlas() {
#if QUILT_BENCH_HAVE_OPENBLAS
  // Odd sizes catch transposed operands and wrong leading dimensions; M = 1
  // covers the gemv path.
  for (int64_t m : {1, 7}) {
    auto p = makeLinearProblem(m, 37, 23, 42);
    std::vector<float> y(m * p->n), ref(m * p->n);
    openBlasLinear(m, p->k, p->n, p->x.data(), p->w.data(), y.data());
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < p->n; ++j) {
        double acc = 0;
        for (int64_t l = 0; l < p->k; ++l)
          acc += double(p->x[i * p->k + l]) * double(p->w[l * p->n + j]);
        ref[i * p->n + j] = float(acc);
      }
    for (size_t i = 0; i < y.size(); ++i)
      if (std::fabs(y[i] - ref[i]) > 1e-4 * (1 + std::fabs(ref[i]))) {
        char message[160];
        std::snprintf(message, sizeof(message),
                      "OpenBLAS check failed (M=%lld): y[%zu] = %g, naive "
                      "loop gives %g",
                      (long long)m, i, y[i], ref[i]);
        return message;
      }
  }
#endif
  return "";
}

Impl makeOpenBlasF32(std::shared_ptr<const LinearProblem> p) {
  Impl impl;
  impl.name = "openblas-f32";
  impl.flops = p->flops();
  impl.bytes = 4.0 * double(p->m * p->k + p->m * p->n);
  double weight = 4.0 * double(p->k * p->n);
  impl.weightBytes = [weight]() { return weight; };
#if QUILT_BENCH_HAVE_OPENBLAS
  auto y = std::make_shared<std::vector<float>>();
  impl.setup = [p, y]() {
    y->assign(p->m * p->n, 0.0f);
    return std::string();
  };
  // OpenBLAS packs its panels inside every call; there is no prepacked sgemm
  // in its C API, so that cost is part of the measurement (see README).
  impl.run = [p, y]() {
    openBlasLinear(p->m, p->k, p->n, p->x.data(), p->w.data(), y->data());
    return std::string();
  };
  impl.result = [y]() { return *y; };
#else
  impl.setup = []() { return std::string("OpenBLAS not found at build time"); };
  impl.run = []() { return std::string("unavailable"); };
#endif
  return impl;
}

} // namespace quilt::bench
