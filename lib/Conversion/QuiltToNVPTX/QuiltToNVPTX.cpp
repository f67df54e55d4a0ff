//===- QuiltToNVPTX.cpp - convert-quilt-to-nvptx ----------------*- C++ -*-===//
//
// Turns each function of quilt linears into GPU kernels plus a host launch
// schedule (gpu.alloc / gpu.launch_func), fusing element-wise consumers
// into the linears' epilogues.
//
//===----------------------------------------------------------------------===//

#include "quilt/Conversion/QuiltToNVPTX/QuiltToNVPTX.h"
#include "NVPTXKernels.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "quilt/Conversion/Passes.h"
#include "quilt/Dialect/Quilt/QuiltOps.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/TypeSwitch.h"

namespace mlir::quilt {
#define GEN_PASS_DEF_CONVERTQUILTTONVPTX
#include "quilt/Conversion/Passes.h.inc"
} // namespace mlir::quilt

using namespace mlir;
using namespace mlir::quilt;
using namespace mlir::quilt::nvptx;

namespace {

/// A linear and the element-wise ops fused behind it.
struct FusedLinear {
  LinearOp linear;
  Epilogue epilogue;
  Value residual; // the add's other operand, if any
  Value result;   // the last fused value
  SmallVector<Operation *> fused;
};

/// Follows the single-use chain of element-wise ops after `linear` while
/// each can run on the accumulators: one activation, then one residual add
/// of a value that exists before the linear runs.
FusedLinear fuseEpilogue(LinearOp linear) {
  FusedLinear f{linear, {}, {}, linear.getResult(), {}};
  f.epilogue.outputType =
      cast<RankedTensorType>(linear.getType()).getElementType();
  if (Value bias = linear.getBias())
    f.epilogue.biasType =
        cast<RankedTensorType>(bias.getType()).getElementType();
  while (f.result.hasOneUse()) {
    Operation *user = *f.result.getUsers().begin();
    if (f.epilogue.activation == Activation::None && !f.residual) {
      Activation activation =
          TypeSwitch<Operation *, Activation>(user)
              .Case([](ReluOp) { return Activation::Relu; })
              .Case([](SiluOp) { return Activation::Silu; })
              .Case([](GeluOp op) {
                return op.getTanh() ? Activation::GeluTanh : Activation::Gelu;
              })
              .Default([](Operation *) { return Activation::None; });
      if (activation != Activation::None) {
        f.epilogue.activation = activation;
        f.fused.push_back(user);
        f.result = user->getResult(0);
        continue;
      }
    }
    auto add = dyn_cast<AddOp>(user);
    if (!add || f.residual)
      break;
    Value other = add.getLhs() == f.result ? add.getRhs() : add.getLhs();
    // The residual must be computed before the linear's kernel launches.
    Operation *producer = other.getDefiningOp();
    if (other == f.result || (producer && !producer->isBeforeInBlock(linear)))
      break;
    f.residual = other;
    f.epilogue.residual = true;
    f.fused.push_back(user);
    f.result = add.getResult();
  }
  return f;
}

MemRefType bufferType(Type type) {
  if (auto packed = dyn_cast<PackedType>(type))
    return MemRefType::get({packed.getRows(), packed.getCols()},
                           Float32Type::get(type.getContext()));
  auto tensor = cast<RankedTensorType>(type);
  return MemRefType::get(tensor.getShape(), tensor.getElementType());
}

int64_t bufferBytes(MemRefType type) {
  return type.getNumElements() * type.getElementTypeBitWidth() / 8;
}

std::optional<std::array<int64_t, 3>> parseTriple(StringRef text) {
  SmallVector<StringRef> parts;
  text.split(parts, 'x');
  std::array<int64_t, 3> values = {0, 0, 0};
  if (parts.size() > 3)
    return std::nullopt;
  for (auto [i, part] : llvm::enumerate(parts))
    if (part.getAsInteger(10, values[i]) || values[i] <= 0)
      return std::nullopt;
  return values;
}

ArrayAttr describeTensorMaps(OpBuilder &b, ArrayRef<TensorMapSpec> maps) {
  SmallVector<Attribute> entries;
  for (const TensorMapSpec &map : maps)
    entries.push_back(b.getDictionaryAttr({
        b.getNamedAttr("argument", b.getI64IntegerAttr(map.argument)),
        b.getNamedAttr("source", b.getI64IntegerAttr(map.source)),
        b.getNamedAttr("element", TypeAttr::get(map.element)),
        b.getNamedAttr("dims", b.getDenseI64ArrayAttr(map.dims)),
        b.getNamedAttr("box", b.getDenseI64ArrayAttr(map.box)),
        b.getNamedAttr("swizzle", b.getI64IntegerAttr(map.swizzle)),
    }));
  return b.getArrayAttr(entries);
}

class ConvertQuiltToNVPTX
    : public quilt::impl::ConvertQuiltToNVPTXBase<ConvertQuiltToNVPTX> {
public:
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<func::FuncOp> entries;
    for (auto func : module.getOps<func::FuncOp>())
      if (!func.isExternal() && func.walk([](Operation *op) {
                                      return isa<QuiltDialect>(op->getDialect())
                                                 ? WalkResult::interrupt()
                                                 : WalkResult::advance();
                                    })
                                    .wasInterrupted())
        entries.push_back(func);
    if (entries.empty())
      return;
    if (failed(parseOptions()))
      return signalPassFailure();

    OpBuilder b(module.getContext());
    b.setInsertionPointToEnd(module.getBody());
    module->setAttr(gpu::GPUDialect::getContainerModuleAttrName(),
                    b.getUnitAttr());
    kernels = module.lookupSymbol<gpu::GPUModuleOp>(kKernelModuleName);
    if (!kernels)
      kernels = gpu::GPUModuleOp::create(b, module.getLoc(), kKernelModuleName);
    for (func::FuncOp func : entries)
      if (failed(convertEntry(func)))
        return signalPassFailure();
  }

private:
  LogicalResult parseOptions();
  LogicalResult convertEntry(func::FuncOp func);
  LogicalResult emitLinear(OpBuilder &b, const FusedLinear &f,
                           DenseMap<Value, Value> &buffers, StringRef prefix,
                           int64_t index);
  gpu::LaunchFuncOp launch(OpBuilder &b, Location loc,
                           const KernelLaunch &kernel, ValueRange args,
                           StringRef phase, int64_t flops, int64_t bytes);

