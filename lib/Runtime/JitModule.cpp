//===- JitModule.cpp - Lower, JIT-compile and call entries ------*- C++ -*-===//
//
// This file implements JitModule and Invocation: a clone of the module is
// lowered by a Quilt pipeline to the LLVM dialect and compiled by MLIR's ORC
// ExecutionEngine for the host CPU; entries are called through the packed
// `_mlir_<name>(void **)` wrappers the engine creates for every function,
// with memref descriptors flattened to 8-byte words.
//
//===----------------------------------------------------------------------===//

#include "BufferCache.h"
#include "EntrySignature.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/OpenMP/OpenMPToLLVMIRTranslation.h"
#include "quilt/InitAllDialects.h"
#include "quilt/Pipelines/Pipelines.h"
#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/TargetSelect.h"

#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <set>

#ifndef QUILT_LLVM_LIBRARY_DIR
#error "QUILT_LLVM_LIBRARY_DIR must name LLVM's library directory"
#endif

using namespace mlir;
using namespace mlir::quilt;
using namespace mlir::quilt::runtime;

Invocation::~Invocation() = default;
JitModule::~JitModule() = default;

void runtime::registerRuntimeDependencies(DialectRegistry &registry) {
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  quilt::registerAllDialects(registry);
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  registerOpenMPDialectTranslation(registry);
}

namespace {

//===----------------------------------------------------------------------===//
// Descriptor layout
//===----------------------------------------------------------------------===//

/// Words (8 bytes each) a value of the lowered LLVM type occupies: memref
/// descriptors are structs of pointers, i64 and arrays of i64, with no
/// padding. nullopt for anything else.
std::optional<unsigned> countWords(Type type) {
  if (isa<LLVM::LLVMPointerType>(type) || type.isInteger(64))
    return 1;
  if (auto array = dyn_cast<LLVM::LLVMArrayType>(type)) {
    std::optional<unsigned> inner = countWords(array.getElementType());
    if (!inner)
      return std::nullopt;
    return *inner * array.getNumElements();
  }
  if (auto structType = dyn_cast<LLVM::LLVMStructType>(type)) {
    unsigned total = 0;
    for (Type field : structType.getBody()) {
      std::optional<unsigned> inner = countWords(field);
      if (!inner)
        return std::nullopt;
      total += *inner;
    }
    return total;
  }
  return std::nullopt;
}

/// Word offsets, in a value of `type`, of the allocated pointers of the
/// memref descriptors it holds (a descriptor, or a struct of them).
void collectAllocatedOffsets(Type type, unsigned base,
                             SmallVectorImpl<unsigned> &offsets) {
  auto structType = dyn_cast<LLVM::LLVMStructType>(type);
  if (!structType || structType.getBody().empty())
    return;
  if (isa<LLVM::LLVMPointerType>(structType.getBody().front())) {
    offsets.push_back(base);
    return;
  }
  for (Type field : structType.getBody()) {
    collectAllocatedOffsets(field, base, offsets);
    base += countWords(field).value_or(0);
  }
}

unsigned getTensorWords(const ArgumentInfo &info) {
  return 3 + 2 * unsigned(info.shape.size());
}

/// The descriptor words of a packed weight in a CPU byte layout: a 1-d
/// memref of bytes.
constexpr unsigned kByteLayoutWords = 5;

/// The descriptor of a dense row-major array: allocated and aligned
/// pointers, offset, sizes, strides.
void appendDescriptor(std::vector<int64_t> &words, void *data,
                      llvm::ArrayRef<int64_t> shape) {
  words.push_back(reinterpret_cast<int64_t>(data));
  words.push_back(reinterpret_cast<int64_t>(data));
  words.push_back(0);
  llvm::append_range(words, shape);
  std::vector<int64_t> strides(shape.size(), 1);
  for (int64_t i = int64_t(shape.size()) - 2; i >= 0; --i)
    strides[i] = strides[i + 1] * shape[i + 1];
  llvm::append_range(words, strides);
}

/// How one pack function is called, once lowered.
struct PackLayout {
  unsigned resultWords = 0;
  SmallVector<unsigned> allocatedOffsets;
};

/// How an entry is called, once lowered.
struct EntryLayout {
  std::vector<unsigned> argumentWords; // per quilt-level argument
  unsigned resultWords = 0;
};

//===----------------------------------------------------------------------===//
// Invocation
//===----------------------------------------------------------------------===//

class InvocationImpl : public Invocation {
public:
  InvocationImpl(void (*entry)(void **), EntrySignature signature,
                 std::vector<HostArray> inputs)
      : entry(entry), signature(std::move(signature)),
        inputs(std::move(inputs)) {}

