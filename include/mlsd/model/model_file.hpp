/// @file
/// Model files: one versioned, self-describing file per trained model, in two formats.
///
/// - JSON (`.json`): one object, for small models a person wants to read or diff;
/// - binary (anything else): a checksummed preamble, a JSON header with everything but the numbers,
///   then the tables as little-endian float32, each aligned to 64 bytes so that a later version can
///   map them into memory, and an XXH3-64 checksum of everything before it.
///
/// Saving is atomic (temporary file in the same directory, fsync, rename, fsync of the directory),
/// so a reader of a model directory sees the old file or the new one, never half of one. Loading
/// says what is wrong (`model_file_error::kind`): missing, not a model, truncated, corrupted, from
/// a newer version, of another model type. The byte layout is in docs/model-files.md.
#pragma once

#include <mlsd/core/error.hpp>
#include <mlsd/core/version.hpp>
#include <mlsd/data/detail/xxh3.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>
#include <optional>
#include <random>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#if defined(_WIN32)
#error                                                                                             \
    "mlsd/model/model_file.hpp needs POSIX file calls (open, fsync, rename); Windows is not supported yet"
#endif
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

static_assert(std::endian::native == std::endian::little,
              "mlsd model files store little-endian float32 and integers, and this host is "
              "big-endian: byte-swapping on load and save is not implemented yet");
static_assert(std::numeric_limits<float>::is_iec559 && sizeof(float) == 4,
              "mlsd model files store IEEE 754 binary32 floats");

MLSD_BEGIN_NAMESPACE
namespace model {

/// The newest model file version this build writes and reads (both formats). A file with a larger
/// version is refused with `model_file_error::kind::unsupported_version`.
inline constexpr std::uint32_t model_file_version = 1;

/// The value of the `"format"` key that marks a JSON document (and a binary header) as a model
/// file.
inline constexpr std::string_view model_file_format_name = "mlsd-model";

/// The first 8 bytes of a binary model file.
inline constexpr std::array<char, 8> model_file_magic = {'M', 'L', 'S', 'D', 'M', 'O', 'D', 'L'};

/// Alignment, in bytes from the start of the file, of every table in a binary model file: a cache
/// line, and enough for any SIMD load, so that a memory-mapped file can be read in place.
inline constexpr std::size_t model_file_alignment = 64;

/// Size of the fixed preamble of a binary model file (magic, version, header size, file size,
/// header checksum, preamble checksum). Its layout is the same in every version.
inline constexpr std::size_t model_file_preamble_bytes = 40;

/// Thrown by loading and saving model files; `what()` starts with the file's path, then the kind of
/// problem, then the details: "model.bin: truncated: the file has 100 bytes, its preamble says
/// 4160".
class model_file_error : public std::runtime_error {
public:
  /// What went wrong.
  enum class kind {
    io,                  ///< the file does not exist, cannot be read, or cannot be written
    not_a_model_file,    ///< wrong magic, not JSON, or JSON without `"format": "mlsd-model"`
    truncated,           ///< shorter than its header says
    corrupted,           ///< checksum mismatch, or contents inconsistent with the declared shapes
    unsupported_version, ///< written by a newer mlsd (a larger `model_file_version`)
    wrong_model_type,    ///< holds another model than the one asked for
    missing_table,       ///< a table the model needs is not in the file
    bad_table,           ///< a table is invalid: shape disagrees with values or hyper-parameters
  };

  /// `file` may be empty for a model file built in memory.
  model_file_error(kind problem, std::filesystem::path file, std::string detail)
      : std::runtime_error(format(problem, file, detail))
      , problem_(problem)
      , path_(std::move(file))
      , detail_(std::move(detail)) {}

  /// The kind of problem.
  [[nodiscard]] kind problem() const noexcept { return problem_; }
  /// The file concerned (empty when the model file was built in memory).
  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }
  /// The message without the path and kind.
  [[nodiscard]] const std::string& detail() const noexcept { return detail_; }

  /// The kind as words: "io error", "not a model file", "truncated", ...
  [[nodiscard]] static constexpr std::string_view to_string(kind k) noexcept {
    switch (k) {
    case kind::io:
      return "io error";
    case kind::not_a_model_file:
      return "not a model file";
    case kind::truncated:
      return "truncated";
    case kind::corrupted:
      return "corrupted";
    case kind::unsupported_version:
      return "unsupported version";
    case kind::wrong_model_type:
      return "wrong model type";
    case kind::missing_table:
      return "missing table";
    case kind::bad_table:
      return "bad table";
    }
    return "unknown problem";
  }

private:
  static std::string format(kind problem, const std::filesystem::path& file,
                            const std::string& detail) {
    std::string out = file.empty() ? std::string("<model file>") : file.string();
    out += ": ";
    out += to_string(problem);
    out += ": ";
    out += detail;
    return out;
  }

  kind problem_;
  std::filesystem::path path_;
  std::string detail_;
};

/// One parameter table of a model: a `rows` x `cols` matrix of float32, row-major
/// (`values[r * cols + c]`). A vector is a 1 x n (or n x 1) table, a scalar 1 x 1.
struct named_table {
  std::string name;
  std::size_t rows = 0;
  std::size_t cols = 0;
  std::vector<float> values;
};

/// Everything a model file holds. Models convert to it (`to_model_file()`) and back
/// (`M::from_model_file(f)`); `save_model_file` / `load_model_file` move it to and from disk.
struct model_file {
  /// "logistic_regression", "fm", "ffm", "two_tower", "mlp", "isolation_forest", ...
  std::string model_type;
  /// The model's configuration, as its `to_json` writes it.
  nlohmann::json hyper_parameters = nlohmann::json::object();
  /// Null, or the configuration of the encoder / hasher that produced the features: a server must
  /// build the same features the model was trained on.
  nlohmann::json feature_encoder;
  /// What the model was trained on (rows, features, label rate) and how well it did (metrics).
  nlohmann::json training = nlohmann::json::object();
  /// The parameters.
  std::vector<named_table> tables;
  /// Set on load: the mlsd version that wrote the file. Ignored on save (the running version is
  /// written).
  std::string mlsd_version;
  /// Set on load: the file it came from, so that errors found later name it. Ignored on save.
  std::filesystem::path source;

