/// @file
/// The name of a type as a string, for reports and diagrams (`describe()`).
#pragma once

#include <mlsd/core/version.hpp>

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

MLSD_BEGIN_NAMESPACE
namespace detail {

template <class T>
constexpr std::string_view raw_type_name() noexcept {
  return __PRETTY_FUNCTION__;
}

/// The compiler's spelling of `T` (from `__PRETTY_FUNCTION__`, which g++ and clang++ both give as
/// "... [with T = <name>; ...]" or "... [T = <name>]").
template <class T>
constexpr std::string_view type_name_view() noexcept {
  const std::string_view f = raw_type_name<T>();
  const std::size_t start = f.find("T = ") + 4;
  std::size_t end = f.find(';', start);
  if (end == std::string_view::npos) {
    end = f.rfind(']');
  }
  return f.substr(start, end - start);
}

/// The parts, concatenated. Used instead of `"literal" + std::string`, which g++ 12 flags with a
/// false -Wrestrict at -O2 and above (GCC bug 105329).
inline std::string concat(std::initializer_list<std::string_view> parts) {
  std::size_t size = 0;
  for (std::string_view p : parts) {
    size += p.size();
  }
  std::string out;
  out.reserve(size);
  for (std::string_view p : parts) {
    out.append(p);
  }
  return out;
}

/// `s` with every `from` replaced by `to` (rebuilt rather than edited in place, for the same
/// g++ 12 false positive as `concat`).
inline void replace_all(std::string& s, std::string_view from, std::string_view to) {
  std::string out;
  out.reserve(s.size());
  std::size_t done = 0;
  for (std::size_t at = s.find(from); at != std::string::npos; at = s.find(from, done)) {
    out.append(s, done, at - done).append(to);
    done = at + from.size();
  }
  out.append(s, done, std::string::npos);
  s = std::move(out);
}

/// `T`'s name as people write it: without mlsd's versioned inline namespace, without the
/// dynamic extent of `std::span` and with `std::vector`'s default allocator dropped.
template <class T>
std::string type_name() {
  std::string s(type_name_view<T>());
  replace_all(s, "mlsd::v0::", "mlsd::");
  replace_all(s, ", 18446744073709551615>", ">");
  replace_all(s, "std::__cxx11::", "std::");
  replace_all(s, "std::basic_string<char>", "std::string");
  replace_all(s, "long unsigned int", "unsigned long"); // g++'s spelling
  replace_all(s, "long int", "long");
  // libstdc++ spells vector<T> as vector<T, std::allocator<T> > (g++) or vector<T> (clang++).
  for (std::size_t at = s.find(", std::allocator<"); at != std::string::npos;
       at = s.find(", std::allocator<", at)) {
    int depth = 0;
    std::size_t end = at + 2;
    for (; end < s.size(); ++end) {
      if (s[end] == '<') {
        ++depth;
      } else if (s[end] == '>' && --depth == 0) {
        break;
      }
    }
    s.erase(at, end + 1 - at);
  }
  replace_all(s, " >", ">");
  replace_all(s, " &", "&"); // clang++ writes `const T &`
  replace_all(s, " *", "*");
  return s;
}

} // namespace detail
MLSD_END_NAMESPACE