  ~InvocationImpl() override { releaseResults(); }

  /// Runs pack function `pack` on input `index` and appends the returned
  /// descriptor words to the entry's arguments.
  void appendPacked(void (*pack)(void **), const PackLayout &layout,
                    unsigned index) {
    HostArray &dense = inputs[index];
    std::vector<int64_t> packArgs;
    appendDescriptor(packArgs, dense.getData(), dense.getShape());
    std::vector<int64_t> packed(layout.resultWords);
    std::vector<void *> pointers;
    for (int64_t &word : packArgs)
      pointers.push_back(&word);
    pointers.push_back(packed.data());
    pack(pointers.data());
    for (unsigned offset : layout.allocatedOffsets) {
      auto *buffer = reinterpret_cast<void *>(packed[offset]);
      if (!packedBuffers.count(buffer))
        packedBuffers[buffer] = std::shared_ptr<void>(buffer, cachedFree);
    }
    // A single descriptor: pointers, offset, sizes[rank], strides[rank]; the
    // CPU layouts are 1-d i8, the dense fallback 2-d f32.
    packedDescriptors[index] = packed;
    if (layout.resultWords >= 5 && (layout.resultWords - 3) % 2 == 0) {
      unsigned rank = (layout.resultWords - 3) / 2;
      int64_t elements = 1;
      for (unsigned d = 0; d < rank; ++d)
        elements *= packed[3 + d];
      packedWeightBytes += elements * (rank == 1 ? 1 : 4);
    }
    llvm::append_range(argumentWords, packed);
  }

  /// Appends input `index`, a packed weight given as its packed bytes.
  void appendPackedBytes(unsigned index) {
    HostArray &bytes = inputs[index];
    packedWeightBytes += bytes.getNumElements();
    appendDescriptor(argumentWords, bytes.getData(), bytes.getShape());
  }

  int64_t getPackedWeightBytes() const override { return packedWeightBytes; }

  llvm::Expected<HostArray> getPackedArgument(unsigned index) const override {
    if (index < inputs.size() &&
        isPackedBytes(signature.arguments[index], inputs[index]))
      return inputs[index];
    auto it = packedDescriptors.find(index);
    // A 1-d descriptor: allocated, aligned, offset, size, stride.
    if (it == packedDescriptors.end() || it->second.size() != 5)
      return llvm::createStringError(llvm::formatv(
          "argument {0} is not a packed weight stored as bytes", index));
    const std::vector<int64_t> &desc = it->second;
    const auto *data = reinterpret_cast<const uint8_t *>(desc[1]) + desc[2];
    return HostArray::view(ElementKind::I8, {desc[3]}, data,
                           packedBuffers.at(reinterpret_cast<void *>(desc[0])));
  }

  void appendTensor(unsigned index) {
    HostArray &input = inputs[index];
    appendDescriptor(argumentWords, input.getData(), input.getShape());
  }

  /// Called once all arguments are appended: the pointers into the word
  /// arrays stay valid since they no longer grow.
  void finalize(unsigned resultWords) {
    resultBuffer.assign(resultWords, 0);
    for (int64_t &word : argumentWords)
      argumentPointers.push_back(&word);
    if (resultWords)
      argumentPointers.push_back(resultBuffer.data());
  }

  llvm::Error run() override {
    releaseResults();
    entry(argumentPointers.data());
    hasResults = true;
    return llvm::Error::success();
  }