  /// The table called `name`.
  /// @throws model_file_error (`missing_table`) naming the tables the file holds. Linear in the
  /// number of tables.
  [[nodiscard]] const named_table& table(std::string_view name) const {
    for (const auto& t : tables) {
      if (t.name == name) {
        return t;
      }
    }
    std::string detail = "no table '";
    detail += name;
    detail += "' (the file holds:";
    for (const auto& t : tables) {
      detail += ' ';
      detail += t.name;
    }
    detail += tables.empty() ? " no tables)" : ")";
    throw model_file_error(model_file_error::kind::missing_table, source, std::move(detail));
  }

  /// The table called `name`, which must be `rows` x `cols` (what the hyper-parameters imply).
  /// @throws model_file_error: `missing_table`, or `bad_table` saying both shapes.
  [[nodiscard]] const named_table& table(std::string_view name, std::size_t rows,
                                         std::size_t cols) const {
    const named_table& t = table(name);
    if (t.rows != rows || t.cols != cols) {
      std::string detail = "table '";
      detail += name;
      detail += "' is ";
      detail += std::to_string(t.rows);
      detail += 'x';
      detail += std::to_string(t.cols);
      detail += ", the hyper-parameters need ";
      detail += std::to_string(rows);
      detail += 'x';
      detail += std::to_string(cols);
      throw model_file_error(model_file_error::kind::bad_table, source, std::move(detail));
    }
    return t;
  }

  /// Appends a table, copying `values` (row-major, `rows * cols` of them).
  /// @throws model_file_error (`bad_table`) when the sizes disagree or the name is empty or taken.
  void add_table(std::string name, std::size_t rows, std::size_t cols,
                 std::span<const float> values) {
    named_table t{std::move(name), rows, cols, std::vector<float>(values.begin(), values.end())};
    check_new_table(t);
    tables.push_back(std::move(t));
  }

private:
  void check_new_table(const named_table& t) const;
};

/// How a model file is stored.
enum class model_file_format { json, binary };

/// The name of a format: "json" or "binary".
[[nodiscard]] constexpr std::string_view to_string(model_file_format f) noexcept {
  return f == model_file_format::json ? "json" : "binary";
}

/// The format `save_model_file` picks when none is given: JSON for a `.json` extension (any
/// case), binary for anything else.
[[nodiscard]] inline model_file_format default_model_file_format(const std::filesystem::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  });
  return ext == ".json" ? model_file_format::json : model_file_format::binary;
}

/// True for the name of a temporary file that `save_model_file` writes before renaming it over
/// its target: `.<target file name>.mlsd-tmp-<pid>-<16 hex digits>`. Such a file is left behind
/// only when the saving process died mid-save; no loader reads it, and it is safe to delete once
/// that process is gone.
[[nodiscard]] inline bool is_model_file_temporary(const std::filesystem::path& p) {
  const std::string name = p.filename().string();
  const std::string_view tag = ".mlsd-tmp-";
  const auto at = name.rfind(tag);
  if (name.size() < 2 || name[0] != '.' || at == std::string::npos || at < 2) {
    return false;
  }
  const std::string_view rest = std::string_view(name).substr(at + tag.size());
  const auto dash = rest.find('-');
  if (dash == std::string_view::npos || dash == 0 || rest.size() - dash - 1 != 16) {
    return false;
  }
  const auto digits = [](std::string_view s, bool hex) {
    return std::all_of(s.begin(), s.end(), [hex](char c) {
      return (c >= '0' && c <= '9') || (hex && c >= 'a' && c <= 'f');
    });
  };
  return digits(rest.substr(0, dash), false) && digits(rest.substr(dash + 1), true);
}

