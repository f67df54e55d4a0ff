//===- SuitesFusion.cpp - The `fusion` suite --------------------*- C++ -*-===//
//
// Fused against unfused, in one process, on the same module and weight
// formats: `quilt-unfused` compiles the module as written (one kernel per
// op), `quilt-fused` runs quilt-fuse-blocks first (one kernel per block), and
// `quilt-linear-only` times the bare linear of the linear + bias + gelu case,
// the bound a fused epilogue should come close to. vs_unfus is the unfused
// median over the impl's; rel_err is against quilt-unfused.
//
//===----------------------------------------------------------------------===//

#include "Bench.h"

#include <cmath>

namespace quilt::bench {
namespace {

std::string tensor(int64_t rows, int64_t cols) {
  return "tensor<" + std::to_string(rows) + "x" + std::to_string(cols) +
         "xf32>";
}
std::string vector(int64_t n) {
  return "tensor<" + std::to_string(n) + "xf32>";
}
std::string packed(int64_t k, int64_t n, const std::string &format) {
  return "!quilt.packed<" + std::to_string(k) + "x" + std::to_string(n) + ", " +
         format + ">";
}

/// Random inputs of the given shapes from a seed per argument.
struct Inputs {
  std::vector<QuiltInput> args;
  void add(std::vector<int64_t> shape, uint64_t seed, float scale = 1) {
    int64_t count = 1;
    for (int64_t d : shape)
      count *= d;
    auto values = makeRandomF32(count, seed);
    if (scale != 1)
      for (float &v : values)
        v *= scale;
    args.push_back(
        {std::make_shared<const std::vector<float>>(std::move(values)),
         std::move(shape)});
  }
};

/// A case whose impls are the module fused and unfused (+ `extra`).
Case makeFusionCase(
    std::string name, std::function<std::string()> text,
    std::function<Inputs()> inputs, double flops, double bytes,
    std::function<std::vector<Impl>(const Inputs &, unsigned)> extra = {}) {
  Case c;
  c.name = std::move(name);
  auto shared = std::make_shared<std::shared_ptr<Inputs>>();
  c.makeImpls = [=](unsigned threads) {
    if (!*shared)
      *shared = std::make_shared<Inputs>(inputs());
    std::vector<Impl> impls;
    for (bool fuse : {false, true}) {
      Impl impl = makeQuiltModule(fuse ? "quilt-fused" : "quilt-unfused",
                                  text(), (*shared)->args, fuse, threads);
      impl.flops = flops;
      impl.bytes = bytes;
      impls.push_back(std::move(impl));
    }
    if (extra)
      for (Impl &impl : extra(**shared, threads))
        impls.push_back(std::move(impl));
    return impls;
  };
  return c;
}

// Weights scaled by 1/sqrt(K) keep activations O(1) through the chains.
float weightScale(int64_t k) { return 1.0f / float(std::sqrt(double(k))); }

/// linear + bias + gelu, with `quantizeOut` then the output rounded to int8
/// with a static scale (quilt.quantize).
Case linearBiasGelu(int64_t m, int64_t k, int64_t n, bool quantizeOut = false) {
  const std::string format = "precision<f32>";
  std::string w = packed(k, n, format);
  auto text = [=] {
    std::string y = tensor(m, n);
    std::string quantize =
        quantizeOut
            ? "\n  %q = quilt.quantize %g to <i8, tensor> scale 0.03 : " + y
            : "";
    return "func.func @main(%x: " + tensor(m, k) + ", %w: " + w +
           ", %b: " + vector(n) + ") -> " + y +
           " {\n  %l = quilt.linear %x, %w bias %b : " + tensor(m, k) + ", " +
           w + ", " + vector(n) + " -> " + y + "\n  %g = quilt.gelu %l : " + y +
           quantize + "\n  return " + (quantizeOut ? "%q" : "%g") + " : " + y +
           "\n}\n";
  };
  auto inputs = [=] {
    Inputs in;
    in.add({m, k}, 1);
    in.add({k, n}, 2, weightScale(k));
    in.add({n}, 3);
    return in;
  };
  auto bare = [=](const Inputs &in, unsigned threads) {
    std::string module = "func.func @main(%x: " + tensor(m, k) + ", %w: " + w +
                         ") -> " + tensor(m, n) + " {\n  %l = quilt.linear " +
                         "%x, %w : " + tensor(m, k) + ", " + w + " -> " +
                         tensor(m, n) + "\n  return %l : " + tensor(m, n) +
                         "\n}\n";
    Impl impl = makeQuiltModule("quilt-linear-only", module,
                                {in.args[0], in.args[1]}, false, threads);
    impl.flops = 2.0 * m * k * n;
    impl.bytes = 4.0 * (m * k + m * n);
    return std::vector<Impl>{std::move(impl)};
  };
  return makeFusionCase(
      std::string(quantizeOut ? "linear-bias-gelu-i8out-"
                              : "linear-bias-gelu-") +
          std::to_string(m) + "x" + std::to_string(k) + "x" + std::to_string(n),
      text, inputs, 2.0 * m * k * n, 4.0 * (m * k + m * n), bare);
}

Case rmsnormLinear(int64_t m, int64_t k, int64_t n) {
  std::string w = packed(k, n, "precision<f32>");
  auto text = [=] {
    return "func.func @main(%x: " + tensor(m, k) + ", %g: " + vector(k) +
           ", %w: " + w + ") -> " + tensor(m, n) +
           " {\n  %n = quilt.rmsnorm %x, %g : " + tensor(m, k) + ", " +
           vector(k) + "\n  %l = quilt.linear %n, %w : " + tensor(m, k) + ", " +
           w + " -> " + tensor(m, n) + "\n  return %l : " + tensor(m, n) +
           "\n}\n";
  };
  auto inputs = [=] {
    Inputs in;
    in.add({m, k}, 1);
    in.add({k}, 2);
    in.add({k, n}, 3, weightScale(k));
    return in;
  };
  return makeFusionCase("rmsnorm-linear-" + std::to_string(m) + "x" +
                            std::to_string(k) + "x" + std::to_string(n),
                        text, inputs, 2.0 * m * k * n, 4.0 * (m * k + m * n));
}

/// down(silu(x Wg) * (x Wu)), bf16 weights (f32 activations).
Case gatedMLP(int64_t m, int64_t d, int64_t h) {
  const std::string format = "precision<bf16>";
  std::string wu = packed(d, h, format), wd = packed(h, d, format);
  auto text = [=] {
    std::string x = tensor(m, d), hid = tensor(m, h);
    return "func.func @main(%x: " + x + ", %wu: " + wu + ", %wg: " + wu +
           ", %wd: " + wd + ") -> " + x + " {\n" +
           "  %u = quilt.linear %x, %wu : " + x + ", " + wu + " -> " + hid +
           "\n  %g = quilt.linear %x, %wg : " + x + ", " + wu + " -> " + hid +
           "\n  %s = quilt.silu %g : " + hid +
           "\n  %p = quilt.mul %s, %u : " + hid +
           "\n  %y = quilt.linear %p, %wd : " + hid + ", " + wd + " -> " + x +
           "\n  return %y : " + x + "\n}\n";
  };
  auto inputs = [=] {
    Inputs in;
    in.add({m, d}, 1);
    in.add({d, h}, 2, weightScale(d));
    in.add({d, h}, 3, weightScale(d));
    in.add({h, d}, 4, weightScale(h));
    return in;
  };
  return makeFusionCase("gated-mlp-" + std::to_string(m) + "x" +
                            std::to_string(d) + "x" + std::to_string(h),
                        text, inputs, 3 * 2.0 * m * d * h, 4.0 * (2 * m * d));
}

/// Q, K and V projections of one input, W8A8 (the input is quantized once
/// when fused).
Case qkv(int64_t m, int64_t d) {
  const std::string format = "precision<i8, channel>";
  std::string w = packed(d, d, format);
  auto text = [=] {
    std::string x = tensor(m, d);
    std::string body;
    for (const char *name : {"q", "k", "v"})
      body += "  %" + std::string(name) + " = quilt.linear %x, %w" + name +
              " act <i8, channel> : " + x + ", " + w + " -> " + x + "\n";
    return "func.func @main(%x: " + x + ", %wq: " + w + ", %wk: " + w +
           ", %wv: " + w + ") -> (" + x + ", " + x + ", " + x + ") {\n" + body +
           "  return %q, %k, %v : " + x + ", " + x + ", " + x + "\n}\n";
  };
  auto inputs = [=] {
    Inputs in;
    in.add({m, d}, 1);
    for (uint64_t seed : {2, 3, 4})
      in.add({d, d}, seed, weightScale(d));
    return in;
  };
  return makeFusionCase("qkv-" + std::to_string(m) + "x" + std::to_string(d),
                        text, inputs, 3 * 2.0 * m * d * d, 4.0 * (4 * m * d));
}

/// softmax(Q K^T) V for `heads` heads of `queries` queries and `keys` keys
/// of `d` features, Q pre-scaled by 1/sqrt(d). Fused, the score matrix is never
/// stored (attention-max-seq is 512).
Case attention(int64_t heads, int64_t queries, int64_t keys, int64_t d) {
  auto t3 = [&](int64_t rows, int64_t cols) {
    return "tensor<" + std::to_string(heads) + "x" + std::to_string(rows) +
           "x" + std::to_string(cols) + "xf32>";
  };
  std::string q = t3(queries, d), kv = t3(keys, d), s = t3(queries, keys);
  auto text = [=] {
    return "func.func @main(%q: " + q + ", %k: " + kv + ", %v: " + kv +
           ") -> " + q + " {\n  %s = quilt.matmul %q, %k transpose_b : " + q +
           ", " + kv + " -> " + s + "\n  %p = quilt.softmax %s : " + s +
           "\n  %o = quilt.matmul %p, %v : " + s + ", " + kv + " -> " + q +
           "\n  return %o : " + q + "\n}\n";
  };
  auto inputs = [=] {
    Inputs in;
    in.add({heads, queries, d}, 1, weightScale(d));
    in.add({heads, keys, d}, 2);
    in.add({heads, keys, d}, 3);
    return in;
  };
  return makeFusionCase("attention-" + std::to_string(heads) + "x" +
                            std::to_string(queries) + "x" +
                            std::to_string(keys) + "x" + std::to_string(d),
                        text, inputs, 4.0 * heads * queries * keys * d,
                        4.0 * heads * (2 * queries * d + 2 * keys * d));
}

} // namespace

QUILT_BENCH_REGISTER_SUITE(
    fusion,
    Suite{"fusion", "quilt.fused blocks vs the same ops unfused (same formats)",
          []() {
            std::vector<Case> cases;
            cases.push_back(linearBiasGelu(128, 4096, 4096));
            cases.push_back(linearBiasGelu(128, 4096, 4096, true));
            cases.push_back(rmsnormLinear(16, 4096, 4096));
            cases.push_back(rmsnormLinear(128, 4096, 4096));
            for (int64_t m : {1, 16, 128})
              cases.push_back(gatedMLP(m, 4096, 11008));
            cases.push_back(qkv(16, 4096));
            cases.push_back(qkv(128, 4096));
            cases.push_back(attention(32, 256, 256, 128));
            cases.push_back(attention(32, 1, 512, 128));
            return cases;
          }});

} // namespace quilt::bench
