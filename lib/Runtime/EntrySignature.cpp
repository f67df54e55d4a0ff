//===- EntrySignature.cpp - Quilt-level signatures of entries ---*- C++ -*-===//
//
// This file implements how JitModule reads the signatures of a module's
// functions before lowering, synthesizes the pack functions of packed weight
// arguments, and checks host inputs against a signature.
//
//===----------------------------------------------------------------------===//

#include "EntrySignature.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/SymbolTable.h"
#include "quilt/Conversion/QuiltToCPU/QuiltToCPU.h"
#include "quilt/Dialect/Quilt/QuiltOps.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace mlir::quilt;
using namespace mlir::quilt::runtime;

namespace {

std::string typeToString(Type type) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << type;
  return text;
}

std::optional<ElementKind> getElementKind(Type type) {
  if (type.isF32())
    return ElementKind::F32;
  if (type.isF16())
    return ElementKind::F16;
  if (type.isBF16())
    return ElementKind::BF16;
  if (type.isSignlessInteger(8))
    return ElementKind::I8;
  if (type.isSignlessInteger(32))
    return ElementKind::I32;
  if (type.isSignlessInteger(64))
    return ElementKind::I64;
  return std::nullopt;
}

/// Fills `info` from `type`; returns why the type is unsupported, or "".
std::string describeType(Type type, ArgumentInfo &info) {
  info.typeString = typeToString(type);
  if (auto packed = dyn_cast<PackedType>(type)) {
    info.kind = ElementKind::F32;
    info.shape = {packed.getRows(), packed.getCols()};
    info.isPackedWeight = true;
    return "";
  }
  auto tensor = dyn_cast<RankedTensorType>(type);
  if (!tensor)
    return "has type " + info.typeString +
           "; only ranked tensors and !quilt.packed weights are supported";
  std::optional<ElementKind> kind = getElementKind(tensor.getElementType());
  if (!kind)
    return "has element type " + typeToString(tensor.getElementType()) + " (" +
           info.typeString + "); supported: f32, f16, bf16, i8, i32, i64";
  if (!tensor.hasStaticShape())
    return "has dynamic shape " + info.typeString +
           "; only static shapes are supported";
  info.kind = *kind;
  info.shape = tensor.getShape().vec();
  return "";
}

/// The bytes the CPU backend stores `type` in (ArgumentInfo::packedBytes).
int64_t getCPUPackedBytes(PackedType type) {
  if (std::optional<CPULowRankLayout> layout = CPULowRankLayout::get(type))
    return layout->totalBytes;
  if (std::optional<CPUWeightLayout> layout = CPUWeightLayout::get(type))
    return layout->totalBytes;
  return cpu::hasCompressedLayout(type) ? -1 : 0;
}

} // namespace

