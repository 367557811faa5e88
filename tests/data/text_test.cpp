// Text normalisation, tokenisation and the hashed TF-IDF vectorizer (include/mlsd/data/text.hpp).
// Buckets are computed here with XXH3 directly; TF-IDF weights by hand in the comments.
#include <mlsd/data/text.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace {

using mlsd::data::hashing_vectorizer;
using mlsd::data::term_frequency;
using mlsd::data::term_weighting;
using mlsd::data::text_normalizer;
using mlsd::data::tokenize_text;
using strings = std::vector<std::string_view>;

// The reference bucket: XXH3 of the n-gram's bytes with the seed, modulo 2^bits.
std::uint32_t xxh3_bucket(std::string_view ngram, std::uint64_t seed, unsigned bits) {
  return static_cast<std::uint32_t>(mlsd::data::detail::xxh3_64(ngram, seed) &
                                    ((std::uint64_t{1} << bits) - 1));
}

double squared_norm(const mlsd::sparse_row& row) {
  double s = 0;
  for (const float v : row.values) {
    s += static_cast<double>(v) * v;
  }
  return s;
}

// The value of `index` in `row` (0 when absent).
float value_at(const mlsd::sparse_row& row, std::uint32_t index) {
  for (std::size_t i = 0; i < row.nnz(); ++i) {
    if (row.indices[i] == index) {
      return row.values[i];
    }
  }
  return 0.0f;
}

} // namespace

TEST_CASE("text_normalizer lowercases ASCII and collapses whitespace", "[data][text]") {
  const text_normalizer norm;
  CHECK(norm("Hello,   World!") == "hello, world!");
  CHECK(norm("") == "");
  CHECK(norm("   \t\n\r ") == "");
  CHECK(norm("  a \t\n b  ") == "a b");
  CHECK(norm("tab\x01"
             "control") == "tab control"); // ASCII controls separate words
  // Non-ASCII is kept byte for byte: no Unicode case mapping without ICU.
  CHECK(norm("Naïve CAFÉ") == "naïve cafÉ");
  const text_normalizer keep_case({.lowercase = false});
  CHECK(keep_case("Hello  World") == "Hello World");
}

TEST_CASE("text_normalizer replaces URLs and numbers with tokens", "[data][text]") {
  const text_normalizer norm;
  CHECK(norm("Visit https://Example.com/x?a=1. Now") == "visit _url_. now");
  CHECK(norm("(see HTTP://a.b/c)") == "(see _url_)");
  CHECK(norm("www.spam.biz!") == "_url_!");
  CHECK(norm("awww.x") == "awww.x");               // not at a word start
  CHECK(norm("http:// alone") == "http:// alone"); // nothing after the scheme
  CHECK(norm("call 555-1234") == "call 555-1234"); // numbers kept by default

  const text_normalizer drop_urls({.url_token = ""});
  CHECK(drop_urls("see http://x.y now") == "see now");
  CHECK(drop_urls("http://x.y") == "");

  const text_normalizer numbers({.replace_numbers = true});
  CHECK(numbers("Call 555-1234 or pay $3.14, 1,000 times") == "call 0-0 or pay $0, 0 times");
  CHECK(numbers("mp3 v1.2.3") == "mp0 v0");
  const text_normalizer num_token({.replace_numbers = true, .number_token = "_num_"});
  CHECK(num_token("2 cats") == "_num_ cats");
}

TEST_CASE("tokenisation of tricky strings", "[data][text]") {
  CHECK(tokenize_text("").empty());
  CHECK(tokenize_text("   ").empty());
  CHECK(tokenize_text("!!! ,.;").empty());
  CHECK(tokenize_text("don't stop-me, now!!") == strings{"don", "t", "stop", "me", "now"});
  CHECK(tokenize_text("a_b c") == strings{"a_b", "c"});
  CHECK(tokenize_text("x") == strings{"x"});
  // UTF-8 multi-byte sequences are word characters.
  const text_normalizer norm;
  CHECK(tokenize_text(norm("Naïve café")) == strings{"naïve", "café"});
  // ❤️ is U+2764 U+FE0F (two multi-byte sequences, one token); 😀 touching "NY" joins it.
  CHECK(tokenize_text(norm("I \u2764\ufe0f NY\U0001F600!")) ==
        strings{"i", "\u2764\ufe0f", "ny\U0001F600"});
  CHECK(tokenize_text(norm("\U0001F600 \U0001F600")) == strings{"\U0001F600", "\U0001F600"});
}

