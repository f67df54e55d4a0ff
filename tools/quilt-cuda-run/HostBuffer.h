//===- HostBuffer.h - Host arrays of quilt-cuda-run -------------*- C++ -*-===//
//
// This file declares the element types of Quilt's GPU manifests and the host
// arrays quilt-cuda-run fills, reads back and compares. It mirrors Quilt's
// runtime (lib/Runtime/HostArray.cpp) with the standard library only, so
// that the tool builds on GPU machines that have no LLVM.
//
//===----------------------------------------------------------------------===//

#ifndef QUILT_TOOLS_QUILT_CUDA_RUN_HOSTBUFFER_H
#define QUILT_TOOLS_QUILT_CUDA_RUN_HOSTBUFFER_H

#include "quilt/Runtime/ElementCodec.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace quilt_cuda_run {

/// The element types a manifest buffer can have.
enum class DType { F32, F16, BF16, I8, U8, I32 };

/// "f32", "bf16", ... as manifests spell them.
const char *getDTypeName(DType dtype);
std::optional<DType> parseDTypeName(const std::string &name);
unsigned getDTypeSize(DType dtype);
bool isIntegerDType(DType dtype);

/// "[16, 64]".
std::string formatShape(const std::vector<int64_t> &shape);
/// "tensor<16x64xbf16>", as quilt-run prints result types.
std::string formatTensorType(DType dtype, const std::vector<int64_t> &shape);

/// A dense C-order array of one dtype.
struct HostBuffer {
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;

  HostBuffer() = default;
  HostBuffer(DType dtype, std::vector<int64_t> shape);

  int64_t getNumElements() const;
  size_t getNumBytes() const { return bytes.size(); }
  double getAsDouble(int64_t i) const;
  /// quilt-run's formatting: integers exactly, floats with %g.
  std::string formatElement(int64_t i) const;
};

/// Element count of a shape; nullopt when negative or too large to allocate.
std::optional<int64_t> getNumElements(const std::vector<int64_t> &shape);

// The conversions and the generator are quilt-run's own (ElementCodec.h).
using quilt::codec::bf16ToFloat;
using quilt::codec::f16ToFloat;
using quilt::codec::floatToBf16;
using quilt::codec::floatToF16;

/// Seeded random input, bit-identical to quilt-run's makeRandomArray:
/// element i is the i-th splitmix64 output from `seed`; floats are
/// 2 * (top 24 bits) / 2^24 - 1 (rounded to nearest even for f16/bf16),
/// signed integers (bits mod 16) - 8. quilt-run has no u8: u8 is
/// bits mod 16, the same draw unshifted.
HostBuffer makeRandomBuffer(DType dtype, const std::vector<int64_t> &shape,
                            uint64_t seed);

/// quilt-run's --check measure (lib/Runtime/HostArray.cpp compareArrays).
struct Difference {
  double maxAbsErr = 0;
  double maxRelErr = 0;
};

/// max |a - r| and that over max |r|; NaN on one side only is an infinite
/// error, equal infinities none. Shapes must match (the caller checks).
Difference compareBuffers(const HostBuffer &actual,
                          const HostBuffer &reference);

/// `printf("%g")`, as quilt-run formats numbers.
std::string formatNumber(double value);

} // namespace quilt_cuda_run

#endif // QUILT_TOOLS_QUILT_CUDA_RUN_HOSTBUFFER_H
