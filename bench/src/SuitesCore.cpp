//===- SuitesCore.cpp - The `core` suite: dense linears --------*- C++ -*-===//
//
// This file registers the `core` suite: one linear `y = x * W` at the shapes
// of LLM inference (decode M = 1, small and large batches, an MLP up
// projection) and square GEMMs, in f32, bf16 and int8, against OpenBLAS and
// oneDNN.
//
//===----------------------------------------------------------------------===//

#include "Bench.h"

namespace quilt::bench {
namespace {

struct LinearShape {
  int64_t m, k, n;
};

constexpr LinearShape kCoreShapes[] = {
    {1, 4096, 4096},    {16, 4096, 4096},   {128, 4096, 4096},
    {512, 4096, 11008}, {1024, 1024, 1024}, {2048, 2048, 2048},
};

Case makeLinearCase(LinearShape shape) {
  Case c;
  c.name = "linear-" + std::to_string(shape.m) + "x" + std::to_string(shape.k) +
           "x" + std::to_string(shape.n);
  // The inputs are generated on first use and shared by every impl and
  // thread count of the case; the driver drops the case when it is done.
  auto problem = std::make_shared<std::shared_ptr<const LinearProblem>>();
  c.makeImpls = [shape, problem](unsigned threads) {
    if (!*problem)
      *problem = makeLinearProblem(shape.m, shape.k, shape.n, /*seed=*/1);
    const auto &p = *problem;
    // The first impl is the reference of the accuracy column and the
    // baseline of the ratios.
    return std::vector<Impl>{
        makeOpenBlasF32(p), makeQuiltLinear(p, QuiltFormat::F32, threads),
        makeOneDnnBf16(p),  makeQuiltLinear(p, QuiltFormat::BF16, threads),
        makeOneDnnInt8(p),  makeQuiltLinear(p, QuiltFormat::Int8, threads),
    };
  };
  return c;
}

} // namespace

QUILT_BENCH_REGISTER_SUITE(
    core,
    Suite{"core", "dense linears y = x*W: f32, bf16, int8 vs OpenBLAS, oneDNN",
          []() {
            std::vector<Case> cases;
            for (LinearShape shape : kCoreShapes)
              cases.push_back(makeLinearCase(shape));
            return cases;
          }});

} // namespace quilt::bench
