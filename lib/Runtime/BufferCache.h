//===- BufferCache.h - Reused buffers for JIT-compiled entries --*- C++ -*-===//
//
// The allocation functions JIT-compiled code calls instead of malloc and
// free. An entry allocates its intermediates (quantized activations, tiles,
// outputs) and frees them on every call; large blocks handed back to the C
// library are returned to the OS and faulted in again on the next call,
// which cost a whole int8 network two thirds of its time (digits MLP on a
// Zen 5 VM: 6.3 ms per call, 2.1 ms with this cache). Freed blocks of at
// least 64 KiB are kept for the next allocation of about their size
// instead.
//
//===----------------------------------------------------------------------===//

#ifndef QUILT_LIB_RUNTIME_BUFFERCACHE_H
#define QUILT_LIB_RUNTIME_BUFFERCACHE_H

#include <cstddef>

namespace mlir::quilt::runtime {

/// malloc, served from the cache when a kept block fits.
void *cachedMalloc(size_t bytes);
/// free: keeps large blocks (any block from the C library's allocator).
void cachedFree(void *pointer);

} // namespace mlir::quilt::runtime

#endif // QUILT_LIB_RUNTIME_BUFFERCACHE_H
