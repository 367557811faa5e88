/// @file
/// The data side of the `mlsd` tool: detecting a file's format from its first lines, and loading
/// LIBSVM / libffm / CSV files into what the models take (a CSR `sparse_batch`, a ratings table,
/// a dense numeric table). Every row remembers its input line, so that an error found after
/// parsing (a feature beyond the model's range) still names `file:line`.
#pragma once

#include <mlsd/core/error.hpp>
#include <mlsd/core/sparse.hpp>
#include <mlsd/data/csv.hpp>
#include <mlsd/data/detail/xxh3.hpp>
#include <mlsd/data/ingest.hpp>
#include <mlsd/data/libffm.hpp>
#include <mlsd/data/libsvm.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <vector>

namespace mlsd_cli {

/// The text formats the tool reads.
enum class data_format { libsvm, libffm, csv };

/// "libsvm", "libffm" or "csv".
[[nodiscard]] inline std::string to_string(data_format f) {
  switch (f) {
  case data_format::libsvm:
    return "libsvm";
  case data_format::libffm:
    return "libffm";
  case data_format::csv:
    return "csv";
  }
  return "?";
}

/// The format named `name`; nullopt for any other name.
[[nodiscard]] inline std::optional<data_format> parse_data_format(std::string_view name) {
  if (name == "libsvm") {
    return data_format::libsvm;
  }
  if (name == "libffm") {
    return data_format::libffm;
  }
  if (name == "csv") {
    return data_format::csv;
  }
  return std::nullopt;
}

/// Throws `input_error` unless `path` names a non-empty regular file: a missing file, a directory
/// and an empty file each get their own message (the parsers would report a directory as an
/// empty file, which hides the mistake).
inline void require_data_file(const std::filesystem::path& path) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(status)) {
    throw mlsd::input_error({path.string()}, "an existing file", "no such file");
  }
  if (std::filesystem::is_directory(status)) {
    throw mlsd::input_error({path.string()}, "a file", "a directory");
  }
  if (std::filesystem::is_regular_file(status) && std::filesystem::file_size(path, ec) == 0 &&
      !ec) {
    throw mlsd::input_error({path.string()}, "a non-empty file", "an empty file");
  }
}

/// A detected format and the evidence for it ("line 1 has 'index:value' entries").
struct format_guess {
  data_format format = data_format::libsvm;
  std::string evidence;
};

namespace detail {

/// The format one line suggests, with the 1-based byte column of the token that says so.
struct line_vote {
  std::optional<data_format> format;
  std::size_t column = 0;
  std::string token;
};

[[nodiscard]] inline bool is_blank(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\r';
}

[[nodiscard]] inline line_vote vote_of(std::string_view line, std::uint64_t number,
                                       const std::string& file) {
  line_vote vote;
  if (const std::size_t comma = line.find(','); comma != std::string_view::npos) {
    vote.format = data_format::csv;
    vote.column = comma + 1;
    vote.token = ",";
    return vote;
  }
  std::size_t i = 0;
  bool label = true;
  while (i < line.size()) {
    while (i < line.size() && is_blank(line[i])) {
      ++i;
    }
    if (i == line.size() || line[i] == '#') {
      break;
    }
    const std::size_t start = i;
    while (i < line.size() && !is_blank(line[i])) {
      ++i;
    }
    if (label) {
      label = false;
      continue;
    }
    const std::string_view token = line.substr(start, i - start);
    const auto colons = std::count(token.begin(), token.end(), ':');
    const std::optional<data_format> f =
        colons == 1 ? std::optional(data_format::libsvm)
                    : (colons == 2 ? std::optional(data_format::libffm) : std::nullopt);
    if (!f) {
      continue; // not an entry at all: the parser will say what is wrong with it
    }
    if (vote.format && *vote.format != *f) {
      std::string expected = "entries of one format in a line (mixed formats: '";
      expected += vote.token;
      expected += "' is ";
      expected += to_string(*vote.format);
      expected += ')';
      throw mlsd::input_error({file, number, start + 1}, std::move(expected), std::string(token));
    }
    if (!vote.format) {
      vote.format = f;
      vote.column = start + 1;
      vote.token = std::string(token);
    }
  }
  return vote;
}

} // namespace detail

