// Model files (include/mlsd/model/model_file.hpp): both formats round-trip bit for bit; every
// damaged file is refused with the right kind of error; saving is atomic, also when the saving
// process is killed mid-write.
#include <mlsd/model/model_file.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <bit>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

namespace fs = std::filesystem;
using mlsd::model::model_file;
using mlsd::model::model_file_error;
using mlsd::model::model_file_format;
using mlsd::model::named_table;
using kind = mlsd::model::model_file_error::kind;

/// A fresh directory, removed with everything in it at the end of the test.
class scratch_dir {
public:
  explicit scratch_dir(const std::string& tag) {
    path_ = fs::temp_directory_path() /
            ("mlsd_model_file_test_" + std::to_string(::getpid()) + "_" + tag);
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  scratch_dir(const scratch_dir&) = delete;
  scratch_dir& operator=(const scratch_dir&) = delete;
  ~scratch_dir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  [[nodiscard]] fs::path operator/(const std::string& name) const { return path_ / name; }
  [[nodiscard]] const fs::path& path() const { return path_; }

private:
  fs::path path_;
};

std::string read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const fs::path& p, std::string_view bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

/// Overwrites one byte in place (no truncation: rewriting a truncated file makes ext4 flush it,
/// which made the byte-by-byte tests slow).
void patch_byte(const fs::path& p, std::size_t at, char byte) {
  std::fstream f(p, std::ios::binary | std::ios::in | std::ios::out);
  f.seekp(static_cast<std::streamoff>(at));
  f.put(byte);
}

/// The kind of error `load` throws, as words; "loaded" when it does not throw.
std::string outcome(const std::function<void()>& load) {
  try {
    load();
  } catch (const model_file_error& e) {
    return std::string(model_file_error::to_string(e.problem()));
  } catch (const std::exception& e) {
    return std::string("other exception: ") + e.what();
  }
  return "loaded";
}

std::string outcome_of_load(const fs::path& p, std::string_view expected_type = {}) {
  return outcome([&] { (void)mlsd::model::load_model_file(p, expected_type); });
}

std::string name_of(kind k) {
  return std::string(model_file_error::to_string(k));
}

std::uint32_t bits(float f) {
  return std::bit_cast<std::uint32_t>(f);
}

float from_bits(std::uint32_t u) {
  return std::bit_cast<float>(u);
}

/// splitmix64 (Steele et al. 2014): a seeded source of bit patterns.
std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

/// The floats that break naive serialisers: signed zeros, the extreme normals and subnormals,
/// values with no short decimal form, then `random` finite bit patterns.
std::vector<float> awkward_floats(std::size_t random) {
  using lim = std::numeric_limits<float>;
  std::vector<float> v = {0.0f,
                          -0.0f,
                          1.0f,
                          -1.0f,
                          0.1f,
                          1.0f / 3.0f,
                          lim::denorm_min(),
                          -lim::denorm_min(),
                          from_bits(0x007fffffu), // the largest subnormal
                          lim::min(),             // the smallest normal
                          lim::max(),
                          lim::lowest(),
                          lim::epsilon(),
                          16777216.0f,
                          16777215.0f,
                          1e20f,
                          3.4028233e38f,
                          from_bits(0x3f800001u)}; // 1 + ulp
  std::uint64_t state = 42;
  while (v.size() < 18 + random) {
    const float f = from_bits(static_cast<std::uint32_t>(splitmix64(state)));
    if (std::isfinite(f)) {
      v.push_back(f);
    }
  }
  return v;
}

model_file sample_model(std::vector<float> weights) {
  model_file f;
  f.model_type = "logistic_regression";
  f.hyper_parameters = {{"l2", 0.001}, {"loss", "logistic"}, {"dims", {4, 5}}};
  f.feature_encoder = {{"kind", "hashing"}, {"buckets", 1 << 20}, {"seed", 7}};
  f.training = {{"rows", 32561}, {"auc", 0.9}, {"note", "line\nbreak \"quoted\" é"}};
  const std::size_t n = weights.size();
  f.tables.push_back(
      {"weights", n / 2, 2, std::vector<float>(weights.begin(), weights.begin() + (n / 2) * 2)});
  f.tables.push_back({"bias", 1, 1, {-0.25f}});
  f.tables.push_back({"empty", 0, 5, {}});
  f.tables.push_back({"column", 3, 1, {1.5f, -2.5f, 3.5f}});
  return f;
}

model_file small_model() {
  return sample_model({1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f});
}

void require_same(const model_file& a, const model_file& b) {
  CHECK(a.model_type == b.model_type);
  CHECK(a.hyper_parameters == b.hyper_parameters);
  CHECK(a.feature_encoder == b.feature_encoder);
  CHECK(a.training == b.training);
  REQUIRE(a.tables.size() == b.tables.size());
  for (std::size_t t = 0; t < a.tables.size(); ++t) {
    const named_table& x = a.tables[t];
    const named_table& y = b.tables[t];
    CHECK(x.name == y.name);
    CHECK(x.rows == y.rows);
    CHECK(x.cols == y.cols);
    REQUIRE(x.values.size() == y.values.size());
    std::size_t differing = 0;
    for (std::size_t i = 0; i < x.values.size(); ++i) {
      differing += bits(x.values[i]) != bits(y.values[i]) ? 1 : 0;
    }
    INFO("table " << x.name);
    CHECK(differing == 0);
  }
}

std::vector<fs::path> temporaries_in(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (mlsd::model::is_model_file_temporary(entry.path())) {
      out.push_back(entry.path());
    }
  }
  return out;
}