  gpu::GPUModuleOp kernels;
  std::optional<std::array<int64_t, 3>> forcedTiles, forcedWarps;
  unsigned smVersion = 0;
  bool useWgmma = false;
  // Shared: passes are cloned per pipeline instance.
  std::shared_ptr<cost::RegisterModel> registerModel;
  std::shared_ptr<cost::TimingModel> timingModel;
};

} // namespace

LogicalResult ConvertQuiltToNVPTX::parseOptions() {
  ModuleOp module = getOperation();
  unsigned sm = 0;
  StringRef chipName(chip);
  if (!chipName.consume_front("sm_") ||
      chipName.take_while(llvm::isDigit).getAsInteger(10, sm) || sm < 80)
    return module.emitError() << "convert-quilt-to-nvptx: chip '" << chip
                              << "' is not sm_80 or newer (cp.async, bf16 "
                                 "mma.sync and ldmatrix need Ampere)";
  smVersion = sm;
  if (mma != "sync" && mma != "wgmma")
    return module.emitError() << "convert-quilt-to-nvptx: mma '" << mma
                              << "' is not `sync` or `wgmma`";
  useWgmma = mma == "wgmma";
  // wgmma exists on sm_90a only: neither older chips nor the family-less
  // sm_90 have it.
  if (useWgmma && chip != "sm_90a")
    return module.emitError() << "convert-quilt-to-nvptx: mma=wgmma needs "
                                 "chip=sm_90a, got '"
                              << chip << "'";
  if (wgmmaInFlight && !useWgmma)
    return module.emitError()
           << "convert-quilt-to-nvptx: wgmma-in-flight needs mma=wgmma";
  if (tma && !useWgmma)
    return module.emitError()
           << "convert-quilt-to-nvptx: tma needs mma=wgmma (the TMA "
              "stages feed wgmma's descriptors)";
  if (tmaRelease != "barrier" && tmaRelease != "mbarrier")
    return module.emitError()
           << "convert-quilt-to-nvptx: tma-release '" << tmaRelease
           << "' is not `barrier` or `mbarrier`";
  if (tmaRelease == "mbarrier" && !tma)
    return module.emitError()
           << "convert-quilt-to-nvptx: tma-release=mbarrier needs tma=1";
  if (tmaProducer != "thread" && tmaProducer != "warpgroup")
    return module.emitError()
           << "convert-quilt-to-nvptx: tma-producer '" << tmaProducer
           << "' is not `thread` or `warpgroup`";
  if (tmaProducer == "warpgroup" && tmaRelease != "mbarrier")
    return module.emitError() << "convert-quilt-to-nvptx: "
                                 "tma-producer=warpgroup needs "
                                 "tma-release=mbarrier";
  if (persistentCtas && tmaProducer != "warpgroup")
    return module.emitError() << "convert-quilt-to-nvptx: persistent-ctas "
                                 "needs tma-producer=warpgroup";
  if (cluster != 1 && cluster != 2 && cluster != 4)
    return module.emitError() << "convert-quilt-to-nvptx: cluster "
                              << unsigned(cluster) << " is not 1, 2 or 4";
  if (cluster > 1 && tmaRelease != "mbarrier")
    return module.emitError() << "convert-quilt-to-nvptx: cluster needs "
                                 "tma-release=mbarrier";
  if (int4Load != "direct" && int4Load != "bulk")
    return module.emitError() << "convert-quilt-to-nvptx: int4-load '"
                              << int4Load << "' is not `direct` or `bulk`";
  // cp.async.bulk and mbarrier transaction counts are sm_90's.
  if (int4Load == "bulk" && sm < 90)
    return module.emitError() << "convert-quilt-to-nvptx: int4-load=bulk "
                                 "needs sm_90 or newer, got '"
                              << chip << "'";
  if (tiles != "auto") {
    forcedTiles = parseTriple(tiles);
    if (!forcedTiles || !(*forcedTiles)[2])
      return module.emitError()
             << "convert-quilt-to-nvptx: tiles '" << tiles
             << "' is not `auto` or MxNxK with positive integers";
  }
  if (warps != "auto") {
    forcedWarps = parseTriple(warps);
    if (!forcedWarps || (*forcedWarps)[2])
      return module.emitError() << "convert-quilt-to-nvptx: warps '" << warps
                                << "' is not `auto` or MxN";
  }
  if (registerModelPath != "none") {
    auto model = cost::RegisterModel::load(registerModelPath);
    if (model)
      registerModel = std::move(*model);
    else if (registerModelPath == "auto")
      // No committed model (or no libxgboost): tilings go unvetted.
      llvm::consumeError(model.takeError());
    else
      return module.emitError() << "convert-quilt-to-nvptx: register model: "
                                << llvm::toString(model.takeError());
  }
  if (timingModelPath != "none") {
    auto model = cost::TimingModel::load(timingModelPath, sm);
    if (model)
      timingModel = std::move(*model);
    else if (timingModelPath == "auto")
      // No GPU has timed this chip's kernels: the per-shape tables decide.
      llvm::consumeError(model.takeError());
    else
      return module.emitError() << "convert-quilt-to-nvptx: timing model: "
                                << llvm::toString(model.takeError());
  }
  return success();
}

