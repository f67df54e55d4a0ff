//===- HostArray.cpp - Host arrays, random inputs, comparison ---*- C++ -*-===//
//
// This file implements the host arrays quilt-run and bench/ pass to JIT-ed
// entries: aligned storage, element conversions, the deterministic random
// generator for inputs, and the error measure of `--check`.
//
//===----------------------------------------------------------------------===//

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "quilt/Runtime/ElementCodec.h"
#include "quilt/Runtime/JitRunner.h"

#include "llvm/Support/ErrorHandling.h"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>

using namespace mlir::quilt::runtime;

//===----------------------------------------------------------------------===//
// Element kinds
//===----------------------------------------------------------------------===//

llvm::StringRef mlir::quilt::runtime::getElementKindName(ElementKind kind) {
  switch (kind) {
  case ElementKind::F32:
    return "f32";
  case ElementKind::F16:
    return "f16";
  case ElementKind::BF16:
    return "bf16";
  case ElementKind::I8:
    return "i8";
  case ElementKind::I32:
    return "i32";
  case ElementKind::I64:
    return "i64";
  }
  llvm_unreachable("unknown element kind");
}

unsigned mlir::quilt::runtime::getElementSize(ElementKind kind) {
  switch (kind) {
  case ElementKind::F16:
  case ElementKind::BF16:
    return 2;
  case ElementKind::I8:
    return 1;
  case ElementKind::F32:
  case ElementKind::I32:
    return 4;
  case ElementKind::I64:
    return 8;
  }
  llvm_unreachable("unknown element kind");
}

llvm::StringRef mlir::quilt::runtime::getPipelineName(PipelineKind kind) {
  switch (kind) {
  case PipelineKind::CPU:
    return "quilt-cpu-pipeline";
  case PipelineKind::Reference:
    return "quilt-reference-pipeline";
  }
  llvm_unreachable("unknown pipeline kind");
}

using namespace quilt::codec;

//===----------------------------------------------------------------------===//
// HostArray
//===----------------------------------------------------------------------===//

HostArray::HostArray(ElementKind kind, std::vector<int64_t> shape)
    : kind(kind), shape(std::move(shape)) {
  // aligned_alloc needs a size that is a multiple of the alignment; never 0
  // so that getData() is a valid pointer for empty arrays too.
  size_t bytes = size_t(getNumElements()) * getElementSize(kind);
  size_t rounded = std::max<size_t>(64, (bytes + 63) / 64 * 64);
  void *data = std::aligned_alloc(64, rounded);
  if (!data)
    llvm::report_fatal_error("quilt runtime: out of memory allocating " +
                             llvm::Twine(rounded) + " bytes");
  std::memset(data, 0, rounded);
  storage = std::shared_ptr<void>(data, std::free);
}

ElementKind HostArray::getKind() const { return kind; }

llvm::ArrayRef<int64_t> HostArray::getShape() const { return shape; }

int64_t HostArray::getNumElements() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

void *HostArray::getData() { return storage.get(); }

const void *HostArray::getData() const { return storage.get(); }

double HostArray::getAsDouble(int64_t i) const {
  const void *data = storage.get();
  switch (kind) {
  case ElementKind::F32:
    return static_cast<const float *>(data)[i];
  case ElementKind::F16:
    return f16ToFloat(static_cast<const uint16_t *>(data)[i]);
  case ElementKind::BF16:
    return bf16ToFloat(static_cast<const uint16_t *>(data)[i]);
  case ElementKind::I8:
    return static_cast<const int8_t *>(data)[i];
  case ElementKind::I32:
    return static_cast<const int32_t *>(data)[i];
  case ElementKind::I64:
    return double(static_cast<const int64_t *>(data)[i]);
  }
  llvm_unreachable("unknown element kind");
}

HostArray HostArray::view(ElementKind kind, std::vector<int64_t> shape,
                          const void *data) {
  return view(kind, std::move(shape), data, nullptr);
}

HostArray HostArray::view(ElementKind kind, std::vector<int64_t> shape,
                          const void *data, std::shared_ptr<void> owner) {
  // The kernels need element alignment only (their vector accesses are
  // not assumed aligned): MLIR keeps attribute data 8-byte aligned.
  if (reinterpret_cast<uintptr_t>(data) % getElementSize(kind)) {
    HostArray copy(kind, std::move(shape));
    std::memcpy(copy.getData(), data,
                size_t(copy.getNumElements()) * getElementSize(kind));
    return copy;
  }
  HostArray array;
  array.kind = kind;
  array.shape = std::move(shape);
  // Aliasing: shares `owner`'s count, points at `data`.
  array.storage =
      std::shared_ptr<void>(std::move(owner), const_cast<void *>(data));
  return array;
}