/// A minimal model for save_model / load_model.
struct toy_linear {
  static constexpr std::string_view model_type = "toy_linear";
  std::size_t dim = 0;
  std::vector<float> weights;
  float bias = 0.0f;

  [[nodiscard]] model_file to_model_file() const {
    model_file f;
    f.model_type = std::string(model_type);
    f.hyper_parameters = {{"dim", dim}};
    f.add_table("weights", 1, dim, weights);
    f.add_table("bias", 1, 1, std::span<const float>(&bias, 1));
    return f;
  }
  [[nodiscard]] static toy_linear from_model_file(const model_file& f) {
    toy_linear m;
    m.dim = f.hyper_parameters.at("dim").get<std::size_t>();
    m.weights = f.table("weights", 1, m.dim).values;
    m.bias = f.table("bias", 1, 1).values[0];
    return m;
  }
};

struct toy_other {
  static constexpr std::string_view model_type = "toy_other";
  [[nodiscard]] model_file to_model_file() const { return {}; }
  [[nodiscard]] static toy_other from_model_file(const model_file&) { return {}; }
};

static_assert(mlsd::model::model_file_serializable<toy_linear>);
static_assert(!mlsd::model::model_file_serializable<int>);

} // namespace

TEST_CASE("model files round-trip every float bit for bit, in both formats", "[model][files]") {
  scratch_dir dir("round_trip");
  const model_file original = sample_model(awkward_floats(2000));
  for (const auto* name : {"m.json", "m.bin"}) {
    INFO(name);
    const fs::path p = dir / name;
    mlsd::model::save_model_file(p, original);
    const model_file loaded = mlsd::model::load_model_file(p);
    require_same(loaded, original);
    CHECK(loaded.mlsd_version == mlsd::version_string);
    CHECK(loaded.source == p);
    CHECK(temporaries_in(dir.path()).empty());
  }
  // The extension picks the format; the loader recognises it from the bytes.
  CHECK(read_bytes(dir / "m.json").substr(0, 1) == "{");
  CHECK(read_bytes(dir / "m.bin").substr(0, 8) == "MLSDMODL");
  mlsd::model::save_model_file(dir / "binary.json", original, model_file_format::binary);
  CHECK(read_bytes(dir / "binary.json").substr(0, 8) == "MLSDMODL");
  require_same(mlsd::model::load_model_file(dir / "binary.json"), original);
  mlsd::model::save_model_file(dir / "text.model", original, model_file_format::json);
  require_same(mlsd::model::load_model_file(dir / "text.model"), original);
  CHECK(mlsd::model::default_model_file_format("a/b.JSON") == model_file_format::json);
  CHECK(mlsd::model::default_model_file_format("a/b.json.bin") == model_file_format::binary);
  CHECK(mlsd::model::default_model_file_format("model") == model_file_format::binary);
}

