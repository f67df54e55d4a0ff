//===- PtxasReport.cpp - Running ptxas -v and reading its report ----------===//
//
// ptxas (CUDA's PTX assembler) needs no GPU. Its -v report gives, per entry
// function, the registers a thread takes and the bytes it spills to local
// memory: the data the register model learns from.
//
//===----------------------------------------------------------------------===//

#include "quilt/CostModel/RegisterModel.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/Regex.h"

using namespace llvm;

namespace mlir::quilt::cost {

StringMap<KernelResources> parsePtxasReport(StringRef report) {
  StringMap<KernelResources> kernels;
  Regex entry("Compiling entry function '([^']+)'");
  Regex frame("([0-9]+) bytes stack frame, ([0-9]+) bytes spill stores, "
              "([0-9]+) bytes spill loads");
  Regex used("Used ([0-9]+) registers");
  KernelResources *current = nullptr;
  SmallVector<StringRef> m;
  auto number = [](StringRef s) {
    int64_t v = 0;
    s.getAsInteger(10, v);
    return v;
  };
  for (StringRef line : llvm::split(report, '\n')) {
    if (entry.match(line, &m))
      current = &kernels[m[1]];
    else if (current && frame.match(line, &m))
      *current = {current->registers, number(m[1]), number(m[2]), number(m[3])};
    else if (current && used.match(line, &m))
      current->registers = number(m[1]);
  }
  return kernels;
}

std::string findPtxas() {
  if (ErrorOr<std::string> onPath = sys::findProgramByName("ptxas"))
    return *onPath;
  if (sys::fs::can_execute("/usr/local/cuda/bin/ptxas"))
    return "/usr/local/cuda/bin/ptxas";
  return "";
}

/// Runs `args` with stdout and stderr into one temporary file; returns
/// what they printed, or an error with it when the program fails.
static Expected<std::string> runCapturing(StringRef program,
                                          ArrayRef<StringRef> args) {
  SmallString<128> log;
  if (std::error_code ec =
          sys::fs::createTemporaryFile("quilt-ptxas", "log", log))
    return createStringError(ec, "cannot create a temporary file");
  std::optional<StringRef> redirects[] = {std::nullopt, log.str(), log.str()};
  std::string message;
  int status = sys::ExecuteAndWait(program, args, std::nullopt, redirects, 0, 0,
                                   &message);
  auto text = MemoryBuffer::getFile(log);
  std::string output = text ? (*text)->getBuffer().str() : "";
  sys::fs::remove(log);
  if (status != 0)
    return createStringError(inconvertibleErrorCode(),
                             formatv("{0} failed ({1}{2}):\n{3}", program,
                                     status, message.empty() ? "" : ", ",
                                     message)
                                     .str() +
                                 output);
  return output;
}

Expected<std::string> getPtxasVersion(StringRef ptxas) {
  auto text = runCapturing(ptxas, {ptxas, "--version"});
  if (!text)
    return text.takeError();
  SmallVector<StringRef> m;
  return Regex("V[0-9.]+").match(*text, &m) ? m[0].str() : "unknown";
}

Expected<StringMap<KernelResources>>
runPtxas(StringRef ptxas, StringRef ptxPath, StringRef chip) {
  SmallString<128> cubin;
  if (std::error_code ec =
          sys::fs::createTemporaryFile("quilt-ptxas", "cubin", cubin))
    return createStringError(ec, "cannot create a temporary file");
  std::string arch = ("-arch=" + chip).str();
  auto report = runCapturing(ptxas, {ptxas, "-v", arch, ptxPath, "-o", cubin});
  sys::fs::remove(cubin);
  if (!report)
    return report.takeError();
  return parsePtxasReport(*report);
}

} // namespace mlir::quilt::cost