namespace detail {

using file_error_kind = model_file_error::kind;

[[noreturn]] inline void throw_model_file_error(file_error_kind k, const std::filesystem::path& p,
                                                std::string detail) {
  throw model_file_error(k, p, std::move(detail));
}

[[noreturn]] inline void throw_errno(const std::filesystem::path& p, std::string what, int err) {
  what += ": ";
  what += std::error_code(err, std::generic_category()).message();
  throw model_file_error(file_error_kind::io, p, std::move(what));
}

[[nodiscard]] inline std::string shape_string(std::size_t rows, std::size_t cols) {
  std::string s = std::to_string(rows);
  s += 'x';
  s += std::to_string(cols);
  return s;
}

/// rows * cols, or nullopt on overflow.
[[nodiscard]] inline std::optional<std::size_t> element_count(std::size_t rows,
                                                              std::size_t cols) noexcept {
  if (cols != 0 && rows > std::numeric_limits<std::size_t>::max() / cols) {
    return std::nullopt;
  }
  return rows * cols;
}

[[nodiscard]] constexpr std::uint64_t align_up(std::uint64_t n, std::uint64_t a) noexcept {
  return (n + a - 1) / a * a;
}

/// Checks a table's name and that its values fill its shape.
inline void check_table(const named_table& t, const std::filesystem::path& p) {
  if (t.name.empty()) {
    throw_model_file_error(file_error_kind::bad_table, p, "a table has an empty name");
  }
  const auto n = element_count(t.rows, t.cols);
  if (!n || *n != t.values.size()) {
    std::string d = "table '";
    d += t.name;
    d += "' is ";
    d += shape_string(t.rows, t.cols);
    d += " but holds ";
    d += std::to_string(t.values.size());
    d += " values";
    throw_model_file_error(file_error_kind::bad_table, p, std::move(d));
  }
}

/// Checks every table, and that names are unique.
inline void check_tables(const std::vector<named_table>& tables, const std::filesystem::path& p) {
  for (std::size_t i = 0; i < tables.size(); ++i) {
    check_table(tables[i], p);
    for (std::size_t j = 0; j < i; ++j) {
      if (tables[j].name == tables[i].name) {
        std::string d = "two tables are named '";
        d += tables[i].name;
        d += '\'';
        throw_model_file_error(file_error_kind::bad_table, p, std::move(d));
      }
    }
  }
}

/// Where value `i` of `t` sits, for messages: "row 2, column 3 (value 7)".
[[nodiscard]] inline std::string value_position(const named_table& t, std::size_t i) {
  std::string s = "row ";
  s += std::to_string(t.cols == 0 ? 0 : i / t.cols);
  s += ", column ";
  s += std::to_string(t.cols == 0 ? 0 : i % t.cols);
  s += " (value ";
  s += std::to_string(i);
  s += ')';
  return s;
}

/// Streaming XXH3-64 (seed 0). Allocates its state, so it also works when <xxhash.h> was included
/// without XXH_INLINE_ALL before mlsd (the state type is then incomplete).
class xxh3_stream {
public:
  xxh3_stream()
      : state_(XXH3_createState()) {
    if (state_ == nullptr) {
      throw std::bad_alloc();
    }
    (void)XXH3_64bits_reset(state_.get());
  }
  void update(const void* data, std::size_t n) noexcept {
    if (n != 0) {
      (void)XXH3_64bits_update(state_.get(), data, n);
    }
  }
  [[nodiscard]] std::uint64_t digest() const noexcept { return XXH3_64bits_digest(state_.get()); }

private:
  struct free_state {
    void operator()(XXH3_state_t* s) const noexcept { (void)XXH3_freeState(s); }
  };
  std::unique_ptr<XXH3_state_t, free_state> state_;
};

[[nodiscard]] inline std::uint64_t xxh3_of(const void* data, std::size_t n) noexcept {
  return data::detail::xxh3_64(data, n, 0);
}

inline void put_u32(unsigned char* out, std::uint32_t v) noexcept {
  std::memcpy(out, &v, 4);
}
inline void put_u64(unsigned char* out, std::uint64_t v) noexcept {
  std::memcpy(out, &v, 8);
}
[[nodiscard]] inline std::uint32_t get_u32(const unsigned char* in) noexcept {
  std::uint32_t v = 0;
  std::memcpy(&v, in, 4);
  return v;
}
[[nodiscard]] inline std::uint64_t get_u64(const unsigned char* in) noexcept {
  std::uint64_t v = 0;
  std::memcpy(&v, in, 8);
  return v;
}

/// A file descriptor closed on destruction.
class unique_fd {
public:
  explicit unique_fd(int fd = -1) noexcept
      : fd_(fd) {}
  unique_fd(const unique_fd&) = delete;
  unique_fd& operator=(const unique_fd&) = delete;
  ~unique_fd() { reset(); }
  [[nodiscard]] int get() const noexcept { return fd_; }
  /// Closes now and returns close()'s errno, 0 on success.
  int close() noexcept {
    const int fd = std::exchange(fd_, -1);
    if (fd >= 0 && ::close(fd) != 0) {
      return errno;
    }
    return 0;
  }
  /// Closes the current descriptor (if any) and owns `fd`.
  void reset(int fd = -1) noexcept {
    (void)close();
    fd_ = fd;
  }

private:
  int fd_;
};

/// Writes a file under a temporary name in the target's directory and renames it over the target
/// on `commit()`; destroyed without a commit (an exception), it removes the temporary. Every
/// write goes through the running XXH3 checksum.
class atomic_file_writer {
public:
  explicit atomic_file_writer(std::filesystem::path target)
      : target_(std::move(target)) {
    const std::filesystem::path dir = target_.parent_path();
    std::random_device entropy;
    for (int attempt = 0; attempt < 32; ++attempt) {
      const std::uint64_t r =
          (static_cast<std::uint64_t>(entropy()) << 32) ^ static_cast<std::uint64_t>(entropy());
      static constexpr char hex[] = "0123456789abcdef";
      std::string name = ".";
      name += target_.filename().string();
      name += ".mlsd-tmp-";
      name += std::to_string(static_cast<long long>(::getpid()));
      name += '-';
      for (int shift = 60; shift >= 0; shift -= 4) {
        name += hex[(r >> shift) & 0xf];
      }
      temporary_ = dir.empty() ? std::filesystem::path(name) : dir / name;
      const int fd = ::open(temporary_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
      if (fd >= 0) {
        fd_.reset(fd);
        return;
      }
      if (errno != EEXIST) {
        const int err = errno;
        temporary_.clear();
        std::string what = "cannot create a temporary file in '";
        what += dir.empty() ? std::string(".") : dir.string();
        what += '\'';
        throw_errno(target_, std::move(what), err);
      }
    }
    temporary_.clear();
    throw_model_file_error(file_error_kind::io, target_,
                           "cannot find an unused temporary file name");
  }
  atomic_file_writer(const atomic_file_writer&) = delete;
  atomic_file_writer& operator=(const atomic_file_writer&) = delete;
  ~atomic_file_writer() {
    if (!temporary_.empty()) {
      fd_.reset();
      (void)::unlink(temporary_.c_str());
    }
  }

  /// The temporary file's path (empty after commit).
  [[nodiscard]] const std::filesystem::path& temporary() const noexcept { return temporary_; }

  /// Writes `n` bytes, adding them to the checksum.
  void write(const void* data, std::size_t n) {
    hash_.update(data, n);
    const auto* p = static_cast<const char*>(data);
    while (n != 0) {
      // Chunks of at most 1 GiB: Linux writes at most 0x7ffff000 bytes per call anyway.
      const std::size_t chunk = std::min<std::size_t>(n, std::size_t{1} << 30);
      const ssize_t w = ::write(fd_.get(), p, chunk);
      if (w < 0) {
        if (errno == EINTR) {
          continue;
        }
        throw_errno(target_, "cannot write the temporary file", errno);
      }
      p += w;
      n -= static_cast<std::size_t>(w);
      written_ += static_cast<std::uint64_t>(w);
    }
  }
  void write(std::string_view s) { write(s.data(), s.size()); }
  /// Writes `n` zero bytes.
  void write_zeros(std::size_t n) {
    static constexpr std::array<char, model_file_alignment> zeros{};
    while (n != 0) {
      const std::size_t k = std::min(n, zeros.size());
      write(zeros.data(), k);
      n -= k;
    }
  }

  [[nodiscard]] std::uint64_t written() const noexcept { return written_; }
  [[nodiscard]] std::uint64_t checksum() const noexcept { return hash_.digest(); }

  /// fsync, close, rename over the target, fsync the directory.
  void commit() {
    if (::fsync(fd_.get()) != 0) {
      throw_errno(target_, "cannot fsync the temporary file", errno);
    }
    if (const int err = fd_.close(); err != 0) {
      throw_errno(target_, "cannot close the temporary file", err);
    }
    if (::rename(temporary_.c_str(), target_.c_str()) != 0) {
      throw_errno(target_, "cannot rename the temporary file over the target", errno);
    }
    temporary_.clear();
    // The rename is durable only once the directory is synced. Some file systems cannot fsync a
    // directory (EINVAL); the rename has happened there and nothing better can be done.
    const std::filesystem::path dir =
        target_.parent_path().empty() ? std::filesystem::path(".") : target_.parent_path();
    unique_fd d(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (d.get() >= 0 && ::fsync(d.get()) != 0 && errno != EINVAL && errno != EBADF) {
      throw_errno(target_, "renamed, but cannot fsync the directory", errno);
    }
  }

private:
  std::filesystem::path target_;
  std::filesystem::path temporary_;
  unique_fd fd_;
  xxh3_stream hash_;
  std::uint64_t written_ = 0;
};

/// Reads a file front to back, hashing what it reads; knows the file's size.
class file_reader {
public:
  explicit file_reader(const std::filesystem::path& p)
      : path_(p) {
    fd_.reset(::open(p.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd_.get() < 0) {
      throw_errno(p, "cannot open", errno);
    }
    struct stat st {};
    if (::fstat(fd_.get(), &st) != 0) {
      throw_errno(p, "cannot stat", errno);
    }
    if (S_ISDIR(st.st_mode)) {
      throw_model_file_error(file_error_kind::io, p, "is a directory");
    }
    size_ = S_ISREG(st.st_mode) ? static_cast<std::uint64_t>(st.st_size) : 0;
  }

  [[nodiscard]] std::uint64_t size() const noexcept { return size_; }
  [[nodiscard]] std::uint64_t position() const noexcept { return position_; }

  /// Reads up to `n` bytes (fewer only at the end of the file); returns how many.
  std::size_t read_some(void* out, std::size_t n) {
    auto* p = static_cast<char*>(out);
    std::size_t done = 0;
    while (done < n) {
      const std::size_t chunk = std::min<std::size_t>(n - done, std::size_t{1} << 30);
      const ssize_t r = ::read(fd_.get(), p + done, chunk);
      if (r < 0) {
        if (errno == EINTR) {
          continue;
        }
        throw_errno(path_, "cannot read", errno);
      }
      if (r == 0) {
        break;
      }
      done += static_cast<std::size_t>(r);
    }
    hash_.update(out, done);
    position_ += done;
    return done;
  }

  /// Reads exactly `n` bytes. @throws model_file_error (`truncated`) at an early end of file.
  void read_exact(void* out, std::size_t n, std::string_view what) {
    if (read_some(out, n) != n) {
      std::string d = "the file ends inside ";
      d += what;
      d += " (at byte ";
      d += std::to_string(position_);
      d += ')';
      throw_model_file_error(file_error_kind::truncated, path_, std::move(d));
    }
  }

  /// Reads and hashes `n` bytes that are not kept (padding).
  void skip(std::uint64_t n, std::string_view what) {
    std::array<char, 4096> buffer{};
    while (n != 0) {
      const std::size_t k = static_cast<std::size_t>(std::min<std::uint64_t>(n, buffer.size()));
      read_exact(buffer.data(), k, what);
      n -= k;
    }
  }

  [[nodiscard]] std::uint64_t checksum() const noexcept { return hash_.digest(); }

  /// Reads everything that is left into a string (no hashing needed: for JSON).
  [[nodiscard]] std::string read_rest() {
    std::string text;
    std::array<char, 65536> buffer{};
    while (const std::size_t n = read_some(buffer.data(), buffer.size())) {
      text.append(buffer.data(), n);
    }
    return text;
  }

private:
  std::filesystem::path path_;
  unique_fd fd_;
  std::uint64_t size_ = 0;
  std::uint64_t position_ = 0;
  xxh3_stream hash_;
};

/// `j.dump(2)` with every line after the first indented by `indent` more spaces.
[[nodiscard]] inline std::string indented_dump(const nlohmann::json& j, std::string_view indent) {
  const std::string text = j.dump(2);
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    out += c;
    if (c == '\n') {
      out += indent;
    }
  }
  return out;
}

/// A JSON string literal.
[[nodiscard]] inline std::string json_string(std::string_view s) {
  return nlohmann::json(std::string(s)).dump();
}

/// The metadata every format starts with: format, version, mlsd version, model type, hyper-
/// parameters, feature encoder, training; one `"key": value,` line each.
[[nodiscard]] inline std::string metadata_json(const model_file& f, std::string_view indent,
                                               std::string_view newline) {
  std::string out;
  const auto key = [&](std::string_view k) {
    out += indent;
    out += '"';
    out += k;
    out += "\":";
    if (!newline.empty()) {
      out += ' ';
    }
  };
  const auto end = [&] {
    out += ',';
    out += newline;
  };
  const auto dump = [&](const nlohmann::json& j) {
    return newline.empty() ? j.dump() : indented_dump(j, indent);
  };
  key("format");
  out += json_string(model_file_format_name);
  end();
  key("version");
  out += std::to_string(model_file_version);
  end();
  key("mlsd_version");
  out += json_string(version_string);
  end();
  key("model_type");
  out += json_string(f.model_type);
  end();
  key("hyper_parameters");
  out += dump(f.hyper_parameters);
  end();
  key("feature_encoder");
  out += dump(f.feature_encoder);
  end();
  key("training");
  out += dump(f.training);
  end();
  return out;
}

/// A float as the shortest decimal that reads back as the same *double* (the float widened),
/// so that any correctly rounding JSON reader gets the float back bit for bit. -0 keeps its sign
/// (a JSON reader takes "-0" for the integer 0).
inline void append_float(std::string& out, float v) {
  if (v == 0.0f && std::signbit(v)) {
    out += "-0.0";
    return;
  }
  std::array<char, 32> buffer{};
  const auto r =
      std::to_chars(buffer.data(), buffer.data() + buffer.size(), static_cast<double>(v));
  out.append(buffer.data(), r.ptr);
}

inline void check_finite_for_json(const named_table& t, const std::filesystem::path& p) {
  for (std::size_t i = 0; i < t.values.size(); ++i) {
    if (!std::isfinite(t.values[i])) {
      std::string d = "table '";
      d += t.name;
      d += "' holds ";
      d += std::isnan(t.values[i]) ? "NaN" : (t.values[i] > 0 ? "+infinity" : "-infinity");
      d += " at ";
      d += value_position(t, i);
      d += "; JSON has no NaN or infinity (save as binary to keep it)";
      throw_model_file_error(file_error_kind::bad_table, p, std::move(d));
    }
  }
}

inline void save_json(const std::filesystem::path& p, const model_file& f) {
  for (const auto& t : f.tables) {
    check_finite_for_json(t, p);
  }
  atomic_file_writer out(p);
  std::string text = "{\n";
  text += metadata_json(f, "  ", "\n");
  text += "  \"tables\": [";
  constexpr std::size_t per_line = 8;
  for (std::size_t ti = 0; ti < f.tables.size(); ++ti) {
    const named_table& t = f.tables[ti];
    text += ti == 0 ? "\n" : ",\n";
    text += "    {\"name\": ";
    text += json_string(t.name);
    text += ", \"rows\": ";
    text += std::to_string(t.rows);
    text += ", \"cols\": ";
    text += std::to_string(t.cols);
    text += ", \"values\": [";
    for (std::size_t i = 0; i < t.values.size(); ++i) {
      // A new line for every row, and every `per_line` values inside a long row.
      const std::size_t c = i % t.cols;
      if (c == 0 || c % per_line == 0) {
        text += i == 0 ? "\n      " : ",\n      ";
      } else {
        text += ", ";
      }
      append_float(text, t.values[i]);
      if (text.size() >= (std::size_t{1} << 20)) {
        out.write(text);
        text.clear();
      }
    }
    text += t.values.empty() ? "]}" : "\n    ]}";
  }
  text += f.tables.empty() ? "]\n}\n" : "\n  ]\n}\n";
  out.write(text);
  out.commit();
}

inline void save_binary(const std::filesystem::path& p, const model_file& f) {
  // The header: the metadata, the tables' shapes and their offsets from the start of the data
  // region (which starts at the first multiple of 64 after the header, so relative offsets that
  // are multiples of 64 are aligned in the file too).
  std::string header = "{";
  header += metadata_json(f, "", "");
  header += "\"tables\":[";
  std::uint64_t offset = 0;
  for (std::size_t ti = 0; ti < f.tables.size(); ++ti) {
    const named_table& t = f.tables[ti];
    offset = align_up(offset, model_file_alignment);
    const std::uint64_t bytes = static_cast<std::uint64_t>(t.values.size()) * sizeof(float);
    header += ti == 0 ? "{" : ",{";
    header += "\"name\":";
    header += json_string(t.name);
    header += ",\"rows\":";
    header += std::to_string(t.rows);
    header += ",\"cols\":";
    header += std::to_string(t.cols);
    header += ",\"dtype\":\"float32\",\"offset\":";
    header += std::to_string(offset);
    header += ",\"bytes\":";
    header += std::to_string(bytes);
    header += '}';
    offset += bytes;
  }
  const std::uint64_t data_bytes = offset;
  header += "],\"data_bytes\":";
  header += std::to_string(data_bytes);
  header += '}';
  if (header.size() > std::numeric_limits<std::uint32_t>::max()) {
    throw_model_file_error(file_error_kind::bad_table, p,
                           "the header (hyper-parameters, encoder, training) exceeds 4 GiB");
  }
  const std::uint64_t header_end = model_file_preamble_bytes + header.size();
  const std::uint64_t data_start = align_up(header_end, model_file_alignment);
  const std::uint64_t file_bytes = data_start + data_bytes + 8;

  std::array<unsigned char, model_file_preamble_bytes> preamble{};
  std::memcpy(preamble.data(), model_file_magic.data(), model_file_magic.size());
  put_u32(preamble.data() + 8, model_file_version);
  put_u32(preamble.data() + 12, static_cast<std::uint32_t>(header.size()));
  put_u64(preamble.data() + 16, file_bytes);
  put_u64(preamble.data() + 24, xxh3_of(header.data(), header.size()));
  put_u64(preamble.data() + 32, xxh3_of(preamble.data(), 32));

  atomic_file_writer out(p);
  out.write(preamble.data(), preamble.size());
  out.write(header);
  out.write_zeros(static_cast<std::size_t>(data_start - header_end));
  for (const named_table& t : f.tables) {
    const std::uint64_t here = out.written() - data_start;
    out.write_zeros(static_cast<std::size_t>(align_up(here, model_file_alignment) - here));
    out.write(t.values.data(), t.values.size() * sizeof(float));
  }
  std::array<unsigned char, 8> trailer{};
  put_u64(trailer.data(), out.checksum());
  out.write(trailer.data(), trailer.size());
  out.commit();
}

[[nodiscard]] inline std::string quoted_table(std::string_view name) {
  std::string s = "table '";
  s += name;
  s += '\'';
  return s;
}

[[nodiscard]] inline std::string duplicate_name(std::string_view name) {
  std::string s = "two tables are named '";
  s += name;
  s += '\'';
  return s;
}

/// "the file has format version 7, this build (mlsd 0.1.0) reads version 1".
[[nodiscard]] inline std::string unsupported_version_text(std::uint64_t version) {
  std::string d = "the file has format version ";
  d += std::to_string(version);
  d += ", this build (mlsd ";
  d += version_string;
  d += ") reads version";
  if (model_file_version == 1) {
    d += " 1";
  } else {
    d += "s 1 to ";
    d += std::to_string(model_file_version);
  }
  return d;
}

/// A JSON field, or the error that says it is missing or of the wrong type.
[[nodiscard]] inline const nlohmann::json& require(const nlohmann::json& object,
                                                   std::string_view key, std::string_view where,
                                                   bool (nlohmann::json::*is_type)() const noexcept,
                                                   std::string_view type_name,
                                                   const std::filesystem::path& p) {
  const auto it = object.find(key);
  if (it == object.end() || !((*it).*is_type)()) {
    std::string d(where);
    d += it == object.end() ? " has no \"" : " has a \"";
    d += key;
    d += it == object.end() ? "\" (expected " : "\" that is not ";
    d += type_name;
    d += it == object.end() ? ")" : "";
    throw_model_file_error(file_error_kind::corrupted, p, std::move(d));
  }
  return *it;
}

[[nodiscard]] inline std::size_t require_size(const nlohmann::json& object, std::string_view key,
                                              std::string_view where,
                                              const std::filesystem::path& p) {
  const auto& v =
      require(object, key, where, &nlohmann::json::is_number_unsigned, "a non-negative integer", p);
  const auto n = v.get<std::uint64_t>();
  if (n > std::numeric_limits<std::size_t>::max()) {
    std::string d(where);
    d += " has a \"";
    d += key;
    d += "\" too large for this machine";
    throw_model_file_error(file_error_kind::corrupted, p, std::move(d));
  }
  return static_cast<std::size_t>(n);
}

/// Checks the "format" and "version" keys of a JSON model file (or binary header).
inline void check_format_and_version(const nlohmann::json& j, const std::filesystem::path& p,
                                     file_error_kind not_ours) {
  if (!j.is_object()) {
    throw_model_file_error(not_ours, p, "the JSON document is not an object");
  }
  const auto format = j.find("format");
  if (format == j.end()) {
    throw_model_file_error(not_ours, p, "the JSON object has no \"format\" key");
  }
  if (!format->is_string() || format->get_ref<const std::string&>() != model_file_format_name) {
    std::string d = "\"format\" is ";
    d += format->dump();
    d += ", expected \"";
    d += model_file_format_name;
    d += '"';
    throw_model_file_error(not_ours, p, std::move(d));
  }
  const auto& version = require(j, "version", "the model file", &nlohmann::json::is_number_unsigned,
                                "a non-negative integer", p);
  const auto v = version.get<std::uint64_t>();
  if (v == 0 || v > model_file_version) {
    throw_model_file_error(file_error_kind::unsupported_version, p, unsupported_version_text(v));
  }
}

/// Fills the metadata of `f` from a parsed JSON model file or binary header.
inline void read_metadata(const nlohmann::json& j, model_file& f, std::string_view expected_type,
                          const std::filesystem::path& p) {
  f.model_type =
      require(j, "model_type", "the model file", &nlohmann::json::is_string, "a string", p)
          .get<std::string>();
  if (!expected_type.empty() && f.model_type != expected_type) {
    std::string d = "expected ";
    d += expected_type;
    d += ", file holds ";
    d += f.model_type;
    throw_model_file_error(file_error_kind::wrong_model_type, p, std::move(d));
  }
  if (const auto it = j.find("mlsd_version"); it != j.end() && it->is_string()) {
    f.mlsd_version = it->get<std::string>();
  }
  if (const auto it = j.find("hyper_parameters"); it != j.end()) {
    f.hyper_parameters = *it;
  }
  if (const auto it = j.find("feature_encoder"); it != j.end()) {
    f.feature_encoder = *it;
  }
  if (const auto it = j.find("training"); it != j.end()) {
    f.training = *it;
  }
  f.source = p;
}

[[nodiscard]] inline std::string table_where(std::size_t index) {
  std::string s = "table ";
  s += std::to_string(index);
  return s;
}

/// A JSON number as a float32: rounded to the nearest float, refused when outside its range.
[[nodiscard]] inline std::optional<float> json_to_float(const nlohmann::json& v) {
  if (!v.is_number()) {
    return std::nullopt;
  }
  const double d = v.get<double>();
  // Below FLT_MAX + half an ulp a double rounds to a finite float; at or above it, to infinity.
  constexpr double limit = 0x1.ffffffp127;
  if (!(std::fabs(d) < limit)) {
    return std::nullopt;
  }
  if (std::fabs(d) > static_cast<double>(std::numeric_limits<float>::max())) {
    return std::copysign(std::numeric_limits<float>::max(), static_cast<float>(d > 0 ? 1 : -1));
  }
  return static_cast<float>(d);
}

inline model_file load_json(const std::filesystem::path& p, std::string text, file_reader& in,
                            std::string_view expected_type) {
  text += in.read_rest();
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    // An object cut short ends "unexpected end of input": a truncated model file.
    const bool at_end = e.byte >= text.size();
    std::string d = "not valid JSON: ";
    d += e.what();
    throw_model_file_error(at_end ? file_error_kind::truncated : file_error_kind::not_a_model_file,
                           p, std::move(d));
  } catch (const nlohmann::json::exception& e) {
    std::string d = "not valid JSON: ";
    d += e.what();
    throw_model_file_error(file_error_kind::not_a_model_file, p, std::move(d));
  }
  check_format_and_version(j, p, file_error_kind::not_a_model_file);
  model_file f;
  read_metadata(j, f, expected_type, p);
  const auto& tables =
      require(j, "tables", "the model file", &nlohmann::json::is_array, "an array", p);
  f.tables.reserve(tables.size());
  for (std::size_t ti = 0; ti < tables.size(); ++ti) {
    const auto& tj = tables[ti];
    const std::string where = table_where(ti);
    if (!tj.is_object()) {
      throw_model_file_error(file_error_kind::corrupted, p, where + " is not an object");
    }
    named_table t;
    t.name =
        require(tj, "name", where, &nlohmann::json::is_string, "a string", p).get<std::string>();
    const std::string named = quoted_table(t.name);
    t.rows = require_size(tj, "rows", named, p);
    t.cols = require_size(tj, "cols", named, p);
    const auto& values = require(tj, "values", named, &nlohmann::json::is_array, "an array", p);
    const auto n = element_count(t.rows, t.cols);
    if (!n || *n != values.size()) {
      std::string d = named;
      d += " is ";
      d += shape_string(t.rows, t.cols);
      d += " but holds ";
      d += std::to_string(values.size());
      d += " values";
      throw_model_file_error(file_error_kind::corrupted, p, std::move(d));
    }
    t.values.resize(values.size());
    for (std::size_t i = 0; i < values.size(); ++i) {
      const auto v = json_to_float(values[i]);
      if (!v) {
        std::string d = named;
        d += " has ";
        d += values[i].dump();
        d += " at ";
        d += value_position(t, i);
        d += ", expected a number in the float32 range";
        throw_model_file_error(file_error_kind::corrupted, p, std::move(d));
      }
      t.values[i] = *v;
    }
    for (const auto& other : f.tables) {
      if (other.name == t.name) {
        throw_model_file_error(file_error_kind::corrupted, p, duplicate_name(t.name));
      }
    }
    f.tables.push_back(std::move(t));
  }
  return f;
}

inline model_file load_binary(const std::filesystem::path& p, file_reader& in,
                              const std::array<unsigned char, model_file_preamble_bytes>& pre,
                              std::string_view expected_type) {
  const std::uint64_t size = in.size();
  if (get_u64(pre.data() + 32) != xxh3_of(pre.data(), 32)) {
    throw_model_file_error(file_error_kind::corrupted, p,
                           "preamble checksum mismatch (bytes 0 to 39)");
  }
  const std::uint32_t version = get_u32(pre.data() + 8);
  if (version == 0 || version > model_file_version) {
    throw_model_file_error(file_error_kind::unsupported_version, p,
                           unsupported_version_text(version));
  }
  const std::uint64_t header_bytes = get_u32(pre.data() + 12);
  const std::uint64_t file_bytes = get_u64(pre.data() + 16);
  if (size < file_bytes) {
    std::string d = "the file has ";
    d += std::to_string(size);
    d += " bytes, its preamble says ";
    d += std::to_string(file_bytes);
    throw_model_file_error(file_error_kind::truncated, p, std::move(d));
  }
  if (size > file_bytes) {
    std::string d = "the file has ";
    d += std::to_string(size);
    d += " bytes, its preamble says ";
    d += std::to_string(file_bytes);
    d += " (trailing bytes)";
    throw_model_file_error(file_error_kind::corrupted, p, std::move(d));
  }
  const std::uint64_t header_end = model_file_preamble_bytes + header_bytes;
  const std::uint64_t data_start = align_up(header_end, model_file_alignment);
  if (data_start + 8 > file_bytes) {
    throw_model_file_error(file_error_kind::corrupted, p,
                           "the header size in the preamble does not fit the file size");
  }
  std::string header(static_cast<std::size_t>(header_bytes), '\0');
  in.read_exact(header.data(), header.size(), "the header");
  if (get_u64(pre.data() + 24) != xxh3_of(header.data(), header.size())) {
    throw_model_file_error(file_error_kind::corrupted, p, "header checksum mismatch");
  }
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(header);
  } catch (const nlohmann::json::exception& e) {
    std::string d = "the header is not valid JSON: ";
    d += e.what();
    throw_model_file_error(file_error_kind::corrupted, p, std::move(d));
  }
  check_format_and_version(j, p, file_error_kind::corrupted);
  if (j.at("version").get<std::uint64_t>() != version) {
    throw_model_file_error(file_error_kind::corrupted, p,
                           "the header's version differs from the preamble's");
  }
  const std::uint64_t data_bytes = require_size(j, "data_bytes", "the header", p);
  if (data_bytes != file_bytes - 8 - data_start) {
    throw_model_file_error(file_error_kind::corrupted, p,
                           "the header's data_bytes does not match the file size");
  }
  model_file f;
  read_metadata(j, f, expected_type, p);
  const auto& tables = require(j, "tables", "the header", &nlohmann::json::is_array, "an array", p);
  // Validate every shape and offset before reading any value, so that a bad header cannot make
  // the loader allocate more than the file holds.
  struct extent {
    std::uint64_t offset, bytes;
  };
  std::vector<extent> extents;
  std::uint64_t end = 0;
  for (std::size_t ti = 0; ti < tables.size(); ++ti) {
    const auto& tj = tables[ti];
    const std::string where = table_where(ti);
    if (!tj.is_object()) {
      throw_model_file_error(file_error_kind::corrupted, p, where + " is not an object");
    }
    named_table t;
    t.name =
        require(tj, "name", where, &nlohmann::json::is_string, "a string", p).get<std::string>();
    const std::string named = quoted_table(t.name);
    t.rows = require_size(tj, "rows", named, p);
    t.cols = require_size(tj, "cols", named, p);
    const auto& dtype = require(tj, "dtype", named, &nlohmann::json::is_string, "a string", p);
    if (dtype.get_ref<const std::string&>() != "float32") {
      throw_model_file_error(file_error_kind::corrupted, p,
                             named + " has dtype " + dtype.dump() + ", expected \"float32\"");
    }
    const std::uint64_t offset = require_size(tj, "offset", named, p);
    const std::uint64_t bytes = require_size(tj, "bytes", named, p);
    const auto n = element_count(t.rows, t.cols);
    if (!n || *n > data_bytes / sizeof(float) || *n * sizeof(float) != bytes) {
      throw_model_file_error(file_error_kind::corrupted, p,
                             named + " is " + shape_string(t.rows, t.cols) + " but has " +
                                 std::to_string(bytes) + " bytes");
    }
    if (offset % model_file_alignment != 0 || offset < end || offset > data_bytes ||
        bytes > data_bytes - offset) {
      throw_model_file_error(file_error_kind::corrupted, p,
                             named + " has an offset outside the data region, overlapping "
                                     "another table, or not aligned to 64 bytes");
    }
    for (const auto& other : f.tables) {
      if (other.name == t.name) {
        throw_model_file_error(file_error_kind::corrupted, p, duplicate_name(t.name));
      }
    }
    end = offset + bytes;
    extents.push_back({offset, bytes});
    f.tables.push_back(std::move(t));
  }
  in.skip(data_start - header_end, "the padding after the header");
  std::uint64_t at = 0;
  for (std::size_t ti = 0; ti < f.tables.size(); ++ti) {
    in.skip(extents[ti].offset - at, "the padding before a table");
    named_table& t = f.tables[ti];
    t.values.resize(static_cast<std::size_t>(extents[ti].bytes / sizeof(float)));
    in.read_exact(t.values.data(), static_cast<std::size_t>(extents[ti].bytes), "a table's values");
    at = extents[ti].offset + extents[ti].bytes;
  }
  in.skip(data_bytes - at, "the padding after the tables");
  const std::uint64_t computed = in.checksum();
  std::array<unsigned char, 8> trailer{};
  in.read_exact(trailer.data(), trailer.size(), "the checksum");
  if (get_u64(trailer.data()) != computed) {
    throw_model_file_error(file_error_kind::corrupted, p,
                           "checksum mismatch: the file changed after it was written");
  }
  return f;
}

} // namespace detail