  llvm::Expected<std::vector<HostArray>> getResults() override {
    if (!hasResults)
      return llvm::createStringError("no results: the entry has not run");
    std::vector<HostArray> results;
    unsigned offset = 0;
    for (auto [i, info] : llvm::enumerate(signature.results)) {
      const int64_t *desc = resultBuffer.data() + offset;
      unsigned rank = info.shape.size();
      offset += getTensorWords(info);
      llvm::ArrayRef<int64_t> sizes(desc + 3, rank);
      llvm::ArrayRef<int64_t> strides(desc + 3 + rank, rank);
      if (sizes != llvm::ArrayRef<int64_t>(info.shape))
        return llvm::createStringError(
            llvm::formatv("result #{0} ({1}) came back with other sizes", i,
                          info.typeString));
      HostArray array(info.kind, info.shape);
      copyStrided(array, reinterpret_cast<const char *>(desc[1]), desc[2],
                  strides);
      results.push_back(std::move(array));
    }
    return results;
  }

  void releaseResults() override {
    if (!hasResults)
      return;
    hasResults = false;
    // Results may share a buffer; free each once.
    std::set<void *> buffers;
    unsigned offset = 0;
    for (const ArgumentInfo &info : signature.results) {
      buffers.insert(reinterpret_cast<void *>(resultBuffer[offset]));
      offset += getTensorWords(info);
    }
    for (void *buffer : buffers)
      cachedFree(buffer);
  }

private:
  /// Copies a strided memref (element offset `offset`) into `array`.
  static void copyStrided(HostArray &array, const char *aligned, int64_t offset,
                          llvm::ArrayRef<int64_t> strides) {
    unsigned elementSize = getElementSize(array.getKind());
    llvm::ArrayRef<int64_t> shape = array.getShape();
    int64_t n = array.getNumElements();
    char *out = static_cast<char *>(array.getData());
    std::vector<int64_t> index(shape.size(), 0);
    for (int64_t linear = 0; linear < n; ++linear) {
      int64_t source = offset;
      for (size_t d = 0; d < shape.size(); ++d)
        source += index[d] * strides[d];
      std::memcpy(out + linear * elementSize, aligned + source * elementSize,
                  elementSize);
      for (int64_t d = int64_t(shape.size()) - 1; d >= 0; --d) {
        if (++index[d] < shape[d])
          break;
        index[d] = 0;
      }
    }
  }

  void (*entry)(void **);
  EntrySignature signature;
  std::vector<HostArray> inputs;
  std::vector<int64_t> argumentWords;
  std::vector<void *> argumentPointers;
  std::vector<int64_t> resultBuffer;
  /// The buffers the pack functions allocated, by address: shared with the
  /// arrays getPackedArgument returns.
  std::map<void *, std::shared_ptr<void>> packedBuffers;
  int64_t packedWeightBytes = 0;
  std::map<unsigned, std::vector<int64_t>> packedDescriptors;
  bool hasResults = false;
};

//===----------------------------------------------------------------------===//
// JitModule
//===----------------------------------------------------------------------===//

class JitModuleImpl : public JitModule {
public:
  JitModuleImpl(std::unique_ptr<ExecutionEngine> engine,
                llvm::StringMap<FunctionRecord> functions,
                llvm::StringMap<EntryLayout> entryLayouts,
                llvm::StringMap<PackLayout> packLayouts)
      : engine(std::move(engine)), functions(std::move(functions)),
        entryLayouts(std::move(entryLayouts)),
        packLayouts(std::move(packLayouts)) {}

  llvm::Expected<EntrySignature>
  getSignature(llvm::StringRef entry) const override {
    auto it = functions.find(entry);
    if (it == functions.end()) {
      std::vector<std::string> names;
      for (const auto &function : functions)
        names.push_back(function.getKey().str());
      llvm::sort(names);
      std::string list = names.empty() ? "none" : llvm::join(names, ", ");
      return llvm::createStringError(llvm::formatv(
          "no entry '{0}' in the module (public functions: {1})", entry, list));
    }
    if (!it->second.unsupported.empty())
      return llvm::createStringError(
          llvm::formatv("entry '{0}': {1}", entry, it->second.unsupported));
    return it->second.signature;
  }