llvm::StringMap<FunctionRecord> runtime::recordFunctions(ModuleOp module,
                                                         PipelineKind pipeline,
                                                         bool packFunctions) {
  llvm::StringMap<FunctionRecord> records;
  SmallVector<func::FuncOp> functions;
  for (auto func : module.getOps<func::FuncOp>())
    if (func.isPublic() && !func.isExternal())
      functions.push_back(func);

  SymbolTable symbols(module);
  llvm::DenseMap<Type, std::string> packFunctionOf;
  OpBuilder builder(module.getContext());
  builder.setInsertionPointToEnd(module.getBody());
  auto getPackFunction = [&](PackedType type) -> std::string {
    auto it = packFunctionOf.find(type);
    if (it != packFunctionOf.end())
      return it->second;
    Location loc = builder.getUnknownLoc();
    RankedTensorType dense = type.getUnpackedType();
    auto func = func::FuncOp::create(
        builder, loc, "__quilt_pack_" + std::to_string(packFunctionOf.size()),
        builder.getFunctionType({dense}, {type}));
    Block *body = func.addEntryBlock();
    OpBuilder::InsertionGuard guard(builder);
    builder.setInsertionPointToStart(body);
    Value packed = PackOp::create(builder, loc, type, body->getArgument(0));
    func::ReturnOp::create(builder, loc, packed);
    // insert() renames on a clash with a user function.
    symbols.insert(func);
    return packFunctionOf[type] = func.getSymName().str();
  };

  for (func::FuncOp func : functions) {
    FunctionRecord &record = records[func.getSymName()];
    FunctionType type = func.getFunctionType();
    for (auto [i, argType] : llvm::enumerate(type.getInputs())) {
      ArgumentInfo info;
      std::string why = describeType(argType, info);
      if (!why.empty() && record.unsupported.empty())
        record.unsupported = "argument #" + std::to_string(i) + " " + why;
      std::string pack;
      if (auto packed = dyn_cast<PackedType>(argType)) {
        if (packFunctions)
          pack = getPackFunction(packed);
        if (pipeline == PipelineKind::CPU)
          info.packedBytes = getCPUPackedBytes(packed);
        if (!packFunctions && info.packedBytes == 0 &&
            record.unsupported.empty())
          record.unsupported = "argument #" + std::to_string(i) + " " +
                               info.typeString +
                               " has no byte layout in this pipeline, and "
                               "the module was compiled without pack "
                               "functions";
      }
      // The caller's arrays are passed as they are, not copied: the
      // bufferization copies an argument before any write to it instead.
      if (isa<TensorType>(argType))
        func.setArgAttr(i,
                        bufferization::BufferizationDialect::kWritableAttrName,
                        builder.getBoolAttr(false));
      record.signature.arguments.push_back(std::move(info));
      record.packFunctions.push_back(std::move(pack));
    }
    for (auto [i, resultType] : llvm::enumerate(type.getResults())) {
      ArgumentInfo info;
      std::string why = describeType(resultType, info);
      if (info.isPackedWeight)
        why = "is a packed weight (" + info.typeString +
              "); return tensors instead";
      if (!why.empty() && record.unsupported.empty())
        record.unsupported = "result #" + std::to_string(i) + " " + why;
      record.signature.results.push_back(std::move(info));
    }
  }
  return records;
}

llvm::Error runtime::checkInputs(llvm::StringRef entry,
                                 const EntrySignature &signature,
                                 llvm::ArrayRef<HostArray> inputs) {
  const auto &args = signature.arguments;
  if (inputs.size() != args.size())
    return llvm::createStringError(
        llvm::formatv("entry '{0}' takes {1} argument(s), given {2} input(s)",
                      entry, args.size(), inputs.size()));
  for (auto [i, arg] : llvm::enumerate(args)) {
    const HostArray &input = inputs[i];
    if (input.getKind() == arg.kind &&
        input.getShape() == llvm::ArrayRef<int64_t>(arg.shape))
      continue;
    if (isPackedBytes(arg, input))
      continue;
    std::string expected = arg.typeString;
    if (arg.isPackedWeight) {
      expected += " (given as its dense f32 " + std::to_string(arg.shape[0]) +
                  "x" + std::to_string(arg.shape[1]) + " weight";
      if (arg.packedBytes > 0)
        expected +=
            " or its " + std::to_string(arg.packedBytes) + " packed bytes";
      else if (arg.packedBytes < 0)
        expected += " or its packed bytes";
      expected += ")";
    }
    return llvm::createStringError(
        llvm::formatv("entry '{0}' argument #{1}: expected {2}, given {3}",
                      entry, i, expected, input.describe()));
  }
  return llvm::Error::success();
}

bool runtime::isPackedBytes(const ArgumentInfo &arg, const HostArray &input) {
  return arg.packedBytes != 0 && input.getKind() == ElementKind::I8 &&
         input.getShape().size() == 1 &&
         (arg.packedBytes < 0 || input.getShape()[0] == arg.packedBytes);
}
