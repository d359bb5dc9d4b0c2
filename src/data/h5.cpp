// SPDX-License-Identifier: MIT
// H5File on the HDF5 C API: RAII handle guards, path helpers, dataset and attribute I/O.
#include "latdyn/data/h5.hpp"

#include <hdf5.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <limits>
#include <type_traits>
#include <utility>

#include "latdyn/core/error.hpp"

namespace latdyn::data {
namespace {

static_assert(std::is_same<hid_t, int64_t>::value, "H5File stores hid_t as int64_t");

constexpr int64_t kChunkBytes = 64 * 1024;  // rows smaller than this are grouped per chunk
constexpr int64_t kChunk1d = 65536;         // elements per chunk of a 1-D dataset
constexpr size_t kHintNames = 20;           // names listed in a "not found" hint

/// Owns one hid_t and closes it with the matching H5*close on scope exit.
class Handle final {
 public:
  using Closer = herr_t (*)(hid_t);
  Handle(hid_t id, Closer closer) : id_(id), closer_(closer) {}
  Handle(Handle&& o) noexcept : id_(o.id_), closer_(o.closer_) { o.id_ = -1; }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  Handle& operator=(Handle&& o) noexcept {
    std::swap(id_, o.id_);
    std::swap(closer_, o.closer_);
    return *this;
  }
  ~Handle() {
    if (id_ >= 0) closer_(id_);
  }
  hid_t get() const { return id_; }
  bool ok() const { return id_ >= 0; }

