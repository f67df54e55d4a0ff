//===- ModelFile.cpp - The learned model's file ---------------------------===//
//
// This file implements reading and writing models/*.json: schema version,
// feature list, target (fingerprint and calibration) and the trees.
//
//===----------------------------------------------------------------------===//

#include "quilt/CostModel/LearnedModel.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

using namespace llvm;

namespace mlir::quilt::cost {

Expected<ModelFile> readModelFile(StringRef path) {
  auto bad = [&](const Twine &why) {
    return createStringError(inconvertibleErrorCode(), path + ": " + why);
  };
  auto buffer = MemoryBuffer::getFile(path);
  if (!buffer)
    return bad(buffer.getError().message());
  auto value = json::parse((*buffer)->getBuffer());
  if (!value)
    return bad("corrupt model file: " + toString(value.takeError()));
  const json::Object *o = value->getAsObject();
  if (!o)
    return bad("corrupt model file: not a JSON object");
  ModelFile file;
  auto version = o->getInteger("schema_version");
  if (!version)
    return bad("corrupt model file: no schema_version");
  if (*version != kModelSchemaVersion)
    return bad(formatv("schema version {0}, this build reads {1}", *version,
                       kModelSchemaVersion));
  file.schemaVersion = *version;
  const json::Array *features = o->getArray("features");
  const json::Value *target = o->get("target");
  auto booster = o->getString("booster");
  auto irTokens = o->getBoolean("ir_tokens");
  if (!features || !target || !booster || !irTokens)
    return bad("corrupt model file: needs features, target, booster and "
               "ir_tokens");
  for (const json::Value &f : *features)
    file.featureNames.push_back(f.getAsString().value_or("").str());
  auto parsedTarget = TargetDescription::fromJson(*target);
  if (!parsedTarget)
    return bad(toString(parsedTarget.takeError()));
  file.target = std::move(*parsedTarget);
  file.booster = booster->str();
  file.irTokens = *irTokens;
  if (const json::Object *training = o->getObject("training"))
    file.training = *training;
  return file;
}

Error writeModelFile(StringRef path, const ModelFile &file) {
  std::error_code ec;
  raw_fd_ostream os(path, ec);
  if (ec)
    return createStringError(ec, "cannot write " + path + ": " + ec.message());
  json::Object o{
      {"schema_version", file.schemaVersion},
      {"fingerprint", file.target.getFingerprint()},
      {"features", json::Array(file.featureNames)},
      {"ir_tokens", file.irTokens},
      {"target", file.target.toJson()},
      {"training", json::Object(file.training)},
      {"booster", file.booster},
  };
  os << json::Value(std::move(o)) << "\n";
  return Error::success();
}

} // namespace mlir::quilt::cost
