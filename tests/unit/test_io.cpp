// SPDX-License-Identifier: MIT
// Unit tests for the torch-free I/O layer: data::Array, H5File (datasets, attributes, errors)
// and the .npy reader/writer.
#include <gtest/gtest.h>
#include <hdf5.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "latdyn/core/error.hpp"
#include "latdyn/data/array.hpp"
#include "latdyn/data/h5.hpp"
#include "latdyn/data/npy.hpp"

namespace fs = std::filesystem;
using latdyn::DataError;
using latdyn::IoError;
using latdyn::data::Array;
using latdyn::data::Dtype;
using latdyn::data::H5File;

namespace {

const std::vector<Dtype> kAllDtypes = {Dtype::kFloat32, Dtype::kFloat64, Dtype::kInt32, Dtype::kInt64, Dtype::kUInt8};

/// Unique path in a per-process temp dir, prefixed by the current test's name.
std::string tmp(const std::string& name) {
  static const fs::path dir = [] {
    fs::path d = fs::path(::testing::TempDir()) / ("latdyn_test_io_" + std::to_string(::getpid()));
    fs::create_directories(d);
    return d;
  }();
  return (dir / (std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) + "_" + name)).string();
}

/// Array whose element i holds (i * 7 + 3) % 251 in the given dtype.
Array ramp(Dtype dtype, std::vector<int64_t> shape) {
  Array a = Array::zeros(dtype, std::move(shape));
  for (int64_t i = 0; i < a.numel(); ++i) {
    const int v = static_cast<int>((i * 7 + 3) % 251);
    switch (dtype) {
      case Dtype::kFloat32: a.data<float>()[i] = v * 0.5f; break;
      case Dtype::kFloat64: a.data<double>()[i] = v * 0.25; break;
      case Dtype::kInt32: a.data<int32_t>()[i] = v - 100; break;
      case Dtype::kInt64: a.data<int64_t>()[i] = (int64_t{v} << 40) - 5; break;
      case Dtype::kUInt8: a.data<uint8_t>()[i] = static_cast<uint8_t>(v); break;
    }
  }
  return a;
}

void expect_same(const Array& a, const Array& b) {
  EXPECT_EQ(a.dtype, b.dtype);
  EXPECT_EQ(a.shape, b.shape);
  EXPECT_TRUE(a.bytes == b.bytes) << "bytes differ for " << a.shape_str();
}

std::string file_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

/// Runs `fn`, expecting an exception of type E whose what() contains every string in `parts`.
template <typename E, typename F>
void expect_error(F fn, const std::vector<std::string>& parts) {
  try {
    fn();
    ADD_FAILURE() << "no exception thrown";
  } catch (const E& e) {
    for (const auto& p : parts) EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what() << "\nmissing: " << p;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "wrong exception type: " << e.what();
  }
}

/// Hand-built .npy v1.0 file with the given header dict and raw data.
void write_raw_npy(const std::string& path, std::string dict, const std::string& data) {
  dict.append((64 - (10 + dict.size() + 1) % 64) % 64, ' ');
  dict += '\n';
  std::string out = std::string("\x93NUMPY\x01\x00", 8);
  out += static_cast<char>(dict.size() & 0xff);
  out += static_cast<char>(dict.size() >> 8);
  write_bytes(path, out + dict + data);
}

}  // namespace

