//===- Dataset.cpp - The JSONL dataset of measured kernels ------*- C++ -*-===//
//
// This file implements reading and writing the samples `quilt-tune collect`
// measures: one JSON object per line.
//
//===----------------------------------------------------------------------===//

#include "Tune.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

namespace quilt::tune {

int fail(const llvm::Twine &message) {
  llvm::errs() << "quilt-tune: error: " << message << "\n";
  return 1;
}

llvm::json::Object sampleToJson(const Sample &s) {
  return llvm::json::Object{{"key", s.key},
                            {"category", s.category},
                            {"family", s.family},
                            {"group", s.group},
                            {"format", s.format},
                            {"threads", int64_t(s.threads)},
                            {"median_us", s.medianUs},
                            {"pass", int64_t(s.pass)},
                            {"mlir", s.mlir}};
}

llvm::Expected<std::vector<Sample>> readDataset(llvm::StringRef path,
                                                bool mergePasses) {
  auto buffer = llvm::MemoryBuffer::getFile(path);
  if (!buffer)
    return llvm::createStringError(buffer.getError(),
                                   "cannot read " + path + ": " +
                                       buffer.getError().message());
  std::vector<Sample> samples;
  llvm::SmallVector<llvm::StringRef> lines;
  (*buffer)->getBuffer().split(lines, '\n', -1, /*KeepEmpty=*/false);
  for (size_t i = 0; i < lines.size(); ++i) {
    llvm::StringRef line = lines[i];
    auto error = [&](const llvm::Twine &why) {
      return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                     path + ":" + llvm::Twine(i + 1) + ": " +
                                         why);
    };
    auto value = llvm::json::parse(line);
    if (!value)
      return error(llvm::toString(value.takeError()));
    const llvm::json::Object *obj = value->getAsObject();
    if (!obj)
      return error("not a JSON object");
    Sample s;
    auto getString = [&](llvm::StringRef name, std::string &field) {
      if (auto v = obj->getString(name))
        field = v->str();
      return obj->getString(name).has_value();
    };
    auto threads = obj->getInteger("threads");
    auto time = obj->getNumber("median_us");
    if (!getString("key", s.key) || !getString("family", s.family) ||
        !getString("group", s.group) || !getString("format", s.format) ||
        !getString("mlir", s.mlir) || !threads || !time)
      return error("missing one of key, family, group, format, mlir, "
                   "threads, median_us");
    getString("category", s.category);
    s.threads = unsigned(*threads);
    s.medianUs = *time;
    s.pass = unsigned(obj->getInteger("pass").value_or(0));
    samples.push_back(std::move(s));
  }
  if (!mergePasses)
    return samples;
  // One sample per key, in first-seen order, timed by its fastest pass:
  // interference only slows a kernel down (two collections of the same
  // kernels on one machine differ by 11% with one pass, 6% with the
  // fastest of three).
  llvm::StringMap<size_t> index;
  std::vector<Sample> merged;
  for (Sample &s : samples) {
    auto [it, inserted] = index.try_emplace(s.key, merged.size());
    if (inserted) {
      s.passes = 1;
      merged.push_back(std::move(s));
      continue;
    }
    Sample &m = merged[it->second];
    m.medianUs = std::min(m.medianUs, s.medianUs);
    ++m.passes;
  }
  return merged;
}

} // namespace quilt::tune
