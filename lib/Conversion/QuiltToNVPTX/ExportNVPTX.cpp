//===- ExportNVPTX.cpp - quilt-export-nvptx ---------------------*- C++ -*-===//
//
// Writes the PTX of the compiled kernel module and, per host launch
// schedule, the JSON manifest quilt-cuda-run follows; with `ptxas`, also
// each kernel's registers and spills as ptxas -v reports them.
//
//===----------------------------------------------------------------------===//

#include "quilt/Conversion/QuiltToNVPTX/QuiltToNVPTX.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/IR/Matchers.h"
#include "quilt/Conversion/Passes.h"
#include "quilt/CostModel/RegisterModel.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

namespace mlir::quilt {
#define GEN_PASS_DEF_QUILTEXPORTNVPTX
#include "quilt/Conversion/Passes.h.inc"
} // namespace mlir::quilt

using namespace mlir;
using namespace mlir::quilt;
using namespace mlir::quilt::nvptx;

namespace {

std::string dtypeName(Type type) {
  if (type.isF32())
    return "f32";
  if (type.isF16())
    return "f16";
  if (type.isBF16())
    return "bf16";
  if (type.isSignlessInteger(8))
    return "u8";
  if (type.isSignlessInteger(32))
    return "i32";
  return "";
}

FailureOr<int64_t> constantOf(Value value) {
  APInt bits;
  if (!matchPattern(value, m_ConstantInt(&bits)))
    return failure();
  return bits.getSExtValue();
}

class QuiltExportNVPTX
    : public quilt::impl::QuiltExportNVPTXBase<QuiltExportNVPTX> {
public:
  using Base::Base;

  void runOnOperation() override {
    if (outputDir.empty())
      return;
    ModuleOp module = getOperation();
    if (std::error_code ec = llvm::sys::fs::create_directories(outputDir)) {
      module.emitError() << "quilt-export-nvptx: cannot create '" << outputDir
                         << "': " << ec.message();
      return signalPassFailure();
    }
    auto binary = module.lookupSymbol<gpu::BinaryOp>(kKernelModuleName);
    if (!binary) {
      module.emitError() << "quilt-export-nvptx: no gpu.binary @"
                         << kKernelModuleName
                         << " (run gpu-module-to-binary{format=isa} first)";
      return signalPassFailure();
    }
    auto object = cast<gpu::ObjectAttr>(binary.getObjects()[0]);
    if (object.getFormat() != gpu::CompilationTarget::Assembly) {
      binary.emitError("quilt-export-nvptx: the binary is not PTX text "
                       "(use gpu-module-to-binary{format=isa})");
      return signalPassFailure();
    }
    std::string chip = "unknown";
    if (auto target = dyn_cast<NVVM::NVVMTargetAttr>(object.getTarget()))
      chip = target.getChip().str();
    if (failed(writeFile("kernels.ptx", object.getObject().getValue())) ||
        failed(assemble(chip)))
      return signalPassFailure();
    for (auto func : module.getOps<func::FuncOp>())
      if (func->hasAttr(kEntryResultsAttr))
        if (failed(writeManifest(func, chip)))
          return signalPassFailure();
  }

private:
  LogicalResult writeFile(StringRef name, StringRef text) {
    SmallString<256> path(outputDir);
    llvm::sys::path::append(path, name);
    std::error_code ec;
    llvm::raw_fd_ostream os(path, ec);
    if (ec)
      return getOperation().emitError() << "quilt-export-nvptx: cannot write '"
                                        << path << "': " << ec.message();
    os << text;
    return success();
  }

  LogicalResult assemble(StringRef chip);
  LogicalResult describeTensorMaps(gpu::LaunchFuncOp launch,
                                   const DenseMap<Value, std::string> &names,
                                   const DenseMap<Value, size_t> &bufferIndex,
                                   llvm::json::Array &buffers);
  LogicalResult writeManifest(func::FuncOp func, StringRef chip);

  /// ptxas -v's report of kernels.ptx, when the `ptxas` option asked.
  llvm::StringMap<cost::KernelResources> resources;
};

} // namespace

LogicalResult QuiltExportNVPTX::assemble(StringRef chip) {
  if (ptxas.empty())
    return success();
  std::string path = ptxas == "auto" ? cost::findPtxas() : ptxas.getValue();
  if (path.empty())
    return success(); // `auto` without ptxas: nothing to report
  SmallString<256> ptx(outputDir);
  llvm::sys::path::append(ptx, "kernels.ptx");
  auto report = cost::runPtxas(path, ptx, chip);
  if (!report)
    return getOperation().emitError()
           << "quilt-export-nvptx: " << llvm::toString(report.takeError());
  resources = std::move(*report);
  return success();
}

