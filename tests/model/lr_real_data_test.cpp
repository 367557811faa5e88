// Logistic regression on real public data (MLSD_DATA_DIR; see tests/data/dataset.hpp):
// - a9a (UCI Adult, Platt 1998; LIBSVM's copy): train on a9a, test on a9a.t. LIBLINEAR -s 0
//   reaches 0.8495 test accuracy; FTRL-Proximal must reach 0.848.
// - the SMS Spam Collection (Almeida and Gomez Hidalgo 2011; 5,574 messages, 747 spam): hashed
//   unigrams + bigrams (TF-IDF, 2^18 buckets) fitted on a seeded stratified 80 % split; ROC-AUC
//   on the other 20 % (exact, evaluation::roc_auc_of) must reach 0.98.
#include <mlsd/data/libsvm.hpp>
#include <mlsd/data/split.hpp>
#include <mlsd/data/text.hpp>
#include <mlsd/evaluation/classification.hpp>
#include <mlsd/model/logistic_regression.hpp>
#include <mlsd/model/trainer.hpp>

#include "../data/dataset.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

namespace {

mlsd::sparse_batch read_libsvm(const std::filesystem::path& path) {
  mlsd::data::libsvm_source source(path);
  std::vector<mlsd::sparse_row> rows(512);
  mlsd::sparse_batch out;
  while (const std::size_t n = source.read(rows)) {
    for (std::size_t i = 0; i < n; ++i) {
      out.push_back(rows[i].view());
    }
  }
  REQUIRE(source.report().skipped == 0);
  return out;
}

struct scored {
  std::vector<float> scores;
  std::vector<float> labels; // 0 / 1
};

scored score(const mlsd::model::logistic_regression& m, const mlsd::sparse_batch& data) {
  scored out;
  for (std::size_t r = 0; r < data.size(); ++r) {
    out.scores.push_back(m(data[r]));
    out.labels.push_back(data[r].label > 0.0f ? 1.0f : 0.0f);
  }
  return out;
}

} // namespace

TEST_CASE("logistic regression (FTRL) on a9a: test accuracy >= 0.848", "[model][lr][real]") {
  const auto dir = mlsd_test::dataset("libsvm-a9a");
  if (!dir) {
    return;
  }
  const mlsd::sparse_batch train_set = read_libsvm(*dir / "a9a");
  const mlsd::sparse_batch test_set = read_libsvm(*dir / "a9a.t");
  REQUIRE(train_set.size() == 32'561);
  REQUIRE(test_set.size() == 16'281);

  mlsd::model::logistic_regression::config c;
  c.features = 123;
  c.optimizer.kind = mlsd::model::optimizer_kind::ftrl;
  c.optimizer.ftrl = {.alpha = 0.05f, .beta = 1.0f, .l1 = 1.0f, .l2 = 1.0f};
  mlsd::model::logistic_regression m(c);
  mlsd::model::train_options options;
  options.epochs = 5;
  const auto summary = mlsd::model::train(m, train_set, &test_set, options);

  const scored s = score(m, test_set);
  const double accuracy = mlsd::evaluation::accuracy_of(s.scores, s.labels);
  const double auc = mlsd::evaluation::roc_auc_of(s.scores, s.labels);
  std::cout << "a9a, FTRL (alpha 0.05, beta 1, l1 1, l2 1), 5 epochs: test accuracy " << accuracy
            << ", ROC-AUC " << auc << ", test log loss " << summary.valid_loss.back() << ", "
            << m.nonzero_weights() << " of 123 weights non-zero\n";
  CHECK(accuracy >= 0.848);
  CHECK(auc > 0.90);
  CHECK(summary.valid_loss.back() < summary.valid_loss.front());
}

TEST_CASE("logistic regression (FTRL) on SMS spam: ROC-AUC >= 0.98 on a stratified 20 %",
          "[model][lr][real]") {
  const auto dir = mlsd_test::dataset("sms-spam-collection");
  if (!dir) {
    return;
  }
  std::ifstream in(*dir / "SMSSpamCollection", std::ios::binary);
  REQUIRE(in);
  std::vector<std::string> texts;
  std::vector<float> labels;
  std::string line;
  while (std::getline(in, line)) {
    const auto tab = line.find('\t');
    REQUIRE(tab != std::string::npos);
    const std::string label = line.substr(0, tab);
    REQUIRE((label == "spam" || label == "ham"));
    labels.push_back(label == "spam" ? 1.0f : 0.0f);
    texts.push_back(line.substr(tab + 1));
  }
  REQUIRE(texts.size() == 5'574);
  REQUIRE(std::count(labels.begin(), labels.end(), 1.0f) == 747);

  const auto split = mlsd::data::stratified_split(labels, {.test_fraction = 0.2, .seed = 1});
  REQUIRE(split.test.size() == 1'115);

  mlsd::data::hashing_vectorizer::config vc;
  vc.hash_bits = 18;
  vc.bigrams = true;
  mlsd::data::hashing_vectorizer vectorize(vc);
  std::vector<std::string> train_texts;
  for (const std::size_t i : split.train) {
    train_texts.push_back(texts[i]);
  }
  vectorize.fit(std::span<const std::string>(train_texts)); // IDF from the training side only
  mlsd::sparse_batch train_set, test_set;
  for (const std::size_t i : split.train) {
    mlsd::sparse_row r = vectorize(texts[i]);
    r.label = labels[i];
    train_set.push_back(r.view());
  }
  for (const std::size_t i : split.test) {
    mlsd::sparse_row r = vectorize(texts[i]);
    r.label = labels[i];
    test_set.push_back(r.view());
  }

  mlsd::model::logistic_regression::config c;
  c.features = std::size_t{1} << 18;
  c.optimizer.kind = mlsd::model::optimizer_kind::ftrl;
  c.optimizer.ftrl = {.alpha = 1.0f, .beta = 1.0f, .l1 = 0.1f, .l2 = 0.1f};
  mlsd::model::logistic_regression m(c);
  mlsd::model::train_options options;
  options.epochs = 10;
  mlsd::model::train(m, train_set, nullptr, options);

  const scored s = score(m, test_set);
  const double auc = mlsd::evaluation::roc_auc_of(s.scores, s.labels);
  const double accuracy = mlsd::evaluation::accuracy_of(s.scores, s.labels);
  std::cout << "SMS spam, 2^18 hashed uni+bigrams, FTRL (alpha 1, beta 1, l1 0.1, l2 0.1), 10 "
               "epochs: test ROC-AUC "
            << auc << ", accuracy " << accuracy << ", " << m.nonzero_weights()
            << " non-zero weights\n";
  CHECK(auc >= 0.98);
}