TEST(ArrayTest, Helpers) {
  EXPECT_STREQ(latdyn::data::dtype_name(Dtype::kFloat32), "float32");
  EXPECT_STREQ(latdyn::data::dtype_name(Dtype::kFloat64), "float64");
  EXPECT_STREQ(latdyn::data::dtype_name(Dtype::kInt32), "int32");
  EXPECT_STREQ(latdyn::data::dtype_name(Dtype::kInt64), "int64");
  EXPECT_STREQ(latdyn::data::dtype_name(Dtype::kUInt8), "uint8");
  const std::vector<size_t> sizes = {4, 8, 4, 8, 1};
  for (size_t i = 0; i < kAllDtypes.size(); ++i) EXPECT_EQ(latdyn::data::dtype_size(kAllDtypes[i]), sizes[i]);

  Array shaped;
  shaped.shape = {500, 60, 1, 32, 32};
  EXPECT_EQ(shaped.numel(), 500 * 60 * 32 * 32);
  EXPECT_EQ(shaped.shape_str(), "[500, 60, 1, 32, 32]");
  Array a = Array::zeros(Dtype::kFloat64, {2, 3, 4});
  EXPECT_EQ(a.bytes.size(), size_t(a.numel()) * 8);
  a.data<double>()[3] = 2.5;
  EXPECT_EQ(static_cast<const Array&>(a).data<double>()[3], 2.5);
  EXPECT_EQ(a.data<double>()[4], 0.0);

  const Array scalar = Array::zeros(Dtype::kInt32, {});
  EXPECT_EQ(scalar.numel(), 1);
  EXPECT_EQ(scalar.shape_str(), "[]");
  EXPECT_EQ(Array::zeros(Dtype::kUInt8, {4, 0}).numel(), 0);
}

TEST(H5Test, RoundTripEveryDtype) {
  const std::string path = tmp("rt.h5");
  std::vector<Array> written;
  {
    H5File f(path, H5File::Mode::kCreate);
    EXPECT_EQ(f.path(), path);
    for (Dtype d : kAllDtypes) {
      written.push_back(ramp(d, {3, 4}));
      f.write(std::string("/g/sub/x_") + latdyn::data::dtype_name(d), written.back());
    }
    f.write("video", ramp(Dtype::kFloat32, {5, 6, 1, 4, 4}));
    f.write("vec", ramp(Dtype::kFloat64, {100000}));  // longer than one 1-D chunk
    f.write("scalar", ramp(Dtype::kInt64, {}));
    f.write("empty", ramp(Dtype::kFloat32, {0, 3}));
    f.write("plain", ramp(Dtype::kInt32, {7, 2}), 0);
    f.flush();
  }
  H5File f(path, H5File::Mode::kRead);
  for (size_t i = 0; i < kAllDtypes.size(); ++i) {
    const std::string name = std::string("g/sub/x_") + latdyn::data::dtype_name(kAllDtypes[i]);
    EXPECT_EQ(f.dtype(name), kAllDtypes[i]);
    EXPECT_EQ(f.shape(name), (std::vector<int64_t>{3, 4}));
    expect_same(f.read(name), written[i]);
  }
  expect_same(f.read("/video"), ramp(Dtype::kFloat32, {5, 6, 1, 4, 4}));
  expect_same(f.read("/vec"), ramp(Dtype::kFloat64, {100000}));
  expect_same(f.read("/scalar"), ramp(Dtype::kInt64, {}));
  expect_same(f.read("/empty"), ramp(Dtype::kFloat32, {0, 3}));
  expect_same(f.read("/plain"), ramp(Dtype::kInt32, {7, 2}));
  EXPECT_TRUE(f.shape("scalar").empty());

  EXPECT_TRUE(f.exists("/g/sub/x_uint8"));
  EXPECT_TRUE(f.exists("g/sub"));
  EXPECT_TRUE(f.exists("/"));
  EXPECT_FALSE(f.exists("/g/nope/x"));
  EXPECT_FALSE(f.exists("/video/inside"));
  EXPECT_EQ(f.list("/"), (std::vector<std::string>{"empty", "g", "plain", "scalar", "vec", "video"}));
  EXPECT_EQ(f.list("/g/sub").size(), 5u);
  EXPECT_THROW(f.list("/video"), DataError);
}

