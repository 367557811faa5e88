// Fixtures the parser tests share (libsvm_test, libffm_test, criteo_test, csv_test,
// json_lines_test): a temporary directory per test case, removed at its end (also used by
// sqlite_store_test), reading a file back, and reading every record of a source, or the message
// of the `input_error` that reading throws.
#pragma once

#include <mlsd/core/error.hpp>

#include <cstddef>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <unistd.h>

namespace mlsd_test {

/// A fresh directory for one test case, `<tmp>/mlsd_<suite>_test_<pid>_<tag>`, removed at the end.
struct temp_dir {
  std::filesystem::path path;

  temp_dir(std::string_view suite, std::string_view tag) {
    std::string name = "mlsd_";
    name += suite;
    name += "_test_";
    name += std::to_string(::getpid());
    name += '_';
    name += tag;
    path = std::filesystem::temp_directory_path() / name;
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  /// Writes `bytes` to the file `name` in the directory and returns its path.
  [[nodiscard]] std::filesystem::path write(const std::string& name,
                                            const std::string& bytes) const {
    const std::filesystem::path p = path / name;
    std::ofstream(p, std::ios::binary) << bytes;
    return p;
  }
};

/// The bytes of the file `p` ("" when it cannot be read).
inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// Every record of `s`, read `batch` at a time (so that reads span several calls).
template <class Source>
std::vector<typename Source::record_type> read_all(Source& s, std::size_t batch) {
  std::vector<typename Source::record_type> all;
  std::vector<typename Source::record_type> buf(batch);
  while (const std::size_t n = s.read(buf)) {
    all.insert(all.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
  }
  return all;
}

/// The message of the `input_error` reading all of `s` (`batch` at a time) throws, or "" when
/// none is thrown.
template <class Source>
std::string error_of(Source s, std::size_t batch) {
  try {
    (void)read_all(s, batch);
  } catch (const mlsd::input_error& e) {
    return e.what();
  }
  return {};
}

} // namespace mlsd_test
