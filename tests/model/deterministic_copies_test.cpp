// The trainer's deterministic mode on the models that hand out unwritten copies (FM and FFM:
// `unwritten_replica`, filled by the trainer on all its threads): T threads must give exactly
// the mean of T ordinary copies of the model, each trained on its shard of the epoch's order, as
// trainer_test checks for a model the trainer copies the ordinary way.
#include <mlsd/model/ffm.hpp>
#include <mlsd/model/fm.hpp>
#include <mlsd/model/trainer.hpp>

#include <mlsd/data/detail/random.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <vector>

namespace {

using mlsd::sparse_batch;
using fm = mlsd::model::factorization_machine;
using ffm = mlsd::model::field_aware_factorization_machine;

static_assert(mlsd::model::detail::unwritten_replica_model<fm>);
static_assert(mlsd::model::detail::unwritten_replica_model<ffm>);

// `n` rows of 6 features (fields 0..5) drawn from 3000, labels from the parity of the first.
sparse_batch random_rows(std::size_t n, std::uint64_t seed) {
  mlsd::data::detail::splitmix64 rng(seed);
  sparse_batch out;
  for (std::size_t r = 0; r < n; ++r) {
    const auto first = static_cast<std::uint32_t>(rng.below(3000));
    out.start_row(first % 2 == 0 ? 1.0f : -1.0f);
    out.push_back(0, first, 1.0f);
    for (std::uint32_t field = 1; field < 6; ++field) {
      out.push_back(field, static_cast<std::uint32_t>(rng.below(3000)), 0.5f);
    }
    out.finish_row();
  }
  return out;
}

// The deterministic mode by its definition: per epoch, T copies of the model (copy-constructed),
// copy t trained example by example on rows [n·t/T, n·(t+1)/T) of the epoch's order, then every
// parameter the mean of the T copies', summed in copy order in double.
template <class M>
std::vector<float> by_definition(M model, const sparse_batch& data, std::size_t epochs,
                                 std::size_t threads, std::uint64_t seed) {
  const std::size_t n = data.size();
  for (std::size_t e = 0; e < epochs; ++e) {
    const auto order = mlsd::model::shuffled_order(n, seed, e);
    std::vector<M> copies(threads, model);
    for (std::size_t t = 0; t < threads; ++t) {
      for (std::size_t i = n * t / threads; i < n * (t + 1) / threads; ++i) {
        const auto x = data.row(order[i]);
        (void)copies[t].learn(x, x.label, 1.0f);
      }
    }
    const auto p = model.parameters();
    for (std::size_t i = 0; i < p.size(); ++i) {
      double sum = 0.0;
      for (M& c : copies) {
        sum += static_cast<double>(c.parameters()[i]);
      }
      p[i] = static_cast<float>(sum / static_cast<double>(threads));
    }
  }
  const auto p = model.parameters();
  return {p.begin(), p.end()};
}

template <class M>
void check_against_definition(const M& initial, const sparse_batch& data, std::size_t threads) {
  mlsd::model::train_options options;
  options.epochs = 3;
  options.threads = threads;
  options.batch_size = 64;
  options.seed = 5;
  options.mode = mlsd::model::parallel_mode::deterministic;
  M trained = initial;
  (void)mlsd::model::train(trained, data, nullptr, options);
  const std::vector<float> expected = by_definition(initial, data, 3, threads, 5);
  const auto got = trained.parameters();
  REQUIRE(got.size() == expected.size());
  CHECK(std::equal(got.begin(), got.end(), expected.begin()));
  // Training moved the parameters (the comparison is not between two untouched models).
  const auto before = initial.parameters();
  CHECK_FALSE(std::equal(before.begin(), before.end(), got.begin()));
}

} // namespace

TEST_CASE("deterministic mode: FM and FFM on 2 and 3 threads are the mean of copies trained on "
          "the shards",
          "[model][trainer]") {
  // 3000 features: the parameters fill several of the 16,384-float chunks in which the trainer
  // copies them, the last one partly: 48,016 floats for FM with SGD (16 a row), 96,016 with
  // AdaGrad (32 a row), 144,000 for FFM (6 fields of 4 factors and their AdaGrad sums: 48 a row).
  const sparse_batch data = random_rows(2000, 3);
  fm::config c;
  c.features = 3000;
  c.factors = 8;
  c.learning_rate = 0.05f;
  c.init_stddev = 0.1f;
  ffm::config cf;
  cf.features = 3000;
  cf.fields = 6;
  cf.factors = 4;
  for (const std::size_t threads : {2, 3}) {
    CAPTURE(threads);
    c.optimizer = mlsd::model::fm_optimizer::sgd;
    check_against_definition(fm(c), data, threads);
    c.optimizer = mlsd::model::fm_optimizer::adagrad;
    check_against_definition(fm(c), data, threads);
    check_against_definition(ffm(cf), data, threads);
  }
}