  llvm::Expected<std::unique_ptr<Invocation>>
  prepare(llvm::StringRef entry, std::vector<HostArray> inputs) override {
    llvm::Expected<EntrySignature> signature = getSignature(entry);
    if (!signature)
      return signature.takeError();
    if (llvm::Error error = checkInputs(entry, *signature, inputs))
      return std::move(error);
    auto layout = entryLayouts.find(entry);
    if (layout == entryLayouts.end())
      return llvm::createStringError(
          llvm::formatv("entry '{0}' was not lowered to a callable "
                        "llvm.func",
                        entry));
    auto function = engine->lookupPacked(entry);
    if (!function)
      return function.takeError();

    // Tensor arguments are shared, not copied: entries never write them
    // (recordFunctions marks them not writable), and dense weights are only
    // read by their pack function.
    const FunctionRecord &record = functions.find(entry)->second;
    std::vector<bool> givenAsBytes;
    for (auto [arg, input] : llvm::zip(signature->arguments, inputs))
      givenAsBytes.push_back(isPackedBytes(arg, input));
    auto invocation = std::make_unique<InvocationImpl>(*function, *signature,
                                                       std::move(inputs));
    auto argumentError = [&](size_t i, StringRef problem) {
      return llvm::createStringError(
          llvm::formatv("entry '{0}' argument #{1}: {2} {3}", entry, i,
                        signature->arguments[i].typeString, problem));
    };
    for (auto [i, pack] : llvm::enumerate(record.packFunctions)) {
      if (pack.empty() && signature->arguments[i].isPackedWeight) {
        if (!givenAsBytes[i])
          return argumentError(i, "must be given as its packed bytes (the "
                                  "module was compiled without pack "
                                  "functions)");
        invocation->appendPackedBytes(i);
        continue;
      }
      if (pack.empty()) {
        invocation->appendTensor(i);
        continue;
      }
      const PackLayout &packLayout = packLayouts.find(pack)->second;
      if (givenAsBytes[i]) {
        if (packLayout.resultWords != kByteLayoutWords)
          return argumentError(i, "is not stored as bytes by this pipeline; "
                                  "give its dense f32 weight");
        invocation->appendPackedBytes(i);
        continue;
      }
      auto packFunction = engine->lookupPacked(pack);
      if (!packFunction)
        return packFunction.takeError();
      invocation->appendPacked(*packFunction, packLayout, i);
    }
    invocation->finalize(layout->second.resultWords);
    return std::unique_ptr<Invocation>(std::move(invocation));
  }

private:
  std::unique_ptr<ExecutionEngine> engine;
  llvm::StringMap<FunctionRecord> functions;
  llvm::StringMap<EntryLayout> entryLayouts;
  llvm::StringMap<PackLayout> packLayouts;
};

/// Computes how each callable function and pack function is called once
/// lowered; a function whose lowering does not match the signature gets an
/// `unsupported` note instead.
void computeLayouts(ModuleOp lowered,
                    llvm::StringMap<FunctionRecord> &functions,
                    llvm::StringMap<EntryLayout> &entryLayouts,
                    llvm::StringMap<PackLayout> &packLayouts) {
  auto lookup = [&](llvm::StringRef name) {
    return lowered.lookupSymbol<LLVM::LLVMFuncOp>(name);
  };
  auto resultWords = [](LLVM::LLVMFuncOp func) -> std::optional<unsigned> {
    Type result = func.getFunctionType().getReturnType();
    if (isa<LLVM::LLVMVoidType>(result))
      return 0;
    return countWords(result);
  };

  for (auto &[name, record] : functions) {
    if (!record.unsupported.empty())
      continue;
    LLVM::LLVMFuncOp func = lookup(name);
    if (!func || func.isExternal()) {
      record.unsupported = "not lowered to an llvm.func";
      continue;
    }
    EntryLayout layout;
    unsigned expectedArgs = 0;
    for (auto [arg, pack] :
         llvm::zip(record.signature.arguments, record.packFunctions)) {
      // Packed arguments without a pack function come as bytes.
      unsigned words = arg.isPackedWeight && pack.empty() ? kByteLayoutWords
                                                          : getTensorWords(arg);
      if (!pack.empty()) {
        auto packIt = packLayouts.find(pack);
        if (packIt == packLayouts.end()) {
          LLVM::LLVMFuncOp packFunc = lookup(pack);
          std::optional<unsigned> packWords =
              packFunc ? resultWords(packFunc) : std::nullopt;
          if (!packWords) {
            record.unsupported = "the pack function '" + pack +
                                 "' lowers to an unsupported signature";
            break;
          }
          PackLayout packLayout;
          packLayout.resultWords = *packWords;
          collectAllocatedOffsets(packFunc.getFunctionType().getReturnType(), 0,
                                  packLayout.allocatedOffsets);
          packIt = packLayouts.try_emplace(pack, packLayout).first;
        }
        words = packIt->second.resultWords;
      }
      layout.argumentWords.push_back(words);
      expectedArgs += words;
    }
    if (!record.unsupported.empty())
      continue;
    unsigned expectedResults = 0;
    for (const ArgumentInfo &result : record.signature.results)
      expectedResults += getTensorWords(result);
    std::optional<unsigned> actualResults = resultWords(func);
    bool wordArgs = llvm::all_of(func.getFunctionType().getParams(),
                                 [](Type t) { return countWords(t) == 1u; });
    if (!wordArgs || func.getNumArguments() != expectedArgs ||
        actualResults != expectedResults) {
      record.unsupported =
          llvm::formatv("lowers to an unexpected signature {0} (expected "
                        "{1} argument words and {2} result words)",
                        func.getFunctionType(), expectedArgs, expectedResults)
              .str();
      continue;
    }
    layout.resultWords = expectedResults;
    entryLayouts[name] = std::move(layout);
  }
}

/// "file:line:col: " of a location (the first file location inside it).
std::string formatLocation(Location loc) {
  if (auto file = loc->findInstanceOf<FileLineColLoc>())
    return llvm::formatv("{0}:{1}:{2}: ", file.getFilename().getValue(),
                         file.getLine(), file.getColumn())
        .str();
  return "";
}

/// Collects error diagnostics (with their notes) while alive.
class DiagnosticCollector {
public:
  explicit DiagnosticCollector(MLIRContext *context)
      : handler(context, [this](Diagnostic &diag) {
          if (diag.getSeverity() != DiagnosticSeverity::Error)
            return success();
          llvm::raw_string_ostream os(messages);
          os << (messages.empty() ? "" : "\n")
             << formatLocation(diag.getLocation()) << "error: " << diag.str();
          for (Diagnostic &note : diag.getNotes()) {
            // The pass manager's note prints the whole failing op: too long.
            std::string text = note.str();
            if (!llvm::StringRef(text).starts_with("see current operation"))
              os << "\n  " << formatLocation(note.getLocation())
                 << "note: " << text;
          }
          return success();
        }) {}
  std::string take() { return std::move(messages); }

private:
  std::string messages;
  ScopedDiagnosticHandler handler;
};

void initializeOnce() {
  static std::once_flag flag;
  std::call_once(flag, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    // Callers that register Quilt's passes (quilt-run, quilt-opt-like
    // drivers) already did it.
    if (!PassPipelineInfo::lookup(getPipelineName(PipelineKind::Reference)))
      registerPipelines();
  });
}

