// SPDX-License-Identifier: MIT
// .npy reader/writer: magic and version check, Python-dict header parsing, size validation.
#include "latdyn/data/npy.hpp"

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>

#include "latdyn/core/error.hpp"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "npy.cpp assumes a little-endian host"
#endif

namespace latdyn::data {
namespace {

constexpr char kMagic[] = "\x93NUMPY";  // 6 bytes, then major and minor version bytes
constexpr size_t kMagicLen = 6;
constexpr const char* kExpected = "expected descr '<f4', '<f8', '<i4', '<i8' or '|u1' with fortran_order False";

struct Header {
  std::string descr;
  bool fortran_order = false;
  std::vector<int64_t> shape;
};

const char* descr_of(Dtype d) {
  switch (d) {
    case Dtype::kFloat32: return "<f4";
    case Dtype::kFloat64: return "<f8";
    case Dtype::kInt32: return "<i4";
    case Dtype::kInt64: return "<i8";
    case Dtype::kUInt8: return "|u1";
  }
  return "";
}

bool dtype_of(const std::string& descr, Dtype* out) {
  for (Dtype d : {Dtype::kFloat32, Dtype::kFloat64, Dtype::kInt32, Dtype::kInt64, Dtype::kUInt8}) {
    if (descr == descr_of(d) || (d == Dtype::kUInt8 && descr == "<u1")) {
      *out = d;
      return true;
    }
  }
  return false;
}

DataError malformed(const std::string& path, const std::string& what) {
  return DataError(concat("'", path, "' has a malformed .npy header: ", what), "re-save it with numpy.save");
}

/// Position of the value of 'key' in the header dict literal.
size_t value_pos(const std::string& h, const std::string& key, const std::string& path) {
  for (const char* q : {"'", "\""}) {
    size_t i = h.find(q + key + q);
    if (i == std::string::npos) continue;
    i = h.find(':', i + key.size() + 2);
    if (i != std::string::npos) return std::min(h.find_first_not_of(" \t", i + 1), h.size());
  }
  throw malformed(path, concat("no '", key, "' key in ", h));
}

Header parse_header(const std::string& h, const std::string& path) {
  Header out;
  size_t i = value_pos(h, "descr", path);
  const char q = h[i];
  if (q == '\'' || q == '"') {
    const size_t end = h.find(q, i + 1);
    if (end == std::string::npos) throw malformed(path, "unterminated descr string");
    out.descr = h.substr(i + 1, end - i - 1);
  } else {
    out.descr = h.substr(i, std::min<size_t>(40, h.find('}', i) - i));  // structured dtype (a list)
  }
  i = value_pos(h, "fortran_order", path);
  if (h.compare(i, 4, "True") == 0) out.fortran_order = true;
  else if (h.compare(i, 5, "False") != 0) throw malformed(path, "fortran_order is neither True nor False");
  i = value_pos(h, "shape", path);
  if (h[i] != '(') throw malformed(path, "shape is not a tuple");
  for (++i;;) {
    i = h.find_first_not_of(" \t,", i);
    if (i == std::string::npos) throw malformed(path, "unterminated shape tuple");
    if (h[i] == ')') break;
    char* end = nullptr;
    const long long d = std::strtoll(h.c_str() + i, &end, 10);
    if (end == h.c_str() + i || d < 0) throw malformed(path, "shape holds a non-integer or negative entry");
    out.shape.push_back(d);
    i = static_cast<size_t>(end - h.c_str());
    if (h[i] == 'L') ++i;  // Python 2 long suffix
  }
  return out;
}

/// Hint on how to re-save an array whose descr is not supported.
std::string descr_hint(const std::string& descr) {
  if (!descr.empty() && descr[0] == '>') return "re-save as little-endian: np.save(path, a.astype(a.dtype.newbyteorder('<')))";
  if (descr.find('O') != std::string::npos) return "object arrays are not supported; save a numeric array";
  return "convert before saving, e.g. np.save(path, a.astype(np.float32)) (or int32, int64, uint8)";
}

}  // namespace

Array read_npy(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    throw DataError(concat("cannot open .npy file '", path, "': no such file"), "check the path");
  const auto file_size = static_cast<int64_t>(std::filesystem::file_size(path, ec));
  std::ifstream f(path, std::ios::binary);
  if (!f || ec) throw DataError(concat("cannot read .npy file '", path, "'"), "check the file permissions");
  char pre[8] = {};
  f.read(pre, 8);
  if (f.gcount() < 8 || std::memcmp(pre, kMagic, kMagicLen) != 0)
    throw DataError(concat("'", path, "' is not a .npy file (bad magic, expected \\x93NUMPY)"),
                    "write it with numpy.save (np.savez archives are not supported)");
  const int major = static_cast<unsigned char>(pre[6]);
  if (major < 1 || major > 3)
    throw DataError(concat("'", path, "' has unsupported .npy format version ", major, ".",
                        static_cast<int>(static_cast<unsigned char>(pre[7])), "; expected 1.0, 2.0 or 3.0"),
                    "re-save it with numpy.save");
  unsigned char len_bytes[4] = {};
  const int n_len = major == 1 ? 2 : 4;
  f.read(reinterpret_cast<char*>(len_bytes), n_len);
  size_t header_len = 0;
  for (int k = n_len - 1; k >= 0; --k) header_len = header_len * 256 + len_bytes[k];
  const int64_t data_offset = 8 + n_len + static_cast<int64_t>(header_len);
  if (!f || data_offset > file_size)
    throw DataError(concat("'", path, "' is truncated: the .npy header needs ", data_offset, " bytes, file has ", file_size),
                    "regenerate the file or check the copy");
  std::string h(header_len, '\0');
  f.read(&h[0], static_cast<std::streamsize>(header_len));
  const Header hd = parse_header(h, path);

  Array a;
  if (!dtype_of(hd.descr, &a.dtype))
    throw DataError(concat("'", path, "' has unsupported descr '", hd.descr, "'; ", kExpected), descr_hint(hd.descr));
  if (hd.fortran_order)
    throw DataError(concat("'", path, "' has fortran_order True; ", kExpected),
                    "re-save in C order: np.save(path, np.ascontiguousarray(a))");
  a.shape = hd.shape;
  int64_t numel = 1;
  for (int64_t d : a.shape) {
    if (d != 0 && numel > std::numeric_limits<int64_t>::max() / 16 / d)
      throw malformed(path, concat("shape ", a.shape_str(), " is too large"));
    numel *= d;
  }
  const int64_t expected = numel * static_cast<int64_t>(dtype_size(a.dtype));
  const int64_t actual = file_size - data_offset;
  if (actual != expected)
    throw DataError(concat("'", path, "' is ", actual < expected ? "truncated" : "corrupt", ": header says shape ",
                        a.shape_str(), " of ", dtype_name(a.dtype), " = ", expected, " bytes of data, file has ", actual),
                    "regenerate the file or check the copy");
  a.bytes.resize(static_cast<size_t>(expected));
  f.read(reinterpret_cast<char*>(a.bytes.data()), static_cast<std::streamsize>(expected));
  if (!f) throw DataError(concat("cannot read the data of '", path, "'"), "check the file");
  return a;
}

void write_npy(const std::string& path, const Array& a) {
  bool bad_dim = false;
  for (int64_t d : a.shape) bad_dim |= d < 0;
  if (bad_dim || a.bytes.size() != static_cast<size_t>(a.numel()) * dtype_size(a.dtype))
    throw DataError(concat("array for '", path, "' has ", a.bytes.size(), " bytes, which does not match shape ",
                        a.shape_str(), " of ", dtype_name(a.dtype)));
  std::string shape = "(";
  for (size_t i = 0; i < a.shape.size(); ++i) shape += (i ? ", " : "") + std::to_string(a.shape[i]);
  shape += a.shape.size() == 1 ? ",)" : ")";
  std::string h = concat("{'descr': '", descr_of(a.dtype), "', 'fortran_order': False, 'shape': ", shape, ", }");
  // Pad with spaces and end in '\n' so the data starts on a 64-byte boundary (as numpy does).
  const size_t pre = h.size() + 11 > 65535 ? 12 : 10;
  h.append((64 - (pre + h.size() + 1) % 64) % 64, ' ');
  h += '\n';
  std::string head(kMagic, kMagicLen);
  head += pre == 10 ? '\x01' : '\x02';
  head += '\0';
  for (size_t k = 0, n = h.size(); k < pre - 8; ++k, n >>= 8) head += static_cast<char>(n & 0xff);
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(head.data(), static_cast<std::streamsize>(head.size()));
  f.write(h.data(), static_cast<std::streamsize>(h.size()));
  f.write(reinterpret_cast<const char*>(a.bytes.data()), static_cast<std::streamsize>(a.bytes.size()));
  f.close();
  if (!f) throw IoError(concat("cannot write .npy file '", path, "'"), "check that the directory exists and is writable");
}

}  // namespace latdyn::data
