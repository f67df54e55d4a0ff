//===- Manifest.h - Launch manifests of the NVPTX backend -------*- C++ -*-===//
//
// This file declares the launch manifest Quilt's NVPTX pipeline writes per
// entry (schema 1: the PTX file, the buffers, the kernel launches) and the
// small JSON reader that parses it.
//
//===----------------------------------------------------------------------===//

#ifndef QUILT_TOOLS_QUILT_CUDA_RUN_MANIFEST_H
#define QUILT_TOOLS_QUILT_CUDA_RUN_MANIFEST_H

#include "HostBuffer.h"

#include <array>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace quilt_cuda_run {

//===----------------------------------------------------------------------===//
// JSON
//===----------------------------------------------------------------------===//

/// A parsed JSON value. Objects keep their members in a map: manifests have
/// no duplicate keys (the parser rejects them).
struct JsonValue {
  enum class Kind { Null, Bool, Number, String, Array, Object };
  Kind kind = Kind::Null;
  bool boolean = false;
  double number = 0;
  std::string string;
  std::vector<JsonValue> array;
  std::map<std::string, JsonValue> object;

  /// The member `key` of an object, or null.
  const JsonValue *find(const std::string &key) const;
};

/// Parses `text`; on failure returns false and sets `error` to
/// "line L, column C: expected ...".
bool parseJson(const std::string &text, JsonValue &value, std::string &error);

//===----------------------------------------------------------------------===//
// Manifest
//===----------------------------------------------------------------------===//

/// The manifest versions this tool understands.
constexpr int kManifestSchema = 1;

/// The size of a CUDA tensor map (CUtensorMap).
constexpr int64_t kTensorMapBytes = 128;

/// What quilt-cuda-run encodes into a tensor-map buffer before the first
/// launch: a CUDA tensor map (TMA descriptor) of a 2-d row-major view of
/// another buffer. Dims and box are innermost first, in elements.
struct TensorMapSpec {
  /// Index into Manifest::buffers of the viewed buffer.
  size_t of = 0;
  DType dtype = DType::F32;
  std::array<int64_t, 2> dims{{0, 0}}, box{{0, 0}};
  /// Bytes of the swizzle pattern: 0 (none), 32, 64 or 128.
  int64_t swizzle = 0;
};

/// One device buffer: an entry argument, a result, compiler scratch, or a
/// tensor map.
struct BufferSpec {
  enum class Kind { Input, Output, Temp, TensorMap };
  std::string name;
  Kind kind = Kind::Input;
  /// Inputs: the entry argument number (also the random seed offset);
  /// outputs: the result number.
  int64_t index = 0;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  /// Size in bytes (from dtype and shape, or "bytes" for temps).
  int64_t bytes = 0;
  /// Kind::TensorMap only.
  TensorMapSpec tensorMap;
};

/// One cuLaunchKernel: every argument is the device pointer of a buffer.
struct LaunchSpec {
  std::string kernel;
  bool isSetup = false;
  std::array<unsigned, 3> grid{{1, 1, 1}};
  std::array<unsigned, 3> block{{1, 1, 1}};
  /// CTAs per thread-block cluster ("cluster", optional): anything but
  /// 1 x 1 x 1 launches through cuLaunchKernelEx.
  std::array<unsigned, 3> cluster{{1, 1, 1}};
  unsigned sharedBytes = 0;
  /// Indices into Manifest::buffers.
  std::vector<size_t> args;
  double flops = 0;
  double bytes = 0;
};

struct Manifest {
  std::string entry;
  /// The "ptx" field as written (relative to the manifest's directory).
  std::string ptx;
  /// "sm_90a", or empty when absent.
  std::string chip;
  std::vector<BufferSpec> buffers;
  std::vector<LaunchSpec> launches;

  /// Buffers of one kind, sorted by index.
  std::vector<const BufferSpec *> getBuffers(BufferSpec::Kind kind) const;
};

/// Parses and validates a manifest; on failure returns false and sets
/// `error` to a message naming the field and the buffer or launch.
bool parseManifest(const std::string &text, Manifest &manifest,
                   std::string &error);

} // namespace quilt_cuda_run

#endif // QUILT_TOOLS_QUILT_CUDA_RUN_MANIFEST_H