/// Detects the format of `path` from its first `max_lines` lines that hold something: a comma in
/// the first line means CSV with a header; otherwise `field:index:value` entries mean libffm and
/// `index:value` entries mean LIBSVM. Every voting line must agree: a file whose lines disagree
/// (mixed formats) is an `input_error` naming the first line that disagrees and what the earlier
/// one said. Throws `input_error` for a missing, empty or unreadable file, or one whose first
/// lines hold no feature at all. Reads at most `max_lines` lines.
[[nodiscard]] inline format_guess detect_format(const std::filesystem::path& path,
                                                std::size_t max_lines = 32) {
  require_data_file(path);
  mlsd::data::line_reader reader(path);
  mlsd::data::text_line line;
  std::optional<data_format> seen;
  std::uint64_t seen_line = 0;
  std::string seen_token;
  std::size_t looked = 0;
  bool first = true;
  while (looked < max_lines && reader.next(line)) {
    const std::string_view text = line.text;
    if (text.find_first_not_of(" \t\r") == std::string_view::npos) {
      continue;
    }
    ++looked;
    if (text[text.find_first_not_of(" \t\r")] == '#') { // a comment line does not vote
      continue;
    }
    const detail::line_vote vote = detail::vote_of(text, line.number, reader.name());
    if (first && vote.format == data_format::csv) {
      return {data_format::csv,
              "line " + std::to_string(line.number) + " has commas (read as a CSV header)"};
    }
    first = false;
    if (!vote.format) {
      continue;
    }
    if (seen && *seen != *vote.format) {
      std::string expected = "the format of line ";
      expected += std::to_string(seen_line);
      expected += " (mixed formats: '";
      expected += seen_token;
      expected += "' is ";
      expected += to_string(*seen);
      expected += "; give --format to read the file as one format)";
      throw mlsd::input_error({reader.name(), line.number, vote.column}, std::move(expected),
                              vote.token);
    }
    if (!seen) {
      seen = vote.format;
      seen_line = line.number;
      seen_token = vote.token;
    }
  }
  if (!seen) {
    throw mlsd::input_error({reader.name()},
                            "features in the first lines ('index:value' for libsvm, "
                            "'field:index:value' for libffm, or a CSV header); give --format",
                            "none");
  }
  std::string evidence = "line ";
  evidence += std::to_string(seen_line);
  evidence += *seen == data_format::libffm ? " has field:index:value entries ('"
                                           : " has index:value entries ('";
  evidence += seen_token;
  evidence += "')";
  return {*seen, std::move(evidence)};
}

/// How the entries of a file become a model's features, saved in the model file
/// (`feature_encoder`) so that `predict` and `eval` read new files exactly as training did.
struct sparse_encoding {
  data_format format = data_format::libsvm;
  /// 0: feature indices are used as they are; b > 0: each (field, index) is hashed into 2^b
  /// buckets with XXH3 (Weinberger et al. 2009), so the model's size no longer depends on the
  /// largest index in the data.
  std::uint32_t hash_bits = 0;
  std::uint64_t hash_seed = 0;
  /// CSV only: the label column and the feature columns, in feature-index order.
  std::string label_column;
  std::vector<std::string> columns;
  /// Rows carry fields (libffm entries; for CSV, each column is its own field): for FFM.
  bool field_aware = false;
  /// How the file counts feature indices (and libffm fields): nullopt for the format's own
  /// convention, 1 for LIBSVM and 0 for libffm; 0 for libFM's LIBSVM-like files.
  std::optional<std::uint32_t> index_base;

  /// The index base in effect.
  [[nodiscard]] std::uint32_t base() const noexcept {
    return index_base.value_or(format == data_format::libsvm ? 1u : 0u);
  }

