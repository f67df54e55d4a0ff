//===- Npy.cpp - Read and write numpy .npy files ----------------*- C++ -*-===//
//
// This file implements readNpy and writeNpy: the `.npy` format (versions 1,
// 2 and 3: magic, version, little-endian header length, a Python dict
// literal, then the raw C-order data), restricted to the little-endian
// element types Quilt entries take.
//
//===----------------------------------------------------------------------===//

#include "quilt/Runtime/JitRunner.h"

#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include <cstring>
#include <sys/mman.h>
#include <unistd.h>

using namespace mlir::quilt::runtime;

namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicSize = 6;

llvm::Error npyError(llvm::StringRef path, const llvm::Twine &message) {
  return llvm::createStringError("'" + path + "': " + message);
}

/// The value text after `'key':` in the header dict, up to the next
/// top-level comma or closing brace; empty when the key is absent.
llvm::StringRef findValue(llvm::StringRef header, llvm::StringRef key) {
  std::string quoted = ("'" + key + "'").str();
  size_t pos = header.find(quoted);
  if (pos == llvm::StringRef::npos)
    return {};
  llvm::StringRef rest = header.drop_front(pos + quoted.size()).ltrim();
  if (!rest.consume_front(":"))
    return {};
  rest = rest.ltrim();
  // A tuple value runs to its closing parenthesis.
  if (rest.starts_with("("))
    return rest.take_until([](char c) { return c == ')'; });
  return rest.take_until([](char c) { return c == ',' || c == '}'; }).rtrim();
}

std::optional<ElementKind> parseDescr(llvm::StringRef descr) {
  return llvm::StringSwitch<std::optional<ElementKind>>(descr)
      .Case("<f4", ElementKind::F32)
      .Case("<f2", ElementKind::F16)
      .Case("|i1", ElementKind::I8)
      .Case("<i1", ElementKind::I8)
      .Case("<i4", ElementKind::I32)
      .Case("<i8", ElementKind::I64)
      .Default(std::nullopt);
}

/// Maps the pages of a large mapped file in one call: faulting them in one
/// by one on first use cost more than reading the file (0.7 s for the LLM
/// example's 540 MB on a 2-core VM). Best effort: older kernels lack it.
void prefaultMapping(const char *data, size_t size) {
#ifdef MADV_POPULATE_READ
  if (size < (size_t(1) << 20))
    return;
  size_t page = size_t(sysconf(_SC_PAGESIZE));
  auto start = reinterpret_cast<uintptr_t>(data) / page * page;
  (void)madvise(reinterpret_cast<void *>(start),
                reinterpret_cast<uintptr_t>(data) + size - start,
                MADV_POPULATE_READ);
#endif
}

} // namespace

