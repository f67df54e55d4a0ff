//===- JitRunner.h - JIT-compile and call Quilt entry points ----*- C++ -*-===//
//
// The in-process runner behind `quilt-run` and `bench/`: lowers a module
// through a Quilt pipeline, JIT-compiles it with LLVM's ORC engine for the
// host CPU, and calls an entry function on host arrays. Packed weight
// arguments are packed once, untimed, by a synthesized `quilt.pack` function
// lowered through the same pipeline, so timings cover only the entry.
//
//===----------------------------------------------------------------------===//

#ifndef QUILT_RUNTIME_JITRUNNER_H
#define QUILT_RUNTIME_JITRUNNER_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace mlir::quilt::runtime {

/// The pipeline that lowers the module before JIT compilation.
enum class PipelineKind {
  CPU,       // quilt-cpu-pipeline: the optimized SIMD backend
  Reference, // quilt-reference-pipeline: the executable specification
};

struct CompileOptions {
  PipelineKind pipeline = PipelineKind::CPU;
  /// Worker threads of the generated code (quilt-cpu-pipeline `threads`).
  unsigned threads = 1;
  /// quilt-cpu-pipeline `cpu-features`: `host`, or the features the kernels
  /// are generated for (a subset of the host's, e.g. `+avx2,+fma` to run
  /// the AVX2 kernels on an AVX-512 machine).
  std::string cpuFeatures = "host";
  /// quilt-cpu-pipeline `pack-weights`: pack constant weights at compile
  /// time (one JIT per weight). Off, they are packed by the entry at run
  /// time, which compiles faster for modules run once.
  bool packConstantWeights = true;
  /// Compile a pack function per packed argument type, so that an entry's
  /// packed weights may be given dense. Off, they must be given as their
  /// bytes (ArgumentInfo::packedBytes), and packing is not compiled at all:
  /// the end-to-end check of quilt-select-formats, whose weights come
  /// packed, compiled in about 40% less time (LLM block, Zen 3).
  bool packFunctions = true;
  /// Optimize the LLVM IR (O3) and generate code aggressively. Off (O0),
  /// compiling is several times faster and the arithmetic the same (the
  /// kernels spell out their FMAs and no fast-math flags are set), for
  /// modules run once, such as quilt-select-formats' measurements.
  bool optimize = true;
  /// The LLVM optimization level when `optimize` is on (1-3). Modules run
  /// once take 1: their kernels are already vectorized and unrolled by
  /// hand, and O1 compiled the LLM block's run-once modules about 40%
  /// faster than O3 while running them as fast (Zen 3 VM).
  unsigned optLevel = 3;
};

/// Weight elements a module run once (compile-time packing, format
/// selection's activation capture and end-to-end check) processes, above
/// which optimizing it (at CompileOptions::optLevel 1) pays:
/// at O0 compiling is several times faster and running several times
/// slower (digits network, 1.1M weight elements: whole pipeline 1.05 s
/// at O0, 2.0 s at O3; LLM block, 135M: 10.2 s at O0, 7.5 s with its
/// selection modules at O3).
constexpr int64_t kOptimizeRunOnceAboveWeightElements = int64_t(32) << 20;

/// Element kinds a host array may hold (tensor element types at the entry).
enum class ElementKind { F32, F16, BF16, I8, I32, I64 };

/// The MLIR spelling of `kind`: "f32", "bf16", "i8", ...
llvm::StringRef getElementKindName(ElementKind kind);
/// Bytes per element of `kind`.
unsigned getElementSize(ElementKind kind);
/// The pipeline's registered name: "quilt-cpu-pipeline", ...
llvm::StringRef getPipelineName(PipelineKind kind);

/// A dense row-major host array for one tensor argument or result, 64-byte
/// aligned (views: element aligned). For a `!quilt.packed<K x N, ...>`
/// argument it is the dense f32 K x N weight before packing.
class HostArray {
public:
  HostArray(ElementKind kind, std::vector<int64_t> shape);
  /// An array over `data`, which the caller keeps alive as long as the
  /// array and its copies, and which no entry may write (weights: kernels
  /// only read them). Copied instead where `data` is not element aligned.
  static HostArray view(ElementKind kind, std::vector<int64_t> shape,
                        const void *data);
  /// As above, and the array and its copies keep `owner` (what holds
  /// `data`) alive.
  static HostArray view(ElementKind kind, std::vector<int64_t> shape,
                        const void *data, std::shared_ptr<void> owner);
  ElementKind getKind() const;
  llvm::ArrayRef<int64_t> getShape() const;
  int64_t getNumElements() const;
  void *getData();
  const void *getData() const;
  /// Element `i` widened to f64 (for error checks and printing).
  double getAsDouble(int64_t i) const;
  /// A deep copy (copies of a HostArray share their storage).
  HostArray clone() const;
  /// "f32 array of shape 2x3", for messages.
  std::string describe() const;

private:
  HostArray() = default;
  ElementKind kind = ElementKind::F32;
  std::vector<int64_t> shape;
  std::shared_ptr<void> storage;
};