TEST_CASE("binary model files keep NaN payloads and infinities; JSON refuses them by position",
          "[model][files]") {
  scratch_dir dir("non_finite");
  model_file f = small_model();
  f.tables[0].values[3] = from_bits(0x7fc01234u); // a quiet NaN with a payload
  f.tables[0].values[4] = std::numeric_limits<float>::infinity();
  f.tables[3].values[1] = -std::numeric_limits<float>::infinity();
  mlsd::model::save_model_file(dir / "m.bin", f);
  require_same(mlsd::model::load_model_file(dir / "m.bin"), f);

  // Row 1, column 1 of the 3x2 "weights" is value 3.
  write_bytes(dir / "m.json", "previous contents");
  try {
    mlsd::model::save_model_file(dir / "m.json", f);
    FAIL("a NaN was written to JSON");
  } catch (const model_file_error& e) {
    CHECK(e.problem() == kind::bad_table);
    CHECK(std::string(e.what()).rfind((dir / "m.json").string() + ": bad table: ", 0) == 0);
    CHECK(e.detail() == "table 'weights' holds NaN at row 1, column 1 (value 3); JSON has no NaN "
                        "or infinity (save as binary to keep it)");
  }
  f.tables[0].values[3] = 0.0f;
  CHECK_THROWS_WITH(mlsd::model::save_model_file(dir / "m.json", f),
                    Catch::Contains("'weights' holds +infinity at row 2, column 0 (value 4)"));
  CHECK(read_bytes(dir / "m.json") == "previous contents");
  CHECK(temporaries_in(dir.path()).empty());
}

TEST_CASE("a binary model file has the documented byte layout", "[model][files]") {
  scratch_dir dir("layout");
  const model_file f = small_model();
  mlsd::model::save_model_file(dir / "m.bin", f);
  const std::string bytes = read_bytes(dir / "m.bin");
  const auto* b = reinterpret_cast<const unsigned char*>(bytes.data());
  const auto u32 = [&](std::size_t at) {
    return static_cast<std::uint32_t>(b[at]) | static_cast<std::uint32_t>(b[at + 1]) << 8 |
           static_cast<std::uint32_t>(b[at + 2]) << 16 |
           static_cast<std::uint32_t>(b[at + 3]) << 24;
  };
  const auto u64 = [&](std::size_t at) {
    return static_cast<std::uint64_t>(u32(at)) | static_cast<std::uint64_t>(u32(at + 4)) << 32;
  };
  const auto xxh3 = [&](std::size_t from, std::size_t n) {
    return mlsd::data::detail::xxh3_64(bytes.data() + from, n, 0);
  };
  REQUIRE(bytes.size() > 48);
  CHECK(bytes.substr(0, 8) == "MLSDMODL");
  CHECK(u32(8) == 1);
  const std::size_t header_bytes = u32(12);
  CHECK(u64(16) == bytes.size());
  CHECK(u64(24) == xxh3(40, header_bytes));
  CHECK(u64(32) == xxh3(0, 32));
  CHECK(u64(bytes.size() - 8) == xxh3(0, bytes.size() - 8));

  const auto header = nlohmann::json::parse(bytes.substr(40, header_bytes));
  CHECK(header.at("format") == "mlsd-model");
  CHECK(header.at("version") == 1);
  CHECK(header.at("mlsd_version") == mlsd::version_string);
  CHECK(header.at("model_type") == "logistic_regression");
  CHECK(header.at("hyper_parameters") == f.hyper_parameters);
  CHECK(header.at("feature_encoder") == f.feature_encoder);
  CHECK(header.at("training") == f.training);
  const std::size_t data_start = (40 + header_bytes + 63) / 64 * 64;
  CHECK(std::all_of(bytes.begin() + static_cast<std::ptrdiff_t>(40 + header_bytes),
                    bytes.begin() + static_cast<std::ptrdiff_t>(data_start),
                    [](char c) { return c == 0; }));
  // weights: 6 floats at 0; bias at 64; empty at 128 (0 bytes); column at 128.
  const auto& tables = header.at("tables");
  REQUIRE(tables.size() == 4);
  const std::vector<std::uint64_t> offsets = {0, 64, 128, 128};
  for (std::size_t t = 0; t < 4; ++t) {
    INFO("table " << t);
    CHECK(tables[t].at("name") == f.tables[t].name);
    CHECK(tables[t].at("rows") == f.tables[t].rows);
    CHECK(tables[t].at("cols") == f.tables[t].cols);
    CHECK(tables[t].at("dtype") == "float32");
    CHECK(tables[t].at("offset") == offsets[t]);
    CHECK(tables[t].at("bytes") == 4 * f.tables[t].values.size());
    const std::size_t at = data_start + offsets[t];
    CHECK(at % 64 == 0);
    for (std::size_t i = 0; i < f.tables[t].values.size(); ++i) {
      CHECK(u32(at + 4 * i) == bits(f.tables[t].values[i]));
    }
  }
  CHECK(header.at("data_bytes") == 128 + 12);
  CHECK(bytes.size() == data_start + 128 + 12 + 8);
}