TEST_CASE("invalid UTF-8 is replaced with U+FFFD or reported with its column", "[data][text]") {
  const text_normalizer norm;
  const std::string r = "\xef\xbf\xbd"; // U+FFFD
  CHECK(norm("a\xff"
             "b") == "a" + r + "b");
  CHECK(norm("caf\xc3") == "caf" + r);                   // truncated sequence
  CHECK(norm("\xc0\xaf") == r + r);                      // overlong '/'
  CHECK(norm("\xed\xa0\x80") == r + r + r);              // a UTF-16 surrogate
  CHECK(norm("\xf4\x90\x80\x80") == r + r + r + r);      // above U+10FFFF
  CHECK(norm("\xf0\x9f\x98\x80") == "\xf0\x9f\x98\x80"); // U+1F600, valid
  CHECK(tokenize_text(norm("a\xff"
                           "b"))
            .size() == 1); // U+FFFD is a word character

  const text_normalizer strict({.on_invalid_utf8 = mlsd::data::invalid_utf8_policy::error});
  CHECK(strict("café") == "café");
  try {
    (void)strict("ab\x80"
                 "c");
    FAIL("invalid UTF-8 was accepted");
  } catch (const mlsd::input_error& err) {
    CHECK(err.where().column == 3);
    CHECK(err.found() == "byte \\x80");
  }
}

TEST_CASE("hashing_vectorizer TF-IDF equals the hand computation on a 3-document corpus",
          "[data][text]") {
  const std::vector<std::string> corpus = {"spam offer", "spam now", "spam spam win"};
  hashing_vectorizer v({.hash_bits = 20, .bigrams = false});
  v.fit(corpus);
  const auto b = [](std::string_view w) { return xxh3_bucket(w, 0, 20); };
  REQUIRE(std::set<std::uint32_t>{b("spam"), b("offer"), b("now"), b("win"), b("unknown")}.size() ==
          5);
  CHECK(v.bucket("spam") == b("spam"));
  CHECK(v.document_count() == 3);
  CHECK(v.document_frequency(b("spam")) == 3);
  CHECK(v.document_frequency(b("offer")) == 1);
  CHECK(v.kept_buckets() == 4);

  // n = 3. idf(spam) = ln(4 / 4) + 1 = 1; idf(offer) = ln(4 / 2) + 1 = 1.6931471805599454.
  // "Spam spam offer": tf-idf spam 2 * 1 = 2, offer 1.6931471805599454; the L2 norm is
  // sqrt(4 + 1.6931471805599454^2) = 2.6204...; values 0.7632282916276542, 0.6461289150464732.
  const mlsd::sparse_row row = v("Spam spam offer");
  REQUIRE(row.nnz() == 2);
  CHECK(value_at(row, b("spam")) == Approx(0.7632282916276542).epsilon(1e-7));
  CHECK(value_at(row, b("offer")) == Approx(0.6461289150464732).epsilon(1e-7));
  CHECK(squared_norm(row) == Approx(1.0).epsilon(1e-6));
  CHECK(row.indices[0] < row.indices[1]); // sorted

  // A word never seen in training is dropped (min_document_frequency 1).
  const mlsd::sparse_row unseen = v("unknown spam");
  REQUIRE(unseen.nnz() == 1);
  CHECK(unseen.indices[0] == b("spam"));
  CHECK(unseen.values[0] == 1.0f);

  // Binary term frequency: spam 1, offer 1.693...: values 0.5085423203783267, 0.8610369959439764.
  hashing_vectorizer binary({.hash_bits = 20, .bigrams = false, .tf = term_frequency::binary});
  binary.fit(corpus);
  const mlsd::sparse_row brow = binary("spam spam offer");
  CHECK(value_at(brow, b("spam")) == Approx(0.5085423203783267).epsilon(1e-7));
  CHECK(value_at(brow, b("offer")) == Approx(0.8610369959439764).epsilon(1e-7));

  // min_document_frequency 0 keeps unseen buckets, with idf ln(4 / 1) + 1 = 2.386294361119891:
  // "unknown spam" has values 2.386.../norm = 0.92229140312174 and 1/norm = 0.38649523635839605.
  hashing_vectorizer keep_all({.hash_bits = 20, .bigrams = false, .min_document_frequency = 0});
  keep_all.fit(corpus);
  const mlsd::sparse_row krow = keep_all("unknown spam");
  REQUIRE(krow.nnz() == 2);
  CHECK(value_at(krow, b("unknown")) == Approx(0.92229140312174).epsilon(1e-7));
  CHECK(value_at(krow, b("spam")) == Approx(0.38649523635839605).epsilon(1e-7));
}

