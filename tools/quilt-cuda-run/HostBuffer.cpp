//===- HostBuffer.cpp - Host arrays of quilt-cuda-run -----------*- C++ -*-===//
//
// This file implements the host arrays of quilt-cuda-run: element
// conversions, the seeded random inputs and the error measure. The random
// generator and the 16-bit conversions are copies of quilt-run's
// (lib/Runtime/HostArray.cpp): the inputs must be bit-identical so that
// quilt-run's reference outputs are the expected outputs of a GPU run.
//
//===----------------------------------------------------------------------===//

#include "HostBuffer.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>

using namespace quilt_cuda_run;

//===----------------------------------------------------------------------===//
// Element types
//===----------------------------------------------------------------------===//

const char *quilt_cuda_run::getDTypeName(DType dtype) {
  switch (dtype) {
  case DType::F32:
    return "f32";
  case DType::F16:
    return "f16";
  case DType::BF16:
    return "bf16";
  case DType::I8:
    return "i8";
  case DType::U8:
    return "u8";
  case DType::I32:
    return "i32";
  }
  return "?";
}

std::optional<DType> quilt_cuda_run::parseDTypeName(const std::string &name) {
  for (DType dtype :
       {DType::F32, DType::F16, DType::BF16, DType::I8, DType::U8, DType::I32})
    if (name == getDTypeName(dtype))
      return dtype;
  return std::nullopt;
}

unsigned quilt_cuda_run::getDTypeSize(DType dtype) {
  switch (dtype) {
  case DType::F16:
  case DType::BF16:
    return 2;
  case DType::I8:
  case DType::U8:
    return 1;
  case DType::F32:
  case DType::I32:
    return 4;
  }
  return 1;
}

bool quilt_cuda_run::isIntegerDType(DType dtype) {
  return dtype == DType::I8 || dtype == DType::U8 || dtype == DType::I32;
}

std::string quilt_cuda_run::formatShape(const std::vector<int64_t> &shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

std::string
quilt_cuda_run::formatTensorType(DType dtype,
                                 const std::vector<int64_t> &shape) {
  std::string text = "tensor<";
  for (int64_t d : shape)
    text += std::to_string(d) + "x";
  return text + getDTypeName(dtype) + ">";
}

std::string quilt_cuda_run::formatNumber(double value) {
  char text[64];
  std::snprintf(text, sizeof(text), "%g", value);
  return text;
}

std::optional<int64_t>
quilt_cuda_run::getNumElements(const std::vector<int64_t> &shape) {
  // Beyond 2^40 elements no GPU holds the buffer; the bound also keeps the
  // byte counts far from overflow.
  constexpr int64_t limit = int64_t(1) << 40;
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0 || (d && n > limit / d))
      return std::nullopt;
    n *= d;
  }
  return n;
}

//===----------------------------------------------------------------------===//
// HostBuffer
//===----------------------------------------------------------------------===//

HostBuffer::HostBuffer(DType dtype, std::vector<int64_t> shape)
    : dtype(dtype), shape(std::move(shape)) {
  bytes.assign(size_t(quilt_cuda_run::getNumElements(this->shape).value_or(0)) *
                   getDTypeSize(dtype),
               0);
}

int64_t HostBuffer::getNumElements() const {
  return int64_t(bytes.size() / getDTypeSize(dtype));
}

double HostBuffer::getAsDouble(int64_t i) const {
  const uint8_t *p = bytes.data() + size_t(i) * getDTypeSize(dtype);
  switch (dtype) {
  case DType::F32: {
    float f;
    std::memcpy(&f, p, 4);
    return f;
  }
  case DType::F16:
  case DType::BF16: {
    uint16_t h;
    std::memcpy(&h, p, 2);
    return dtype == DType::F16 ? f16ToFloat(h) : bf16ToFloat(h);
  }
  case DType::I8:
    return int8_t(*p);
  case DType::U8:
    return *p;
  case DType::I32: {
    int32_t v;
    std::memcpy(&v, p, 4);
    return v;
  }
  }
  return 0;
}

std::string HostBuffer::formatElement(int64_t i) const {
  if (isIntegerDType(dtype))
    return std::to_string(int64_t(getAsDouble(i)));
  return formatNumber(getAsDouble(i));
}

//===----------------------------------------------------------------------===//
// Random inputs and comparison
//===----------------------------------------------------------------------===//

HostBuffer quilt_cuda_run::makeRandomBuffer(DType dtype,
                                            const std::vector<int64_t> &shape,
                                            uint64_t seed) {
  HostBuffer buffer(dtype, shape);
  quilt::codec::SplitMix64 random(seed);
  auto next = [&random]() { return random.next(); };
  auto nextFloat = [&random]() { return random.nextFloat(); };
  auto nextInt = [&random]() { return random.nextInt(); };

  uint8_t *data = buffer.bytes.data();
  for (int64_t i = 0, n = buffer.getNumElements(); i < n; ++i) {
    switch (dtype) {
    case DType::F32: {
      float f = nextFloat();
      std::memcpy(data + 4 * i, &f, 4);
      break;
    }
    case DType::F16:
    case DType::BF16: {
      float f = nextFloat();
      uint16_t h = dtype == DType::F16 ? floatToF16(f) : floatToBf16(f);
      std::memcpy(data + 2 * i, &h, 2);
      break;
    }
    case DType::I8:
      data[i] = uint8_t(int8_t(nextInt()));
      break;
    case DType::U8:
      data[i] = uint8_t(next() & 15);
      break;
    case DType::I32: {
      int32_t v = int32_t(nextInt());
      std::memcpy(data + 4 * i, &v, 4);
      break;
    }
    }
  }
  return buffer;
}

Difference quilt_cuda_run::compareBuffers(const HostBuffer &actual,
                                          const HostBuffer &reference) {
  constexpr double inf = std::numeric_limits<double>::infinity();
  if (actual.shape != reference.shape)
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