TEST_CASE("a JSON model file is one readable object in the documented order", "[model][files]") {
  scratch_dir dir("json_layout");
  mlsd::model::save_model_file(dir / "m.json", small_model());
  const std::string text = read_bytes(dir / "m.json");
  CHECK(text.rfind("{\n  \"format\": \"mlsd-model\",\n  \"version\": 1,\n  \"mlsd_version\": \"",
                   0) == 0);
  std::size_t last = 0;
  for (const auto* key : {"\"model_type\"", "\"hyper_parameters\"", "\"feature_encoder\"",
                          "\"training\"", "\"tables\""}) {
    INFO(key);
    const std::size_t at = text.find(key);
    REQUIRE(at != std::string::npos);
    CHECK(at > last);
    last = at;
  }
  // One line per row of a matrix; -0 keeps its sign.
  CHECK(text.find("{\"name\": \"weights\", \"rows\": 3, \"cols\": 2, \"values\": [\n      1, 2,\n"
                  "      3, 4,\n      5, 6\n    ]}") != std::string::npos);
  const auto j = nlohmann::json::parse(text);
  CHECK(j.at("tables").at(1).at("values") == nlohmann::json::array({-0.25}));
  model_file zero = small_model();
  zero.tables[1].values[0] = -0.0f;
  mlsd::model::save_model_file(dir / "z.json", zero);
  CHECK(read_bytes(dir / "z.json").find("\"values\": [\n      -0.0\n    ]") != std::string::npos);
  CHECK(std::signbit(mlsd::model::load_model_file(dir / "z.json").table("bias").values[0]));
}

TEST_CASE("a binary model file cut at any byte is truncated, never loaded",
          "[model][files][truncation]") {
  scratch_dir dir("truncated");
  mlsd::model::save_model_file(dir / "m.bin", small_model());
  const std::string bytes = read_bytes(dir / "m.bin");
  const fs::path cut = dir / "cut.bin";
  write_bytes(cut, bytes);
  std::size_t wrong = 0;
  for (std::size_t n = bytes.size(); n-- > 0;) {
    fs::resize_file(cut, n);
    const std::string got = outcome_of_load(cut);
    const std::string expected = name_of(n == 0 ? kind::not_a_model_file : kind::truncated);
    if (got != expected) {
      ++wrong;
      UNSCOPED_INFO("cut at " << n << " of " << bytes.size() << ": " << got);
    }
  }
  CHECK(wrong == 0);
}

TEST_CASE("a JSON model file cut at any byte is truncated, never loaded",
          "[model][files][truncation]") {
  scratch_dir dir("truncated_json");
  mlsd::model::save_model_file(dir / "m.json", small_model());
  const std::string text = read_bytes(dir / "m.json");
  const std::size_t closing = text.rfind('}');
  const fs::path cut = dir / "cut.json";
  write_bytes(cut, text);
  std::size_t wrong = 0;
  for (std::size_t n = closing + 1; n-- > 0;) {
    fs::resize_file(cut, n);
    const std::string got = outcome_of_load(cut);
    const std::string expected = name_of(n == 0 ? kind::not_a_model_file : kind::truncated);
    if (got != expected) {
      ++wrong;
      UNSCOPED_INFO("cut at " << n << " of " << text.size() << ": " << got);
    }
  }
  CHECK(wrong == 0);
}

TEST_CASE("flipping any byte of a binary model file is detected", "[model][files][corruption]") {
  scratch_dir dir("flipped");
  mlsd::model::save_model_file(dir / "m.bin", small_model());
  const std::string bytes = read_bytes(dir / "m.bin");
  const fs::path bad = dir / "bad.bin";
  write_bytes(bad, bytes);
  std::size_t wrong = 0;
  for (const unsigned char mask : {0xffu, 0x01u, 0x80u}) {
    for (std::size_t i = 0; i < bytes.size(); ++i) {
      patch_byte(bad, i, static_cast<char>(static_cast<unsigned char>(bytes[i]) ^ mask));
      const std::string got = outcome_of_load(bad);
      patch_byte(bad, i, bytes[i]);
      // The magic is what makes it a model file; everything after it is checksummed.
      const std::string expected = name_of(i < 8 ? kind::not_a_model_file : kind::corrupted);
      if (got != expected) {
        ++wrong;
        UNSCOPED_INFO("byte " << i << " ^ " << static_cast<int>(mask) << ": " << got);
      }
    }
  }
  CHECK(wrong == 0);
  // Extra bytes at the end.
  write_bytes(bad, bytes + std::string(1, '\0'));
  CHECK(outcome_of_load(bad) == name_of(kind::corrupted));
}

