//===- BaselinesOneDNN.cpp - oneDNN bf16 and int8 baselines ----*- C++ -*-===//
//
// This file implements the `onednn-bf16` and `onednn-int8` impls on oneDNN's
// matmul primitive (Debian libdnnl 2.6, OpenMP runtime). Weights get
// `format_tag::any` and are reordered into the primitive's blocked layout
// once, untimed, like Quilt's packed weights; activations are converted to
// the low precision untimed too (see bench/README.md for why).
//
// dnnl.hpp reports errors by throwing, so this file alone is compiled with
// exceptions; nothing escapes it: errors become skip notes.
//
//===----------------------------------------------------------------------===//

#include "Bench.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

#if QUILT_BENCH_HAVE_DNNL
#include <dlfcn.h>
#include <dnnl.hpp>
#endif

namespace quilt::bench {

#if QUILT_BENCH_HAVE_DNNL
using namespace dnnl;

void setOneDnnThreads(unsigned threads) {
  // libdnnl is built on GNU OpenMP (libgomp). quilt-bench itself is not
  // compiled with -fopenmp and the Quilt runtime may bring LLVM's libomp, so
  // look the setter up in the very libgomp that libdnnl loaded.
  void *gomp = dlopen("libgomp.so.1", RTLD_NOW | RTLD_NOLOAD);
  if (!gomp)
    return;
  if (auto *set =
          reinterpret_cast<void (*)(int)>(dlsym(gomp, "omp_set_num_threads")))
    set(int(threads));
  dlclose(gomp);
}

std::string describeOneDnn() {
  const dnnl_version_t *v = dnnl_version();
  return "oneDNN " + std::to_string(v->major) + "." + std::to_string(v->minor) +
         "." + std::to_string(v->patch) + " (cpu runtime " +
         (v->cpu_runtime == DNNL_RUNTIME_OMP ? "OpenMP" : "non-OpenMP") + ")";
}

namespace {
/// Everything one oneDNN matmul needs across setup and runs.
struct OneDnnState {
  engine eng{engine::kind::cpu, 0};
  stream strm{eng};
  matmul prim;
  memory src, weights, dst;
};

/// Wraps a host f32 array (row-major, 2-D) as a oneDNN memory.
memory wrapF32(const engine &eng, int64_t rows, int64_t cols,
               const float *data) {
  memory::desc md({rows, cols}, memory::data_type::f32, memory::format_tag::ab);
  return memory(md, eng, const_cast<float *>(data));
}

/// Converts or relayouts `from` into a new memory of `md`, untimed.
memory reorderInto(OneDnnState &s, memory from, const memory::desc &md) {
  memory to(md, s.eng);
  reorder(from, to).execute(s.strm, from, to);
  s.strm.wait();
  return to;
}

std::vector<float> readDst(OneDnnState &s, int64_t count) {
  const float *data = static_cast<const float *>(s.dst.get_data_handle());
  return std::vector<float>(data, data + count);
}

/// Symmetric int8 rounding (nearest, ties to even under the default FP
/// rounding mode), the same rule as quilt.pack.
int8_t quantize(float v, float scale) {
  float q = std::nearbyint(v / scale);
  return int8_t(std::clamp(q, -127.0f, 127.0f));
}
} // namespace

/// Times one execution of the prepared primitive; the result is dst.
static void bindExecution(Impl &impl, std::shared_ptr<const LinearProblem> p,
                          std::shared_ptr<OneDnnState> s) {
  impl.run = [s]() -> std::string {
    try {
      s->prim.execute(s->strm, {{DNNL_ARG_SRC, s->src},
                                {DNNL_ARG_WEIGHTS, s->weights},
                                {DNNL_ARG_DST, s->dst}});
      s->strm.wait();
      return "";
    } catch (const dnnl::error &e) {
      return e.what();
    }
  };
  impl.result = [p, s]() { return readDst(*s, p->m * p->n); };
}

Impl makeOneDnnBf16(std::shared_ptr<const LinearProblem> p) {
  Impl impl;
  impl.name = "onednn-bf16";
  impl.flops = p->flops();
  impl.bytes = 2.0 * double(p->m * p->k + p->k * p->n) + 4.0 * p->m * p->n;
  auto s = std::make_shared<OneDnnState>();
  impl.setup = [p, s]() -> std::string {
    try {
      using dt = memory::data_type;
      using tag = memory::format_tag;
      memory::desc srcMd({p->m, p->k}, dt::bf16, tag::ab);
      memory::desc wMd({p->k, p->n}, dt::bf16, tag::any);
      memory::desc dstMd({p->m, p->n}, dt::f32, tag::ab);
      matmul::primitive_desc pd(matmul::desc(srcMd, wMd, dstMd), s->eng);
      s->prim = matmul(pd);
      s->src = reorderInto(*s, wrapF32(s->eng, p->m, p->k, p->x.data()),
                           pd.src_desc());
      s->weights = reorderInto(*s, wrapF32(s->eng, p->k, p->n, p->w.data()),
                               pd.weights_desc());
      s->dst = memory(pd.dst_desc(), s->eng);
      return "";
    } catch (const dnnl::error &e) {
      return std::string("oneDNN bf16 matmul unavailable: ") + e.what();
    }
  };
  bindExecution(impl, p, s);
  return impl;
}

Impl makeOneDnnInt8(std::shared_ptr<const LinearProblem> p) {
  Impl impl;
  impl.name = "onednn-int8";
  impl.flops = p->flops();
  impl.bytes = double(p->m * p->k + p->k * p->n) + 4.0 * p->m * p->n +
               4.0 * double(p->n);
  auto s = std::make_shared<OneDnnState>();
  impl.setup = [p, s]() -> std::string {
    try {
      using dt = memory::data_type;
      using tag = memory::format_tag;
      // Weights: per output channel (column) scales, as precision<i8,
      // channel>. Activations: one scale for the tensor, because a 2.6
      // matmul applies output scales per N only (see README).
      std::vector<float> wScale(p->n, 0.0f);
      for (int64_t l = 0; l < p->k; ++l)
        for (int64_t j = 0; j < p->n; ++j)
          wScale[j] = std::max(wScale[j], std::fabs(p->w[l * p->n + j]));
      for (float &sc : wScale)
        sc = sc > 0 ? sc / 127.0f : 1.0f;
      float xMax = 0;
      for (float v : p->x)
        xMax = std::max(xMax, std::fabs(v));
      float xScale = xMax > 0 ? xMax / 127.0f : 1.0f;

      std::vector<int8_t> xq(p->x.size()), wq(p->w.size());
      for (size_t i = 0; i < xq.size(); ++i)
        xq[i] = quantize(p->x[i], xScale);
      for (int64_t l = 0; l < p->k; ++l)
        for (int64_t j = 0; j < p->n; ++j)
          wq[l * p->n + j] = quantize(p->w[l * p->n + j], wScale[j]);

      std::vector<float> outScale(p->n);
      for (int64_t j = 0; j < p->n; ++j)
        outScale[j] = xScale * wScale[j];
      primitive_attr attr;
      attr.set_output_scales(/*mask=*/1 << 1, outScale);

      memory::desc srcMd({p->m, p->k}, dt::s8, tag::ab);
      memory::desc wMd({p->k, p->n}, dt::s8, tag::any);
      memory::desc dstMd({p->m, p->n}, dt::f32, tag::ab);
      matmul::primitive_desc pd(matmul::desc(srcMd, wMd, dstMd), attr, s->eng);
      s->prim = matmul(pd);
      s->src = memory(pd.src_desc(), s->eng);
      std::copy(xq.begin(), xq.end(),
                static_cast<int8_t *>(s->src.get_data_handle()));
      memory::desc wPlain({p->k, p->n}, dt::s8, tag::ab);
      s->weights =
          reorderInto(*s, memory(wPlain, s->eng, wq.data()), pd.weights_desc());
      s->dst = memory(pd.dst_desc(), s->eng);
      return "";
    } catch (const dnnl::error &e) {
      return std::string("oneDNN int8 matmul unavailable: ") + e.what();
    }
  };
  bindExecution(impl, p, s);
  return impl;
}

#else // !QUILT_BENCH_HAVE_DNNL

void setOneDnnThreads(unsigned) {}
std::string describeOneDnn() { return "oneDNN: not found at build time"; }

static Impl makeMissing(const char *name,
                        std::shared_ptr<const LinearProblem> p) {
  Impl impl;
  impl.name = name;
  impl.flops = p->flops();
  impl.setup = []() { return std::string("oneDNN not found at build time"); };
  impl.run = []() { return std::string("unavailable"); };
  return impl;
}
Impl makeOneDnnBf16(std::shared_ptr<const LinearProblem> p) {
  return makeMissing("onednn-bf16", p);
}
Impl makeOneDnnInt8(std::shared_ptr<const LinearProblem> p) {
  return makeMissing("onednn-int8", p);
}

#endif // QUILT_BENCH_HAVE_DNNL

} // namespace quilt::bench
