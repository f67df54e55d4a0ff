//===- Features.cpp - What the cost models see of an op -------------------===//
//
// This file implements analyzeOp (the work of an op in a format) and the
// learned model's feature vector. Every feature is a pure function of the IR
// and the target description, so the same op always gives the same vector.
//
//===----------------------------------------------------------------------===//

#include "quilt/CostModel/Features.h"

#include "quilt/CostModel/AnalyticalModel.h"
#include "quilt/Dialect/Quilt/QuiltOps.h"
#include "quilt/Runtime/OpCost.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cmath>

namespace mlir::quilt::cost {

namespace {

/// Approximate vector operations per element of each element-wise op (the
/// polynomial expansions of exp/tanh/erf dominate gelu and silu).
double opsPerElement(Operation *op) {
  return TypeSwitch<Operation *, double>(op)
      .Case<ReluOp, AddOp, MulOp>([](auto) { return 1.0; })
      .Case<GeluOp, SiluOp>([](auto) { return 20.0; })
      .Case<QuantizeOp>([](auto) { return 5.0; })
      .Case<SoftmaxOp>([](auto) { return 16.0; })
      .Case<RMSNormOp>([](auto) { return 4.0; })
      .Case<LayerNormOp>([](auto) { return 7.0; })
      .Default([](Operation *) { return 1.0; });
}

unsigned kindOf(Operation *op) {
  return TypeSwitch<Operation *, unsigned>(op)
      .Case<LinearOp>([](auto) { return 0u; })
      .Case<MatmulOp>([](auto) { return 1u; })
      .Case<AddOp, MulOp>([](auto) { return 3u; })
      .Case<SoftmaxOp>([](auto) { return 4u; })
      .Case<RMSNormOp>([](auto) { return 5u; })
      .Case<LayerNormOp>([](auto) { return 6u; })
      .Default([](Operation *) { return 2u; });
}

bool isQuiltCompute(Operation *op) {
  return isa<LinearOp, MatmulOp, SoftmaxOp, RMSNormOp, LayerNormOp,
             ElementwiseOpInterface>(op);
}

double tensorBytes(Type type) {
  auto t = dyn_cast<RankedTensorType>(type);
  if (!t || !t.hasStaticShape())
    return -1;
  return double(t.getNumElements()) *
         double(t.getElementType().getIntOrFloatBitWidth()) / 8;
}

/// Adds the work of one non-fused op to `w`; the first linear or matmul
/// sets the shapes and format.
LogicalResult addWork(Operation *op, PackedType override, OpWork &w,
                      bool &haveMain) {
  for (Type t : op->getResultTypes())
    if (tensorBytes(t) < 0)
      return failure();
  if (auto linear = dyn_cast<LinearOp>(op)) {
    auto x = dyn_cast<RankedTensorType>(linear.getInput().getType());
    if (!x || !x.hasStaticShape())
      return failure();
    PackedType format = override;
    if (!format)
      format = dyn_cast<PackedType>(linear.getWeight().getType());
    int64_t k = x.getShape().back();
    int64_t m = x.getNumElements() / std::max<int64_t>(k, 1);
    auto out = cast<RankedTensorType>(linear.getType());
    int64_t n = out.getShape().back();
    double dense = 2.0 * double(m) * double(n) * double(k);
    double flops = dense;
    double weightBytes = 4.0 * double(k) * double(n);
    unsigned bits = 32;
    if (format) {
      double size = double(format.getStructure().getSize());
      switch (format.getStructure().getKind()) {
      case StructureKind::Dense:
        break;
      case StructureKind::BlockDiag:
        flops = dense / size;
        break;
      case StructureKind::Monarch:
      case StructureKind::LowRank:
        flops = 2.0 * double(m) * double(k + n) * size;
        break;
      }
      flops *= format.getSparsity().getKeptFraction();
      weightBytes = runtime::getStoredWeightBytes(format);
      bits = format.getPrecision().getBitWidth();
    }
    unsigned actBits = x.getElementType().getIntOrFloatBitWidth();
    ComputeKind compute = ComputeKind::F32;
    if (auto act = linear.getActAttr()) {
      actBits = act.getBitWidth();
      if (act.isInteger())
        compute = ComputeKind::Int8;
    }
    w.denseFlops += dense;
    w.flops += flops;
    w.weightBytes += weightBytes;
    w.activationBytes += tensorBytes(x);
    w.outputBytes += tensorBytes(out);
    if (linear.getBias())
      w.hasBias = true;
    if (!haveMain) {
      haveMain = true;
      w.kind = 0;
      w.m = m, w.k = k, w.n = n;
      w.format = format;
      w.weightBits = bits;
      w.activationBits = actBits;
      w.compute = compute;
    }
    return success();
  }
  if (auto matmul = dyn_cast<MatmulOp>(op)) {
    auto a = dyn_cast<RankedTensorType>(matmul.getLhs().getType());
    auto out = cast<RankedTensorType>(matmul.getType());
    if (!a || !a.hasStaticShape() || tensorBytes(matmul.getRhs().getType()) < 0)
      return failure();
    int64_t k = a.getShape().back(), n = out.getShape().back();
    int64_t rows = a.getNumElements() / std::max<int64_t>(k, 1);
    int64_t m = a.getShape()[a.getRank() - 2];
    double flops = 2.0 * double(rows) * double(n) * double(k);
    w.denseFlops += flops;
    w.flops += flops;
    w.activationBytes +=
        tensorBytes(a) + tensorBytes(matmul.getRhs().getType());
    w.outputBytes += tensorBytes(out);
    if (!haveMain) {
      haveMain = true;
      w.kind = 1;
      w.m = m, w.k = k, w.n = n, w.batch = rows / std::max<int64_t>(m, 1);
    }
    return success();
  }
  // Element-wise and normalization ops.
  auto result = dyn_cast<RankedTensorType>(op->getResult(0).getType());
  double elements = double(result.getNumElements());
  w.elementwiseOps += elements * opsPerElement(op);
  if (w.fused && haveMain) {
    // Inside a block the main op's output is consumed in registers/cache;
    // count the extra operands only.
    if (isa<GeluOp>(op))
      ++w.fusedGelu;
    else if (isa<SiluOp>(op))
      ++w.fusedSilu;
    else if (isa<ReluOp>(op))
      ++w.fusedRelu;
    else
      ++w.fusedOther;
    return success();
  }
  for (Value v : op->getOperands())
    w.activationBytes += std::max(0.0, tensorBytes(v.getType()));
  w.outputBytes += tensorBytes(result);
  if (!haveMain) {
    haveMain = true;
    w.kind = kindOf(op);
    int64_t n = result.getShape().back();
    w.n = n;
    w.m = result.getNumElements() / std::max<int64_t>(n, 1);
    w.k = 1;
  }
  return success();
}

float log2p(double v) { return float(std::log2(1.0 + std::max(0.0, v))); }

} // namespace

bool isCostedOp(Operation *op) {
  return isa<FusedOp>(op) || isQuiltCompute(op);
}

uint32_t getStableHash(StringRef text) {
  uint32_t h = 2166136261u;
  for (char c : text)
    h = (h ^ uint8_t(c)) * 16777619u;
  return h;
}

FailureOr<OpWork> analyzeOp(const CostQuery &query) {
  Operation *op = query.op;
  if (!op)
    return failure();
  OpWork w;
  w.threads = std::max(1u, query.threads);
  bool haveMain = false;
  if (auto fused = dyn_cast<FusedOp>(op)) {
    w.fused = true;
    // The main op first, so element-wise ops count as its epilogue.
    for (Operation &inner : fused.getBody().front())
      if (isa<LinearOp, MatmulOp>(inner) &&
          failed(addWork(&inner, haveMain ? PackedType() : query.weightFormat,
                         w, haveMain)))
        return failure();
    for (Operation &inner : fused.getBody().front())
      if (isQuiltCompute(&inner) && !isa<LinearOp, MatmulOp>(inner) &&
          failed(addWork(&inner, {}, w, haveMain)))
        return failure();
    if (!haveMain)
      return failure();
  } else {
    if (!isQuiltCompute(op) ||
        failed(addWork(op, query.weightFormat, w, haveMain)))
      return failure();
  }

  // The printed op, as the learned model's IR tokens see it: with the
  // queried format in place of the weight's own type.
  llvm::raw_string_ostream os(w.ir);
  op->print(os, OpPrintingFlags().elideLargeElementsAttrs());
  if (query.weightFormat) {
    Type original;
    op->walk([&](LinearOp linear) {
      if (!original)
        original = linear.getWeight().getType();
    });
    // Textual replacement: a dense weight's tensor type may also be an
    // activation's, whose spelling must stay (the tokens then stay those
    // of the op as written; the numeric features use the queried format).
    bool unique = isa_and_nonnull<PackedType>(original);
    op->walk([&](Operation *inner) {
      if (inner->getNumResults() && inner->getResult(0).getType() == original)
        unique = false;
    });
    if (unique && original != Type(query.weightFormat)) {
      std::string from, to;
      llvm::raw_string_ostream(from) << original;
      llvm::raw_string_ostream(to) << Type(query.weightFormat);
      size_t pos = 0;
      while ((pos = w.ir.find(from, pos)) != std::string::npos) {
        w.ir.replace(pos, from.size(), to);
        pos += to.size();
      }
    }
  }
  return w;
}

std::vector<std::string> getFeatureNames(bool irTokens) {
  std::vector<std::string> names = {
      "op_kind",
      "fused",
      "log2_m",
      "log2_k",
      "log2_n",
      "log2_batch",
      "m_mod_16",
      "n_mod_32",
      "log2_dense_flops",
      "log2_flops",
      "log2_weight_bytes",
      "log2_activation_bytes",
      "log2_output_bytes",
      "log2_total_bytes",
      "log2_intensity",
      "log2_elementwise_ops",
      "weight_bits",
      "activation_bits",
      "compute_kind",
      "scale_granularity",
      "group_size",
      "zero_point",
      "sparsity_kind",
      "kept_fraction",
      "nm_n",
      "nm_m",
      "block_rows",
      "structure_kind",
      "structure_size",
      "has_bias",
      "fused_gelu",
      "fused_silu",
      "fused_relu",
      "fused_other",
      "threads",
      "target_cores",
      "log2_target_peak_f32",
      "log2_target_peak_int8",
      "log2_target_dram_bandwidth",
      "log2_analytical_us",
      "log2_compute_us",
      "log2_memory_us",
      "memory_level",
  };
  if (irTokens)
    for (unsigned i = 0; i < kNumIRTokenBuckets; ++i)
      names.push_back("ir_token_" + std::to_string(i));
  return names;
}

std::vector<float> extractFeatures(const OpWork &w,
                                   const TargetDescription &target,
                                   double analyticalSeconds, bool irTokens) {
  PrecisionAttr precision = w.format ? w.format.getPrecision() : nullptr;
  SparsityAttr sparsity = w.format ? w.format.getSparsity() : nullptr;
  StructureAttr structure = w.format ? w.format.getStructure() : nullptr;
  RooflineTerms roofline = getRooflineTerms(w, target);
  std::vector<float> f = {
      float(w.kind),
      float(w.fused),
      log2p(double(w.m)),
      log2p(double(w.k)),
      log2p(double(w.n)),
      log2p(double(w.batch)),
      float(w.m % 16),
      float(w.n % 32),
      log2p(w.denseFlops),
      log2p(w.flops),
      log2p(w.weightBytes),
      log2p(w.activationBytes),
      log2p(w.outputBytes),
      log2p(w.totalBytes()),
      float(std::log2((w.flops + w.elementwiseOps + 1) / (w.totalBytes() + 1))),
      log2p(w.elementwiseOps),
      float(w.weightBits),
      float(w.activationBits),
      float(unsigned(w.compute)),
      precision ? float(unsigned(precision.getGranularity())) : 0.f,
      precision ? float(precision.getGroupSize()) : 0.f,
      precision ? float(precision.getZeroPoint()) : 0.f,
      sparsity ? float(unsigned(sparsity.getKind())) : 0.f,
      sparsity ? float(sparsity.getKeptFraction()) : 1.f,
      sparsity ? float(sparsity.getN()) : 0.f,
      sparsity ? float(sparsity.getM()) : 0.f,
      sparsity ? float(sparsity.getBlockRows()) : 0.f,
      structure ? float(unsigned(structure.getKind())) : 0.f,
      structure ? float(structure.getSize()) : 0.f,
      float(w.hasBias),
      float(w.fusedGelu),
      float(w.fusedSilu),
      float(w.fusedRelu),
      float(w.fusedOther),
      float(w.threads),
      float(target.cores),
      log2p(target.peakF32),
      log2p(target.peakInt8),
      log2p(target.levels.empty() ? 0 : target.levels.back().bytesPerSecond),
      float(std::log2(std::max(analyticalSeconds, 1e-9) * 1e6)),
      float(std::log2(std::max(roofline.computeSeconds, 1e-12) * 1e6)),
      float(std::log2(std::max(roofline.memorySeconds, 1e-12) * 1e6)),
      float(roofline.level),
  };
  if (irTokens) {
    // Words and numbers of the printed op; SSA names (%x) say nothing.
    std::vector<float> buckets(kNumIRTokenBuckets, 0.f);
    StringRef text = w.ir;
    size_t i = 0;
    while (i < text.size()) {
      if (!llvm::isAlnum(text[i]) && text[i] != '_' && text[i] != '.') {
        ++i;
        continue;
      }
      size_t j = i;
      while (j < text.size() &&
             (llvm::isAlnum(text[j]) || text[j] == '_' || text[j] == '.'))
        ++j;
      bool ssa = i > 0 && (text[i - 1] == '%' || text[i - 1] == '^');
      if (!ssa)
        buckets[getStableHash(text.slice(i, j)) % kNumIRTokenBuckets] += 1;
      i = j;
    }
    f.insert(f.end(), buckets.begin(), buckets.end());
  }
  return f;
}

} // namespace mlir::quilt::cost
