//===- Manifest.cpp - Launch manifests of the NVPTX backend -----*- C++ -*-===//
//
// This file implements a minimal JSON parser (objects, arrays, strings,
// numbers, true/false/null; errors point at line and column) and the
// validation of schema-1 launch manifests. Every error names the field and
// the buffer or launch it belongs to, since manifests are written by a
// compiler under development and read by people debugging it.
//
//===----------------------------------------------------------------------===//

#include "Manifest.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <set>

using namespace quilt_cuda_run;

//===----------------------------------------------------------------------===//
// JSON parser
//===----------------------------------------------------------------------===//

const JsonValue *JsonValue::find(const std::string &key) const {
  auto it = object.find(key);
  return it == object.end() ? nullptr : &it->second;
}

namespace {

class JsonParser {
public:
  explicit JsonParser(const std::string &text) : text(text) {}

  bool parseDocument(JsonValue &value) {
    if (!parseValue(value, /*depth=*/0))
      return false;
    skipSpace();
    if (pos != text.size())
      return fail("expected the end of the document, " + found());
    return true;
  }

  std::string error;

private:
  /// "found 'x'" (or the end) at the current position.
  std::string found() {
    skipSpace();
    if (pos >= text.size())
      return "found the end of the document";
    return std::string("found '") + text[pos] + "'";
  }

  bool fail(const std::string &message) {
    unsigned line = 1, column = 1;
    for (size_t i = 0; i < pos && i < text.size(); ++i) {
      if (text[i] == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
    }
    error = "line " + std::to_string(line) + ", column " +
            std::to_string(column) + ": " + message;
    return false;
  }

  void skipSpace() {
    while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\t' ||
                                 text[pos] == '\n' || text[pos] == '\r'))
      ++pos;
  }

  bool consume(char c) {
    skipSpace();
    if (pos < text.size() && text[pos] == c) {
      ++pos;
      return true;
    }
    return false;
  }

  bool parseValue(JsonValue &value, unsigned depth) {
    // Manifests are shallow; the bound keeps hostile input from
    // overflowing the stack.
    if (depth > 64)
      return fail("nesting too deep");
    skipSpace();
    if (pos >= text.size())
      return fail("expected a value, found the end of the document");
    char c = text[pos];
    if (c == '{')
      return parseObject(value, depth);
    if (c == '[')
      return parseArray(value, depth);
    if (c == '"') {
      value.kind = JsonValue::Kind::String;
      return parseString(value.string);
    }
    if (c == '-' || (c >= '0' && c <= '9'))
      return parseNumber(value);
    for (const char *word : {"true", "false", "null"}) {
      size_t n = std::char_traits<char>::length(word);
      if (text.compare(pos, n, word) == 0) {
        pos += n;
        value.kind =
            word[0] == 'n' ? JsonValue::Kind::Null : JsonValue::Kind::Bool;
        value.boolean = word[0] == 't';
        return true;
      }
    }
    return fail(std::string("expected a value, found '") + c + "'");
  }

  bool parseObject(JsonValue &value, unsigned depth) {
    value.kind = JsonValue::Kind::Object;
    ++pos; // '{'
    if (consume('}'))
      return true;
    do {
      skipSpace();
      if (pos >= text.size() || text[pos] != '"')
        return fail("expected a string key, " + found());
      size_t keyPos = pos;
      std::string key;
      if (!parseString(key))
        return false;
      if (!consume(':'))
        return fail("expected ':' after key \"" + key + "\", " + found());
      JsonValue member;
      if (!parseValue(member, depth + 1))
        return false;
      if (!value.object.emplace(key, std::move(member)).second) {
        pos = keyPos;
        return fail("duplicate key \"" + key + "\"");
      }
    } while (consume(','));
    if (!consume('}'))
      return fail("expected ',' or '}' in object, " + found());
    return true;
  }

  bool parseArray(JsonValue &value, unsigned depth) {
    value.kind = JsonValue::Kind::Array;
    ++pos; // '['
    if (consume(']'))
      return true;
    do {
      value.array.emplace_back();
      if (!parseValue(value.array.back(), depth + 1))
        return false;
    } while (consume(','));
    if (!consume(']'))
      return fail("expected ',' or ']' in array, " + found());
    return true;
  }

