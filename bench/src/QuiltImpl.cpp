//===- QuiltImpl.cpp - Quilt linears through the JIT runner ----*- C++ -*-===//
//
// This file implements the `quilt-<format>` impls: the quilt IR of one linear
// with a packed weight, JIT-compiled through quilt-cpu-pipeline by
// JitRunner.h. The runtime packs the weight once in prepare(), untimed; a
// timed call reads f32 activations and writes f32 outputs, converting
// activations to the linear's `act` precision inside the call.
//
// Built without the QuiltRuntime library, the impls still parse their module
// (so the IR is checked) and then report themselves skipped.
//
//===----------------------------------------------------------------------===//

#include "Bench.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#if !QUILT_BENCH_HAVE_RUNTIME
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "quilt/InitAllDialects.h"
#endif
#include "quilt/Runtime/JitRunner.h"
#if QUILT_BENCH_HAVE_RUNTIME
#include "mlir/Pass/PassManager.h"
#include "quilt/Transforms/Passes.h"
#endif
#include "llvm/Support/raw_ostream.h"

#include <cstring>

namespace quilt::bench {

namespace rt = mlir::quilt::runtime;

static bool useReferencePipeline = false;

void setQuiltReferencePipeline(bool reference) {
  useReferencePipeline = reference;
}

QuiltLinearSpec getQuiltLinearSpec(QuiltFormat format) {
  switch (format) {
  case QuiltFormat::F32:
    return {"f32", "precision<f32>", ""};
  case QuiltFormat::BF16:
    return {"bf16", "precision<bf16>", "<bf16>"};
  case QuiltFormat::Int8:
    // W8A8: int8 weights with per-column scales, activations rounded to int8
    // with one scale per row inside the call.
    return {"int8", "precision<i8, channel>", "<i8, channel>"};
  }
  return {};
}

std::string makeQuiltLinearModule(int64_t m, int64_t k, int64_t n,
                                  const QuiltLinearSpec &spec) {
  std::string weight = "!quilt.packed<" + std::to_string(k) + "x" +
                       std::to_string(n) + ", " + spec.format + ">";
  std::string act = spec.act.empty() ? "" : " act " + spec.act;
  std::string x =
      "tensor<" + std::to_string(m) + "x" + std::to_string(k) + "xf32>";
  std::string y =
      "tensor<" + std::to_string(m) + "x" + std::to_string(n) + "xf32>";
  return "func.func @main(%x: " + x + ", %w: " + weight + ") -> " + y +
         " {\n  %y = quilt.linear %x, %w" + act + " : " + x + ", " + weight +
         " -> " + y + "\n  return %y : " + y + "\n}\n";
}

namespace {
/// A context that knows everything the runtime's pipelines and LLVM IR
/// translation need (the runtime's own list).
std::unique_ptr<mlir::MLIRContext> makeContext() {
  mlir::DialectRegistry registry;
#if QUILT_BENCH_HAVE_RUNTIME
  rt::registerRuntimeDependencies(registry);
#else
  registry.insert<mlir::func::FuncDialect, mlir::tensor::TensorDialect>();
  mlir::quilt::registerAllDialects(registry);
#endif
  auto context = std::make_unique<mlir::MLIRContext>(registry);
  // Compilation is untimed; single-threaded keeps its diagnostics in order
  // and starts no thread pool that would idle beside the timed calls.
  context->disableMultithreading();
  return context;
}

/// Parses `text`; on failure returns null and puts the diagnostics in
/// `error`.
mlir::OwningOpRef<mlir::ModuleOp> parseModule(mlir::MLIRContext &context,
                                              const std::string &text,
                                              std::string &error) {
  llvm::raw_string_ostream os(error);
  mlir::ScopedDiagnosticHandler handler(&context, [&](mlir::Diagnostic &d) {
    os << d.getLocation() << ": " << d << "\n";
    return mlir::success();
  });
  return mlir::parseSourceString<mlir::ModuleOp>(text, &context);
}

/// The context must outlive the JIT module, which holds a clone of the IR;
/// members are destroyed in reverse order.
struct QuiltState {
  std::unique_ptr<mlir::MLIRContext> context;
  std::unique_ptr<rt::JitModule> module;
  std::unique_ptr<rt::Invocation> invocation;
};

[[maybe_unused]] rt::HostArray toHostArray(const std::vector<float> &values,
                                           std::vector<int64_t> shape) {
  rt::HostArray array(rt::ElementKind::F32, std::move(shape));
  std::memcpy(array.getData(), values.data(), values.size() * sizeof(float));
  return array;
}
} // namespace

std::string checkQuiltModuleParses(const std::string &text) {
  auto context = makeContext();
  std::string error;
  if (!parseModule(*context, text, error))
    return error.empty() ? "parse failed" : error;
  return "";
}

Impl makeQuiltModule(std::string name, std::string text,
                     std::vector<QuiltInput> inputs, bool fuse,
                     unsigned threads) {
  Impl impl;
  // Reference timings must never pass for the CPU backend's, so they get
  // their own impl names.
  impl.name = useReferencePipeline ? "quilt-ref-" + name.substr(6) : name;
  bool reference = useReferencePipeline;
  auto s = std::make_shared<QuiltState>();
  impl.setup = [s, text, inputs, fuse, threads, reference]() -> std::string {
    s->context = makeContext();
    std::string error;
    auto module = parseModule(*s->context, text, error);
    if (!module)
      return "quilt module does not parse: " + error;
#if QUILT_BENCH_HAVE_RUNTIME
    if (fuse) {
      mlir::PassManager pm(s->context.get());
      pm.addPass(mlir::quilt::createQuiltFuseBlocks());
      if (mlir::failed(pm.run(*module)))
        return "quilt-fuse-blocks failed";
    }
    rt::CompileOptions options;
    options.pipeline =
        reference ? rt::PipelineKind::Reference : rt::PipelineKind::CPU;
    options.threads = threads;
    auto jit = rt::JitModule::compile(*module, options);
    if (!jit)
      return "compile failed: " + llvm::toString(jit.takeError());
    s->module = std::move(*jit);
    std::vector<rt::HostArray> arrays;
    for (const QuiltInput &input : inputs)
      arrays.push_back(toHostArray(*input.values, input.shape));
    auto invocation = s->module->prepare("main", std::move(arrays));
    if (!invocation)
      return "prepare failed: " + llvm::toString(invocation.takeError());
    s->invocation = std::move(*invocation);
    return "";
#else
    (void)inputs;
    (void)fuse;
    (void)threads;
    (void)reference;
    return "QuiltRuntime (JitRunner.h) not built on this branch yet";
#endif
  };
  impl.run = [s]() -> std::string {
    if (!s->invocation)
      return "not prepared";
    if (llvm::Error err = s->invocation->run())
      return llvm::toString(std::move(err));
    return "";
  };
#if QUILT_BENCH_HAVE_RUNTIME
  impl.weightBytes = [s]() -> double {
    return s->invocation ? double(s->invocation->getPackedWeightBytes()) : 0;
  };
  impl.release = [s]() {
    if (s->invocation)
      s->invocation->releaseResults();
  };
  impl.result = [s]() -> std::vector<float> {
    if (!s->invocation)
      return {};
    auto results = s->invocation->getResults();
    if (!results) {
      llvm::consumeError(results.takeError());
      return {};
    }
    if (results->empty() || (*results)[0].getKind() != rt::ElementKind::F32)
      return {};
    const auto *data = static_cast<const float *>((*results)[0].getData());
    return std::vector<float>(data, data + (*results)[0].getNumElements());
  };
#endif
  return impl;
}

Impl makeQuiltLinear(std::shared_ptr<const LinearProblem> p,
                     const QuiltLinearSpec &spec, unsigned threads) {
  // The problem owns x and W; the inputs alias them.
  auto x = std::shared_ptr<const std::vector<float>>(p, &p->x);
  auto w = std::shared_ptr<const std::vector<float>>(p, &p->w);
  Impl impl = makeQuiltModule("quilt-" + spec.name,
                              makeQuiltLinearModule(p->m, p->k, p->n, spec),
                              {{x, {p->m, p->k}}, {w, {p->k, p->n}}},
                              /*fuse=*/false, threads);
  impl.flops = p->flops();
  // Activations and outputs; the stored weight is added after setup.
  impl.bytes = 4.0 * double(p->m * p->k + p->m * p->n);
  return impl;
}

} // namespace quilt::bench