TEST(H5Test, RowsAndConversion) {
  const std::string path = tmp("rows.h5");
  const Array video = ramp(Dtype::kFloat32, {5, 6, 1, 4, 4});
  {
    H5File f(path, H5File::Mode::kCreate);
    f.write("/truth/video", video);
    f.write("/truth/theta", ramp(Dtype::kFloat64, {5, 3}));
    f.write("/truth/ids", ramp(Dtype::kInt32, {5}));
    f.write("/truth/video", video);  // overwrite in place
  }
  H5File f(path, H5File::Mode::kRead);
  const Array rows = f.read_rows("/truth/video", 1, 3);
  EXPECT_EQ(rows.shape, (std::vector<int64_t>{3, 6, 1, 4, 4}));
  const size_t row_bytes = 6 * 4 * 4 * sizeof(float);
  EXPECT_EQ(0, std::memcmp(rows.bytes.data(), video.bytes.data() + row_bytes, 3 * row_bytes));
  EXPECT_EQ(f.read_rows("/truth/video", 5, 0).numel(), 0);
  expect_error<DataError>([&] { f.read_rows("/truth/video", 3, 3); }, {"out of range", path});
  EXPECT_THROW(f.read_rows("/truth/video", -1, 1), DataError);

  const Array theta64 = f.read("/truth/theta");
  const Array theta32 = f.read_as("/truth/theta", Dtype::kFloat32);
  ASSERT_EQ(theta32.dtype, Dtype::kFloat32);
  ASSERT_EQ(theta32.shape, theta64.shape);
  for (int64_t i = 0; i < theta32.numel(); ++i) EXPECT_FLOAT_EQ(theta32.data<float>()[i], float(theta64.data<double>()[i]));
  const Array ids = f.read_as("/truth/ids", Dtype::kFloat64);
  EXPECT_EQ(ids.data<double>()[2], double(ramp(Dtype::kInt32, {5}).data<int32_t>()[2]));
}

TEST(H5Test, Attributes) {
  const std::string path = tmp("attr.h5");
  const std::string big(100000, 'x');  // beyond the 64 KiB compact attribute limit
  {
    H5File f(path, H5File::Mode::kCreate);
    f.write("/data/x", ramp(Dtype::kFloat32, {2, 2}));
    f.set_attr_string("/", "format", "latdyn-dataset/1");
    f.set_attr_string("/", "unicode", "θ ∈ ℝ");
    f.set_attr_string("/", "empty", "");
    f.set_attr_string("/", "big", big);
    f.set_attr_int("/data/x", "n", -42);
    f.set_attr_uint("/data/x", "seed", 18446744073709551615ull);
    f.set_attr_double("data", "dt", 0.125);
    f.set_attr_int("/", "version", 1);
    f.set_attr_string("/", "version", "two");  // overwrite with another type
    f.set_attr_double("data", "dt", 0.5);      // overwrite with the same type
  }
  H5File f(path, H5File::Mode::kReadWrite);
  EXPECT_EQ(f.attr_string("/", "format"), "latdyn-dataset/1");
  EXPECT_EQ(f.attr_string("/", "unicode"), "θ ∈ ℝ");
  EXPECT_EQ(f.attr_string("/", "empty"), "");
  EXPECT_EQ(f.attr_string("/", "big"), big);
  EXPECT_EQ(f.attr_string("/", "version"), "two");
  EXPECT_EQ(f.attr_int("/data/x", "n"), -42);
  EXPECT_EQ(f.attr_uint("data/x", "seed"), 18446744073709551615ull);
  EXPECT_EQ(f.attr_double("/data", "dt"), 0.5);
  EXPECT_EQ(f.attr_double("/data/x", "n"), -42.0);
  EXPECT_TRUE(f.has_attr("/", "format"));
  EXPECT_FALSE(f.has_attr("/", "nope"));
  EXPECT_FALSE(f.has_attr("/missing", "format"));
  expect_error<DataError>([&] { f.attr_int("/data/x", "nope"); }, {path, "/data/x", "nope", "hint: '/data/x' has attributes: n, seed"});
  expect_error<DataError>([&] { f.attr_string("/missing", "k"); }, {path, "/missing"});
  expect_error<DataError>([&] { f.attr_int("/", "format"); }, {"string", "format"});
  expect_error<DataError>([&] { f.attr_uint("/data/x", "n"); }, {"negative"});
  expect_error<DataError>([&] { f.attr_int("/data/x", "seed"); }, {"overflows"});
  f.set_attr_int("/", "version", 3);
  EXPECT_EQ(f.attr_int("/", "version"), 3);
}