inline void model_file::check_new_table(const named_table& t) const {
  detail::check_table(t, source);
  for (const auto& other : tables) {
    if (other.name == t.name) {
      std::string d = "two tables are named '";
      d += t.name;
      d += '\'';
      throw model_file_error(model_file_error::kind::bad_table, source, std::move(d));
    }
  }
}

/// Saves `f` at `p`, atomically: the file is written under a temporary name in the same directory
/// (`is_model_file_temporary`), flushed to disk (fsync), renamed over `p`, and the directory is
/// synced. Readers of `p` see the previous file or the new one, never a partial one, even if the
/// process dies mid-save. `format` defaults to `default_model_file_format(p)`.
/// @throws model_file_error: `bad_table` (before anything is written) when a table's shape and
/// values disagree, two tables share a name, or, in JSON, a value is NaN or infinite (naming the
/// table and position); `io` when writing fails, after removing the temporary (`p` is untouched).
/// std::invalid_argument when `f.model_type` is empty.
inline void save_model_file(const std::filesystem::path& p, const model_file& f,
                            std::optional<model_file_format> format = {}) {
  if (f.model_type.empty()) {
    std::string d = p.string();
    d += ": cannot save a model file without a model_type";
    throw std::invalid_argument(d);
  }
  detail::check_tables(f.tables, p);
  if (format.value_or(default_model_file_format(p)) == model_file_format::json) {
    detail::save_json(p, f);
  } else {
    detail::save_binary(p, f);
  }
}

