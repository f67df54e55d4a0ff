//===- NpyIO.cpp - Read and write .npy files --------------------*- C++ -*-===//
//
// This file implements the .npy reader and writer of quilt-cuda-run: magic,
// version, little-endian header length, a Python dict literal, then the raw
// C-order data. The writer matches quilt-run's byte for byte so that files
// of both tools can be compared with `cmp`.
//
//===----------------------------------------------------------------------===//

#include "NpyIO.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>

using namespace quilt_cuda_run;

namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicSize = 6;

bool npyError(std::string &error, const std::string &path,
              const std::string &message) {
  error = "'" + path + "': " + message;
  return false;
}

std::string trim(const std::string &text, const char *chars = " \t\n") {
  size_t begin = text.find_first_not_of(chars);
  if (begin == std::string::npos)
    return "";
  return text.substr(begin, text.find_last_not_of(chars) - begin + 1);
}

/// The value text after `'key':` in the header dict, up to the next
/// top-level comma or closing brace (a tuple to its closing parenthesis);
/// empty when the key is absent.
std::string findValue(const std::string &header, const std::string &key) {
  std::string quoted = "'" + key + "'";
  size_t pos = header.find(quoted);
  if (pos == std::string::npos)
    return "";
  std::string rest = trim(header.substr(pos + quoted.size()));
  if (rest.empty() || rest[0] != ':')
    return "";
  rest = trim(rest.substr(1));
  if (!rest.empty() && rest[0] == '(')
    return rest.substr(0, rest.find(')'));
  return trim(rest.substr(0, rest.find_first_of(",}")));
}

std::optional<DType> parseDescr(const std::string &descr) {
  if (descr == "<f4")
    return DType::F32;
  if (descr == "<f2")
    return DType::F16;
  if (descr == "|i1" || descr == "<i1")
    return DType::I8;
  if (descr == "|u1" || descr == "<u1")
    return DType::U8;
  if (descr == "<i4")
    return DType::I32;
  return std::nullopt;
}

const char *getDescr(DType dtype) {
  switch (dtype) {
  case DType::F32:
  case DType::BF16: // written widened
    return "<f4";
  case DType::F16:
    return "<f2";
  case DType::I8:
    return "|i1";
  case DType::U8:
    return "|u1";
  case DType::I32:
    return "<i4";
  }
  return "";
}

} // namespace