  [[nodiscard]] nlohmann::json to_json() const {
    nlohmann::json j = {{"kind", "sparse_file"},      {"format", to_string(format)},
                        {"field_aware", field_aware}, {"index_base", base()},
                        {"hash_bits", hash_bits},     {"hash_seed", hash_seed}};
    if (format == data_format::csv) {
      j["label_column"] = label_column;
      j["columns"] = columns;
    }
    return j;
  }

  /// Reads what `to_json` wrote; throws `config_error` naming the key when it does not fit.
  [[nodiscard]] static sparse_encoding from_json(const nlohmann::json& j) {
    sparse_encoding e;
    if (!j.is_object() || j.value("kind", "") != "sparse_file") {
      throw mlsd::config_error("feature_encoder.kind", "\"sparse_file\"");
    }
    const auto f = parse_data_format(j.value("format", ""));
    if (!f) {
      throw mlsd::config_error("feature_encoder.format", "libsvm, libffm or csv");
    }
    e.format = *f;
    e.field_aware = j.value("field_aware", false);
    if (j.contains("index_base")) {
      e.index_base = j.at("index_base").get<std::uint32_t>();
    }
    e.hash_bits = j.value("hash_bits", 0u);
    e.hash_seed = j.value("hash_seed", std::uint64_t{0});
    if (e.format == data_format::csv) {
      e.label_column = j.value("label_column", "");
      e.columns = j.value("columns", std::vector<std::string>{});
    }
    return e;
  }
};

/// A file's rows in CSR form, each with the input line it came from, and the number of features
/// and fields the rows use (largest index + 1).
struct sparse_data {
  mlsd::sparse_batch rows;
  std::vector<std::uint64_t> lines;
  std::size_t features = 0;
  std::size_t fields = 0;
  std::string file;
  /// Rows without any feature (still used: the model scores them by its bias).
  std::size_t empty_rows = 0;
};

/// The largest feature index and field a model accepts; rows beyond are errors, not dropped.
struct feature_range {
  std::size_t features = 0;
  std::size_t fields = 0;
};