HostArray mlir::quilt::runtime::viewElements(mlir::ElementsAttr attr) {
  mlir::ShapedType type = attr.getShapedType();
  std::vector<int64_t> shape(type.getShape());
  if (type.getElementType().isF32()) {
    if (auto dense = mlir::dyn_cast<mlir::DenseElementsAttr>(attr);
        dense && !dense.isSplat())
      return HostArray::view(ElementKind::F32, std::move(shape),
                             dense.getRawData().data());
    if (auto resource = mlir::dyn_cast<mlir::DenseResourceElementsAttr>(attr))
      if (mlir::AsmResourceBlob *blob = resource.getRawHandle().getBlob())
        return HostArray::view(ElementKind::F32, std::move(shape),
                               blob->getData().data());
  }
  HostArray array(ElementKind::F32, std::move(shape));
  auto *data = static_cast<float *>(array.getData());
  int64_t i = 0;
  for (float value : attr.getValues<float>())
    data[i++] = value;
  return array;
}

HostArray HostArray::clone() const {
  HostArray copy(kind, shape);
  std::memcpy(copy.getData(), getData(),
              size_t(getNumElements()) * getElementSize(kind));
  return copy;
}

std::string HostArray::describe() const { return describeArray(kind, shape); }

std::string mlir::quilt::runtime::describeArray(ElementKind kind,
                                                llvm::ArrayRef<int64_t> shape) {
  std::string text = getElementKindName(kind).str() + " array of shape ";
  if (shape.empty())
    return text + "() (scalar)";
  for (size_t i = 0; i < shape.size(); ++i)
    text += (i ? "x" : "") + std::to_string(shape[i]);
  return text;
}

//===----------------------------------------------------------------------===//
// Random inputs
//===----------------------------------------------------------------------===//

/// Seeded random values: see quilt::codec::SplitMix64.
HostArray mlir::quilt::runtime::makeRandomArray(ElementKind kind,
                                                llvm::ArrayRef<int64_t> shape,
                                                uint64_t seed) {
  HostArray array(kind, std::vector<int64_t>(shape.begin(), shape.end()));
  SplitMix64 random(seed);
  auto nextFloat = [&random]() { return random.nextFloat(); };
  auto nextInt = [&random]() { return random.nextInt(); };

  void *data = array.getData();
  int64_t n = array.getNumElements();
  for (int64_t i = 0; i < n; ++i) {
    switch (kind) {
    case ElementKind::F32:
      static_cast<float *>(data)[i] = nextFloat();
      break;
    case ElementKind::F16:
      static_cast<uint16_t *>(data)[i] = floatToF16(nextFloat());
      break;
    case ElementKind::BF16:
      static_cast<uint16_t *>(data)[i] = floatToBf16(nextFloat());
      break;
    case ElementKind::I8:
      static_cast<int8_t *>(data)[i] = int8_t(nextInt());
      break;
    case ElementKind::I32:
      static_cast<int32_t *>(data)[i] = int32_t(nextInt());
      break;
    case ElementKind::I64:
      static_cast<int64_t *>(data)[i] = nextInt();
      break;
    }
  }
  return array;
}

//===----------------------------------------------------------------------===//
// Comparison
//===----------------------------------------------------------------------===//

ArrayDifference
mlir::quilt::runtime::compareArrays(const HostArray &actual,
                                    const HostArray &reference) {
  constexpr double inf = std::numeric_limits<double>::infinity();
  if (actual.getShape() != reference.getShape())
    return {inf, inf};
  double maxAbs = 0, maxRef = 0;
  for (int64_t i = 0, e = actual.getNumElements(); i < e; ++i) {
    double a = actual.getAsDouble(i), r = reference.getAsDouble(i);
    if (std::isnan(a) || std::isnan(r)) {
      if (std::isnan(a) != std::isnan(r))
        maxAbs = inf;
      continue;
    }
    // Equal infinities are no error (their difference would be NaN).
    double diff = a == r ? 0.0 : std::fabs(a - r);
    maxAbs = std::max(maxAbs, diff);
    if (std::isfinite(r))
      maxRef = std::max(maxRef, std::fabs(r));
  }
  return {maxAbs, maxRef > 0 ? maxAbs / maxRef : maxAbs};
}
