//===- ElementCodec.h - 16-bit floats and seeded random inputs --*- C++ -*-===//
//
// The element conversions and the random-input generator that quilt-run and
// quilt-cuda-run must share bit for bit (a GPU result is checked against a
// reference computed from quilt-run's inputs). Header-only and free of LLVM,
// so the launcher still builds on a machine without it.
//
//===----------------------------------------------------------------------===//

#ifndef QUILT_RUNTIME_ELEMENTCODEC_H
#define QUILT_RUNTIME_ELEMENTCODEC_H

#include <cmath>
#include <cstdint>
#include <cstring>

namespace quilt::codec {

// By bit manipulation, so that large random inputs are cheap to make.

inline float bitsToFloat(uint32_t bits) {
  float f;
  std::memcpy(&f, &bits, sizeof(f));
  return f;
}

inline uint32_t floatToBits(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, sizeof(bits));
  return bits;
}

inline float bf16ToFloat(uint16_t h) { return bitsToFloat(uint32_t(h) << 16); }

/// Round to nearest even; NaNs stay (quiet) NaNs.
inline uint16_t floatToBf16(float f) {
  uint32_t bits = floatToBits(f);
  if (std::isnan(f))
    return uint16_t((bits >> 16) | 0x40);
  bits += 0x7fff + ((bits >> 16) & 1);
  return uint16_t(bits >> 16);
}

inline float f16ToFloat(uint16_t h) {
  uint32_t sign = uint32_t(h & 0x8000) << 16;
  uint32_t exp = (h >> 10) & 0x1f;
  uint32_t mant = h & 0x3ff;
  if (exp == 0x1f) // inf / NaN
    return bitsToFloat(sign | 0x7f800000 | (mant << 13));
  if (exp == 0) { // zero / subnormal: mant * 2^-24
    float value = std::ldexp(float(mant), -24);
    return sign ? -value : value;
  }
  return bitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
}

/// Round to nearest even through float arithmetic on exact values; overflow
/// saturates to inf.
inline uint16_t floatToF16(float f) {
  uint32_t bits = floatToBits(f);
  uint16_t sign = uint16_t((bits >> 16) & 0x8000);
  float a = std::fabs(f);
  if (std::isnan(f))
    return sign | 0x7e00;
  if (a >= 65520.0f)
    return sign | 0x7c00;
  if (a < 6.103515625e-05f) { // subnormal: multiples of 2^-24
    float q = std::nearbyint(std::ldexp(a, 24));
    return sign | uint16_t(q);
  }
  int e;
  std::frexp(a, &e); // a = m * 2^e, m in [0.5, 1)
  // 11 significant bits: quantum 2^(e - 11).
  float q = std::ldexp(std::nearbyint(std::ldexp(a, 11 - e)), e - 11);
  uint32_t qb = floatToBits(q);
  uint32_t exp = ((qb >> 23) & 0xff) - 112;
  return sign | uint16_t(exp << 10) | uint16_t((qb >> 13) & 0x3ff);
}

/// splitmix64 (Steele, Lea, Flood 2014): element i of a random input is the
/// i-th draw from its seed. Floats take the top 24 bits, u = bits * 2^-24 in
/// [0, 1), and are 2u - 1, exact in f32 (then rounded to nearest even for
/// f16/bf16); integers are (bits mod 16) - 8, in [-8, 7].
class SplitMix64 {
public:
  explicit SplitMix64(uint64_t seed) : state(seed) {}

  uint64_t next() {
    uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  float nextFloat() {
    return float(next() >> 40) * (1.0f / 16777216.0f) * 2.0f - 1.0f;
  }
  int64_t nextInt() { return int64_t(next() & 15) - 8; }

private:
  uint64_t state;
};

} // namespace quilt::codec

#endif // QUILT_RUNTIME_ELEMENTCODEC_H
