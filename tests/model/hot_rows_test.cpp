// Hogwild's private hot rows (model/trainer.hpp, train_options::hot_row_bytes): which features
// are chosen, that training through the private rows changes no bit when one thread does it,
// and that two threads train FM and FFM as well as one and leave no scratch row behind.
#include <mlsd/model/ffm.hpp>
#include <mlsd/model/fm.hpp>
#include <mlsd/model/trainer.hpp>

#include <mlsd/data/detail/random.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <numeric>
#include <stdexcept>
#include <vector>

namespace {

using mlsd::sparse_batch;
using fm = mlsd::model::factorization_machine;
using ffm = mlsd::model::field_aware_factorization_machine;
using mlsd::model::detail::hot_features;

// `n` rows over 4096 features: feature `every` in every row, `half` in every other row, 5 in
// every 8th (1/8 of rows: 32 per mini-batch of 256), 9 in every 32nd (8 per batch), and three
// rare features each; fields 0..5 in entry order. Labels follow feature 7 and the rare ones.
sparse_batch skewed(std::uint32_t every = 3, std::uint32_t half = 7, std::uint32_t n = 1024) {
  mlsd::data::detail::splitmix64 rng(11);
  sparse_batch out;
  for (std::uint32_t r = 0; r < n; ++r) {
    const bool positive = r % 2 == 0 ? rng.uniform() < 0.7 : rng.uniform() < 0.2;
    out.start_row(positive ? 1.0f : -1.0f);
    std::uint32_t field = 0;
    out.push_back(field++, every, 1.0f);
    if (r % 2 == 0) {
      out.push_back(field++, half, 1.0f);
    }
    if (r % 8 == 0) {
      out.push_back(field++, 5, 1.0f);
    }
    if (r % 32 == 0) {
      out.push_back(field++, 9, 1.0f);
    }
    for (std::uint32_t k = 0; k < 3; ++k) {
      out.push_back(field++, 100 + static_cast<std::uint32_t>(rng.below(3900)), 0.5f);
    }
    out.finish_row();
  }
  return out;
}

fm::config fm_config(mlsd::model::fm_optimizer optimizer) {
  fm::config c;
  c.features = 4096;
  c.factors = 8;
  c.optimizer = optimizer;
  c.learning_rate = optimizer == mlsd::model::fm_optimizer::sgd ? 0.05f : 0.1f;
  c.init_stddev = 0.1f;
  return c;
}

ffm::config ffm_config() {
  ffm::config c;
  c.features = 4096;
  c.fields = 8;
  c.factors = 4;
  return c;
}

// One epoch in batches of 256 through `rows` (a private_hot_rows or same_rows), merged after
// each batch, as train_hogwild does on one thread.
template <class M, class Rows>
void epoch(M& m, const sparse_batch& data, Rows& rows) {
  std::vector<std::size_t> order(data.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  for (std::size_t b = 0; b < order.size(); b += 256) {
    (void)mlsd::model::detail::learn_rows(m, data, order, b, std::min(order.size(), b + 256), 1.0f,
                                          rows);
    rows.sync();
  }
}

// Trains a copy of `m` once through private hot rows and once without, and checks every bit.
template <class M>
void check_transparent(const M& m, const sparse_batch& data) {
  M plain = m;
  M through = m;
  const std::size_t row_bytes = through.feature_row(0).size() * sizeof(float);
  const hot_features hot(data, row_bytes, std::size_t{1} << 18, 256);
  REQUIRE(hot.features == std::vector<std::uint32_t>{3, 7, 5});
  through.set_scratch_rows(hot.features.size());
  {
    mlsd::model::detail::private_hot_rows<M> rows(through, hot, through.feature_count());
    for (int e = 0; e < 3; ++e) {
      epoch(through, data, rows);
    }
  }
  through.set_scratch_rows(0);
  mlsd::model::detail::same_rows same;
  for (int e = 0; e < 3; ++e) {
    epoch(plain, data, same);
  }
  const auto a = plain.parameters();
  const auto b = through.parameters();
  REQUIRE(a.size() == b.size());
  CHECK(std::equal(a.begin(), a.end(), b.begin()));
  // The hot rows did change (the comparison above is not between two untouched models).
  const auto before = m.parameters();
  CHECK_FALSE(std::equal(before.begin(), before.end(), b.begin()));
}

// A row whose only index is the model's feature count: accepted only while scratch rows exist.
template <class M>
void check_no_scratch_rows(const M& m) {
  sparse_batch beyond;
  beyond.start_row(1.0f);
  beyond.push_back(0, static_cast<std::uint32_t>(m.feature_count()), 1.0f);
  beyond.push_back(1, 3, 1.0f);
  beyond.finish_row();
  CHECK_THROWS_AS(m.margin(beyond.row(0)), mlsd::input_error);
}

} // namespace

TEST_CASE("hot features: expected 16 times per mini-batch, most frequent first, within budget",
          "[model][trainer][hogwild]") {
  const sparse_batch data = skewed();
  // Feature 3 in every row, 7 in half, 5 in an eighth (32 per batch of 256), 9 in a 32nd (8).
  const hot_features hot(data, 64, std::size_t{1} << 18, 256);
  CHECK(hot.features == std::vector<std::uint32_t>{3, 7, 5});
  CHECK(hot.max_nnz == 7);
  // A budget of two 64-byte rows keeps the two most frequent.
  CHECK(hot_features(data, 64, 128, 256).features == std::vector<std::uint32_t>{3, 7});
  // Batches of 64: 5 is expected 8 times per batch, below 16.
  CHECK(hot_features(data, 64, std::size_t{1} << 18, 64).features ==
        std::vector<std::uint32_t>{3, 7});
  // No budget, or rows larger than the budget: none.
  CHECK(hot_features(data, 64, 0, 256).features.empty());
  CHECK(hot_features(data, 1024, 512, 256).features.empty());
  // Features 3 and 24 share a bucket of the lookup (16 buckets for two candidates): the more
  // frequent one gets it, the other stays shared.
  const hot_features collide(skewed(3, 24), 64, 128, 256);
  CHECK(collide.features == std::vector<std::uint32_t>{3});
  CHECK(hot_features(skewed(24, 3), 64, 128, 256).features == std::vector<std::uint32_t>{24});
}

TEST_CASE("private hot rows change no bit of FM and FFM training on one thread",
          "[model][trainer][hogwild]") {
  const sparse_batch data = skewed();
  check_transparent(fm(fm_config(mlsd::model::fm_optimizer::sgd)), data);
  check_transparent(fm(fm_config(mlsd::model::fm_optimizer::adagrad)), data);
  check_transparent(ffm(ffm_config()), data);
}

TEST_CASE("private hot rows give FM a private bias, merged by sync", "[model][trainer][hogwild]") {
  const sparse_batch data = skewed();
  fm plain(fm_config(mlsd::model::fm_optimizer::adagrad));
  fm through = plain;
  const hot_features hot(data, through.feature_row(0).size() * sizeof(float), std::size_t{1} << 18,
                         256);
  through.set_scratch_rows(hot.features.size());
  const float before = through.bias();
  const float before_sum = through.header_row()[1];
  std::vector<std::size_t> order(data.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  {
    mlsd::model::detail::private_hot_rows<fm> rows(through, hot, through.feature_count());
    (void)mlsd::model::detail::learn_rows(through, data, order, 0, 256, 1.0f, rows);
    // The steps moved this thread's copy only: the model's bias and its AdaGrad sum wait.
    CHECK(through.bias() == before);
    CHECK(through.header_row()[1] == before_sum);
    rows.sync();
  }
  mlsd::model::detail::same_rows same;
  (void)mlsd::model::detail::learn_rows(plain, data, order, 0, 256, 1.0f, same);
  CHECK(plain.bias() != before);
  CHECK(through.bias() == plain.bias());
  CHECK(through.header_row()[1] == plain.header_row()[1]);
  through.set_scratch_rows(0);
}

TEST_CASE("Hogwild with private hot rows trains FM and FFM as well as one thread",
          "[model][trainer][hogwild]") {
  // Enough mini-batches of 64 for both threads to work at once; hot: features 3 and 7.
  const sparse_batch data = skewed(3, 7, 16384);
  mlsd::model::train_options options;
  options.epochs = 4;
  options.batch_size = 64;

  const auto train_fm = [&](std::size_t threads, std::size_t hot_row_bytes) {
    fm m(fm_config(mlsd::model::fm_optimizer::adagrad));
    auto o = options;
    o.threads = threads;
    o.mode = mlsd::model::parallel_mode::hogwild;
    o.hot_row_bytes = hot_row_bytes;
    mlsd::model::train(m, data, nullptr, o);
    CHECK(m.parameters().size() ==
          fm(fm_config(mlsd::model::fm_optimizer::adagrad)).parameters().size());
    check_no_scratch_rows(m);
    return mlsd::model::mean_loss(m, data);
  };
  const double fm_one = train_fm(1, options.hot_row_bytes);
  const double fm_private = train_fm(2, options.hot_row_bytes);
  const double fm_plain = train_fm(2, 0);
  // Labels depend on feature 7 and noise (30 % / 20 % flips): the loss falls well below log 2.
  CHECK(fm_one < 0.60);
  CHECK(fm_private == Approx(fm_one).margin(0.01));
  CHECK(fm_plain == Approx(fm_one).margin(0.01));

  const auto train_ffm = [&](std::size_t threads) {
    ffm m(ffm_config());
    auto o = options;
    o.threads = threads;
    o.mode = mlsd::model::parallel_mode::hogwild;
    mlsd::model::train(m, data, nullptr, o);
    CHECK(m.parameters().size() == ffm(ffm_config()).parameters().size());
    check_no_scratch_rows(m);
    return mlsd::model::mean_loss(m, data);
  };
  const double ffm_one = train_ffm(1);
  CHECK(ffm_one < 0.62);
  CHECK(train_ffm(2) == Approx(ffm_one).margin(0.01));
}

TEST_CASE("Hogwild removes the scratch rows when a progress callback throws",
          "[model][trainer][hogwild]") {
  const sparse_batch data = skewed();
  fm m(fm_config(mlsd::model::fm_optimizer::sgd));
  mlsd::model::train_options options;
  options.epochs = 2;
  options.threads = 2;
  options.mode = mlsd::model::parallel_mode::hogwild;
  const auto throwing = [](const mlsd::model::progress_report&) -> bool {
    throw std::runtime_error("stop here");
  };
  CHECK_THROWS_WITH(mlsd::model::train(m, data, nullptr, options, throwing), "stop here");
  check_no_scratch_rows(m);
}