gpu::LaunchFuncOp ConvertQuiltToNVPTX::launch(OpBuilder &b, Location loc,
                                              const KernelLaunch &kernel,
                                              ValueRange args, StringRef phase,
                                              int64_t flops, int64_t bytes) {
  auto index = [&](int64_t v) {
    return arith::ConstantIndexOp::create(b, loc, v).getResult();
  };
  gpu::KernelDim3 grid{index(kernel.grid[0]), index(kernel.grid[1]),
                       index(kernel.grid[2])};
  gpu::KernelDim3 block{index(kernel.threads), index(1), index(1)};
  Value shared =
      arith::ConstantIntOp::create(b, loc, b.getI32Type(), kernel.sharedBytes);
  std::optional<gpu::KernelDim3> cluster;
  if (kernel.cluster != std::array<int64_t, 3>{1, 1, 1})
    cluster =
        gpu::KernelDim3{index(kernel.cluster[0]), index(kernel.cluster[1]),
                        index(kernel.cluster[2])};
  auto op = gpu::LaunchFuncOp::create(b, loc, kernel.func, grid, block, shared,
                                      args, /*asyncTokenType=*/Type(),
                                      /*asyncDependencies=*/{}, cluster);
  op->setAttr(kPhaseAttr, b.getStringAttr(phase));
  op->setAttr(kFlopsAttr, b.getI64IntegerAttr(flops));
  op->setAttr(kBytesAttr, b.getI64IntegerAttr(bytes));
  return op;
}