TEST(H5Test, ReadsVariableLengthStringAttribute) {
  const std::string path = tmp("vlen.h5");
  H5File(path, H5File::Mode::kCreate).write("/x", ramp(Dtype::kUInt8, {3}));
  {  // what h5py writes for f.attrs['k'] = 'value'
    const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    const hid_t type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, H5T_VARIABLE);
    H5Tset_cset(type, H5T_CSET_UTF8);
    const hid_t space = H5Screate(H5S_SCALAR);
    const hid_t attr = H5Acreate2(file, "k", type, space, H5P_DEFAULT, H5P_DEFAULT);
    const char* value = "variable ok";
    H5Awrite(attr, type, &value);
    H5Aclose(attr);
    H5Sclose(space);
    H5Tclose(type);
    H5Fclose(file);
  }
  EXPECT_EQ(H5File(path, H5File::Mode::kRead).attr_string("/", "k"), "variable ok");
}

TEST(H5Test, UnsupportedTypeNamesTypeClass) {
  const std::string path = tmp("int16.h5");
  H5File(path, H5File::Mode::kCreate).write("/ok", ramp(Dtype::kUInt8, {3}));
  {
    const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    const hsize_t dims[1] = {4};
    const hid_t space = H5Screate_simple(1, dims, nullptr);
    const hid_t ds = H5Dcreate2(file, "/short", H5T_STD_I16LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dclose(ds);
    H5Sclose(space);
    H5Fclose(file);
  }
  H5File f(path, H5File::Mode::kRead);
  expect_error<DataError>([&] { f.dtype("/short"); }, {path, "/short", "2-byte signed integer"});
  EXPECT_THROW(f.read("/short"), DataError);
}

TEST(H5Test, IdenticalContentGivesIdenticalBytes) {
  auto write = [](const std::string& path) {
    H5File f(path, H5File::Mode::kCreate);
    f.write("/truth/video", ramp(Dtype::kFloat32, {4, 3, 1, 8, 8}));
    f.write("/meta/ids", ramp(Dtype::kInt64, {4}));
    f.set_attr_string("/", "format", "latdyn");
    f.set_attr_double("/truth/video", "dt", 0.1);
  };
  write(tmp("a.h5"));
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // timestamps have 1 s resolution
  write(tmp("b.h5"));
  const std::string a = file_bytes(tmp("a.h5")), b = file_bytes(tmp("b.h5"));
  EXPECT_FALSE(a.empty());
  EXPECT_TRUE(a == b) << "files differ";
}

TEST(H5Test, MoveTransfersOwnership) {
  const std::string path = tmp("move.h5");
  H5File a(path, H5File::Mode::kCreate);
  a.write("/x", ramp(Dtype::kInt32, {2}));
  H5File b(std::move(a));
  EXPECT_TRUE(b.exists("/x"));
  H5File c(tmp("other.h5"), H5File::Mode::kCreate);
  c = std::move(b);
  EXPECT_EQ(c.path(), path);
  EXPECT_TRUE(c.exists("/x"));
}

TEST(H5Test, OpenErrors) {
  const std::string missing = tmp("missing.h5");
  expect_error<DataError>([&] { H5File(missing, H5File::Mode::kRead); }, {missing, "no such file", "hint:"});

  const std::string garbage = tmp("garbage.h5");
  write_bytes(garbage, std::string(4096, 'g'));
  expect_error<DataError>([&] { H5File(garbage, H5File::Mode::kRead); }, {garbage, "not a readable HDF5 file", "hint:"});

  const std::string truncated = tmp("truncated.h5");
  H5File(truncated, H5File::Mode::kCreate).write("/x", ramp(Dtype::kFloat64, {1000, 10}), 0);
  fs::resize_file(truncated, fs::file_size(truncated) / 2);
  expect_error<DataError>([&] { H5File(truncated, H5File::Mode::kRead).read("/x"); }, {truncated, "hint:"});

  const std::string unwritable = tmp("no_such_dir") + "/out.h5";
  expect_error<IoError>([&] { H5File(unwritable, H5File::Mode::kCreate); }, {unwritable});
}

TEST(H5Test, MissingDatasetAndReadOnly) {
  const std::string path = tmp("ds.h5");
  H5File(path, H5File::Mode::kCreate).write("/truth/theta", ramp(Dtype::kFloat32, {2, 3}));
  H5File f(path, H5File::Mode::kRead);
  expect_error<DataError>([&] { f.read("/truth/video"); }, {path, "/truth/video", "'/truth' contains: theta"});
  expect_error<DataError>([&] { f.shape("/nope/deeper/x"); }, {path, "/nope/deeper/x", "'/' contains: truth"});
  expect_error<DataError>([&] { f.dtype("/truth"); }, {"not a dataset"});
  expect_error<IoError>([&] { f.write("/y", ramp(Dtype::kFloat32, {1})); }, {"read-only", path});
  expect_error<IoError>([&] { f.set_attr_int("/", "k", 1); }, {"read-only"});
  expect_error<IoError>([&] { H5File(path, H5File::Mode::kReadWrite); }, {path, "for writing"});
  f = H5File(tmp("other.h5"), H5File::Mode::kCreate);  // closes the read-only handle
  H5File w(path, H5File::Mode::kReadWrite);
  Array bad = ramp(Dtype::kFloat32, {2, 3});
  bad.bytes.pop_back();
  EXPECT_THROW(w.write("/bad", bad), DataError);
  EXPECT_THROW(w.write("/truth/theta/inner", ramp(Dtype::kFloat32, {1})), DataError);
  EXPECT_THROW(w.write("/truth", ramp(Dtype::kFloat32, {1})), DataError);
}

TEST(NpyTest, RoundTripEveryDtype) {
  for (Dtype d : kAllDtypes) {
    for (const std::vector<int64_t>& shape : {std::vector<int64_t>{3, 4, 5}, {7}, {}, {0, 2}}) {
      const std::string path = tmp(std::string(latdyn::data::dtype_name(d)) + "_" + std::to_string(shape.size()) + ".npy");
      const Array a = ramp(d, shape);
      latdyn::data::write_npy(path, a);
      expect_same(latdyn::data::read_npy(path), a);
      const std::string bytes = file_bytes(path);
      EXPECT_EQ((bytes.size() - a.bytes.size()) % 64, 0u);  // data is 64-byte aligned
    }
  }
}

TEST(NpyTest, AcceptsLittleEndianU1AndVersion2) {
  const std::string path = tmp("u1.npy");
  write_raw_npy(path, "{'descr': '<u1', 'fortran_order': False, 'shape': (2,), }", "\x05\x06");
  const Array a = latdyn::data::read_npy(path);
  EXPECT_EQ(a.dtype, Dtype::kUInt8);
  EXPECT_EQ(a.data<uint8_t>()[1], 6);

  std::string dict = "{'descr': '<i4', 'fortran_order': False, 'shape': (1,), }";
  dict.append((64 - (12 + dict.size() + 1) % 64) % 64, ' ');
  dict += '\n';
  std::string v2 = std::string("\x93NUMPY\x02\x00", 8);
  for (int k = 0; k < 4; ++k) v2 += static_cast<char>((dict.size() >> (8 * k)) & 0xff);
  const int32_t value = -7;
  write_bytes(path, v2 + dict + std::string(reinterpret_cast<const char*>(&value), 4));
  EXPECT_EQ(latdyn::data::read_npy(path).data<int32_t>()[0], -7);
}

TEST(NpyTest, Errors) {
  const std::string missing = tmp("missing.npy");
  expect_error<DataError>([&] { latdyn::data::read_npy(missing); }, {missing, "no such file"});

  const std::string magic = tmp("magic.npy");
  write_bytes(magic, "PK\x03\x04 this is a zip, not npy");
  expect_error<DataError>([&] { latdyn::data::read_npy(magic); }, {magic, "not a .npy file"});

  const std::string trunc = tmp("trunc.npy");
  latdyn::data::write_npy(trunc, ramp(Dtype::kFloat64, {10, 10}));
  fs::resize_file(trunc, fs::file_size(trunc) - 8);
  expect_error<DataError>([&] { latdyn::data::read_npy(trunc); }, {trunc, "truncated", "800 bytes", "792"});

  const std::string fortran = tmp("fortran.npy");
  write_raw_npy(fortran, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", std::string(16, '\0'));
  expect_error<DataError>([&] { latdyn::data::read_npy(fortran); }, {fortran, "fortran_order", "np.ascontiguousarray"});

  const std::string big = tmp("big.npy");
  write_raw_npy(big, "{'descr': '>f8', 'fortran_order': False, 'shape': (2,), }", std::string(16, '\0'));
  expect_error<DataError>([&] { latdyn::data::read_npy(big); }, {big, "'>f8'", "'<f4'", "little-endian"});

  const std::string half = tmp("half.npy");
  write_raw_npy(half, "{'descr': '<f2', 'fortran_order': False, 'shape': (2,), }", std::string(4, '\0'));
  expect_error<DataError>([&] { latdyn::data::read_npy(half); }, {"'<f2'", "astype(np.float32)"});

  const std::string object = tmp("object.npy");
  write_raw_npy(object, "{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", std::string(8, '\0'));
  expect_error<DataError>([&] { latdyn::data::read_npy(object); }, {"'|O'", "object"});

  EXPECT_THROW(latdyn::data::write_npy(tmp("no_dir") + "/x.npy", ramp(Dtype::kUInt8, {2})), IoError);
}

TEST(NpyTest, ReadsFileWrittenByNumpy) {
  if (!fs::exists("/usr/bin/python3") || std::system("/usr/bin/python3 -c 'import numpy' >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "python3 with numpy not available";
  const std::string path = tmp("numpy.npy");
  const std::string cmd = "/usr/bin/python3 -c \"import numpy as np; np.save('" + path +
                          "', (np.arange(24, dtype=np.float32) * 0.5).reshape(2, 3, 4))\"";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  const Array a = latdyn::data::read_npy(path);
  EXPECT_EQ(a.dtype, Dtype::kFloat32);
  EXPECT_EQ(a.shape, (std::vector<int64_t>{2, 3, 4}));
  for (int64_t i = 0; i < a.numel(); ++i) EXPECT_EQ(a.data<float>()[i], i * 0.5f);
}

TEST(H5Test, InteroperatesWithH5py) {
  if (std::system("/usr/bin/python3 -c 'import h5py' >/dev/null 2>&1") != 0) GTEST_SKIP() << "python3 with h5py not available";
  const std::string ours = tmp("ours.h5"), theirs = tmp("theirs.h5");
  {
    H5File f(ours, H5File::Mode::kCreate);
    f.write("/truth/video", ramp(Dtype::kFloat32, {2, 3, 1, 4, 4}));
    f.set_attr_string("/", "format", "latdyn");
    f.set_attr_uint("/truth/video", "seed", 7);
  }
  const std::string script =
      "import h5py, numpy as np\n"
      "f = h5py.File('" + ours + "', 'r')\n"
      "v = f['truth/video']\n"
      "assert v.shape == (2, 3, 1, 4, 4) and v.dtype == np.float32, (v.shape, v.dtype)\n"
      "assert v[0, 0, 0, 0, 1] == 5.0, v[0, 0, 0, 0, 1]\n"
      "s = f.attrs['format']\n"
      "assert (s.decode() if isinstance(s, bytes) else s) == 'latdyn', s\n"
      "assert int(v.attrs['seed']) == 7\n"
      "g = h5py.File('" + theirs + "', 'w')\n"
      "g.attrs['note'] = 'from h5py'\n"
      "g['x'] = np.arange(6, dtype='>f8').reshape(2, 3)\n";
  const std::string script_path = tmp("check.py");
  write_bytes(script_path, script);
  ASSERT_EQ(std::system(("/usr/bin/python3 " + script_path).c_str()), 0);
  H5File g(theirs, H5File::Mode::kRead);
  EXPECT_EQ(g.attr_string("/", "note"), "from h5py");
  const Array x = g.read("/x");  // big-endian on disk, native in memory
  ASSERT_EQ(x.dtype, Dtype::kFloat64);
  EXPECT_EQ(x.data<double>()[5], 5.0);
}