llvm::Expected<HostArray> mlir::quilt::runtime::readNpy(llvm::StringRef path) {
  // Mapped privately (copy-on-write) where the file is large enough.
  auto fileOrErr = llvm::WritableMemoryBuffer::getFile(path);
  if (!fileOrErr)
    return npyError(path, "cannot read: " + fileOrErr.getError().message());
  std::shared_ptr<llvm::WritableMemoryBuffer> file = std::move(*fileOrErr);
  llvm::StringRef bytes(file->getBufferStart(), file->getBufferSize());

  if (bytes.size() < kMagicSize + 4 ||
      std::memcmp(bytes.data(), kMagic, kMagicSize) != 0)
    return npyError(path, "not a .npy file (bad magic)");
  unsigned major = uint8_t(bytes[kMagicSize]);
  auto byteAt = [&](size_t i) { return uint64_t(uint8_t(bytes[i])); };
  size_t headerLen, headerStart;
  if (major == 1) {
    headerLen = byteAt(8) | byteAt(9) << 8;
    headerStart = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12)
      return npyError(path, "truncated header");
    headerLen =
        byteAt(8) | byteAt(9) << 8 | byteAt(10) << 16 | byteAt(11) << 24;
    headerStart = 12;
  } else {
    return npyError(path, "unsupported .npy version " + llvm::Twine(major));
  }
  if (bytes.size() < headerStart + headerLen)
    return npyError(path, "truncated header");
  llvm::StringRef header = bytes.substr(headerStart, headerLen);

  llvm::StringRef descr = findValue(header, "descr").trim("'\"");
  if (descr.empty())
    return npyError(path, "header has no 'descr'");
  std::optional<ElementKind> kind = parseDescr(descr);
  if (!kind)
    return npyError(path, "unsupported dtype '" + descr +
                              "' (supported: '<f4', '<f2', '|i1', '<i4', "
                              "'<i8', little-endian)");
  llvm::StringRef fortran = findValue(header, "fortran_order");
  if (fortran == "True")
    return npyError(path, "fortran_order arrays are not supported; save a "
                          "C-order array (numpy.ascontiguousarray)");
  if (fortran != "False")
    return npyError(path, "header has no valid 'fortran_order'");

  llvm::StringRef shapeText = findValue(header, "shape");
  if (!shapeText.consume_front("("))
    return npyError(path, "header has no valid 'shape'");
  std::vector<int64_t> shape;
  llvm::SmallVector<llvm::StringRef> dims;
  shapeText.split(dims, ',', /*MaxSplit=*/-1, /*KeepEmpty=*/false);
  for (llvm::StringRef dim : dims) {
    int64_t size;
    if (dim.trim().getAsInteger(10, size) || size < 0)
      return npyError(path, "bad dimension '" + dim.trim() + "' in 'shape'");
    shape.push_back(size);
  }

  size_t elements = 1;
  for (int64_t dim : shape)
    elements *= size_t(dim);
  size_t dataBytes = elements * getElementSize(*kind);
  size_t available = bytes.size() - headerStart - headerLen;
  if (available < dataBytes)
    return npyError(path, llvm::formatv("truncated data: {0} needs {1} bytes, "
                                        "the file has {2}",
                                        describeArray(*kind, shape), dataBytes,
                                        available)
                              .str());
  prefaultMapping(file->getBufferStart(), file->getBufferSize());
  // The array shares the file's ownership.
  return HostArray::view(*kind, std::move(shape),
                         file->getBufferStart() + headerStart + headerLen,
                         std::move(file));
}

llvm::Error mlir::quilt::runtime::writeNpy(llvm::StringRef path,
                                           const HostArray &array) {
  // numpy has no bf16: widen to f32.
  if (array.getKind() == ElementKind::BF16) {
    HostArray wide(ElementKind::F32, array.getShape().vec());
    for (int64_t i = 0, e = array.getNumElements(); i < e; ++i)
      static_cast<float *>(wide.getData())[i] = float(array.getAsDouble(i));
    return writeNpy(path, wide);
  }
  llvm::StringRef descr;
  switch (array.getKind()) {
  case ElementKind::F32:
    descr = "<f4";
    break;
  case ElementKind::F16:
    descr = "<f2";
    break;
  case ElementKind::I8:
    descr = "|i1";
    break;
  case ElementKind::I32:
    descr = "<i4";
    break;
  case ElementKind::I64:
  case ElementKind::BF16:
    descr = "<i8";
    break;
  }

  std::string header =
      ("{'descr': '" + descr + "', 'fortran_order': False, 'shape': (").str();
  llvm::ArrayRef<int64_t> shape = array.getShape();
  for (size_t i = 0; i < shape.size(); ++i)
    header += (i ? ", " : "") + std::to_string(shape[i]);
  if (shape.size() == 1)
    header += ","; // a 1-tuple is "(3,)"
  header += "), }";
  // Pad with spaces so the data starts 64-byte aligned; end with '\n'.
  size_t total = kMagicSize + 4 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';

  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec, llvm::sys::fs::OF_None);
  if (ec)
    return npyError(path, "cannot write: " + ec.message());
  os.write(kMagic, kMagicSize);
  os << char(1) << char(0) << char(header.size() & 0xff)
     << char(header.size() >> 8) << header;
  os.write(static_cast<const char *>(array.getData()),
           size_t(array.getNumElements()) * getElementSize(array.getKind()));
  os.close();
  if (os.has_error())
    return npyError(path, "cannot write: " + os.error().message());
  return llvm::Error::success();
}