std::optional<HostBuffer> quilt_cuda_run::readNpy(const std::string &path,
                                                  std::string &error) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    npyError(error, path, "cannot read: " + std::string(std::strerror(errno)));
    return std::nullopt;
  }
  std::string bytes((std::istreambuf_iterator<char>(file)),
                    std::istreambuf_iterator<char>());
  auto fail = [&](const std::string &message) -> std::optional<HostBuffer> {
    npyError(error, path, message);
    return std::nullopt;
  };

  if (bytes.size() < kMagicSize + 4 ||
      std::memcmp(bytes.data(), kMagic, kMagicSize) != 0)
    return fail("not a .npy file (bad magic)");
  unsigned major = uint8_t(bytes[kMagicSize]);
  auto byteAt = [&](size_t i) { return uint64_t(uint8_t(bytes[i])); };
  size_t headerLen, headerStart;
  if (major == 1) {
    headerLen = byteAt(8) | byteAt(9) << 8;
    headerStart = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12)
      return fail("truncated header");
    headerLen =
        byteAt(8) | byteAt(9) << 8 | byteAt(10) << 16 | byteAt(11) << 24;
    headerStart = 12;
  } else {
    return fail("unsupported .npy version " + std::to_string(major));
  }
  if (bytes.size() < headerStart + headerLen)
    return fail("truncated header");
  std::string header = bytes.substr(headerStart, headerLen);

  std::string descr = trim(findValue(header, "descr"), "'\"");
  if (descr.empty())
    return fail("header has no 'descr'");
  std::optional<DType> dtype = parseDescr(descr);
  if (!dtype)
    return fail("unsupported dtype '" + descr +
                "' (supported: '<f4', '<f2', '|i1', '|u1', '<i4', "
                "little-endian)");
  std::string fortran = findValue(header, "fortran_order");
  if (fortran == "True")
    return fail("fortran_order arrays are not supported; save a C-order "
                "array (numpy.ascontiguousarray)");
  if (fortran != "False")
    return fail("header has no valid 'fortran_order'");

  std::string shapeText = findValue(header, "shape");
  if (shapeText.empty() || shapeText[0] != '(')
    return fail("header has no valid 'shape'");
  std::vector<int64_t> shape;
  size_t pos = 1;
  while (pos < shapeText.size()) {
    size_t comma = shapeText.find(',', pos);
    std::string dim = trim(shapeText.substr(pos, comma - pos));
    pos = comma == std::string::npos ? shapeText.size() : comma + 1;
    if (dim.empty())
      continue;
    char *end = nullptr;
    long long size = std::strtoll(dim.c_str(), &end, 10);
    if (*end || size < 0)
      return fail("bad dimension '" + dim + "' in 'shape'");
    shape.push_back(size);
  }
  if (!getNumElements(shape))
    return fail("shape " + formatShape(shape) + " is too large");

  HostBuffer buffer(*dtype, std::move(shape));
  size_t available = bytes.size() - headerStart - headerLen;
  if (available < buffer.getNumBytes())
    return fail("truncated data: " + formatTensorType(*dtype, buffer.shape) +
                " needs " + std::to_string(buffer.getNumBytes()) +
                " bytes, the file has " + std::to_string(available));
  std::memcpy(buffer.bytes.data(), bytes.data() + headerStart + headerLen,
              buffer.getNumBytes());
  return buffer;
}

bool quilt_cuda_run::writeNpy(const std::string &path, const HostBuffer &buffer,
                              std::string &error) {
  // numpy has no bf16: widen to f32, as quilt-run does.
  if (buffer.dtype == DType::BF16) {
    HostBuffer wide(DType::F32, buffer.shape);
    for (int64_t i = 0, e = buffer.getNumElements(); i < e; ++i) {
      float f = float(buffer.getAsDouble(i));
      std::memcpy(wide.bytes.data() + 4 * i, &f, 4);
    }
    return writeNpy(path, wide, error);
  }
  std::string header = std::string("{'descr': '") + getDescr(buffer.dtype) +
                       "', 'fortran_order': False, 'shape': (";
  for (size_t i = 0; i < buffer.shape.size(); ++i)
    header += (i ? ", " : "") + std::to_string(buffer.shape[i]);
  if (buffer.shape.size() == 1)
    header += ","; // a 1-tuple is "(3,)"
  header += "), }";
  // Pad with spaces so the data starts 64-byte aligned; end with '\n'.
  size_t total = kMagicSize + 4 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';

  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  if (!file)
    return npyError(error, path,
                    "cannot write: " + std::string(std::strerror(errno)));
  file.write(kMagic, kMagicSize);
  char preamble[4] = {1, 0, char(header.size() & 0xff),
                      char(header.size() >> 8)};
  file.write(preamble, 4);
  file << header;
  file.write(reinterpret_cast<const char *>(buffer.bytes.data()),
             std::streamsize(buffer.getNumBytes()));
  file.close();
  if (!file)
    return npyError(error, path, "cannot write");
  return true;
}

std::optional<HostBuffer>
quilt_cuda_run::convertForBuffer(const HostBuffer &buffer, DType dtype) {
  if (buffer.dtype == dtype)
    return buffer;
  if (buffer.dtype != DType::F32 || dtype != DType::BF16)
    return std::nullopt;
  HostBuffer narrow(DType::BF16, buffer.shape);
  for (int64_t i = 0, e = buffer.getNumElements(); i < e; ++i) {
    uint16_t h = floatToBf16(float(buffer.getAsDouble(i)));
    std::memcpy(narrow.bytes.data() + 2 * i, &h, 2);
  }
  return narrow;
}