/// Turns the buffers a launch's `quilt.tensor_maps` names into manifest
/// buffers of kind "tensor_map": what quilt-cuda-run encodes into them.
LogicalResult QuiltExportNVPTX::describeTensorMaps(
    gpu::LaunchFuncOp launch, const DenseMap<Value, std::string> &names,
    const DenseMap<Value, size_t> &bufferIndex, llvm::json::Array &buffers) {
  auto maps = launch->getAttrOfType<ArrayAttr>(kTensorMapsAttr);
  if (!maps)
    return success();
  auto operands = launch.getKernelOperands();
  for (Attribute attr : maps) {
    auto map = dyn_cast<DictionaryAttr>(attr);
    auto argument = map ? map.getAs<IntegerAttr>("argument") : nullptr;
    auto source = map ? map.getAs<IntegerAttr>("source") : nullptr;
    auto element = map ? map.getAs<TypeAttr>("element") : nullptr;
    auto dims = map ? map.getAs<DenseI64ArrayAttr>("dims") : nullptr;
    auto box = map ? map.getAs<DenseI64ArrayAttr>("box") : nullptr;
    auto swizzle = map ? map.getAs<IntegerAttr>("swizzle") : nullptr;
    auto isOperand = [&](IntegerAttr index) {
      return index.getInt() >= 0 && index.getInt() < int64_t(operands.size());
    };
    if (!argument || !source || !element || !dims || !box || !swizzle ||
        !isOperand(argument) || !isOperand(source) ||
        dtypeName(element.getValue()).empty())
      return launch.emitError() << "quilt-export-nvptx: malformed "
                                << kTensorMapsAttr << " entry " << attr;
    Value buffer = operands[argument.getInt()];
    auto it = bufferIndex.find(buffer);
    if (it == bufferIndex.end() || !buffer.getDefiningOp<gpu::AllocOp>())
      return launch.emitError("quilt-export-nvptx: a tensor map argument is "
                              "not a gpu.alloc of the entry");
    llvm::json::Object *entry = buffers[it->second].getAsObject();
    (*entry)["kind"] = "tensor_map";
    (*entry)["of"] = names.lookup(operands[source.getInt()]);
    (*entry)["dtype"] = dtypeName(element.getValue());
    (*entry)["dims"] = llvm::json::Array(dims.asArrayRef());
    (*entry)["box"] = llvm::json::Array(box.asArrayRef());
    (*entry)["swizzle"] = swizzle.getInt();
  }
  return success();
}