TEST_CASE("a model file from a newer version says which versions are involved",
          "[model][files][version]") {
  scratch_dir dir("version");
  mlsd::model::save_model_file(dir / "m.bin", small_model());
  std::string bytes = read_bytes(dir / "m.bin");
  bytes[8] = 2; // version 2, with a valid preamble checksum: a genuine future file
  const std::uint64_t sum = mlsd::data::detail::xxh3_64(bytes.data(), 32, 0);
  for (int k = 0; k < 8; ++k) {
    bytes[32 + k] = static_cast<char>((sum >> (8 * k)) & 0xff);
  }
  write_bytes(dir / "v2.bin", bytes);
  const std::string expected_detail =
      "the file has format version 2, this build (mlsd 0.1.0) reads version 1";
  try {
    (void)mlsd::model::load_model_file(dir / "v2.bin");
    FAIL("a version 2 file loaded");
  } catch (const model_file_error& e) {
    CHECK(e.problem() == kind::unsupported_version);
    CHECK(e.detail() == expected_detail);
    CHECK(e.path() == dir / "v2.bin");
  }

  mlsd::model::save_model_file(dir / "m.json", small_model());
  std::string text = read_bytes(dir / "m.json");
  const std::size_t at = text.find("\"version\": 1,");
  REQUIRE(at != std::string::npos);
  text[at + 11] = '2';
  write_bytes(dir / "v2.json", text);
  CHECK_THROWS_WITH(mlsd::model::load_model_file(dir / "v2.json"),
                    (dir / "v2.json").string() + ": unsupported version: " + expected_detail);
}

TEST_CASE("loading names the model type it expected and the one it found",
          "[model][files][errors]") {
  scratch_dir dir("types");
  for (const auto* name : {"m.bin", "m.json"}) {
    const fs::path p = dir / name;
    mlsd::model::save_model_file(p, small_model());
    CHECK(mlsd::model::load_model_file(p, "logistic_regression").model_type ==
          "logistic_regression");
    CHECK_THROWS_WITH(mlsd::model::load_model_file(p, "fm"),
                      p.string() + ": wrong model type: expected fm, file holds "
                                   "logistic_regression");
  }
}

TEST_CASE("missing and mis-shaped tables are named", "[model][files][errors]") {
  const model_file f = small_model();
  CHECK(f.table("bias").values == std::vector<float>{-0.25f});
  CHECK(f.table("weights", 3, 2).values.size() == 6);
  try {
    (void)f.table("v");
    FAIL("found a table that is not there");
  } catch (const model_file_error& e) {
    CHECK(e.problem() == kind::missing_table);
    CHECK(std::string(e.what()) == "<model file>: missing table: no table 'v' (the file holds: "
                                   "weights bias empty column)");
  }
  CHECK_THROWS_WITH(f.table("weights", 2, 3),
                    "<model file>: bad table: table 'weights' is 3x2, the hyper-parameters need "
                    "2x3");
  CHECK(outcome([&] { (void)model_file{}.table("w"); }) == name_of(kind::missing_table));
}

