//===- RegisterModel.cpp - Registers and spills of NVPTX kernels ----------===//
//
// Trees over a kernel's tiling predict the registers it would need; above
// what ptxas can give a thread, it spills. Besides the raw tiling, the
// features spell out what dominates the count: accumulators and operand
// fragments per thread and cp.async chunks per thread.
//
//===----------------------------------------------------------------------===//

#include "quilt/CostModel/RegisterModel.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>

using namespace llvm;

namespace mlir::quilt::cost {

static Error bad(const Twine &why) {
  return createStringError(inconvertibleErrorCode(), why);
}

int64_t NVPTXKernelConfig::getThreads() const {
  if (family == NVPTXKernelFamily::Int4)
    return 32 * warpsN * splitK;
  return 32 * warpsM * warpsN + (producerWarpgroup ? 128 : 0);
}

int64_t getRegisterCap(int64_t threads) {
  // A CTA's warps spread over the SM's 4 quarters of 16K registers each,
  // so the fullest quarter decides: 14 warps get 128 (ptxas, .maxntid 448).
  int64_t warpsPerQuarter =
      llvm::divideCeil(std::max<int64_t>(threads, 32), 128);
  int64_t perThread = 16384 / (32 * warpsPerQuarter) / 8 * 8;
  return std::min<int64_t>(255, perThread);
}

int64_t NVPTXKernelConfig::getRegisterCap() const {
  return cost::getRegisterCap(getThreads());
}

int64_t NVPTXKernelConfig::getAccumulatorRegisterCap() const {
  return consumerRegisters ? consumerRegisters : getRegisterCap();
}

StringRef getFamilyName(NVPTXKernelFamily family) {
  switch (family) {
  case NVPTXKernelFamily::Dense:
    return "dense";
  case NVPTXKernelFamily::Sparse24:
    return "sparse24";
  case NVPTXKernelFamily::Int4:
    return "int4";
  case NVPTXKernelFamily::Int8:
    return "int8";
  case NVPTXKernelFamily::Wgmma:
    return "wgmma";
  }
  return "";
}

json::Object NVPTXKernelConfig::toJson() const {
  json::Object o{
      {"family", getFamilyName(family)},
      {"sm", sm},
      {"block", json::Array{blockM, blockN, blockK}},
      {"warps", json::Array{warpsM, warpsN}},
      {"stages", stages},
      {"rows", rows},
      {"tiles_per_warp", tilesPerWarp},
      {"split_k", splitK},
      {"ahead", ahead},
      {"tma", tma},
      {"mbarrier_release", mbarrierRelease},
      {"producer_warpgroup", producerWarpgroup},
      {"bias", bias},
      {"residual", residual},
      {"activation", activation},
      {"output_bits", outputBits},
      {"operand_bits", operandBits},
  };
  // Only where set, so the records of other kernels stay as they were.
  if (persistentCtas)
    o["persistent_ctas"] = persistentCtas;
  if (blocksPerWarp)
    o["blocks_per_warp"] = blocksPerWarp;
  if (clusterM > 1)
    o["cluster_m"] = clusterM;
  if (consumerRegisters)
    o["consumer_registers"] = consumerRegisters;
  if (m) {
    o["problem"] = json::Array{m, n, k};
    o["ctas"] = ctas;
    o["shared_bytes"] = sharedBytes;
  }
  return o;
}

Expected<NVPTXKernelConfig> NVPTXKernelConfig::fromJson(const json::Value &v) {
  const json::Object *o = v.getAsObject();
  if (!o)
    return bad("kernel config is not an object");
  NVPTXKernelConfig c;
  std::optional<StringRef> family = o->getString("family");
  if (family == "dense")
    c.family = NVPTXKernelFamily::Dense;
  else if (family == "sparse24")
    c.family = NVPTXKernelFamily::Sparse24;
  else if (family == "int4")
    c.family = NVPTXKernelFamily::Int4;
  else if (family == "int8")
    c.family = NVPTXKernelFamily::Int8;
  else if (family == "wgmma")
    c.family = NVPTXKernelFamily::Wgmma;
  else
    return bad("kernel config: unknown family");
  auto integer = [&](StringRef key, int64_t &out) {
    if (std::optional<int64_t> i = o->getInteger(key))
      out = *i;
  };
  integer("sm", c.sm);
  integer("stages", c.stages);
  integer("rows", c.rows);
  integer("tiles_per_warp", c.tilesPerWarp);
  integer("split_k", c.splitK);
  integer("ahead", c.ahead);
  integer("activation", c.activation);
  integer("output_bits", c.outputBits);
  integer("persistent_ctas", c.persistentCtas);
  integer("blocks_per_warp", c.blocksPerWarp);
  integer("cluster_m", c.clusterM);
  integer("consumer_registers", c.consumerRegisters);
  integer("ctas", c.ctas);
  integer("shared_bytes", c.sharedBytes);
  if (const json::Array *problem = o->getArray("problem")) {
    if (problem->size() != 3)
      return bad("kernel config: problem is [M, N, K]");
    c.m = (*problem)[0].getAsInteger().value_or(0);
    c.n = (*problem)[1].getAsInteger().value_or(0);
    c.k = (*problem)[2].getAsInteger().value_or(0);
  }
  // Datasets from before operand_bits: the family says it.
  c.operandBits = c.family == NVPTXKernelFamily::Int8   ? 8
                  : c.family == NVPTXKernelFamily::Int4 ? 4
                                                        : 16;
  integer("operand_bits", c.operandBits);
  c.bias = o->getBoolean("bias").value_or(false);
  c.residual = o->getBoolean("residual").value_or(false);
  c.tma = o->getBoolean("tma").value_or(false);
  c.mbarrierRelease = o->getBoolean("mbarrier_release").value_or(false);
  c.producerWarpgroup = o->getBoolean("producer_warpgroup").value_or(false);
  const json::Array *block = o->getArray("block");
  const json::Array *warps = o->getArray("warps");
  if (!block || block->size() != 3 || !warps || warps->size() != 2)
    return bad("kernel config: needs block [M, N, K] and warps [M, N]");
  c.blockM = (*block)[0].getAsInteger().value_or(0);
  c.blockN = (*block)[1].getAsInteger().value_or(0);
  c.blockK = (*block)[2].getAsInteger().value_or(0);
  c.warpsM = (*warps)[0].getAsInteger().value_or(1);
  c.warpsN = (*warps)[1].getAsInteger().value_or(1);
  return c;
}

double getRegisterDemand(const KernelResources &resources, int64_t cap) {
  if (!resources.spills())
    return double(resources.registers);
  // How far over does not matter to the question asked (does it spill?)
  // and would swamp the squared error: clamped just above the cap.
  double over =
      double(resources.registers) +
      double(std::max(resources.stackBytes, resources.spillStoreBytes)) / 4;
  return std::clamp(over, double(cap + 16), double(cap + 64));
}

std::vector<std::string> getRegisterFeatureNames() {
  return {"family_dense",
          "family_sparse24",
          "family_int4",
          "family_wgmma",
          "sm",
          "block_m",
          "block_n",
          "block_k",
          "warps_m",
          "warps_n",
          "stages",
          "threads",
          "warp_tile_m",
          "warp_tile_n",
          "accumulators",
          "a_fragments",
          "b_fragments",
          "copy_chunks",
          "rows",
          "row_halves",
          "tiles_per_warp",
          "split_k",
          "ahead",
          "blocks_per_warp",
          "operand_bits",
          "tma",
          "mbarrier_release",
          "producer_warpgroup",
          "bias",
          "residual",
          "activation",
          "output_bits",
          "register_cap"};
}

std::vector<float> extractRegisterFeatures(const NVPTXKernelConfig &c) {
  bool int4 = c.family == NVPTXKernelFamily::Int4;
  bool wgmma = c.family == NVPTXKernelFamily::Wgmma;
  // K depth in 16-bit units: a 64-deep int8 slice moves the bytes of a
  // 32-deep 16-bit one into as many i32 accumulators.
  double blockK = int4 ? 0 : double(c.blockK) * double(c.operandBits) / 16;
  double threads = double(c.getThreads());
  // A wgmma warp's share of its warpgroup's 64 x N tile is 16 x N: the
  // formulas below then give its N / 2 accumulators per thread.
  double warpTileM = int4 ? 16 : double(c.blockM) / double(c.warpsM);
  double warpTileN =
      int4 ? 16 * double(c.tilesPerWarp) : double(c.blockN) / double(c.warpsN);
  // mma.m16n8: a thread holds 4 accumulators of each 16 x 8 output tile,
  // 4 registers of each 16 x 16 A fragment and 2 of each 16 x 8 B one.
  // wgmma reads both operands from shared memory: no fragments.
  double accumulators = warpTileM * warpTileN / 32;
  double aFragments = wgmma ? 0 : warpTileM / 16 * 4;
  double bFragments = wgmma ? 0 : warpTileN / 8 * 2;
  // TMA: one thread issues a box per operand, no per-thread chunks.
  double copyChunks =
      int4 || c.tma ? 0
                    : double(c.blockM + c.blockN) * blockK * 2 / 16 / threads;
  return {float(c.family == NVPTXKernelFamily::Dense ||
                c.family == NVPTXKernelFamily::Int8),
          float(c.family == NVPTXKernelFamily::Sparse24),
          float(int4),
          float(wgmma),
          float(c.sm),
          float(c.blockM),
          float(c.blockN),
          float(blockK),
          float(c.warpsM),
          float(c.warpsN),
          float(c.stages),
          float(threads),
          float(warpTileM),
          float(warpTileN),
          float(accumulators),
          float(aFragments),
          float(bFragments),
          float(copyChunks),
          float(c.rows),
          float(c.rows > 8 ? 2 : 1),
          float(c.tilesPerWarp),
          float(c.splitK),
          float(c.ahead),
          float(c.blocksPerWarp),
          float(c.operandBits),
          float(c.tma),
          float(c.mbarrierRelease),
          float(c.producerWarpgroup),
          float(c.bias),
          float(c.residual),
          float(c.activation),
          float(c.outputBits),
          float(c.getRegisterCap())};
}

Expected<json::Object> readModelObject(StringRef path, StringRef kind,
                                       int64_t schemaVersion, StringRef model) {
  auto buffer = MemoryBuffer::getFile(path);
  if (!buffer)
    return bad(path + ": " + buffer.getError().message());
  auto value = json::parse((*buffer)->getBuffer());
  if (!value)
    return bad(path + ": corrupt " + model + ": " +
               toString(value.takeError()));
  json::Object *o = value->getAsObject();
  std::optional<int64_t> version =
      o ? o->getInteger("schema_version") : std::nullopt;
  if (!version || o->getString("kind") != kind)
    return bad(path + ": not a " + model + " file");
  if (*version != schemaVersion)
    return bad(formatv("{0}: schema version {1}, this build reads {2}", path,
                       *version, schemaVersion));
  return std::move(*o);
}

Expected<RegisterModelFile> readRegisterModelFile(StringRef path) {
  auto object = readModelObject(path, "nvptx-registers",
                                kRegisterModelSchemaVersion, "register model");
  if (!object)
    return object.takeError();
  const json::Object *o = &*object;
  RegisterModelFile file;
  const json::Array *features = o->getArray("features");
  std::optional<StringRef> booster = o->getString("booster");
  if (!features || !booster)
    return bad(path + ": corrupt register model: needs features and booster");
  for (const json::Value &f : *features)
    file.featureNames.push_back(f.getAsString().value_or("").str());
  file.booster = booster->str();
  if (const json::Object *training = o->getObject("training"))
    file.training = *training;
  return file;
}

Error writeRegisterModelFile(StringRef path, const RegisterModelFile &file) {
  std::error_code ec;
  raw_fd_ostream os(path, ec);
  if (ec)
    return createStringError(ec, "cannot write " + path + ": " + ec.message());
  os << json::Value(json::Object{
            {"kind", "nvptx-registers"},
            {"schema_version", file.schemaVersion},
            {"features", json::Array(file.featureNames)},
            {"training", json::Object(file.training)},
            {"booster", file.booster},
        })
     << "\n";
  return Error::success();
}

std::string getDefaultRegisterModelPath() {
  const char *models = std::getenv("QUILT_MODELS_DIR");
  std::string path = std::string(models ? models : QUILT_MODELS_DIR) +
                     "/nvptx/register-model.json";
  return sys::fs::exists(path) ? path : "";
}

Expected<std::unique_ptr<RegisterModel>> RegisterModel::load(StringRef path) {
  std::string resolved =
      path == "auto" ? getDefaultRegisterModelPath() : path.str();
  if (resolved.empty())
    return bad("no register model under models/nvptx/");
  auto file = readRegisterModelFile(resolved);
  if (!file)
    return file.takeError();
  if (file->featureNames != getRegisterFeatureNames())
    return bad(resolved + ": the model's feature list differs from this "
                          "build's register features");
  auto booster = Booster::load(file->booster);
  if (!booster)
    return booster.takeError();
  return std::unique_ptr<RegisterModel>(new RegisterModel(std::move(*booster)));
}

RegisterEstimate
RegisterModel::estimate(const NVPTXKernelConfig &config) const {
  std::vector<float> row = extractRegisterFeatures(config);
  RegisterEstimate e;
  // The trees predict log2 of the demand.
  e.demand = std::exp2(double(booster->predict(row, row.size())[0]));
  // Spilling is about the threads that hold the accumulators.
  e.cap = config.getAccumulatorRegisterCap();
  e.spills = e.demand > double(e.cap);
  e.registers = std::min<int64_t>(e.cap, int64_t(std::ceil(e.demand)));
  return e;
}

} // namespace mlir::quilt::cost
