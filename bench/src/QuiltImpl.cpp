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
#include "llvm/Support/raw_ostream.h"

#include <cstring>

namespace quilt::bench {

namespace rt = mlir::quilt::runtime;

static bool useReferencePipeline = false;

void setQuiltReferencePipeline(bool reference) {
  useReferencePipeline = reference;
}

std::string makeQuiltLinearModule(int64_t m, int64_t k, int64_t n,
                                  QuiltFormat format) {
  std::string weight = "!quilt.packed<" + std::to_string(k) + "x" +
                       std::to_string(n) + ", precision<";
  std::string act;
  switch (format) {
  case QuiltFormat::F32:
    weight += "f32>>";
    break;
  case QuiltFormat::BF16:
    weight += "bf16>>";
    act = " act <bf16>";
    break;
  case QuiltFormat::Int8:
    // W8A8: int8 weights with per-column scales, activations rounded to int8
    // with one scale per row inside the call.
    weight += "i8, channel>>";
    act = " act <i8, channel>";
    break;
  case QuiltFormat::Int4:
    weight += "i4, group<128>>>";
    break;
  case QuiltFormat::Int4A8:
    // W4A8: int4 codes and int8 activations (per row) on vpdpbusd.
    weight += "i4, group<128>>>";
    act = " act <i8, channel>";
    break;
  }
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

const char *getFormatSuffix(QuiltFormat format) {
  switch (format) {
  case QuiltFormat::F32:
    return "f32";
  case QuiltFormat::BF16:
    return "bf16";
  case QuiltFormat::Int8:
    return "int8";
  case QuiltFormat::Int4:
    return "int4";
  case QuiltFormat::Int4A8:
    return "int4a8";
  }
  return "?";
}

/// Bytes of the packed weight as stored: values plus per-column (per-group)
/// scales.
double getWeightBytes(int64_t k, int64_t n, QuiltFormat format) {
  switch (format) {
  case QuiltFormat::F32:
    return 4.0 * double(k * n);
  case QuiltFormat::BF16:
    return 2.0 * double(k * n);
  case QuiltFormat::Int8:
    return double(k * n) + 4.0 * double(n);
  case QuiltFormat::Int4:
  case QuiltFormat::Int4A8:
    return 0.5 * double(k * n) + 4.0 * double(n) * double(k / 128);
  }
  return 0;
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

Impl makeQuiltLinear(std::shared_ptr<const LinearProblem> p, QuiltFormat format,
                     unsigned threads) {
  Impl impl;
  // Reference timings must never pass for the CPU backend's, so they get
  // their own impl names.
  impl.name = std::string(useReferencePipeline ? "quilt-ref-" : "quilt-") +
              getFormatSuffix(format);
  bool reference = useReferencePipeline;
  impl.flops = p->flops();
  impl.bytes = 4.0 * double(p->m * p->k + p->m * p->n) +
               getWeightBytes(p->k, p->n, format);
  auto s = std::make_shared<QuiltState>();
  impl.setup = [p, s, format, threads, reference]() -> std::string {
    s->context = makeContext();
    std::string error;
    auto module = parseModule(
        *s->context, makeQuiltLinearModule(p->m, p->k, p->n, format), error);
    if (!module)
      return "quilt module does not parse: " + error;
#if QUILT_BENCH_HAVE_RUNTIME
    rt::CompileOptions options;
    options.pipeline =
        reference ? rt::PipelineKind::Reference : rt::PipelineKind::CPU;
    options.threads = threads;
    auto jit = rt::JitModule::compile(*module, options);
    if (!jit)
      return "compile failed: " + llvm::toString(jit.takeError());
    s->module = std::move(*jit);
    std::vector<rt::HostArray> inputs;
    inputs.push_back(toHostArray(p->x, {p->m, p->k}));
    inputs.push_back(toHostArray(p->w, {p->k, p->n}));
    auto invocation = s->module->prepare("main", std::move(inputs));
    if (!invocation)
      return "prepare failed: " + llvm::toString(invocation.takeError());
    s->invocation = std::move(*invocation);
    return "";
#else
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

} // namespace quilt::bench