  bool parseString(std::string &out) {
    ++pos; // '"'
    while (pos < text.size() && text[pos] != '"') {
      char c = text[pos++];
      if (uint8_t(c) < 0x20)
        return --pos, fail("control character in string");
      if (c != '\\') {
        out += c;
        continue;
      }
      if (pos >= text.size())
        break;
      char escape = text[pos++];
      switch (escape) {
      case '"':
      case '\\':
      case '/':
        out += escape;
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'u': {
        // Names in manifests are ASCII; other code points are kept as
        // UTF-8 without surrogate pairing.
        if (pos + 4 > text.size())
          return fail("truncated \\u escape");
        unsigned code = 0;
        for (int i = 0; i < 4; ++i) {
          char h = text[pos++];
          code <<= 4;
          if (h >= '0' && h <= '9')
            code |= unsigned(h - '0');
          else if (h >= 'a' && h <= 'f')
            code |= unsigned(h - 'a' + 10);
          else if (h >= 'A' && h <= 'F')
            code |= unsigned(h - 'A' + 10);
          else
            return --pos, fail("bad hex digit in \\u escape");
        }
        if (code < 0x80) {
          out += char(code);
        } else if (code < 0x800) {
          out += char(0xc0 | (code >> 6));
          out += char(0x80 | (code & 0x3f));
        } else {
          out += char(0xe0 | (code >> 12));
          out += char(0x80 | ((code >> 6) & 0x3f));
          out += char(0x80 | (code & 0x3f));
        }
        break;
      }
      default:
        return --pos, fail(std::string("bad escape '\\") + escape + "'");
      }
    }
    if (pos >= text.size())
      return fail("unterminated string");
    ++pos; // '"'
    return true;
  }

  bool parseNumber(JsonValue &value) {
    size_t start = pos;
    if (text[pos] == '-')
      ++pos;
    auto digits = [&] {
      size_t first = pos;
      while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9')
        ++pos;
      return pos > first;
    };
    if (!digits())
      return fail("expected digits");
    if (pos < text.size() && text[pos] == '.') {
      ++pos;
      if (!digits())
        return fail("expected digits after '.'");
    }
    if (pos < text.size() && (text[pos] == 'e' || text[pos] == 'E')) {
      ++pos;
      if (pos < text.size() && (text[pos] == '+' || text[pos] == '-'))
        ++pos;
      if (!digits())
        return fail("expected exponent digits");
    }
    value.kind = JsonValue::Kind::Number;
    value.number =
        std::strtod(text.substr(start, pos - start).c_str(), nullptr);
    return true;
  }

  const std::string &text;
  size_t pos = 0;
};

} // namespace

bool quilt_cuda_run::parseJson(const std::string &text, JsonValue &value,
                               std::string &error) {
  JsonParser parser(text);
  if (parser.parseDocument(value))
    return true;
  error = parser.error;
  return false;
}

//===----------------------------------------------------------------------===//
// Manifest validation
//===----------------------------------------------------------------------===//

std::vector<const BufferSpec *>
Manifest::getBuffers(BufferSpec::Kind kind) const {
  std::vector<const BufferSpec *> result;
  for (const BufferSpec &buffer : buffers)
    if (buffer.kind == kind)
      result.push_back(&buffer);
  std::sort(result.begin(), result.end(),
            [](const BufferSpec *a, const BufferSpec *b) {
              return a->index < b->index;
            });
  return result;
}

namespace {

/// Reads the fields of one JSON object; `where` prefixes every error
/// ("buffer #2 ('tmp0'): ").
class FieldReader {
public:
  FieldReader(const JsonValue &object, std::string where, std::string &error)
      : object(object), where(std::move(where)), error(error) {}

  bool fail(const std::string &message) {
    error = where + message;
    return false;
  }

  /// The field, or null (and an error when `required`).
  const JsonValue *get(const std::string &key, JsonValue::Kind kind,
                       const char *kindName, bool required) {
    const JsonValue *value = object.find(key);
    if (!value) {
      if (required)
        fail("missing field '" + key + "'");
      return nullptr;
    }
    if (value->kind != kind) {
      fail("field '" + key + "' must be " + kindName);
      return nullptr;
    }
    return value;
  }

  bool getString(const std::string &key, std::string &out,
                 bool required = true) {
    const JsonValue *value =
        get(key, JsonValue::Kind::String, "a string", required);
    if (value)
      out = value->string;
    return value || (!required && !object.find(key));
  }