TEST_CASE("files that are not model files, or are damaged JSON, are refused by kind",
          "[model][files][errors]") {
  scratch_dir dir("not_models");
  CHECK(outcome_of_load(dir / "does_not_exist.bin") == name_of(kind::io));
  CHECK_THROWS_WITH(
      mlsd::model::load_model_file(dir / "does_not_exist.bin"),
      Catch::StartsWith((dir / "does_not_exist.bin").string() + ": io error: cannot open: "));
  CHECK(outcome_of_load(dir.path()) == name_of(kind::io));
  const auto refused = [&](std::string_view contents) {
    write_bytes(dir / "x", contents);
    return outcome_of_load(dir / "x");
  };
  const std::string not_model = name_of(kind::not_a_model_file);
  const std::string corrupted = name_of(kind::corrupted);
  CHECK(refused("") == not_model);
  CHECK(refused("hello, world") == not_model);
  CHECK(refused("MLSDMODX and more bytes than a preamble holds, surely") == not_model);
  CHECK(refused("[1, 2, 3]") == not_model);
  CHECK(refused("{\"model_type\": \"fm\", \"tables\": []}") == not_model);
  CHECK(refused("{\"format\": \"onnx\", \"version\": 1}") == not_model);
  CHECK(refused("{\"format\": \"mlsd-model\" ,, }") == not_model);
  CHECK(refused("  \xEF\xBB\xBF{}") == not_model);

  const std::string head = R"({"format": "mlsd-model", "version": 1, "model_type": "fm", )";
  CHECK(refused(head + R"("tables": []})") == "loaded");
  CHECK(refused(std::string("\xEF\xBB\xBF\n ") + head + R"("tables": []})") == "loaded");
  CHECK(refused(R"({"format": "mlsd-model", "version": 0, "model_type": "fm", "tables": []})") ==
        name_of(kind::unsupported_version));
  CHECK(refused(R"({"format": "mlsd-model", "model_type": "fm", "tables": []})") == corrupted);
  CHECK(refused(head + "\"tables\": {}}") == corrupted);
  CHECK(refused(R"({"format": "mlsd-model", "version": 1, "tables": []})") == corrupted);
  CHECK(
      refused(head + R"("tables": [{"name": "w", "rows": 2, "cols": 2, "values": [1, 2, 3]}]})") ==
      corrupted);
  CHECK(refused(head + R"("tables": [{"name": "w", "rows": -1, "cols": 0, "values": []}]})") ==
        corrupted);
  CHECK(refused(head + R"("tables": [{"name": "w", "rows": 1, "cols": 2, "values": [1, "x"]}]})") ==
        corrupted);
  CHECK(refused(head + R"("tables": [{"name": "w", "rows": 1, "cols": 1, "values": [1e39]}]})") ==
        corrupted);
  CHECK(refused(head + R"("tables": [{"name": "w", "rows": 1, "cols": 1, "values": [1]},)" +
                R"({"name": "w", "rows": 1, "cols": 1, "values": [2]}]})") == corrupted);
  CHECK_THROWS_WITH(mlsd::model::load_model_file(dir / "x"),
                    Catch::Contains("two tables are named 'w'"));

  // Hand-written JSON: decimals round to the nearest float; integers and exponents are fine.
  write_bytes(dir / "hand.json",
              head +
                  R"("tables": [{"name": "w", "rows": 1, "cols": 4, "values": [0.1, 3, -2e-3, )" +
                  R"(3.4028235e38]}]})");
  const model_file hand = mlsd::model::load_model_file(dir / "hand.json");
  CHECK(hand.hyper_parameters == nlohmann::json::object());
  CHECK(hand.feature_encoder.is_null());
  CHECK(hand.table("w").values ==
        std::vector<float>{0.1f, 3.0f, -2e-3f, std::numeric_limits<float>::max()});
}

TEST_CASE("saving refuses inconsistent tables before writing anything", "[model][files][errors]") {
  scratch_dir dir("save_errors");
  const fs::path p = dir / "m.bin";
  write_bytes(p, "previous contents");
  model_file f = small_model();
  f.tables[0].rows = 4; // 4x2 but 6 values
  CHECK_THROWS_WITH(mlsd::model::save_model_file(p, f),
                    p.string() + ": bad table: table 'weights' is 4x2 but holds 6 values");
  f = small_model();
  f.tables[1].name = "weights";
  CHECK_THROWS_WITH(mlsd::model::save_model_file(p, f),
                    Catch::EndsWith("two tables are named 'weights'"));
  f.tables[1].name = "";
  CHECK(outcome([&] { mlsd::model::save_model_file(p, f); }) == name_of(kind::bad_table));
  f = small_model();
  f.model_type.clear();
  CHECK_THROWS_AS(mlsd::model::save_model_file(p, f), std::invalid_argument);
  CHECK(read_bytes(p) == "previous contents");

  model_file g;
  g.model_type = "fm";
  g.add_table("w", 1, 2, std::vector<float>{1.0f, 2.0f});
  CHECK_THROWS_AS(g.add_table("w", 1, 1, std::vector<float>{1.0f}), model_file_error);
  CHECK_THROWS_WITH(g.add_table("v", 2, 2, std::vector<float>{1.0f}),
                    "<model file>: bad table: table 'v' is 2x2 but holds 1 values");
  CHECK(g.tables.size() == 1);

  // A directory that does not exist: an io error, nothing created.
  CHECK(outcome([&] { mlsd::model::save_model_file(dir / "no" / "m.bin", g); }) ==
        name_of(kind::io));
  CHECK(!fs::exists(dir / "no"));
  // A target that is a directory: the rename fails, the temporary is removed.
  fs::create_directory(dir / "d.bin");
  CHECK(outcome([&] { mlsd::model::save_model_file(dir / "d.bin", g); }) == name_of(kind::io));
  CHECK(temporaries_in(dir.path()).empty());
}

