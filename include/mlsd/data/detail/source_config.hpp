/// @file
/// The settings every line-based table source (csv.hpp, json_lines.hpp) has: the longest record
/// and the line reader's chunk and line limits, validated, written and read the same way.
#pragma once

#include <mlsd/core/error.hpp>
#include <mlsd/core/version.hpp>
#include <mlsd/data/detail/config_json.hpp>
#include <mlsd/data/ingest.hpp>

#include <cstddef>
#include <string_view>

MLSD_BEGIN_NAMESPACE
namespace data::detail {

/// Throws `config_error` naming `prefix.max_record_bytes` or `prefix.reader` when a limit is 0.
inline void validate_source_limits(std::string_view prefix, std::size_t max_record_bytes,
                                   const line_reader_config& reader) {
  if (max_record_bytes == 0) {
    throw config_error(field_path(prefix, "max_record_bytes"), "a positive size");
  }
  if (reader.chunk_bytes == 0 || reader.max_line_bytes == 0) {
    throw config_error(field_path(prefix, "reader"), "positive chunk_bytes and max_line_bytes");
  }
}

/// Writes the limits as `max_record_bytes`, `chunk_bytes` and `max_line_bytes` into object `j`.
template <class Json>
void write_source_limits(Json& j, std::size_t max_record_bytes, const line_reader_config& reader) {
  j["max_record_bytes"] = max_record_bytes;
  j["chunk_bytes"] = reader.chunk_bytes;
  j["max_line_bytes"] = reader.max_line_bytes;
}

/// Reads the keys `write_source_limits` writes; absent ones keep their values.
template <class Json>
void read_source_limits(config_reader<Json>& r, std::size_t& max_record_bytes,
                        line_reader_config& reader) {
  r.read("max_record_bytes", max_record_bytes);
  r.read("chunk_bytes", reader.chunk_bytes);
  r.read("max_line_bytes", reader.max_line_bytes);
}

} // namespace data::detail
MLSD_END_NAMESPACE