  /// An integer in [minValue, maxValue]; absent optional fields keep `out`.
  bool getInteger(const std::string &key, int64_t &out, int64_t minValue,
                  int64_t maxValue, bool required = true) {
    const JsonValue *value =
        get(key, JsonValue::Kind::Number, "an integer", required);
    if (!value)
      return !required && !object.find(key);
    if (!isInteger(*value, minValue, maxValue))
      return fail("field '" + key + "' must be an integer in [" +
                  std::to_string(minValue) + ", " + std::to_string(maxValue) +
                  "], got " + formatNumber(value->number));
    out = int64_t(value->number);
    return true;
  }

  /// A non-negative number (FLOP and byte counts may exceed 2^53).
  bool getCount(const std::string &key, double &out) {
    const JsonValue *value =
        get(key, JsonValue::Kind::Number, "a number", /*required=*/false);
    if (!value)
      return !object.find(key);
    if (!(value->number >= 0))
      return fail("field '" + key + "' must not be negative");
    out = value->number;
    return true;
  }

  bool getDType(const std::string &key, DType &out) {
    std::string name;
    if (!getString(key, name))
      return false;
    std::optional<DType> parsed = parseDTypeName(name);
    if (!parsed)
      return fail("field '" + key +
                  "' must be one of f32, f16, bf16, i8, u8, i32, got \"" +
                  name + "\"");
    out = *parsed;
    return true;
  }

  bool getIntegerArray(const std::string &key, std::vector<int64_t> &out,
                       int64_t minValue, int64_t maxValue) {
    const JsonValue *value =
        get(key, JsonValue::Kind::Array, "an array of integers", true);
    if (!value)
      return false;
    out.clear();
    for (const JsonValue &element : value->array) {
      if (!isInteger(element, minValue, maxValue))
        return fail("field '" + key + "' must hold integers in [" +
                    std::to_string(minValue) + ", " + std::to_string(maxValue) +
                    "]");
      out.push_back(int64_t(element.number));
    }
    return true;
  }

  /// [x, y, z] of positive integers; an absent optional field keeps `out`.
  bool getDim3(const std::string &key, std::array<unsigned, 3> &out,
               bool required = true) {
    if (!required && !object.find(key))
      return true;
    std::vector<int64_t> values;
    if (!getIntegerArray(key, values, 1, 0x7fffffff))
      return false;
    if (values.size() != 3)
      return fail("field '" + key + "' must have 3 elements [x, y, z], has " +
                  std::to_string(values.size()));
    for (int i = 0; i < 3; ++i)
      out[i] = unsigned(values[i]);
    return true;
  }

private:
  static bool isInteger(const JsonValue &value, int64_t minValue,
                        int64_t maxValue) {
    return value.kind == JsonValue::Kind::Number &&
           value.number == std::floor(value.number) &&
           value.number >= double(minValue) && value.number <= double(maxValue);
  }