TEST_CASE("hashing_vectorizer minimum document frequency prunes and counts", "[data][text]") {
  const std::vector<std::string> corpus = {"spam offer", "spam now", "spam spam win"};
  hashing_vectorizer v({.hash_bits = 20, .bigrams = false, .min_document_frequency = 2});
  v.fit(corpus);
  CHECK(v.kept_buckets() == 1);   // spam
  CHECK(v.pruned_buckets() == 3); // offer, now, win
  const mlsd::sparse_row row = v("spam offer");
  REQUIRE(row.nnz() == 1);
  CHECK(row.indices[0] == xxh3_bucket("spam", 0, 20));
  CHECK(row.values[0] == 1.0f);
}

TEST_CASE("hashing_vectorizer bigrams join two tokens with a space", "[data][text]") {
  // Stateless settings (no idf, no pruning): no fit needed; raw counts.
  hashing_vectorizer v({.hash_bits = 20,
                        .seed = 42,
                        .weighting = term_weighting::tf,
                        .l2_normalize = false,
                        .min_document_frequency = 0});
  CHECK(!v.needs_fit());
  const auto b = [](std::string_view w) { return xxh3_bucket(w, 42, 20); };
  CHECK(v.bucket("a b") == b("a b"));
  CHECK(b("a b") != b("ab")); // the bigram "a b" is not the unigram "ab"
  const mlsd::sparse_row row = v("A, b. a b");
  // Tokens a b a b: unigrams a ×2, b ×2; bigrams "a b" ×2, "b a" ×1.
  REQUIRE(std::set<std::uint32_t>{b("a"), b("b"), b("a b"), b("b a")}.size() == 4);
  REQUIRE(row.nnz() == 4);
  CHECK(value_at(row, b("a")) == 2.0f);
  CHECK(value_at(row, b("b")) == 2.0f);
  CHECK(value_at(row, b("a b")) == 2.0f);
  CHECK(value_at(row, b("b a")) == 1.0f);
  CHECK(value_at(v("ab"), b("ab")) == 1.0f);
  CHECK(v("ab").nnz() == 1);
  for (std::size_t i = 1; i < row.nnz(); ++i) {
    CHECK(row.indices[i - 1] < row.indices[i]);
  }

  // index_offset shifts the block; the row's label and earlier entries are kept.
  hashing_vectorizer shifted({.hash_bits = 4,
                              .weighting = term_weighting::tf,
                              .min_document_frequency = 0,
                              .index_offset = 100});
  mlsd::sparse_row out;
  out.label = 1.0f;
  out.push_back(7, 0.5f);
  shifted.encode("one two three", out);
  CHECK(out.label == 1.0f);
  CHECK(out.indices[0] == 7);
  CHECK(out.values[0] == 0.5f);
  REQUIRE(out.nnz() >= 2);
  double tail = 0;
  for (std::size_t i = 1; i < out.nnz(); ++i) {
    CHECK(out.indices[i] >= 100);
    CHECK(out.indices[i] < 116);
    tail += static_cast<double>(out.values[i]) * out.values[i];
  }
  CHECK(tail == Approx(1.0).epsilon(1e-6)); // only the appended part is normalised
}