namespace detail {

[[nodiscard]] inline std::uint32_t hashed_index(std::uint32_t field, std::uint32_t index,
                                                const sparse_encoding& e) noexcept {
  const std::uint64_t key = (std::uint64_t{field} << 32) | index;
  unsigned char bytes[8];
  for (int b = 0; b < 8; ++b) {
    bytes[b] = static_cast<unsigned char>(key >> (8 * b));
  }
  const std::uint64_t h = mlsd::data::detail::xxh3_64(bytes, sizeof bytes, e.hash_seed);
  return static_cast<std::uint32_t>(h & ((std::uint64_t{1} << e.hash_bits) - 1));
}

// The error of a row that uses a feature (or field) the model does not have, in the file's own
// numbering: LIBSVM counts indices from 1, libffm from 0.
[[nodiscard]] inline mlsd::input_error beyond_range(const sparse_data& out, std::uint64_t line,
                                                    const sparse_encoding& e,
                                                    const feature_range& range, bool field,
                                                    std::uint32_t stored) {
  const std::size_t base = e.format == data_format::csv ? 0 : e.base();
  const std::size_t count = field ? range.fields : range.features;
  std::string expected = field ? "fields the model knows (" : "feature indices the model knows (";
  if (count == 0) {
    expected += "none";
  } else {
    expected += std::to_string(base);
    expected += " to ";
    expected += std::to_string(count - 1 + base);
  }
  expected += "), in row ";
  expected += std::to_string(out.rows.size() + 1);
  return mlsd::input_error({out.file, line}, std::move(expected),
                           std::to_string(std::size_t{stored} + base));
}

// Appends `row` to `out`, hashing it when the encoding says so, and checks it against `range`.
inline void append_row(const mlsd::sparse_row& row, std::uint64_t line, const sparse_encoding& e,
                       const std::optional<feature_range>& range, sparse_data& out) {
  const bool fields = e.field_aware && row.nnz() == row.fields.size();
  out.rows.start_row(row.label);
  for (std::size_t k = 0; k < row.nnz(); ++k) {
    const std::uint32_t field = fields ? row.fields[k] : 0;
    const std::uint32_t index =
        e.hash_bits ? hashed_index(field, row.indices[k], e) : row.indices[k];
    if (range && (index >= range->features || (fields && field >= range->fields))) {
      out.rows.discard_row();
      throw beyond_range(out, line, e, *range, fields && field >= range->fields,
                         fields && field >= range->fields ? field : row.indices[k]);
    }
    if (fields) {
      out.rows.push_back(field, index, row.values[k]);
      out.fields = std::max<std::size_t>(out.fields, std::size_t{field} + 1);
    } else {
      out.rows.push_back(index, row.values[k]);
    }
    out.features = std::max<std::size_t>(out.features, std::size_t{index} + 1);
  }
  out.rows.finish_row();
  out.lines.push_back(line);
  out.empty_rows += row.nnz() == 0 ? 1 : 0;
}

inline void load_text_rows(const std::filesystem::path& path, const sparse_encoding& e,
                           const std::optional<feature_range>& range, sparse_data& out) {
  mlsd::data::line_reader reader(path);
  mlsd::data::text_line line;
  mlsd::sparse_row row;
  mlsd::data::libsvm_config svm;
  mlsd::data::libffm_config ffm;
  svm.index_base = ffm.index_base = e.base();
  while (reader.next(line)) {
    const mlsd::input_position where(reader.name(), line.number);
    const bool record = e.format == data_format::libffm
                            ? mlsd::data::parse_libffm_line(line.text, row, ffm, where)
                            : mlsd::data::parse_libsvm_line(line.text, row, svm, where);
    if (record) {
      append_row(row, line.number, e, range, out);
    }
  }
}

/// The header of a CSV file, read with every column as a string.
[[nodiscard]] inline std::vector<std::string> csv_header(const std::filesystem::path& path) {
  const mlsd::data::csv_source probe(path);
  return probe.header();
}

[[nodiscard]] inline bool contains(const std::vector<std::string>& names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

inline void load_csv_rows(const std::filesystem::path& path, const sparse_encoding& e,
                          bool need_labels, const std::optional<feature_range>& range,
                          sparse_data& out) {
  const std::vector<std::string> header = csv_header(path);
  const bool has_label = contains(header, e.label_column);
  if (need_labels && !has_label) {
    throw mlsd::input_error({path.string(), 1}, "a label column '" + e.label_column + "'",
                            "no such column in the header");
  }
  std::vector<mlsd::data::column> columns;
  for (const std::string& name : e.columns) {
    columns.push_back({name, mlsd::data::column_type::float64, true});
  }
  if (has_label) {
    columns.push_back({e.label_column, mlsd::data::column_type::float64, false});
  }
  mlsd::data::csv_config cfg;
  cfg.schema = mlsd::data::record_schema(std::move(columns));
  mlsd::data::csv_source source(path, cfg);
  mlsd::data::record r;
  mlsd::sparse_row row;
  while (source.next(r)) {
    row.clear();
    row.label = has_label ? static_cast<float>(r.get<double>(e.columns.size())) : 0.0f;
    for (std::size_t c = 0; c < e.columns.size(); ++c) {
      if (const double* v = r.get_if<double>(c)) { // a missing value is an absent feature
        row.push_back(static_cast<std::uint32_t>(c), static_cast<std::uint32_t>(c),
                      static_cast<float>(*v));
      }
    }
    append_row(row, r.line(), e, range, out);
  }
}

} // namespace detail

/// The feature columns of a CSV file for training: every header column except the label and the
/// dropped ones, in header order. Throws `input_error` when a named column is not in the header.
[[nodiscard]] inline std::vector<std::string>
csv_feature_columns(const std::filesystem::path& path, const std::string& label_column,
                    const std::vector<std::string>& dropped, bool label_required) {
  require_data_file(path);
  const std::vector<std::string> header = detail::csv_header(path);
  if (label_required && !detail::contains(header, label_column)) {
    throw mlsd::input_error({path.string(), 1},
                            "a label column '" + label_column + "' (see --label-col)",
                            "no such column in the header");
  }
  for (const std::string& d : dropped) {
    if (!detail::contains(header, d)) {
      throw mlsd::input_error({path.string(), 1}, "a column '" + d + "' (see --drop-col)",
                              "no such column in the header");
    }
  }
  std::vector<std::string> out;
  for (const std::string& name : header) {
    if (name != label_column && !detail::contains(dropped, name)) {
      out.push_back(name);
    }
  }
  if (out.empty()) {
    throw mlsd::input_error({path.string(), 1}, "at least one feature column", "none");
  }
  return out;
}

/// Loads `path` as `encoding` says. With `range`, a row that uses a feature or field beyond it
/// is an `input_error` naming the file, line and row. `need_labels`: CSV files must have the
/// label column (LIBSVM and libffm lines always carry a label).
[[nodiscard]] inline sparse_data load_sparse(const std::filesystem::path& path,
                                             const sparse_encoding& encoding, bool need_labels,
                                             const std::optional<feature_range>& range = {}) {
  require_data_file(path);
  sparse_data out;
  out.file = path.string();
  if (encoding.format == data_format::csv) {
    detail::load_csv_rows(path, encoding, need_labels, range, out);
  } else {
    detail::load_text_rows(path, encoding, range, out);
  }
  if (out.rows.empty()) {
    throw mlsd::input_error({out.file}, "at least one example", "no rows");
  }
  return out;
}

/// Ratings for matrix factorisation: (user, item, rating) triples with users and items mapped to
/// dense ids in order of first appearance.
struct rating_data {
  std::vector<std::uint32_t> users;
  std::vector<std::uint32_t> items;
  std::vector<float> ratings;
  std::vector<std::uint64_t> lines;
  std::string file;
};

/// Maps the text ids of users or items to dense indices, in order of first appearance; saved in
/// the model file so that prediction maps ids exactly as training did.
class id_vocabulary {
public:
  /// The index of `id`, adding it when it is new.
  std::uint32_t add(std::string_view id) {
    const auto [it, inserted] =
        index_.try_emplace(std::string(id), static_cast<std::uint32_t>(ids_.size()));
    if (inserted) {
      ids_.emplace_back(id);
    }
    return it->second;
  }
  /// The index of `id`, or nullopt for an id never seen in training.
  [[nodiscard]] std::optional<std::uint32_t> find(std::string_view id) const {
    const auto it = index_.find(std::string(id));
    return it == index_.end() ? std::nullopt : std::optional(it->second);
  }
  [[nodiscard]] std::size_t size() const noexcept { return ids_.size(); }
  [[nodiscard]] const std::vector<std::string>& ids() const noexcept { return ids_; }