TEST_CASE("save_model and load_model convert models and check the model type", "[model][files]") {
  scratch_dir dir("generic");
  toy_linear m;
  m.dim = 3;
  m.weights = {0.5f, -1.25f, 3.0f};
  m.bias = 0.125f;
  for (const auto* name : {"toy.bin", "toy.json"}) {
    const fs::path p = dir / name;
    mlsd::model::save_model(m, p);
    const auto back = mlsd::model::load_model<toy_linear>(p);
    CHECK(back.dim == 3);
    CHECK(back.weights == m.weights);
    CHECK(back.bias == 0.125f);
    CHECK_THROWS_WITH(mlsd::model::load_model<toy_other>(p),
                      p.string() + ": wrong model type: expected toy_other, file holds toy_linear");
  }
  // Tables that disagree with the hyper-parameters: bad_table, naming the file.
  model_file f = m.to_model_file();
  f.hyper_parameters["dim"] = 4;
  mlsd::model::save_model_file(dir / "bad_shape.bin", f);
  CHECK_THROWS_WITH(mlsd::model::load_model<toy_linear>(dir / "bad_shape.bin"),
                    (dir / "bad_shape.bin").string() +
                        ": bad table: table 'weights' is 1x3, the hyper-parameters need 1x4");
  // A missing table.
  f = m.to_model_file();
  f.tables.pop_back();
  mlsd::model::save_model_file(dir / "no_bias.bin", f);
  CHECK(outcome([&] { (void)mlsd::model::load_model<toy_linear>(dir / "no_bias.bin"); }) ==
        name_of(kind::missing_table));
  // Hyper-parameters of the wrong JSON type: corrupted.
  f = m.to_model_file();
  f.hyper_parameters["dim"] = "three";
  mlsd::model::save_model_file(dir / "bad_hp.json", f);
  CHECK(outcome([&] { (void)mlsd::model::load_model<toy_linear>(dir / "bad_hp.json"); }) ==
        name_of(kind::corrupted));
}

TEST_CASE("temporary files are recognisable by name", "[model][files][atomic]") {
  using mlsd::model::is_model_file_temporary;
  CHECK(is_model_file_temporary("dir/.m.bin.mlsd-tmp-1234-0123456789abcdef"));
  CHECK(is_model_file_temporary(".x.mlsd-tmp-1-ffffffffffffffff"));
  CHECK(!is_model_file_temporary("dir/m.bin"));
  CHECK(!is_model_file_temporary("m.bin.mlsd-tmp-1234-0123456789abcdef"));  // no leading dot
  CHECK(!is_model_file_temporary(".m.bin.mlsd-tmp-1234-0123456789abcde"));  // 15 hex digits
  CHECK(!is_model_file_temporary(".m.bin.mlsd-tmp-12x4-0123456789abcdef")); // pid not a number
  CHECK(!is_model_file_temporary(".m.bin.mlsd-tmp--0123456789abcdef"));     // no pid
  CHECK(!is_model_file_temporary(".m.bin.mlsd-tmp-1234-0123456789ABCDEF")); // upper case
}

