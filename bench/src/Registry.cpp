//===- Registry.cpp - Suite registry and shared case data ------*- C++ -*-===//
//
// This file implements the suite registry of quilt-bench and the seeded
// inputs that every implementation of a case shares.
//
//===----------------------------------------------------------------------===//

#include "Bench.h"

#include <algorithm>
#include <cstdlib>
#include <map>

namespace quilt::bench {

// A function-local static: suites register from static initializers of other
// translation units, whose order relative to this one is unspecified.
static std::map<std::string, Suite> &getRegistry() {
  static std::map<std::string, Suite> registry;
  return registry;
}

bool registerSuite(Suite suite) {
  std::string name = suite.name;
  return getRegistry().emplace(name, std::move(suite)).second;
}

std::vector<const Suite *> getSuites() {
  std::vector<const Suite *> suites;
  for (const auto &entry : getRegistry())
    suites.push_back(&entry.second);
  return suites;
}

const Suite *findSuite(const std::string &name) {
  auto it = getRegistry().find(name);
  return it == getRegistry().end() ? nullptr : &it->second;
}

std::vector<float> makeRandomF32(int64_t count, uint64_t seed) {
  std::vector<float> values(count);
  uint64_t state = seed;
  for (float &v : values) {
    // SplitMix64: portable, unlike std::uniform_real_distribution, so a case
    // has the same inputs on every standard library.
    uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    v = float(double(z >> 40) / double(1ull << 24) * 2.0 - 1.0);
  }
  return values;
}

std::shared_ptr<const LinearProblem>
makeLinearProblem(int64_t m, int64_t k, int64_t n, uint64_t seed) {
  auto p = std::make_shared<LinearProblem>();
  p->m = m;
  p->k = k;
  p->n = n;
  p->x = makeRandomF32(m * k, seed);
  p->w = makeRandomF32(k * n, seed ^ 0x5eed5eed5eedull);
  return p;
}

AlignedBuffer AlignedBuffer::allocate(size_t bytes) {
  AlignedBuffer buffer;
  size_t rounded = std::max<size_t>(64, (bytes + 63) / 64 * 64);
  buffer.storage = std::shared_ptr<void>(std::aligned_alloc(64, rounded),
                                         [](void *ptr) { std::free(ptr); });
  buffer.size = bytes;
  return buffer;
}

} // namespace quilt::bench
