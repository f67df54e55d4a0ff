//===- Watchdog.h - Exit when a kernel never finishes -----------*- C++ -*-===//
//
// A kernel that waits on a barrier nobody completes hangs its
// synchronization forever, and CUDA has no timeout of its own. The
// watchdog (SIGALRM) prints what the tool was doing and exits instead, so
// that a sweep of many kernels loses one row, not its whole time budget.
//
//===----------------------------------------------------------------------===//

#ifndef QUILT_TOOLS_QUILT_CUDA_RUN_WATCHDOG_H
#define QUILT_TOOLS_QUILT_CUDA_RUN_WATCHDOG_H

#include <string>

namespace quilt_cuda_run {

/// Exits with status 1 and `quilt-cuda-run: error: ...` on stderr when
/// `seconds` pass before the process ends (0: never).
void startWatchdog(unsigned seconds);

/// What the process is doing, for the watchdog's message ("launch #1,
/// kernel 'k'").
void setActivity(const std::string &what);

} // namespace quilt_cuda_run

#endif // QUILT_TOOLS_QUILT_CUDA_RUN_WATCHDOG_H