/// Loads the model file at `p`, recognising the format by its first bytes (the binary magic, or a
/// JSON object), whatever the extension. With a non-empty `expected_type`, a file holding another
/// model type is refused before its tables are read. Binary tables are streamed into their
/// vectors while the checksum is computed: memory is the model's size plus a few KiB.
/// @throws model_file_error naming `p` and the problem: `io`, `not_a_model_file`, `truncated`,
/// `corrupted`, `unsupported_version`, `wrong_model_type`.
[[nodiscard]] inline model_file load_model_file(const std::filesystem::path& p,
                                                std::string_view expected_type = {}) {
  detail::file_reader in(p);
  std::array<unsigned char, model_file_preamble_bytes> pre{};
  const std::size_t got = in.read_some(pre.data(), pre.size());
  const std::size_t magic_bytes = std::min(got, model_file_magic.size());
  const bool magic_prefix =
      got != 0 && std::memcmp(pre.data(), model_file_magic.data(), magic_bytes) == 0;
  if (magic_prefix && got == pre.size()) {
    return detail::load_binary(p, in, pre, expected_type);
  }
  if (magic_prefix) {
    std::string d = "the file has ";
    d += std::to_string(got);
    d += " bytes, fewer than the ";
    d += std::to_string(model_file_preamble_bytes);
    d += "-byte preamble of a binary model file";
    detail::throw_model_file_error(detail::file_error_kind::truncated, p, std::move(d));
  }
  // JSON: the first non-blank byte (after an optional UTF-8 byte order mark) opens an object.
  std::size_t i = got >= 3 && pre[0] == 0xEF && pre[1] == 0xBB && pre[2] == 0xBF ? 3 : 0;
  while (i < got && (pre[i] == ' ' || pre[i] == '\t' || pre[i] == '\n' || pre[i] == '\r')) {
    ++i;
  }
  if (i < got && pre[i] == '{') {
    // The bytes already read plus the rest: the file is opened once, so a concurrent save (a
    // rename) cannot mix two files.
    return detail::load_json(p, std::string(reinterpret_cast<const char*>(pre.data()), got), in,
                             expected_type);
  }
  detail::throw_model_file_error(
      detail::file_error_kind::not_a_model_file, p,
      got == 0 ? std::string("the file is empty")
               : std::string("it starts with neither the binary magic \"MLSDMODL\" nor a JSON "
                             "object"));
}