LogicalResult ConvertQuiltToNVPTX::emitLinear(OpBuilder &b,
                                              const FusedLinear &f,
                                              DenseMap<Value, Value> &buffers,
                                              StringRef prefix, int64_t index) {
  LinearOp linear = f.linear;
  Location loc = linear.getLoc();
  auto xType = cast<RankedTensorType>(linear.getInput().getType());
  auto packed = dyn_cast<PackedType>(linear.getWeight().getType());
  if (!xType.hasStaticShape() || xType.getRank() != 2)
    return linear.emitError("NVPTX backend: x must be a static 2-d tensor");
  if (!packed)
    return linear.emitError(
        "NVPTX backend: the weight must be a !quilt.packed argument (a dense "
        "f32 weight has no tensor-core format)");
  if (!isa<BlockArgument>(linear.getWeight()))
    return linear.emitError(
        "NVPTX backend: the packed weight must be an argument of the "
        "function (constant weights need quilt-pack-weights)");
  PrecisionAttr precision = packed.getPrecision();
  Type xElement = xType.getElementType();
  bool denseLayout =
      packed.getSparsity().isDense() && packed.getStructure().isDense();
  bool dense16 = denseLayout && (precision.getElementType().isBF16() ||
                                 precision.getElementType().isF16());
  bool int4 = denseLayout && precision.getElementType().isInteger(4) &&
              precision.getGranularity() == Granularity::Group &&
              !precision.getZeroPoint() && precision.getGroupSize() % 16 == 0;
  SparsityAttr sparsity = packed.getSparsity();
  bool sparse24 = packed.getStructure().isDense() &&
                  sparsity.getKind() == SparsityKind::NM &&
                  sparsity.getN() == 2 && sparsity.getM() == 4 &&
                  (precision.getElementType().isBF16() ||
                   precision.getElementType().isF16());
  // W8A8: int8 weights with one scale per output channel, x quantized per
  // row by a kernel before the product.
  bool int8 = denseLayout && precision.getElementType().isInteger(8) &&
              precision.getGranularity() == Granularity::Channel &&
              !precision.getZeroPoint();
  if (!dense16 && !int4 && !sparse24 && !int8)
    return linear.emitError()
           << "NVPTX backend: weight format " << packed
           << " has no GPU kernel yet (supported: dense bf16 and f16, 2:4 "
              "sparse bf16 and f16, symmetric i4 with group scales of a "
              "multiple of 16, and symmetric i8 with channel scales)";
  PrecisionAttr act = linear.getActAttr();
  if (int8) {
    if (!act || !act.getElementType().isInteger(8) ||
        act.getGranularity() != Granularity::Channel || act.getZeroPoint())
      return linear.emitError(
          "NVPTX backend: an i8 weight needs `act <i8, channel>` (x "
          "quantized per row, so that the product runs on int8 tensor "
          "cores)");
    if (!xElement.isF32() && !xElement.isF16() && !xElement.isBF16())
      return linear.emitError()
             << "NVPTX backend: x is " << xElement
             << "; the int8 quantizer reads f32, f16 or bf16";
  } else {
    if (act)
      return linear.emitError(
          "NVPTX backend: `act` rounding is only supported as `act <i8, "
          "channel>` with an i8 weight; give x in the weight's 16-bit type");
    Type mmaElement =
        int4 ? Float16Type::get(b.getContext()) : precision.getElementType();
    if (xElement != mmaElement)
      return linear.emitError() << "NVPTX backend: x is " << xElement
                                << " but the weight computes in " << mmaElement
                                << "; tensor cores need both the same";
  }
  GemmProblem problem{xType.getDimSize(0), packed.getCols(), packed.getRows(),
                      int8                ? MmaElement::S8
                      : xElement.isBF16() ? MmaElement::BF16
                                          : MmaElement::F16};
  int64_t kAlign = int4 || sparse24 ? 64 : int8 ? 16 : 8;
  if (problem.k % kAlign)
    return linear.emitError() << "NVPTX backend: K = " << problem.k
                              << " is not a multiple of " << kAlign
                              << (int4       ? " (64-deep int4 blocks)"
                                  : sparse24 ? " (64-deep 2:4 tiles)"
                                             : " (16-byte rows)");
  if (sparse24 && problem.n % 16)
    return linear.emitError()
           << "NVPTX backend: N = " << problem.n
           << " is not a multiple of 16 (2:4 metadata tiles)";
  Int4Layout int4Layout{problem.k, problem.n,
                        int4 ? precision.getGroupSize() : 0};

  TilingRequest request;
  request.tiles = forcedTiles;
  request.warps = forcedWarps;
  request.stages = stages;
  request.wgmmaInFlight = wgmmaInFlight;
  request.tma = tma;
  request.mbarrierRelease = tmaRelease == "mbarrier";
  request.producerWarpgroup = tmaProducer == "warpgroup";
  request.persistentCtas = persistentCtas;
  request.cluster = cluster;
  request.rebalanceRegisters = setmaxnreg;
  request.int4Bulk = int4Load == "bulk";
  request.sm = smVersion;
  request.registers = registerModel.get();
  request.timing = timingModel.get();
  FailureOr<KernelTiling> tiling =
      chooseKernelTiling(linear, problem, int4Layout,
                         int4                ? cost::NVPTXKernelFamily::Int4
                         : sparse24          ? cost::NVPTXKernelFamily::Sparse24
                         : int8 && !useWgmma ? cost::NVPTXKernelFamily::Int8
                         : useWgmma          ? cost::NVPTXKernelFamily::Wgmma
                                             : cost::NVPTXKernelFamily::Dense,
                         f.epilogue, request);
  if (failed(tiling))
    return failure();

  // Setup: pack the weight argument once.
  Value dense = buffers.lookup(linear.getWeight());
  SparseLayout sparseLayout{problem.k, problem.n};
  Int8Layout int8Weight{problem.n, problem.k};
  int64_t packedBytes = int4       ? int4Layout.getTotalBytes()
                        : sparse24 ? sparseLayout.getTotalBytes()
                        : int8     ? int8Weight.getTotalBytes()
                                   : problem.n * problem.k * 2;
  auto packedType = MemRefType::get({packedBytes}, b.getI8Type());
  Value packedBuffer = gpu::AllocOp::create(b, loc, packedType,
                                            /*asyncToken=*/Type(), {}, {}, {})
                           .getMemref();
  std::string packName = (prefix + "_pack_" + Twine(index)).str();
  SmallVector<Type> packTypes = {dense.getType(), packedType};
  int64_t denseBytes = problem.k * problem.n * 4;
  if (int4) {
    // The f32 scales the nibbles are quantized with live in a setup-only
    // scratch buffer, so the GEMM's packed weight holds f16 scales alone.
    auto scratchType =
        MemRefType::get({int4Layout.getScratchBytes()}, b.getI8Type());
    Value scratch =
        gpu::AllocOp::create(b, loc, scratchType, Type(), {}, {}, {})
            .getMemref();
    packTypes.push_back(scratchType);
    launch(b, loc,
           buildInt4ScalesKernel(b, loc, kernels, packName + "_scales",
                                 int4Layout, packTypes),
           {dense, packedBuffer, scratch}, "setup", 0, denseBytes);
    launch(
        b, loc,
        buildInt4PackKernel(b, loc, kernels, packName, int4Layout, packTypes),
        {dense, packedBuffer, scratch}, "setup", 0, denseBytes + packedBytes);
  } else if (int8) {
    launch(b, loc,
           buildInt8ScalesKernel(b, loc, kernels, packName + "_scales",
                                 int8Weight, packTypes),
           {dense, packedBuffer}, "setup", 0, denseBytes);
    launch(
        b, loc,
        buildInt8PackKernel(b, loc, kernels, packName, int8Weight, packTypes),
        {dense, packedBuffer}, "setup", 0, denseBytes + packedBytes);
  } else if (sparse24) {
    launch(b, loc,
           buildSparsePackKernel(b, loc, kernels, packName, sparseLayout,
                                 xElement, packTypes),
           {dense, packedBuffer}, "setup", 0, denseBytes + packedBytes);
  } else {
    launch(b, loc,
           buildTransposePackKernel(b, loc, kernels, packName, problem.k,
                                    problem.n, xElement, packTypes),
           {dense, packedBuffer}, "setup", 0, denseBytes + packedBytes);
  }

  Value x = buffers.lookup(linear.getInput());
  if (int8 && x) {
    // Every call: x quantized per row into a scratch buffer.
    Int8Layout int8Rows{problem.m, problem.k};
    auto quantizedType =
        MemRefType::get({int8Rows.getTotalBytes()}, b.getI8Type());
    Value quantized =
        gpu::AllocOp::create(b, loc, quantizedType, Type(), {}, {}, {})
            .getMemref();
    launch(b, loc,
           buildQuantizeRowsKernel(
               b, loc, kernels, (prefix + "_quantize_" + Twine(index)).str(),
               int8Rows, xElement, {x.getType(), quantizedType}),
           {x, quantized}, "run", 0,
           bufferBytes(cast<MemRefType>(x.getType())) +
               int8Rows.getTotalBytes());
    x = quantized;
  }
  SmallVector<Value> args = {x, packedBuffer};
  if (linear.getBias())
    args.push_back(buffers.lookup(linear.getBias()));
  if (f.residual)
    args.push_back(buffers.lookup(f.residual));
  args.push_back(buffers.lookup(f.result));
  if (llvm::is_contained(args, Value()))
    return linear.emitError(
        "NVPTX backend: an operand is neither an argument nor the result "
        "of a converted linear");
  std::string name = (prefix + "_linear_" + Twine(index)).str();
  bool wgmma = tiling->family == cost::NVPTXKernelFamily::Wgmma;
  SmallVector<TensorMapSpec, 2> tensorMaps;
  if (wgmma && tiling->mma.tma) {
    // The maps hold x's and the packed weight's addresses: filled by the
    // host, not computed by a kernel.
    // int8: x is its quantized copy.
    tensorMaps = getWgmmaTensorMaps(problem, tiling->mma,
                                    int8 ? b.getI8Type() : xElement,
                                    int64_t(args.size()) + 2);
    auto mapType = MemRefType::get({kTensorMapBytes}, b.getI8Type());
    for (int i = 0; i < 2; ++i)
      args.push_back(gpu::AllocOp::create(b, loc, mapType, Type(), {}, {}, {})
                         .getMemref());
  }
  SmallVector<Type> types = llvm::to_vector(ValueRange(args).getTypes());
  Epilogue epilogue = f.epilogue;
  epilogue.dequantize = int8;
  KernelLaunch kernel =
      int4 ? buildInt4MmaKernel(b, loc, kernels, name, problem.m, int4Layout,
                                tiling->int4, epilogue, types)
      : sparse24 ? buildSparseMmaKernel(b, loc, kernels, name, problem,
                                        epilogue, tiling->mma, types)
      : wgmma    ? buildWgmmaKernel(b, loc, kernels, name, problem, epilogue,
                                    tiling->mma, types)
                 : buildDenseMmaKernel(b, loc, kernels, name, problem, epilogue,
                                       tiling->mma, types);
  int64_t bytes = 0;
  for (Value arg : ArrayRef(args).drop_back(tensorMaps.size()))
    bytes += bufferBytes(cast<MemRefType>(arg.getType()));
  gpu::LaunchFuncOp op = launch(b, loc, kernel, args, "run",
                                2 * problem.m * problem.n * problem.k, bytes);
  // The manifest tells which tiling ran and what the model expected of it.
  std::string config;
  llvm::raw_string_ostream(config) << llvm::json::Value(
      describeKernel(*tiling, smVersion, problem, int4Layout, f.epilogue)
          .toJson());
  op->setAttr(kKernelConfigAttr, b.getStringAttr(config));
  if (!tensorMaps.empty())
    op->setAttr(kTensorMapsAttr, describeTensorMaps(b, tensorMaps));
  if (tiling->registers)
    op->setAttr(kPredictedRegistersAttr,
                b.getI64IntegerAttr(tiling->registers->registers));
  if (tiling->predictedMicroseconds)
    op->setAttr(kPredictedTimeAttr,
                b.getF64FloatAttr(*tiling->predictedMicroseconds));
  return success();
}