  const JsonValue &object;
  std::string where;
  std::string &error;
};

constexpr int64_t kMaxIndex = 1 << 20;
constexpr int64_t kMaxBytes = int64_t(1) << 46;

/// The fields of a "tensor_map" buffer but "of", which names another buffer
/// (returned in `of`, resolved once all buffers are known).
bool parseTensorMap(FieldReader &named, TensorMapSpec &map, std::string &of) {
  std::vector<int64_t> dims, box;
  if (!named.getString("of", of) || !named.getDType("dtype", map.dtype) ||
      !named.getIntegerArray("dims", dims, 1, kMaxBytes) ||
      !named.getIntegerArray("box", box, 1, 256) ||
      !named.getInteger("swizzle", map.swizzle, 0, 128))
    return false;
  if (dims.size() != 2 || box.size() != 2)
    return named.fail("fields 'dims' and 'box' must have 2 elements "
                      "(innermost first)");
  std::copy(dims.begin(), dims.end(), map.dims.begin());
  std::copy(box.begin(), box.end(), map.box.begin());
  if (map.swizzle != 0 && map.swizzle != 32 && map.swizzle != 64 &&
      map.swizzle != 128)
    return named.fail("field 'swizzle' must be 0, 32, 64 or 128");
  int64_t size = getDTypeSize(map.dtype);
  // cuTensorMapEncodeTiled's rules, checked here to name the field.
  if (map.dims[0] * size % 16)
    return named.fail("a row of 'dims' must be a multiple of 16 bytes");
  if (map.box[0] * size % 16 ||
      (map.swizzle && map.box[0] * size > map.swizzle))
    return named.fail("the box's inner extent must be a multiple of 16 "
                      "bytes, and at most the swizzle span");
  return true;
}

bool parseBuffer(const JsonValue &json, size_t number, BufferSpec &buffer,
                 std::string &tensorMapOf, std::string &error) {
  std::string where = "buffer #" + std::to_string(number) + ": ";
  if (json.kind != JsonValue::Kind::Object) {
    error = where + "must be an object";
    return false;
  }
  FieldReader fields(json, where, error);
  if (!fields.getString("name", buffer.name))
    return false;
  FieldReader named(
      json, "buffer #" + std::to_string(number) + " ('" + buffer.name + "'): ",
      error);
  std::string kind;
  if (!named.getString("kind", kind))
    return false;
  if (kind == "temp") {
    buffer.kind = BufferSpec::Kind::Temp;
    return named.getInteger("bytes", buffer.bytes, 0, kMaxBytes);
  }
  if (kind == "tensor_map") {
    buffer.kind = BufferSpec::Kind::TensorMap;
    buffer.bytes = kTensorMapBytes;
    return parseTensorMap(named, buffer.tensorMap, tensorMapOf);
  }
  if (kind != "input" && kind != "output")
    return named.fail("field 'kind' must be \"input\", \"output\", "
                      "\"temp\" or \"tensor_map\", got \"" +
                      kind + "\"");
  buffer.kind =
      kind == "input" ? BufferSpec::Kind::Input : BufferSpec::Kind::Output;
  if (!named.getInteger("index", buffer.index, 0, kMaxIndex) ||
      !named.getDType("dtype", buffer.dtype))
    return false;
  if (!named.getIntegerArray("shape", buffer.shape, 0, kMaxBytes))
    return false;
  std::optional<int64_t> elements = getNumElements(buffer.shape);
  if (!elements || *elements > kMaxBytes / getDTypeSize(buffer.dtype))
    return named.fail("shape " + formatShape(buffer.shape) + " is too large");
  buffer.bytes = *elements * getDTypeSize(buffer.dtype);
  return true;
}

bool parseLaunch(const JsonValue &json, size_t number,
                 const std::map<std::string, size_t> &bufferIndex,
                 LaunchSpec &launch, std::string &error) {
  std::string where = "launch #" + std::to_string(number) + ": ";
  if (json.kind != JsonValue::Kind::Object) {
    error = where + "must be an object";
    return false;
  }
  FieldReader fields(json, where, error);
  if (!fields.getString("kernel", launch.kernel))
    return false;
  FieldReader named(json,
                    "launch #" + std::to_string(number) + " ('" +
                        launch.kernel + "'): ",
                    error);
  std::string phase;
  if (!named.getString("phase", phase))
    return false;
  if (phase != "setup" && phase != "run")
    return named.fail("field 'phase' must be \"setup\" or \"run\", got \"" +
                      phase + "\"");
  launch.isSetup = phase == "setup";
  int64_t shared = 0;
  if (!named.getDim3("grid", launch.grid) ||
      !named.getDim3("block", launch.block) ||
      !named.getDim3("cluster", launch.cluster, /*required=*/false) ||
      !named.getInteger("shared_bytes", shared, 0, 0x7fffffff,
                        /*required=*/false) ||
      !named.getCount("flops", launch.flops) ||
      !named.getCount("bytes", launch.bytes))
    return false;
  launch.sharedBytes = unsigned(shared);
  for (int i = 0; i < 3; ++i)
    if (launch.grid[i] % launch.cluster[i])
      return named.fail("field 'cluster' must divide the grid in every "
                        "dimension");
  if (launch.cluster[0] * launch.cluster[1] * launch.cluster[2] > 8)
    return named.fail("field 'cluster' may hold at most 8 CTAs (the portable "
                      "cluster size)");
  const JsonValue *args =
      named.get("args", JsonValue::Kind::Array, "an array of buffer names",
                /*required=*/true);
  if (!args)
    return false;
  for (const JsonValue &arg : args->array) {
    if (arg.kind != JsonValue::Kind::String)
      return named.fail("field 'args' must hold buffer names (strings)");
    auto it = bufferIndex.find(arg.string);
    if (it == bufferIndex.end())
      return named.fail("field 'args' names unknown buffer '" + arg.string +
                        "'");
    launch.args.push_back(it->second);
  }
  return true;
}

} // namespace