  [[nodiscard]] static id_vocabulary from_ids(const std::vector<std::string>& ids) {
    id_vocabulary v;
    for (const std::string& id : ids) {
      (void)v.add(id);
    }
    return v;
  }

private:
  std::unordered_map<std::string, std::uint32_t> index_;
  std::vector<std::string> ids_;
};

/// The column names of a ratings file.
struct rating_columns {
  std::string user = "user";
  std::string item = "item";
  std::string rating = "rating";
};

/// Reads a CSV ratings file (header required; other columns such as a timestamp are ignored).
/// With `grow` the vocabularies learn new ids; without, a row whose user or item is unknown keeps
/// `unknown_id` in its place and is counted in `unknown`. `need_ratings`: the rating column must
/// be there (training, eval); without it the ratings are 0.
[[nodiscard]] inline rating_data load_ratings(const std::filesystem::path& path,
                                              const rating_columns& names, id_vocabulary& users,
                                              id_vocabulary& items, bool grow, bool need_ratings,
                                              std::size_t& unknown) {
  constexpr std::uint32_t unknown_id = 0xffffffffu;
  require_data_file(path);
  const std::vector<std::string> header = detail::csv_header(path);
  for (const std::string* name : {&names.user, &names.item}) {
    if (!detail::contains(header, *name)) {
      throw mlsd::input_error({path.string(), 1},
                              "a column '" + *name + "' (see --user-col, --item-col)",
                              "no such column in the header");
    }
  }
  const bool has_rating = detail::contains(header, names.rating);
  if (need_ratings && !has_rating) {
    throw mlsd::input_error({path.string(), 1},
                            "a column '" + names.rating + "' (see --rating-col)",
                            "no such column in the header");
  }
  std::vector<mlsd::data::column> columns = {{names.user, mlsd::data::column_type::string},
                                             {names.item, mlsd::data::column_type::string}};
  if (has_rating) {
    columns.push_back({names.rating, mlsd::data::column_type::float64});
  }
  mlsd::data::csv_config cfg;
  cfg.schema = mlsd::data::record_schema(std::move(columns));
  mlsd::data::csv_source source(path, cfg);
  rating_data out;
  out.file = path.string();
  mlsd::data::record r;
  while (source.next(r)) {
    const std::string& u = r.get<std::string>(0);
    const std::string& i = r.get<std::string>(1);
    std::optional<std::uint32_t> uid = grow ? std::optional(users.add(u)) : users.find(u);
    std::optional<std::uint32_t> iid = grow ? std::optional(items.add(i)) : items.find(i);
    unknown += (!uid || !iid) ? 1 : 0;
    out.users.push_back(uid.value_or(unknown_id));
    out.items.push_back(iid.value_or(unknown_id));
    out.ratings.push_back(has_rating ? static_cast<float>(r.get<double>(2)) : 0.0f);
    out.lines.push_back(r.line());
  }
  if (out.ratings.empty()) {
    throw mlsd::input_error({out.file}, "at least one rating", "no rows");
  }
  return out;
}

/// A numeric table for the dense models (isolation forest): row-major values of the feature
/// columns, and the label column when there is one.
struct dense_data {
  std::vector<std::string> columns;
  std::vector<float> values; ///< rows × columns.size(), row-major
  std::vector<float> labels; ///< empty without a label column
  std::vector<std::uint64_t> lines;
  std::size_t rows = 0;
  std::string file;
};

/// Reads the numeric `columns` of a CSV file (every value present and finite: an isolation forest
/// has no notion of a missing value), and `label_column` when it is not empty and in the file.
[[nodiscard]] inline dense_data load_dense(const std::filesystem::path& path,
                                           const std::vector<std::string>& columns,
                                           const std::string& label_column, bool need_labels) {
  require_data_file(path);
  const std::vector<std::string> header = detail::csv_header(path);
  const bool has_label = !label_column.empty() && detail::contains(header, label_column);
  if (need_labels && !has_label) {
    throw mlsd::input_error({path.string(), 1},
                            label_column.empty() ? std::string("a label column (see --label-col)")
                                                 : "a label column '" + label_column + "'",
                            "no such column in the header");
  }
  std::vector<mlsd::data::column> schema;
  for (const std::string& name : columns) {
    schema.push_back({name, mlsd::data::column_type::float64});
  }
  if (has_label) {
    schema.push_back({label_column, mlsd::data::column_type::float64});
  }
  mlsd::data::csv_config cfg;
  cfg.schema = mlsd::data::record_schema(std::move(schema));
  mlsd::data::csv_source source(path, cfg);
  dense_data out;
  out.columns = columns;
  out.file = path.string();
  mlsd::data::record r;
  while (source.next(r)) {
    for (std::size_t c = 0; c < columns.size(); ++c) {
      out.values.push_back(static_cast<float>(r.get<double>(c)));
    }
    if (has_label) {
      out.labels.push_back(static_cast<float>(r.get<double>(columns.size())));
    }
    out.lines.push_back(r.line());
    ++out.rows;
  }
  if (out.rows == 0) {
    throw mlsd::input_error({out.file}, "at least one row", "no rows");
  }
  return out;
}

} // namespace mlsd_cli