LogicalResult ConvertQuiltToNVPTX::convertEntry(func::FuncOp func) {
  Location loc = func.getLoc();
  if (!func.getBody().hasOneBlock())
    return func.emitError("NVPTX backend: the function must be one block");
  Block &body = func.getBody().front();

  // Plan: every linear with its fused consumers; nothing else may remain.
  SmallVector<FusedLinear> linears;
  DenseSet<Operation *> covered;
  for (Operation &op : body.without_terminator()) {
    if (covered.contains(&op))
      continue;
    auto linear = dyn_cast<LinearOp>(op);
    if (!linear)
      return op.emitError() << "NVPTX backend: '" << op.getName()
                            << "' has no GPU kernel yet (only quilt.linear "
                               "and the element-wise ops fused into it)";
    linears.push_back(fuseEpilogue(linear));
    covered.insert(linears.back().fused.begin(), linears.back().fused.end());
  }

  // The host schedule: inputs, then the results as output arguments.
  SmallVector<Type> argTypes;
  for (Type type : func.getArgumentTypes())
    argTypes.push_back(bufferType(type));
  auto returnOp = cast<func::ReturnOp>(body.getTerminator());
  for (Type type : func.getResultTypes())
    argTypes.push_back(bufferType(type));
  OpBuilder b(func);
  auto host = func::FuncOp::create(b, loc, func.getName(),
                                   b.getFunctionType(argTypes, {}));
  host->setAttr(kEntryResultsAttr, b.getI64IntegerAttr(func.getNumResults()));
  Block *entry = host.addEntryBlock();
  b.setInsertionPointToStart(entry);

  DenseMap<Value, Value> buffers;
  for (auto [arg, buffer] :
       llvm::zip(func.getArguments(), entry->getArguments()))
    buffers[arg] = buffer;
  for (auto [i, result] : llvm::enumerate(returnOp.getOperands())) {
    if (buffers.count(result))
      return returnOp.emitError(
          "NVPTX backend: a result is an argument or returned twice");
    buffers[result] = entry->getArgument(func.getNumArguments() + i);
  }
  for (FusedLinear &f : linears) {
    if (buffers.count(f.result))
      continue;
    Value temp = gpu::AllocOp::create(b, loc, bufferType(f.result.getType()),
                                      Type(), {}, {}, {})
                     .getMemref();
    buffers[f.result] = temp;
  }
  for (auto [i, f] : llvm::enumerate(linears))
    if (failed(emitLinear(b, f, buffers, func.getName(), i)))
      return failure();
  func::ReturnOp::create(b, loc);
  func.erase();
  return success();
}
