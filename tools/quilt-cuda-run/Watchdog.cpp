//===- Watchdog.cpp - Exit when a kernel never finishes ---------*- C++ -*-===//
//
// The SIGALRM handler may only call async-signal-safe functions: it writes
// messages formatted beforehand with write(2) and leaves with _exit(2);
// the driver tears the hung context down with the process.
//
//===----------------------------------------------------------------------===//

#include "Watchdog.h"

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <unistd.h>

namespace {

char prefix[128];
char activity[512] = "starting";

void onAlarm(int) {
  auto put = [](const char *text) {
    ssize_t ignored = write(STDERR_FILENO, text, std::strlen(text));
    (void)ignored;
  };
  put(prefix);
  put(activity);
  put(" (a kernel that never finishes, e.g. waiting on a barrier that is "
      "never completed; --timeout sets the limit)\n");
  _exit(1);
}

} // namespace

void quilt_cuda_run::startWatchdog(unsigned seconds) {
  if (!seconds)
    return;
  std::snprintf(prefix, sizeof(prefix),
                "quilt-cuda-run: error: no result after %u s, during ",
                seconds);
  std::signal(SIGALRM, onAlarm);
  alarm(seconds);
}

void quilt_cuda_run::setActivity(const std::string &what) {
  // Cut, never unterminated: the handler may read it at any time.
  size_t size = std::min(what.size(), sizeof(activity) - 1);
  activity[size] = '\0';
  std::memcpy(activity, what.data(), size);
}
