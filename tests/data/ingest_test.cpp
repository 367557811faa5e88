// The bounded-memory line reader and the fail / skip error policy.
#include <mlsd/data/ingest.hpp>

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

std::vector<std::string> all_lines(mlsd::data::line_reader& r) {
  std::vector<std::string> out;
  mlsd::data::text_line line;
  std::uint64_t expected_number = 1;
  while (r.next(line)) {
    CHECK(line.number == expected_number++);
    out.emplace_back(line.text);
  }
  return out;
}

std::filesystem::path temp_file(const std::string& name, const std::string& content) {
  const auto path = std::filesystem::temp_directory_path() / ("mlsd_ingest_test_" + name);
  std::ofstream(path, std::ios::binary) << content;
  return path;
}

} // namespace

TEST_CASE("line_reader: line ends, BOM, last line without newline", "[data][ingest]") {
  using mlsd::data::line_reader;
  auto r = line_reader::from_string("\xEF\xBB\xBFh1,h2\r\nx\n\n  last", "t.csv");
  CHECK(all_lines(r) == std::vector<std::string>{"h1,h2", "x", "", "  last"});
  auto empty = line_reader::from_string("");
  CHECK(all_lines(empty).empty());
  auto only_newline = line_reader::from_string("\n");
  CHECK(all_lines(only_newline) == std::vector<std::string>{""});
  // A BOM is skipped only at the very start of the input.
  auto late_bom = line_reader::from_string("a\n\xEF\xBB\xBF"
                                           "b\n");
  CHECK(all_lines(late_bom) == std::vector<std::string>{"a", "\xEF\xBB\xBF"
                                                             "b"});
  // A lone \r inside a line is data; only the \r before \n is a line end.
  auto cr = line_reader::from_string("a\rb\r\n");
  CHECK(all_lines(cr) == std::vector<std::string>{"a\rb"});
  // NUL bytes pass through (parsers decide what they mean).
  auto nul = line_reader::from_string(std::string("a\0b\n", 4));
  CHECK(all_lines(nul) == std::vector<std::string>{std::string("a\0b", 3)});
}

TEST_CASE("line_reader: a file larger than its buffer, lines longer than a chunk",
          "[data][ingest]") {
  std::ostringstream content;
  std::vector<std::string> expected;
  for (int i = 0; i < 5000; ++i) {
    expected.push_back("row " + std::to_string(i));
    content << expected.back() << (i % 3 == 0 ? "\r\n" : "\n");
  }
  expected.push_back(std::string(1'500'000, 'x')); // a line over 1 MB
  content << expected.back() << '\n';
  expected.emplace_back("tail");
  content << "tail";
  const auto path = temp_file("big.txt", content.str());
  mlsd::data::line_reader::config cfg;
  cfg.chunk_bytes = 4096;
  mlsd::data::line_reader r(path, cfg);
  CHECK(all_lines(r) == expected);
  CHECK(r.bytes_read() == content.str().size());
  CHECK(r.name() == path.string());
  std::filesystem::remove(path);
}

TEST_CASE("line_reader: a line over max_line_bytes is an error naming its line", "[data][ingest]") {
  mlsd::data::line_reader::config cfg;
  cfg.chunk_bytes = 64;
  cfg.max_line_bytes = 100;
  const auto path = temp_file("long.txt", "ok\nok\n" + std::string(500, 'y') + "\nok\n");
  mlsd::data::line_reader r(path, cfg);
  mlsd::data::text_line line;
  CHECK(r.next(line));
  CHECK(r.next(line));
  try {
    (void)r.next(line);
    FAIL("no error for a 500-byte line");
  } catch (const mlsd::input_error& e) {
    CHECK(e.where().line == 3);
    CHECK(e.where().file == path.string());
    CHECK(e.expected() == "a line of at most 100 bytes");
  }
  std::filesystem::remove(path);
}