LogicalResult QuiltExportNVPTX::writeManifest(func::FuncOp func,
                                              StringRef chip) {
  int64_t results =
      cast<IntegerAttr>(func->getAttr(kEntryResultsAttr)).getInt();
  int64_t inputs = func.getNumArguments() - results;
  DenseMap<Value, std::string> names;
  DenseMap<Value, size_t> bufferIndex;
  llvm::json::Array buffers, launches;
  auto describe = [&](Value value, StringRef kind, int64_t index,
                      StringRef name) -> LogicalResult {
    auto type = cast<MemRefType>(value.getType());
    std::string dtype = dtypeName(type.getElementType());
    if (dtype.empty())
      return func.emitError()
             << "quilt-export-nvptx: no manifest dtype for " << type;
    names[value] = name.str();
    bufferIndex[value] = buffers.size();
    llvm::json::Object buffer{{"name", name.str()}, {"kind", kind.str()}};
    if (kind == "temp") {
      buffer["bytes"] =
          type.getNumElements() * type.getElementTypeBitWidth() / 8;
    } else {
      buffer["index"] = index;
      buffer["dtype"] = dtype;
      buffer["shape"] = llvm::json::Array(type.getShape());
    }
    buffers.push_back(std::move(buffer));
    return success();
  };
  for (BlockArgument arg : func.getArguments()) {
    int64_t i = arg.getArgNumber();
    bool isInput = i < inputs;
    if (failed(describe(arg, isInput ? "input" : "output",
                        isInput ? i : i - inputs,
                        (isInput ? "arg" : "res") +
                            std::to_string(isInput ? i : i - inputs))))
      return failure();
  }
  int64_t temps = 0;
  WalkResult walk = func.walk([&](Operation *op) -> WalkResult {
    if (auto alloc = dyn_cast<gpu::AllocOp>(op))
      return describe(alloc.getMemref(), "temp", 0,
                      "tmp" + std::to_string(temps++));
    auto launch = dyn_cast<gpu::LaunchFuncOp>(op);
    if (!launch)
      return WalkResult::advance();
    gpu::KernelDim3 grid = launch.getGridSizeOperandValues();
    gpu::KernelDim3 block = launch.getBlockSizeOperandValues();
    llvm::json::Array gridSize, blockSize, args;
    for (Value v : {grid.x, grid.y, grid.z, block.x, block.y, block.z}) {
      FailureOr<int64_t> size = constantOf(v);
      if (failed(size))
        return launch.emitError("quilt-export-nvptx: launch sizes must be "
                                "constants");
      (gridSize.size() < 3 ? gridSize : blockSize).push_back(*size);
    }
    llvm::json::Array clusterSize;
    if (launch.hasClusterSize()) {
      gpu::KernelDim3 cluster = launch.getClusterSizeOperandValues();
      for (Value v : {cluster.x, cluster.y, cluster.z}) {
        FailureOr<int64_t> size = constantOf(v);
        if (failed(size))
          return launch.emitError("quilt-export-nvptx: cluster sizes must be "
                                  "constants");
        clusterSize.push_back(*size);
      }
    }
    int64_t shared = 0;
    if (Value bytes = launch.getDynamicSharedMemorySize())
      shared = constantOf(bytes).value_or(-1);
    for (Value operand : launch.getKernelOperands()) {
      auto it = names.find(operand);
      if (it == names.end())
        return launch.emitError("quilt-export-nvptx: a kernel argument is "
                                "not a buffer of the entry");
      args.push_back(it->second);
    }
    if (failed(describeTensorMaps(launch, names, bufferIndex, buffers)))
      return WalkResult::interrupt();
    auto intAttr = [&](StringRef name) -> int64_t {
      auto attr = launch->getAttrOfType<IntegerAttr>(name);
      return attr ? attr.getInt() : 0;
    };
    auto phase = launch->getAttrOfType<StringAttr>(kPhaseAttr);
    StringRef kernel = launch.getKernelName().getValue();
    llvm::json::Object entry{{"kernel", kernel},
                             {"phase", phase ? phase.getValue() : "run"},
                             {"grid", std::move(gridSize)},
                             {"block", std::move(blockSize)},
                             {"shared_bytes", shared},
                             {"args", std::move(args)},
                             {"flops", intAttr(kFlopsAttr)},
                             {"bytes", intAttr(kBytesAttr)}};
    if (!clusterSize.empty())
      entry["cluster"] = std::move(clusterSize);
    if (auto config = launch->getAttrOfType<StringAttr>(kKernelConfigAttr)) {
      if (auto parsed = llvm::json::parse(config.getValue()))
        entry["config"] = std::move(*parsed);
      else
        llvm::consumeError(parsed.takeError());
    }
    if (launch->hasAttr(kPredictedRegistersAttr))
      entry["predicted_registers"] = intAttr(kPredictedRegistersAttr);
    if (auto us = launch->getAttrOfType<FloatAttr>(kPredictedTimeAttr))
      entry["predicted_us"] = us.getValueAsDouble();
    auto found = resources.find(kernel);
    if (found != resources.end()) {
      const cost::KernelResources &r = found->second;
      entry["registers"] = r.registers;
      entry["stack_bytes"] = r.stackBytes;
      entry["spill_store_bytes"] = r.spillStoreBytes;
      entry["spill_load_bytes"] = r.spillLoadBytes;
      if (r.usesLocalMemory())
        launch.emitWarning()
            << "quilt-export-nvptx: ptxas spills " << r.spillStoreBytes
            << " bytes of kernel " << kernel << " to local memory ("
            << r.registers << " registers per thread, " << r.stackBytes
            << " bytes of stack frame)";
    }
    launches.push_back(std::move(entry));
    return WalkResult::advance();
  });
  if (walk.wasInterrupted())
    return failure();
  llvm::json::Object manifest{{"schema", 1},
                              {"entry", func.getName()},
                              {"ptx", "kernels.ptx"},
                              {"chip", chip},
                              {"buffers", std::move(buffers)},
                              {"launches", std::move(launches)}};
  std::string text;
  llvm::raw_string_ostream os(text);
  os << llvm::formatv("{0:2}", llvm::json::Value(std::move(manifest))) << "\n";
  return writeFile((func.getName() + ".json").str(), text);
}