/// "f32 array of shape 2x3" (HostArray::describe without an array).
std::string describeArray(ElementKind kind, llvm::ArrayRef<int64_t> shape);

/// Uniform values in [-1, 1) (integers: in the kind's small range), fully
/// determined by `seed`.
HostArray makeRandomArray(ElementKind kind, llvm::ArrayRef<int64_t> shape,
                          uint64_t seed);

/// How far `actual` is from `reference` (same kind and shape):
/// maxAbsErr = max_i |actual_i - reference_i| and
/// maxRelErr = maxAbsErr / max_i |reference_i| (relative to the largest
/// reference magnitude, not element-wise, so near-zero entries do not blow it
/// up; equal to maxAbsErr when the reference is all zeros). A NaN on one side
/// only, or a shape mismatch, gives +inf.
struct ArrayDifference {
  double maxAbsErr = 0;
  double maxRelErr = 0;
};
ArrayDifference compareArrays(const HostArray &actual,
                              const HostArray &reference);

/// Reads a little-endian, C-order `.npy` file (f32, f16, i8, i32, i64).
/// The array is the file's data mapped copy-on-write, not a copy: the LLM
/// example's weights are 540 MB.
llvm::Expected<HostArray> readNpy(llvm::StringRef path);

/// An f32 array over the values of the constant `attr` (dense or
/// dense_resource): a view of its data where it holds f32 values one by
/// one, else a copy converted to f32. The view is valid as long as `attr`.
HostArray viewElements(mlir::ElementsAttr attr);
/// Writes a version 1.0 `.npy` file. numpy has no bf16, so bf16 arrays are
/// written widened to f32 ('<f4').
llvm::Error writeNpy(llvm::StringRef path, const HostArray &array);

/// One argument or result of an entry as seen at the quilt level.
struct ArgumentInfo {
  ElementKind kind;           // f32 for packed weights (the dense input)
  std::vector<int64_t> shape; // static sizes; dynamic sizes are errors
  bool isPackedWeight = false;
  /// Packed weights the CPU pipeline stores in a byte layout of its own:
  /// its size, or -1 when it depends on the values (compressed layouts).
  /// Such an argument may be given these bytes (an i8 array, as
  /// Invocation::getPackedArgument returns them) instead of its dense
  /// weight, which is then not packed again. 0: only the dense weight.
  int64_t packedBytes = 0;
  std::string typeString; // the MLIR type, for messages
};

struct EntrySignature {
  std::vector<ArgumentInfo> arguments;
  std::vector<ArgumentInfo> results;
};

/// An entry bound to its inputs: packed weights already packed, ready to be
/// called repeatedly. Results of the latest call are kept until the next.
class Invocation {
public:
  virtual ~Invocation();
  /// Calls the entry once.
  virtual llvm::Error run() = 0;
  /// Results of the latest run(), copied to host arrays.
  virtual llvm::Expected<std::vector<HostArray>> getResults() = 0;
  /// Frees the buffers the latest run() returned. run() does it itself
  /// before calling the entry again; call this between timed runs to keep
  /// free() out of the timing.
  virtual void releaseResults() = 0;
  /// Bytes of the packed weights as stored by the pipeline (the buffers the
  /// pack functions returned: 1-d byte buffers of the CPU layouts, or the
  /// dense f32 matrices of formats without one).
  virtual int64_t getPackedWeightBytes() const = 0;
  /// The packed buffer of argument `index` (a packed weight the pipeline
  /// stores as a 1-d byte buffer) as an i8 array that shares it, not a copy
  /// (it outlives the invocation); an error for other arguments.
  virtual llvm::Expected<HostArray> getPackedArgument(unsigned index) const = 0;
};

/// Everything compile() needs registered in a context: the upstream
/// dialects and extensions, Quilt's dialect, and the LLVM IR translations.
/// compile() appends it to the module's context itself; callers use it to
/// create contexts that can parse any input.
void registerRuntimeDependencies(DialectRegistry &registry);

/// A module lowered by one pipeline and JIT-compiled. It must outlive the
/// invocations it prepares.
class JitModule {
public:
  virtual ~JitModule();
  /// Parses nothing: takes ownership of a clone of `module`. Fails with the
  /// pipeline's diagnostics when lowering fails.
  static llvm::Expected<std::unique_ptr<JitModule>>
  compile(ModuleOp module, const CompileOptions &options);
  /// Signature of `entry` before lowering; an error names a missing entry.
  virtual llvm::Expected<EntrySignature>
  getSignature(llvm::StringRef entry) const = 0;
  /// Checks `inputs` against the signature (clear error naming the argument,
  /// the expected and the given type), packs packed weights (unless given
  /// as their packed bytes, see ArgumentInfo::packedBytes), and returns a
  /// callable invocation.
  virtual llvm::Expected<std::unique_ptr<Invocation>>
  prepare(llvm::StringRef entry, std::vector<HostArray> inputs) = 0;
};

} // namespace mlir::quilt::runtime

#endif // QUILT_RUNTIME_JITRUNNER_H