bool quilt_cuda_run::parseManifest(const std::string &text, Manifest &manifest,
                                   std::string &error) {
  JsonValue root;
  if (!parseJson(text, root, error)) {
    error = "invalid JSON: " + error;
    return false;
  }
  if (root.kind != JsonValue::Kind::Object) {
    error = "the manifest must be a JSON object";
    return false;
  }
  FieldReader fields(root, "", error);
  int64_t schema = 0;
  if (!fields.getInteger("schema", schema, 0, 1 << 30))
    return false;
  if (schema != kManifestSchema)
    return fields.fail("unsupported manifest schema " + std::to_string(schema) +
                       " (quilt-cuda-run reads " + "schema " +
                       std::to_string(kManifestSchema) + ")");
  if (!fields.getString("entry", manifest.entry) ||
      !fields.getString("ptx", manifest.ptx, /*required=*/false) ||
      !fields.getString("chip", manifest.chip, /*required=*/false))
    return false;

  const JsonValue *buffers =
      fields.get("buffers", JsonValue::Kind::Array, "an array", true);
  if (!buffers)
    return false;
  std::map<std::string, size_t> bufferIndex;
  std::set<std::pair<int, int64_t>> indices;
  std::vector<std::pair<size_t, std::string>> tensorMaps;
  for (size_t i = 0; i < buffers->array.size(); ++i) {
    BufferSpec buffer;
    std::string of;
    if (!parseBuffer(buffers->array[i], i, buffer, of, error))
      return false;
    if (buffer.kind == BufferSpec::Kind::TensorMap)
      tensorMaps.emplace_back(i, of);
    std::string where =
        "buffer #" + std::to_string(i) + " ('" + buffer.name + "'): ";
    if (!bufferIndex.emplace(buffer.name, i).second)
      return fields.fail(where + "duplicate name");
    bool indexed = buffer.kind == BufferSpec::Kind::Input ||
                   buffer.kind == BufferSpec::Kind::Output;
    if (indexed && !indices.emplace(int(buffer.kind), buffer.index).second)
      return fields.fail(
          where + "another " +
          (buffer.kind == BufferSpec::Kind::Input ? "input" : "output") +
          " has index " + std::to_string(buffer.index));
    manifest.buffers.push_back(std::move(buffer));
  }
  if (manifest.getBuffers(BufferSpec::Kind::Output).empty())
    return fields.fail("field 'buffers' has no output buffer");
  for (auto &[index, of] : tensorMaps) {
    BufferSpec &buffer = manifest.buffers[index];
    std::string where =
        "buffer #" + std::to_string(index) + " ('" + buffer.name + "'): ";
    auto it = bufferIndex.find(of);
    if (it == bufferIndex.end() ||
        manifest.buffers[it->second].kind == BufferSpec::Kind::TensorMap)
      return fields.fail(where + "field 'of' must name a data buffer, got '" +
                         of + "'");
    TensorMapSpec &map = buffer.tensorMap;
    map.of = it->second;
    // Rows are at most 2^48 bytes (dims < 2^46): no product overflows.
    int64_t have = manifest.buffers[map.of].bytes;
    int64_t rowBytes = map.dims[0] * getDTypeSize(map.dtype);
    if (rowBytes > have || map.dims[1] > have / rowBytes)
      return fields.fail(
          where + "its dims " + std::to_string(map.dims[0]) + " x " +
          std::to_string(map.dims[1]) + " (innermost first) exceed the " +
          std::to_string(have) + " bytes of buffer '" + of + "'");
  }

  const JsonValue *launches =
      fields.get("launches", JsonValue::Kind::Array, "an array", true);
  if (!launches)
    return false;
  for (size_t i = 0; i < launches->array.size(); ++i) {
    LaunchSpec launch;
    if (!parseLaunch(launches->array[i], i, bufferIndex, launch, error))
      return false;
    manifest.launches.push_back(std::move(launch));
  }
  return true;
}