TEST_CASE("a save killed mid-write leaves the previous model intact", "[model][files][atomic]") {
  scratch_dir dir("crash");
  const fs::path target = dir / "model.bin";
  const model_file old = small_model();
  mlsd::model::save_model_file(target, old);

  // The child saves a 50 MB model over the target. Its file size limit stops the write after
  // 8 MiB with SIGXFSZ; the handler tells the parent through a pipe and waits, frozen inside the
  // save, until the parent kills it with SIGKILL: a crash at a known point of the write.
  int progress[2];
  REQUIRE(::pipe(progress) == 0);
  constexpr rlim_t limit = 8u << 20;
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::close(progress[0]);
    static int progress_fd = -1; // read by the signal handler
    progress_fd = progress[1];
    struct sigaction on_limit {};
    on_limit.sa_handler = [](int) {
      const char byte = 'w';
      (void)::write(progress_fd, &byte, 1);
      for (;;) {
        ::pause();
      }
    };
    ::sigaction(SIGXFSZ, &on_limit, nullptr);
    const rlimit r{limit, limit};
    ::setrlimit(RLIMIT_FSIZE, &r);
    model_file big;
    big.model_type = "fm";
    big.tables.push_back({"v", 12'500'000, 1, std::vector<float>(12'500'000, 0.5f)});
    try {
      mlsd::model::save_model_file(target, big);
    } catch (...) {
      ::_exit(3);
    }
    ::_exit(2); // the limit did not stop the save: the test cannot run
  }
  ::close(progress[1]);
  char byte = 0;
  const auto got = ::read(progress[0], &byte, 1);
  ::close(progress[0]);
  REQUIRE(::kill(child, SIGKILL) == 0);
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(got == 1);
  REQUIRE(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGKILL);

  // The target still holds the previous model.
  require_same(mlsd::model::load_model_file(target), old);
  // The half-written temporary is left behind, named as documented, and is itself refused.
  const auto leftovers = temporaries_in(dir.path());
  REQUIRE(leftovers.size() == 1);
  const std::string prefix = ".model.bin.mlsd-tmp-" + std::to_string(child) + "-";
  CHECK(leftovers[0].filename().string().rfind(prefix, 0) == 0);
  CHECK(fs::file_size(leftovers[0]) == limit);
  CHECK(outcome_of_load(leftovers[0]) == name_of(kind::truncated));
  // Saving again works next to the leftover.
  model_file next = small_model();
  next.tables[1].values[0] = 7.0f;
  mlsd::model::save_model_file(target, next);
  require_same(mlsd::model::load_model_file(target), next);
}

TEST_CASE("a save that fails mid-write removes its temporary and keeps the previous model",
          "[model][files][atomic]") {
  scratch_dir dir("write_error");
  const fs::path target = dir / "model.bin";
  mlsd::model::save_model_file(target, small_model());
  // In a child (to keep the limit out of this process): with SIGXFSZ ignored, a write past the
  // file size limit fails with EFBIG, and the save must clean up and throw an io error.
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::signal(SIGXFSZ, SIG_IGN);
    const rlimit r{1u << 20, 1u << 20};
    ::setrlimit(RLIMIT_FSIZE, &r);
    model_file big;
    big.model_type = "fm";
    big.tables.push_back({"v", 1'000'000, 1, std::vector<float>(1'000'000, 0.5f)});
    try {
      mlsd::model::save_model_file(target, big);
    } catch (const model_file_error& e) {
      ::_exit(e.problem() == kind::io ? 0 : 4);
    } catch (...) {
      ::_exit(5);
    }
    ::_exit(6);
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(temporaries_in(dir.path()).empty());
  require_same(mlsd::model::load_model_file(target), small_model());
}

TEST_CASE("a reader never sees half a model while another thread saves", "[model][files][atomic]") {
  scratch_dir dir("concurrent");
  const fs::path target = dir / "model.bin";
  model_file a = sample_model(std::vector<float>(20'000, 1.0f));
  model_file b = sample_model(std::vector<float>(20'000, 2.0f));
  mlsd::model::save_model_file(target, a);
  std::atomic<bool> done{false};
  std::atomic<bool> writer_failed{false};
  std::thread writer([&] {
    try {
      for (int i = 0; i < 30; ++i) {
        mlsd::model::save_model_file(target, i % 2 == 0 ? b : a);
      }
    } catch (const std::exception&) {
      writer_failed = true;
    }
    done = true;
  });
  std::size_t loads = 0;
  std::size_t bad = 0;
  while (!done || loads == 0) {
    // A half-written file would throw (truncated, corrupted) or hold a mix: both count as bad,
    // and the loop goes on so that the writer thread is always joined.
    try {
      const model_file f = mlsd::model::load_model_file(target);
      const auto& w = f.table("weights").values;
      const bool all_a = std::all_of(w.begin(), w.end(), [](float v) { return v == 1.0f; });
      const bool all_b = std::all_of(w.begin(), w.end(), [](float v) { return v == 2.0f; });
      bad += (w.size() == 20'000 && (all_a || all_b)) ? 0 : 1;
    } catch (const std::exception&) {
      ++bad;
    }
    ++loads;
  }
  writer.join();
  CHECK(!writer_failed);
  CHECK(bad == 0);
  CHECK(temporaries_in(dir.path()).empty());
}
