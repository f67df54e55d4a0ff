//===- SuitesInt4.cpp - The `int4` suite: int4 linears ----------*- C++ -*-===//
//
// This file registers the `int4` suite: the decode, small-batch, batch and
// MLP linears of `core` with int4 weights (symmetric, group-128 scales),
// with f32 activations and with int8 ones (W4A8), against OpenBLAS f32,
// Quilt's own f32 kernel and W8A8 on the same inputs.
//
//===----------------------------------------------------------------------===//

#include "Bench.h"

namespace quilt::bench {
namespace {

struct LinearShape {
  int64_t m, k, n;
};

constexpr LinearShape kInt4Shapes[] = {
    {1, 4096, 4096},
    {16, 4096, 4096},
    {128, 4096, 4096},
    {512, 4096, 11008},
};

Case makeInt4Case(LinearShape shape) {
  Case c;
  c.name = "linear-" + std::to_string(shape.m) + "x" + std::to_string(shape.k) +
           "x" + std::to_string(shape.n);
  auto problem = std::make_shared<std::shared_ptr<const LinearProblem>>();
  c.makeImpls = [shape, problem](unsigned threads) {
    if (!*problem)
      *problem = makeLinearProblem(shape.m, shape.k, shape.n, /*seed=*/1);
    const auto &p = *problem;
    return std::vector<Impl>{
        makeOpenBlasF32(p),
        makeQuiltLinear(p, QuiltFormat::F32, threads),
        makeQuiltLinear(p, QuiltFormat::Int8, threads),
        makeQuiltLinear(p, QuiltFormat::Int4, threads),
        makeQuiltLinear(p, QuiltFormat::Int4A8, threads),
    };
  };
  return c;
}

} // namespace

QUILT_BENCH_REGISTER_SUITE(
    int4, Suite{"int4",
                "int4 group-128 linears, f32 and int8 activations, vs "
                "OpenBLAS f32",
                []() {
                  std::vector<Case> cases;
                  for (LinearShape shape : kInt4Shapes)
                    cases.push_back(makeInt4Case(shape));
                  return cases;
                }});

} // namespace quilt::bench