TEST_CASE("line_reader: reading goes on after a line over max_line_bytes", "[data][ingest]") {
  mlsd::data::line_reader::config cfg;
  cfg.chunk_bytes = 16;
  cfg.max_line_bytes = 40;
  // One long line that outgrows the buffer (skipped while reading), one that fits in the buffer
  // but not the limit (found whole), and one that ends the file without a newline.
  const std::string long1(1000, 'a');
  const std::string long2(50, 'b');
  const std::string long3(45, 'c');
  const auto path =
      temp_file("skip.txt", "one\n" + long1 + "\ntwo\n" + long2 + "\nthree\n" + long3);
  std::vector<std::string> lines;
  std::vector<std::uint64_t> long_lines;
  mlsd::data::line_reader r(path, cfg);
  mlsd::data::text_line line;
  for (;;) {
    try {
      if (!r.next(line)) {
        break;
      }
      lines.emplace_back(line.text);
    } catch (const mlsd::data::line_too_long_error& e) {
      long_lines.push_back(e.where().line);
      CHECK(e.found().size() <= 64);
      CHECK(e.found().find_first_not_of(e.found().front()) == std::string::npos);
    }
  }
  CHECK(lines == std::vector<std::string>{"one", "two", "three"});
  CHECK(long_lines == std::vector<std::uint64_t>{2, 4, 6});

  // next_line: the skip policy counts and quarantines the long line's head; fail rethrows.
  mlsd::data::line_reader again(path, cfg);
  mlsd::data::error_sink skip(mlsd::data::error_policy::skip());
  lines.clear();
  while (mlsd::data::next_line(again, line, skip)) {
    lines.emplace_back(line.text);
  }
  CHECK(lines == std::vector<std::string>{"one", "two", "three"});
  CHECK(skip.report().skipped == 3);
  CHECK(skip.report().first_skipped[0].where.line == 2);
  CHECK(skip.report().first_skipped[0].text == std::string(64, 'a'));
  mlsd::data::line_reader third(path, cfg);
  mlsd::data::error_sink fail;
  CHECK(mlsd::data::next_line(third, line, fail));
  CHECK_THROWS_AS(mlsd::data::next_line(third, line, fail), mlsd::data::line_too_long_error);
  std::filesystem::remove(path);
}

TEST_CASE("line_reader: a missing file is an error naming it", "[data][ingest]") {
  CHECK_THROWS_WITH(mlsd::data::line_reader("/nonexistent/mlsd/x.svm"),
                    Catch::Contains("/nonexistent/mlsd/x.svm") &&
                        Catch::Contains("expected a readable file"));
}

TEST_CASE("error_sink: fail rethrows, skip counts, keeps and quarantines", "[data][ingest]") {
  const mlsd::input_error bad({"d.svm", 4, 3}, "a number", "x");
  mlsd::data::error_sink fail;
  CHECK_THROWS_AS(fail.reject(bad, "1 x:1"), mlsd::input_error);

  const auto quarantine = std::filesystem::temp_directory_path() / "mlsd_ingest_quarantine.txt";
  std::filesystem::remove(quarantine);
  mlsd::data::error_sink skip(mlsd::data::error_policy::skip(2, quarantine));
  skip.accept();
  skip.reject(bad, "1 x:1");
  skip.reject(mlsd::input_error({"d.svm", 9, 1}, "a label"), "?");
  skip.reject(mlsd::input_error({"d.svm", 12, 1}, "a label"), std::string("\0", 1));
  skip.accept();
  const auto& report = skip.report();
  CHECK(report.accepted == 2);
  CHECK(report.skipped == 3);
  REQUIRE(report.first_skipped.size() == 2); // keep_first = 2; the count stays exact
  CHECK(report.first_skipped[0].where.line == 4);
  CHECK(report.first_skipped[0].text == "1 x:1");
  CHECK(report.first_skipped[1].message == "d.svm:9:1: expected a label");
  CHECK(report.summary() ==
        "read 2 records, skipped 3 (first: d.svm:4:3: expected a number, found 'x')");
  std::ifstream in(quarantine, std::ios::binary);
  const std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(content == std::string("1 x:1\n?\n\0\n", 10));
  std::filesystem::remove(quarantine);
}