TEST_CASE("hashing_vectorizer on empty text, before fit and with bad settings", "[data][text]") {
  hashing_vectorizer v;
  CHECK(v.needs_fit());
  CHECK_THROWS_AS(v("text"), mlsd::not_fitted_error);
  CHECK_THROWS_AS(v.fit(std::vector<std::string>{}), mlsd::input_error);
  v.fit(std::vector<std::string>{"hello world", ""});
  CHECK(v.document_count() == 2);
  CHECK(v("").nnz() == 0);
  CHECK(v("   ").nnz() == 0);
  CHECK(v("?!").nnz() == 0);

  hashing_vectorizer strict(
      {.feature = "comment",
       .normalizer = {.on_invalid_utf8 = mlsd::data::invalid_utf8_policy::error}});
  try {
    strict.fit(std::vector<std::string>{"fine", "bad \xfe byte"});
    FAIL("invalid UTF-8 was accepted at fit");
  } catch (const mlsd::input_error& err) {
    CHECK(err.where().file == "hashing_vectorizer.fit");
    CHECK(err.where().line == 2);
    CHECK(err.where().column == 5);
    CHECK(err.where().field == "comment");
  }

  const auto field_of = [](const auto& make) -> std::string {
    try {
      make();
    } catch (const mlsd::config_error& err) {
      return err.field();
    }
    return "no error";
  };
  CHECK(field_of([] { hashing_vectorizer bad({.hash_bits = 0}); }) ==
        "hashing_vectorizer.hash_bits");
  CHECK(field_of([] { hashing_vectorizer bad({.hash_bits = 33}); }) ==
        "hashing_vectorizer.hash_bits");
  CHECK(field_of([] { hashing_vectorizer bad({.hash_bits = 32, .index_offset = 1}); }) ==
        "hashing_vectorizer.index_offset");
  CHECK(field_of([] { text_normalizer bad({.url_token = "<url>"}); }) ==
        "text_normalizer.url_token");
  CHECK(field_of([] { text_normalizer bad({.number_token = "#"}); }) ==
        "text_normalizer.number_token");
  CHECK(field_of([] {
          (void)hashing_vectorizer::config::from_json({{"weighting", "bm25"}});
        }) == "hashing_vectorizer.weighting");
  CHECK(field_of([] {
          (void)hashing_vectorizer::config::from_json({{"normalizer", {{"lowercas", true}}}});
        }) == "text_normalizer.lowercas");
}

TEST_CASE("hashing_vectorizer JSON round trip gives identical rows", "[data][text]") {
  const std::vector<std::string> corpus = {
      "Win a FREE iPhone now!!! http://spam.example/win", "Are we still on for lunch today?",
      "FREE entry: text WIN to 80086", "Naïve café meeting at 10:30 \U0001F600", "win win win"};
  hashing_vectorizer v({.feature = "sms",
                        .normalizer = {.replace_numbers = true},
                        .hash_bits = 12,
                        .seed = 7,
                        .min_document_frequency = 1});
  v.fit(corpus);
  const auto back = hashing_vectorizer::from_json(nlohmann::json::parse(v.to_json().dump()));
  CHECK(back.to_json() == v.to_json());
  CHECK(back.settings().normalizer.replace_numbers);
  CHECK(back.kept_buckets() == v.kept_buckets());
  std::vector<std::string> serving = corpus;
  serving.push_back("never seen words with free lunch");
  serving.push_back("");
  hashing_vectorizer::scratch scratch;
  for (const auto& text : serving) {
    const mlsd::sparse_row a = v(text);
    mlsd::sparse_row b;
    back.encode(text, b, scratch); // the scratch path gives the same row
    CHECK(a.indices == b.indices);
    CHECK(a.values == b.values); // bit for bit
    if (a.nnz() > 0) {
      CHECK(squared_norm(a) == Approx(1.0).epsilon(1e-6));
    }
  }
  // Bad saved state: a bucket outside 2^hash_bits.
  nlohmann::json j = v.to_json();
  j["buckets"][0] = 1u << 12;
  CHECK_THROWS_AS(hashing_vectorizer::from_json(j), mlsd::config_error);
}