 private:
  hid_t id_;
  Closer closer_;
};

/// ": <deepest HDF5 error description>" for the error stack of the last failed call, or "".
std::string h5_reason() {
  std::string reason;
  auto walk = [](unsigned, const H5E_error2_t* e, void* out) -> herr_t {
    if (e->desc && *e->desc) *static_cast<std::string*>(out) = e->desc;
    return 0;
  };
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, walk, &reason);
  std::replace(reason.begin(), reason.end(), '\n', ' ');
  if (reason.size() > 200) reason = reason.substr(0, 200) + "...";
  return reason.empty() ? "" : ": " + reason;
}

/// "/a/b" from "a/b", "/a//b/", ...; "/" for the root.
std::string norm(const std::string& name) {
  std::string out, part;
  for (size_t i = 0; i <= name.size(); ++i) {
    if (i == name.size() || name[i] == '/') {
      if (!part.empty() && part != ".") out += "/" + part;
      part.clear();
    } else {
      part += name[i];
    }
  }
  return out.empty() ? "/" : out;
}

std::string parent_of(const std::string& p) {
  const size_t i = p.rfind('/');
  return i == 0 || i == std::string::npos ? "/" : p.substr(0, i);
}

/// Walks a normalized path link by link so missing intermediates give false, not an error.
bool exists_in(hid_t file, const std::string& p) {
  for (size_t i = 1; i <= p.size(); ++i) {
    if (i == p.size() || p[i] == '/') {
      if (H5Lexists(file, p.substr(0, i).c_str(), H5P_DEFAULT) <= 0) return false;
    }
  }
  return true;
}

H5I_type_t object_kind(hid_t file, const std::string& p) {
  Handle o(H5Oopen(file, p.c_str(), H5P_DEFAULT), H5Oclose);
  return o.ok() ? H5Iget_type(o.get()) : H5I_BADID;
}

/// Sorted link names of a group (empty if it cannot be opened).
std::vector<std::string> children(hid_t file, const std::string& group) {
  std::vector<std::string> names;
  Handle g(H5Gopen2(file, group.c_str(), H5P_DEFAULT), H5Gclose);
  H5G_info_t info;
  if (!g.ok() || H5Gget_info(g.get(), &info) < 0) return names;
  for (hsize_t i = 0; i < info.nlinks; ++i) {
    const ssize_t n = H5Lget_name_by_idx(g.get(), ".", H5_INDEX_NAME, H5_ITER_INC, i, nullptr, 0, H5P_DEFAULT);
    if (n < 0) continue;
    std::string name(static_cast<size_t>(n) + 1, '\0');
    H5Lget_name_by_idx(g.get(), ".", H5_INDEX_NAME, H5_ITER_INC, i, &name[0], name.size(), H5P_DEFAULT);
    name.resize(static_cast<size_t>(n));
    names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::string join_capped(const std::vector<std::string>& names) {
  if (names.empty()) return "(nothing)";
  std::string s;
  for (size_t i = 0; i < names.size() && i < kHintNames; ++i) s += (i ? ", " : "") + names[i];
  if (names.size() > kHintNames) s += concat(", ... (", names.size() - kHintNames, " more)");
  return s;
}

/// Hint for a missing object: what the nearest existing ancestor group holds.
std::string nearest_hint(hid_t file, const std::string& p) {
  std::string q = parent_of(p);
  while (q != "/" && !exists_in(file, q)) q = parent_of(q);
  if (object_kind(file, q) != H5I_GROUP) return concat("'", q, "' is a dataset, not a group");
  return concat("'", q, "' contains: ", join_capped(children(file, q)));
}

/// Opens an existing object of the given kind or throws DataError naming file and path.
Handle open_object(hid_t file, const std::string& fpath, const std::string& p, H5I_type_t kind) {
  const char* what = kind == H5I_DATASET ? "dataset" : kind == H5I_GROUP ? "group" : "object";
  if (!exists_in(file, p)) throw DataError(concat(what, " '", p, "' not found in '", fpath, "'"), nearest_hint(file, p));
  Handle o(H5Oopen(file, p.c_str(), H5P_DEFAULT), H5Oclose);
  if (!o.ok()) throw DataError(concat("cannot open '", p, "' in '", fpath, "'", h5_reason()), "the file may be corrupt");
  if (kind != H5I_BADID && H5Iget_type(o.get()) != kind)
    throw DataError(concat("'", p, "' in '", fpath, "' is not a ", what), nearest_hint(file, p + "/x"));
  return o;
}

/// Human-readable description of an HDF5 type, e.g. "2-byte unsigned integer" or "string".
std::string type_desc(hid_t t) {
  const H5T_class_t cls = H5Tget_class(t);
  const size_t size = H5Tget_size(t);
  switch (cls) {
    case H5T_INTEGER:
      return concat(size, "-byte ", H5Tget_sign(t) == H5T_SGN_NONE ? "unsigned" : "signed", " integer");
    case H5T_FLOAT: return concat(size, "-byte float");
    case H5T_STRING: return "string";
    case H5T_BITFIELD: return "bitfield";
    case H5T_OPAQUE: return "opaque";
    case H5T_COMPOUND: return "compound";
    case H5T_REFERENCE: return "reference";
    case H5T_ENUM: return "enum";
    case H5T_VLEN: return "variable-length";
    case H5T_ARRAY: return "array";
    case H5T_TIME: return "time";
    default: return "unknown";
  }
}

/// Maps a stored type to a Dtype or throws DataError naming the type.
Dtype to_dtype(hid_t t, const std::string& fpath, const std::string& p) {
  const H5T_class_t cls = H5Tget_class(t);
  const size_t size = H5Tget_size(t);
  const bool sign = H5Tget_sign(t) == H5T_SGN_2;
  if (cls == H5T_FLOAT && size == 4) return Dtype::kFloat32;
  if (cls == H5T_FLOAT && size == 8) return Dtype::kFloat64;
  if (cls == H5T_INTEGER && sign && size == 4) return Dtype::kInt32;
  if (cls == H5T_INTEGER && sign && size == 8) return Dtype::kInt64;
  if (cls == H5T_INTEGER && !sign && size == 1) return Dtype::kUInt8;
  throw DataError(concat("dataset '", p, "' in '", fpath, "' has unsupported HDF5 type class ", type_desc(t),
                      "; supported: float32, float64, int32, int64, uint8"),
                  "convert it when writing, e.g. in h5py: f.create_dataset(name, data=a.astype('float32'))");
}

hid_t mem_type(Dtype d) {
  switch (d) {
    case Dtype::kFloat32: return H5T_NATIVE_FLOAT;
    case Dtype::kFloat64: return H5T_NATIVE_DOUBLE;
    case Dtype::kInt32: return H5T_NATIVE_INT32;
    case Dtype::kInt64: return H5T_NATIVE_INT64;
    case Dtype::kUInt8: return H5T_NATIVE_UINT8;
  }
  return H5T_NATIVE_FLOAT;
}

hid_t file_type(Dtype d) {
  switch (d) {
    case Dtype::kFloat32: return H5T_IEEE_F32LE;
    case Dtype::kFloat64: return H5T_IEEE_F64LE;
    case Dtype::kInt32: return H5T_STD_I32LE;
    case Dtype::kInt64: return H5T_STD_I64LE;
    case Dtype::kUInt8: return H5T_STD_U8LE;
  }
  return H5T_IEEE_F32LE;
}

/// Dataset or group creation property list with time tracking off (byte-identical output).
Handle untimed_plist(hid_t cls) {
  Handle pl(H5Pcreate(cls), H5Pclose);
  H5Pset_obj_track_times(pl.get(), 0);
  return pl;
}

struct Rows {
  int64_t first, count;
};

/// Reads a dataset (or a row range of it) converted to `as` (the stored dtype if null).
Array read_dataset(hid_t file, const std::string& fpath, const std::string& name, const Dtype* as,
                   const Rows* rows) {
  const std::string p = norm(name);
  Handle ds = open_object(file, fpath, p, H5I_DATASET);
  Handle type(H5Dget_type(ds.get()), H5Tclose);
  const Dtype stored = to_dtype(type.get(), fpath, p);
  Handle fspace(H5Dget_space(ds.get()), H5Sclose);
  const int rank = H5Sget_simple_extent_ndims(fspace.get());
  std::vector<hsize_t> dims(static_cast<size_t>(std::max(rank, 0)));
  H5Sget_simple_extent_dims(fspace.get(), dims.data(), nullptr);
  Array out;
  out.dtype = as ? *as : stored;
  out.shape.assign(dims.begin(), dims.end());
  hid_t mspace_id = H5S_ALL;
  Handle mspace(-1, H5Sclose);
  if (rows) {
    if (rank < 1) throw DataError(concat("dataset '", p, "' in '", fpath, "' is a scalar; it has no rows to read"));
    const int64_t n = out.shape[0];
    if (rows->first < 0 || rows->count < 0 || rows->first > n - rows->count)
      throw DataError(concat("rows [", rows->first, ", ", rows->first + rows->count, ") are out of range for dataset '",
                          p, "' in '", fpath, "' with ", n, " rows"));
    std::vector<hsize_t> start(dims.size(), 0), count = dims;
    start[0] = static_cast<hsize_t>(rows->first);
    count[0] = static_cast<hsize_t>(rows->count);
    out.shape[0] = rows->count;
    H5Sselect_hyperslab(fspace.get(), H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr);
    mspace = Handle(H5Screate_simple(rank, count.data(), nullptr), H5Sclose);
    mspace_id = mspace.get();
  }
  out.bytes.resize(static_cast<size_t>(out.numel()) * dtype_size(out.dtype));
  if (out.numel() > 0 &&
      H5Dread(ds.get(), mem_type(out.dtype), mspace_id, rows ? fspace.get() : H5S_ALL, H5P_DEFAULT,
              out.bytes.data()) < 0)
    throw DataError(concat("cannot read dataset '", p, "' from '", fpath, "'", h5_reason()),
                    "the file may be truncated or corrupt; regenerate it with `latdyn simulate` or check the copy");
  return out;
}

/// Open scalar attribute with its stored type; DataError if object or key is missing.
struct Attr {
  Handle attr, type;
  std::string where;  // "attribute 'k' on '/o' in 'file'"
};

Attr open_attr(hid_t file, const std::string& fpath, const std::string& obj, const std::string& key) {
  const std::string p = norm(obj);
  Handle o = open_object(file, fpath, p, H5I_BADID);
  std::string where = concat("attribute '", key, "' on '", p, "' in '", fpath, "'");
  if (H5Aexists(o.get(), key.c_str()) <= 0) {
    std::vector<std::string> keys;
    auto collect = [](hid_t, const char* n, const H5A_info_t*, void* out) -> herr_t {
      static_cast<std::vector<std::string>*>(out)->push_back(n);
      return 0;
    };
    H5Aiterate2(o.get(), H5_INDEX_NAME, H5_ITER_INC, nullptr, collect, &keys);
    throw DataError(where + " not found", concat("'", p, "' has attributes: ", join_capped(keys)));
  }
  Handle a(H5Aopen(o.get(), key.c_str(), H5P_DEFAULT), H5Aclose);
  Handle t(H5Aget_type(a.get()), H5Tclose);
  Handle s(H5Aget_space(a.get()), H5Sclose);
  if (!a.ok() || !t.ok() || H5Sget_simple_extent_npoints(s.get()) != 1)
    throw DataError(where + " is not a readable scalar" + h5_reason());
  return Attr{std::move(a), std::move(t), std::move(where)};
}

void read_attr_value(const Attr& a, hid_t mem, void* out) {
  if (H5Aread(a.attr.get(), mem, out) < 0) throw DataError("cannot read " + a.where + h5_reason());
}

DataError attr_type_error(const Attr& a, const char* wanted) {
  return DataError(concat(a.where, " is a ", type_desc(a.type.get()), ", not ", wanted));
}

}  // namespace

H5File::H5File(const std::string& path, Mode mode) : path_(path), mode_(mode) {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  // v1.8 object headers: dense attribute storage (attributes over 64 KiB), readable by HDF5 >= 1.8.
  Handle fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
  H5Pset_libver_bounds(fapl.get(), H5F_LIBVER_V18, H5F_LIBVER_LATEST);
  if (mode == Mode::kCreate) {
    Handle fcpl = untimed_plist(H5P_FILE_CREATE);
    file_ = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, fcpl.get(), fapl.get());
    if (file_ < 0)
      throw IoError(concat("cannot create HDF5 file '", path, "'", h5_reason()),
                    "check that the directory exists and is writable");
    return;
  }
  std::error_code ec;
  if (!std::filesystem::exists(path, ec))
    throw DataError(concat("cannot open dataset file '", path, "': no such file"),
                    "check the path, or generate the data with `latdyn simulate`");
  if (std::filesystem::is_directory(path, ec))
    throw DataError(concat("cannot open dataset file '", path, "': it is a directory"), "pass the path of an .h5 file");
  if (H5Fis_hdf5(path.c_str()) > 0)
    file_ = H5Fopen(path.c_str(), mode == Mode::kRead ? H5F_ACC_RDONLY : H5F_ACC_RDWR, fapl.get());
  if (file_ < 0 && mode == Mode::kReadWrite) {
    const std::string reason = h5_reason();
    if (Handle(H5Fopen(path.c_str(), H5F_ACC_RDONLY, fapl.get()), H5Fclose).ok())
      throw IoError(concat("cannot open HDF5 file '", path, "' for writing", reason),
                    "check the file permissions and that no other H5File holds it open read-only");
  }
  if (file_ < 0)
    throw DataError(concat("'", path, "' is not a readable HDF5 file (maybe truncated or corrupt)", h5_reason()),
                    "regenerate it with `latdyn simulate`, or check the copy (size, checksum)");
}

H5File::~H5File() { close(); }

H5File::H5File(H5File&& other) noexcept : path_(std::move(other.path_)), mode_(other.mode_), file_(other.file_) {
  other.file_ = -1;
}

H5File& H5File::operator=(H5File&& other) noexcept {
  if (this != &other) {
    close();
    path_ = std::move(other.path_);
    mode_ = other.mode_;
    file_ = other.file_;
    other.file_ = -1;
  }
  return *this;
}

void H5File::close() noexcept {
  if (file_ >= 0) H5Fclose(file_);
  file_ = -1;
}

void H5File::require_writable(const std::string& what) const {
  if (file_ < 0) throw IoError(concat("cannot write ", what, ": HDF5 file was moved from or closed"));
  if (mode_ == Mode::kRead)
    throw IoError(concat("cannot write ", what, " to '", path_, "': file is open read-only"),
                  "open it with H5File::Mode::kReadWrite or kCreate");
}

bool H5File::exists(const std::string& name) const { return exists_in(file_, norm(name)); }

std::vector<std::string> H5File::list(const std::string& group) const {
  const std::string p = norm(group);
  open_object(file_, path_, p, H5I_GROUP);
  return children(file_, p);
}

std::vector<int64_t> H5File::shape(const std::string& name) const {
  const std::string p = norm(name);
  Handle ds = open_object(file_, path_, p, H5I_DATASET);
  Handle space(H5Dget_space(ds.get()), H5Sclose);
  std::vector<hsize_t> dims(static_cast<size_t>(std::max(H5Sget_simple_extent_ndims(space.get()), 0)));
  H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
  return std::vector<int64_t>(dims.begin(), dims.end());
}

Dtype H5File::dtype(const std::string& name) const {
  const std::string p = norm(name);
  Handle ds = open_object(file_, path_, p, H5I_DATASET);
  Handle type(H5Dget_type(ds.get()), H5Tclose);
  return to_dtype(type.get(), path_, p);
}

Array H5File::read(const std::string& name) const { return read_dataset(file_, path_, name, nullptr, nullptr); }

Array H5File::read_rows(const std::string& name, int64_t first, int64_t count) const {
  const Rows rows{first, count};
  return read_dataset(file_, path_, name, nullptr, &rows);
}

Array H5File::read_as(const std::string& name, Dtype as) const {
  return read_dataset(file_, path_, name, &as, nullptr);
}

void H5File::write(const std::string& name, const Array& a, int gzip_level) {
  const std::string p = norm(name);
  require_writable(concat("dataset '", p, "'"));
  if (p == "/") throw DataError(concat("cannot write a dataset at the root '/' of '", path_, "'"), "give it a name");
  if (gzip_level < 0 || gzip_level > 9) throw ConfigError(concat("gzip level must be in 0..9, got ", gzip_level));
  const bool bad_dim = std::any_of(a.shape.begin(), a.shape.end(), [](int64_t d) { return d < 0; });
  if (bad_dim || a.bytes.size() != static_cast<size_t>(a.numel()) * dtype_size(a.dtype))
    throw DataError(concat("array for dataset '", p, "' has ", a.bytes.size(), " bytes, but shape ", a.shape_str(),
                        " of ", dtype_name(a.dtype), " needs ", bad_dim ? 0 : a.numel() * int64_t(dtype_size(a.dtype))));
  // Intermediate groups, created one by one so that they too carry no timestamps.
  Handle gcpl = untimed_plist(H5P_GROUP_CREATE);
  for (size_t i = 1; i < p.size(); ++i) {
    if (p[i] != '/') continue;
    const std::string g = p.substr(0, i);
    if (exists_in(file_, g)) {
      if (object_kind(file_, g) != H5I_GROUP)
        throw DataError(concat("cannot write '", p, "' to '", path_, "': '", g, "' is a dataset, not a group"));
    } else if (!Handle(H5Gcreate2(file_, g.c_str(), H5P_DEFAULT, gcpl.get(), H5P_DEFAULT), H5Gclose).ok()) {
      throw IoError(concat("cannot create group '", g, "' in '", path_, "'", h5_reason()));
    }
  }
  if (exists_in(file_, p)) {
    if (object_kind(file_, p) != H5I_DATASET)
      throw DataError(concat("cannot write dataset '", p, "' to '", path_, "': a group of that name exists"));
    if (H5Ldelete(file_, p.c_str(), H5P_DEFAULT) < 0)
      throw IoError(concat("cannot replace dataset '", p, "' in '", path_, "'", h5_reason()));
  }
  const int rank = static_cast<int>(a.shape.size());
  const std::vector<hsize_t> dims(a.shape.begin(), a.shape.end());
  Handle space(rank == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(rank, dims.data(), nullptr), H5Sclose);
  Handle dcpl = untimed_plist(H5P_DATASET_CREATE);
  if (rank > 0 && a.numel() > 0) {
    std::vector<hsize_t> chunk = dims;
    const int64_t row_bytes = a.numel() / a.shape[0] * int64_t(dtype_size(a.dtype));
    chunk[0] = static_cast<hsize_t>(
        rank == 1 ? std::min(a.shape[0], kChunk1d) : std::clamp(kChunkBytes / row_bytes, int64_t{1}, a.shape[0]));
    H5Pset_chunk(dcpl.get(), rank, chunk.data());
    if (gzip_level > 0) {
      H5Pset_shuffle(dcpl.get());
      H5Pset_deflate(dcpl.get(), static_cast<unsigned>(gzip_level));
    }
  }
  Handle ds(H5Dcreate2(file_, p.c_str(), file_type(a.dtype), space.get(), H5P_DEFAULT, dcpl.get(), H5P_DEFAULT),
            H5Dclose);
  if (!ds.ok()) throw IoError(concat("cannot create dataset '", p, "' in '", path_, "'", h5_reason()));
  if (a.numel() > 0 && H5Dwrite(ds.get(), mem_type(a.dtype), H5S_ALL, H5S_ALL, H5P_DEFAULT, a.bytes.data()) < 0)
    throw IoError(concat("cannot write dataset '", p, "' to '", path_, "'", h5_reason()), "check free disk space");
}

void H5File::write_attr(const std::string& obj, const std::string& key, int64_t file_type, int64_t mem_type,
                        const void* value) {
  const std::string p = norm(obj);
  require_writable(concat("attribute '", key, "' on '", p, "'"));
  Handle o = open_object(file_, path_, p, H5I_BADID);
  if (H5Aexists(o.get(), key.c_str()) > 0 && H5Adelete(o.get(), key.c_str()) < 0)
    throw IoError(concat("cannot replace attribute '", key, "' on '", p, "' in '", path_, "'", h5_reason()));
  Handle space(H5Screate(H5S_SCALAR), H5Sclose);
  Handle attr(H5Acreate2(o.get(), key.c_str(), file_type, space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  if (!attr.ok() || H5Awrite(attr.get(), mem_type, value) < 0)
    throw IoError(concat("cannot write attribute '", key, "' on '", p, "' in '", path_, "'", h5_reason()));
}

void H5File::set_attr_string(const std::string& obj, const std::string& key, const std::string& value) {
  // Variable-length UTF-8: h5py returns str (a fixed-length string would come back as numpy.bytes_).
  Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(type.get(), H5T_VARIABLE);
  H5Tset_cset(type.get(), H5T_CSET_UTF8);
  const char* ptr = value.c_str();
  write_attr(obj, key, type.get(), type.get(), &ptr);
}

void H5File::set_attr_int(const std::string& obj, const std::string& key, int64_t value) {
  write_attr(obj, key, H5T_STD_I64LE, H5T_NATIVE_INT64, &value);
}

void H5File::set_attr_uint(const std::string& obj, const std::string& key, uint64_t value) {
  write_attr(obj, key, H5T_STD_U64LE, H5T_NATIVE_UINT64, &value);
}

void H5File::set_attr_double(const std::string& obj, const std::string& key, double value) {
  write_attr(obj, key, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &value);
}

bool H5File::has_attr(const std::string& obj, const std::string& key) const {
  const std::string p = norm(obj);
  if (!exists_in(file_, p)) return false;
  Handle o(H5Oopen(file_, p.c_str(), H5P_DEFAULT), H5Oclose);
  return o.ok() && H5Aexists(o.get(), key.c_str()) > 0;
}

std::string H5File::attr_string(const std::string& obj, const std::string& key) const {
  const Attr a = open_attr(file_, path_, obj, key);
  if (H5Tget_class(a.type.get()) != H5T_STRING) throw attr_type_error(a, "a string");
  if (H5Tis_variable_str(a.type.get()) > 0) {
    Handle mem(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(mem.get(), H5T_VARIABLE);
    H5Tset_cset(mem.get(), H5Tget_cset(a.type.get()));
    char* buf = nullptr;
    read_attr_value(a, mem.get(), &buf);
    std::string s = buf ? buf : "";
    H5free_memory(buf);
    return s;
  }
  const size_t n = H5Tget_size(a.type.get());
  std::string buf(n, '\0');
  read_attr_value(a, a.type.get(), &buf[0]);
  buf.resize(strnlen(buf.data(), n));
  if (H5Tget_strpad(a.type.get()) == H5T_STR_SPACEPAD) buf.erase(buf.find_last_not_of(' ') + 1);
  return buf;
}

int64_t H5File::attr_int(const std::string& obj, const std::string& key) const {
  const Attr a = open_attr(file_, path_, obj, key);
  if (H5Tget_class(a.type.get()) != H5T_INTEGER) throw attr_type_error(a, "an integer");
  if (H5Tget_sign(a.type.get()) == H5T_SGN_NONE && H5Tget_size(a.type.get()) >= 8) {
    uint64_t u = 0;
    read_attr_value(a, H5T_NATIVE_UINT64, &u);
    if (u > uint64_t(std::numeric_limits<int64_t>::max())) throw DataError(concat(a.where, " = ", u, " overflows int64"));
    return int64_t(u);
  }
  int64_t v = 0;
  read_attr_value(a, H5T_NATIVE_INT64, &v);
  return v;
}

uint64_t H5File::attr_uint(const std::string& obj, const std::string& key) const {
  const Attr a = open_attr(file_, path_, obj, key);
  if (H5Tget_class(a.type.get()) != H5T_INTEGER) throw attr_type_error(a, "an integer");
  if (H5Tget_sign(a.type.get()) == H5T_SGN_2) {
    int64_t v = 0;
    read_attr_value(a, H5T_NATIVE_INT64, &v);
    if (v < 0) throw DataError(concat(a.where, " = ", v, " is negative, expected an unsigned integer"));
    return uint64_t(v);
  }
  uint64_t u = 0;
  read_attr_value(a, H5T_NATIVE_UINT64, &u);
  return u;
}

double H5File::attr_double(const std::string& obj, const std::string& key) const {
  const Attr a = open_attr(file_, path_, obj, key);
  const H5T_class_t cls = H5Tget_class(a.type.get());
  if (cls != H5T_FLOAT && cls != H5T_INTEGER) throw attr_type_error(a, "a number");
  double v = 0;
  read_attr_value(a, H5T_NATIVE_DOUBLE, &v);
  return v;
}

namespace {

/// Creates the missing intermediate groups of `p` (untimed), as `write` does; DataError if one is a dataset.
void make_parent_groups(hid_t file, const std::string& fpath, const std::string& p) {
  Handle gcpl = untimed_plist(H5P_GROUP_CREATE);
  for (size_t i = 1; i < p.size(); ++i) {
    if (p[i] != '/') continue;
    const std::string g = p.substr(0, i);
    if (exists_in(file, g)) {
      if (object_kind(file, g) != H5I_GROUP)
        throw DataError(concat("cannot write '", p, "' to '", fpath, "': '", g, "' is a dataset, not a group"));
    } else if (!Handle(H5Gcreate2(file, g.c_str(), H5P_DEFAULT, gcpl.get(), H5P_DEFAULT), H5Gclose).ok()) {
      throw IoError(concat("cannot create group '", g, "' in '", fpath, "'", h5_reason()));
    }
  }
}

}  // namespace

std::vector<std::string> H5File::read_strings(const std::string& name) const {
  const std::string p = norm(name);
  Handle ds = open_object(file_, path_, p, H5I_DATASET);
  Handle type(H5Dget_type(ds.get()), H5Tclose);
  if (H5Tget_class(type.get()) != H5T_STRING)
    throw DataError(concat("dataset '", p, "' in '", path_, "' is a ", type_desc(type.get()), " dataset, not a string"),
                    "expected a string dataset (scalar or 1-D), e.g. h5py: f['name'] = ['text']");
  Handle space(H5Dget_space(ds.get()), H5Sclose);
  const int rank = H5Sget_simple_extent_ndims(space.get());
  if (rank > 1)
    throw DataError(concat("string dataset '", p, "' in '", path_, "' has rank ", rank, "; expected a scalar or 1-D"));
  const hssize_t n = H5Sget_simple_extent_npoints(space.get());
  std::vector<std::string> out;
  if (n <= 0) return out;
  const auto fail = [&] {
    return DataError(concat("cannot read string dataset '", p, "' from '", path_, "'", h5_reason()),
                     "the file may be truncated or corrupt");
  };
  if (H5Tis_variable_str(type.get()) > 0) {
    Handle mem(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(mem.get(), H5T_VARIABLE);
    H5Tset_cset(mem.get(), H5Tget_cset(type.get()));
    std::vector<char*> buf(static_cast<size_t>(n), nullptr);
    if (H5Dread(ds.get(), mem.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buf.data()) < 0) throw fail();
    for (char* c : buf) out.emplace_back(c ? c : "");
#if H5_VERSION_GE(1, 12, 0)
    H5Treclaim(mem.get(), space.get(), H5P_DEFAULT, buf.data());
#else
    H5Dvlen_reclaim(mem.get(), space.get(), H5P_DEFAULT, buf.data());
#endif
    return out;
  }
  const size_t size = H5Tget_size(type.get());
  std::string buf(static_cast<size_t>(n) * size, '\0');
  if (H5Dread(ds.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, &buf[0]) < 0) throw fail();
  const bool space_pad = H5Tget_strpad(type.get()) == H5T_STR_SPACEPAD;
  for (hssize_t i = 0; i < n; ++i) {
    std::string s = buf.substr(static_cast<size_t>(i) * size, size);
    s.resize(strnlen(s.data(), size));
    if (space_pad) s.erase(s.find_last_not_of(' ') + 1);
    out.push_back(std::move(s));
  }
  return out;
}

void H5File::write_strings(const std::string& name, const std::vector<std::string>& values) {
  const std::string p = norm(name);
  require_writable(concat("string dataset '", p, "'"));
  if (p == "/") throw DataError(concat("cannot write a dataset at the root '/' of '", path_, "'"), "give it a name");
  make_parent_groups(file_, path_, p);
  if (exists_in(file_, p)) {
    if (object_kind(file_, p) != H5I_DATASET)
      throw DataError(concat("cannot write dataset '", p, "' to '", path_, "': a group of that name exists"));
    if (H5Ldelete(file_, p.c_str(), H5P_DEFAULT) < 0)
      throw IoError(concat("cannot replace dataset '", p, "' in '", path_, "'", h5_reason()));
  }
  Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(type.get(), H5T_VARIABLE);
  H5Tset_cset(type.get(), H5T_CSET_UTF8);
  const hsize_t dims[1] = {static_cast<hsize_t>(values.size())};
  Handle space(H5Screate_simple(1, dims, nullptr), H5Sclose);
  Handle dcpl = untimed_plist(H5P_DATASET_CREATE);
  Handle ds(H5Dcreate2(file_, p.c_str(), type.get(), space.get(), H5P_DEFAULT, dcpl.get(), H5P_DEFAULT), H5Dclose);
  if (!ds.ok()) throw IoError(concat("cannot create string dataset '", p, "' in '", path_, "'", h5_reason()));
  std::vector<const char*> ptrs;
  for (const auto& v : values) ptrs.push_back(v.c_str());
  if (!values.empty() && H5Dwrite(ds.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, ptrs.data()) < 0)
    throw IoError(concat("cannot write string dataset '", p, "' to '", path_, "'", h5_reason()), "check free disk space");
}

void H5File::flush() {
  if (file_ >= 0 && mode_ != Mode::kRead && H5Fflush(file_, H5F_SCOPE_LOCAL) < 0)
    throw IoError(concat("cannot flush '", path_, "'", h5_reason()), "check free disk space");
}

}  // namespace latdyn::data
