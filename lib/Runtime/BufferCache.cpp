//===- BufferCache.cpp - Reused buffers for JIT-compiled entries ----------===//
//
// A size-keyed cache of freed blocks in front of the C library's malloc.
// Blocks are real malloc blocks, so free() on them stays valid, and any
// malloc block may be handed to cachedFree (malloc_usable_size gives its
// size).
//
//===----------------------------------------------------------------------===//

#include "BufferCache.h"

#include <cstdlib>
#include <malloc.h>
#include <map>
#include <mutex>

namespace mlir::quilt::runtime {

namespace {

/// Smaller blocks come from the C library's own free lists, which are fast.
constexpr size_t kMinCachedBytes = size_t(64) << 10;
/// Most bytes kept unused at a time; beyond, blocks go back to the library.
constexpr size_t kMaxCachedBytes = size_t(1) << 30;

struct Cache {
  std::mutex mutex;
  std::multimap<size_t, void *> blocks; // by usable size
  size_t bytes = 0;
};

Cache &getCache() {
  // Never destroyed: JIT-compiled code may still free during exit.
  static Cache *cache = new Cache;
  return *cache;
}

} // namespace

void *cachedMalloc(size_t bytes) {
  if (bytes >= kMinCachedBytes) {
    Cache &cache = getCache();
    std::lock_guard<std::mutex> lock(cache.mutex);
    // The smallest kept block that fits, unless it wastes over a quarter.
    auto it = cache.blocks.lower_bound(bytes);
    if (it != cache.blocks.end() && it->first <= bytes + bytes / 4) {
      void *pointer = it->second;
      cache.bytes -= it->first;
      cache.blocks.erase(it);
      return pointer;
    }
  }
  return std::malloc(bytes);
}

void cachedFree(void *pointer) {
  if (!pointer)
    return;
  size_t bytes = malloc_usable_size(pointer);
  if (bytes >= kMinCachedBytes) {
    Cache &cache = getCache();
    std::lock_guard<std::mutex> lock(cache.mutex);
    if (cache.bytes + bytes <= kMaxCachedBytes) {
      cache.blocks.emplace(bytes, pointer);
      cache.bytes += bytes;
      return;
    }
  }
  std::free(pointer);
}

} // namespace mlir::quilt::runtime