/// A model that converts to and from a `model_file`: `M::model_type`, `m.to_model_file()` and
/// `M::from_model_file(f)` (which throws `model_file_error` `bad_table` / `missing_table` when
/// the tables disagree with the hyper-parameters).
template <class M>
concept model_file_serializable = requires(const M& m, const model_file& f) {
  { M::model_type } -> std::convertible_to<std::string_view>;
  { m.to_model_file() } -> std::same_as<model_file>;
  { M::from_model_file(f) } -> std::same_as<M>;
};

/// Saves `model` at `p` (see `save_model_file`); the file's model type is `M::model_type`.
/// @throws std::logic_error when `to_model_file()` names another model type.
template <model_file_serializable M>
void save_model(const M& model, const std::filesystem::path& p,
                std::optional<model_file_format> format = {}) {
  model_file f = model.to_model_file();
  if (f.model_type.empty()) {
    f.model_type = std::string(M::model_type);
  } else if (f.model_type != M::model_type) {
    std::string d = "to_model_file() of ";
    d += M::model_type;
    d += " wrote model_type ";
    d += f.model_type;
    throw std::logic_error(d);
  }
  save_model_file(p, f, format);
}

/// Loads a model of type `M` from `p` (see `load_model_file`).
/// @throws model_file_error: every kind of `load_model_file` (`wrong_model_type` when the file
/// holds another model), `missing_table` / `bad_table` from `M::from_model_file`, and `corrupted`
/// when the hyper-parameters do not parse (a JSON type error or an invalid config).
template <model_file_serializable M>
[[nodiscard]] M load_model(const std::filesystem::path& p) {
  const model_file f = load_model_file(p, M::model_type);
  try {
    return M::from_model_file(f);
  } catch (const model_file_error& e) {
    if (e.path().empty()) {
      throw model_file_error(e.problem(), p, e.detail());
    }
    throw;
  } catch (const nlohmann::json::exception& e) {
    std::string d = "the hyper-parameters do not fit ";
    d += M::model_type;
    d += ": ";
    d += e.what();
    throw model_file_error(model_file_error::kind::corrupted, p, std::move(d));
  } catch (const config_error& e) {
    std::string d = "the hyper-parameters are invalid: ";
    d += e.what();
    throw model_file_error(model_file_error::kind::corrupted, p, std::move(d));
  }
}

} // namespace model
MLSD_END_NAMESPACE