/// Runtime libraries the generated code may call: MLIR's runner utils
/// (memrefCopy, printMemref*) and
/// the OpenMP runtime (the CPU pipeline emits __kmpc_* calls).
std::vector<std::string> getRuntimeLibraries() {
  std::vector<std::string> libraries;
  for (const char *name :
       {"libmlir_c_runner_utils.so", "libmlir_runner_utils.so", "libomp.so"}) {
    std::string path = std::string(QUILT_LLVM_LIBRARY_DIR) + "/" + name;
    if (llvm::sys::fs::exists(path))
      libraries.push_back(path);
  }
  return libraries;
}

} // namespace

llvm::Expected<std::unique_ptr<JitModule>>
JitModule::compile(ModuleOp module, const CompileOptions &options) {
  initializeOnce();
  MLIRContext *context = module.getContext();
  DialectRegistry registry;
  registerRuntimeDependencies(registry);
  context->appendDialectRegistry(registry);

  OwningOpRef<ModuleOp> lowered = module.clone();
  llvm::StringMap<FunctionRecord> functions =
      recordFunctions(*lowered, options.pipeline, options.packFunctions);

  llvm::StringRef pipelineName = getPipelineName(options.pipeline);
  if (!PassPipelineInfo::lookup(pipelineName))
    return llvm::createStringError("pipeline '" + pipelineName +
                                   "' is not registered");
  std::string pipeline = pipelineName.str();
  if (options.pipeline == PipelineKind::CPU)
    pipeline += "{threads=" + std::to_string(options.threads) +
                " cpu-features=" + options.cpuFeatures + " pack-weights=" +
                (options.packConstantWeights ? "true" : "false") + "}";
  PassManager pm(context);
  std::string parseErrors;
  llvm::raw_string_ostream parseStream(parseErrors);
  if (failed(parsePassPipeline(pipeline, pm, parseStream)))
    return llvm::createStringError("cannot build pipeline '" + pipeline +
                                   "': " + parseErrors);

  DiagnosticCollector diagnostics(context);
  if (failed(pm.run(*lowered)))
    return llvm::createStringError("pipeline '" + pipelineName + "' failed:\n" +
                                   diagnostics.take());

  llvm::StringMap<EntryLayout> entryLayouts;
  llvm::StringMap<PackLayout> packLayouts;
  computeLayouts(*lowered, functions, entryLayouts, packLayouts);

  auto targetBuilder = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!targetBuilder)
    return targetBuilder.takeError();
  unsigned optLevel =
      options.optimize ? std::clamp(options.optLevel, 1u, 3u) : 0;
  llvm::CodeGenOptLevel codeGenLevel =
      optLevel == 3   ? llvm::CodeGenOptLevel::Aggressive
      : optLevel == 2 ? llvm::CodeGenOptLevel::Default
      : optLevel == 1 ? llvm::CodeGenOptLevel::Less
                      : llvm::CodeGenOptLevel::None;
  targetBuilder->setCodeGenOptLevel(codeGenLevel);
  auto targetMachine = targetBuilder->createTargetMachine();
  if (!targetMachine)
    return targetMachine.takeError();
  // The transformer runs inside create(), while the machine is alive.
  auto transformer = makeOptimizingTransformer(optLevel, /*sizeLevel=*/0,
                                               targetMachine->get());

  std::vector<std::string> libraries = getRuntimeLibraries();
  SmallVector<StringRef> libraryRefs(libraries.begin(), libraries.end());
  ExecutionEngineOptions engineOptions;
  engineOptions.transformer = transformer;
  engineOptions.jitCodeGenOptLevel = codeGenLevel;
  engineOptions.sharedLibPaths = libraryRefs;
  auto engine = ExecutionEngine::create(*lowered, engineOptions,
                                        std::move(*targetMachine));
  if (!engine) {
    std::string message = llvm::toString(engine.takeError());
    std::string diags = diagnostics.take();
    return llvm::createStringError("JIT compilation failed: " + message +
                                   (diags.empty() ? "" : "\n" + diags));
  }
  // The generated code allocates through the buffer cache (BufferCache.h);
  // the process's malloc and free would be found otherwise.
  (*engine)->registerSymbols([](llvm::orc::MangleAndInterner interner) {
    llvm::orc::SymbolMap symbols;
    symbols[interner("malloc")] = {
        llvm::orc::ExecutorAddr::fromPtr(&cachedMalloc),
        llvm::JITSymbolFlags::Exported};
    symbols[interner("free")] = {llvm::orc::ExecutorAddr::fromPtr(&cachedFree),
                                 llvm::JITSymbolFlags::Exported};
    return symbols;
  });
  (*engine)->initialize();
  // LLJIT generates machine code at the first lookup: do it here, so that
  // compiling on a thread of its own (quilt-select-formats) overlaps it too.
  for (const auto &entry : entryLayouts)
    if (auto function = (*engine)->lookupPacked(entry.getKey()); !function)
      return function.takeError();

  return std::unique_ptr<JitModule>(std::make_unique<JitModuleImpl>(
      std::move(*engine), std::move(functions), std::move(entryLayouts),
      std::move(packLayouts)));
}
