/// @file
/// Two-tower embeddings for retrieval, and matrix factorisation as their simplest case: a user
/// tower and an item tower map a user (with optional request features) and an item (with optional
/// catalog features) to d-dimensional vectors whose inner product, plus optional biases, is the
/// score. Trained on an in-memory list of interactions with one of three objectives (squared
/// error on ratings, BPR, sampled softmax with in-batch negatives), then exported as an item table
/// and user queries that the retrieval kernels (`kernels::top_k`, `kernels::int8`) and the serving
/// retrievers read directly.
///
/// ```cpp
/// mlsd::model::two_tower::config c;
/// c.users = 610; c.items = 9724; c.factors = 32;
/// c.user_bias = c.item_bias = c.global_bias = true;          // biased MF (Koren et al. 2009)
/// mlsd::model::two_tower model(c);
/// model.fit(ratings, options);                                // std::vector<interaction>
/// float r = model.score(user, item);                          // predicted rating
/// auto items = model.item_table();                            // n_items x (d + 2), row-major
/// auto query = model.user_embedding(user);                    // d + 2 floats
/// // <query, items.row(i)> == model.score(user, i): ready for kernels::top_k
/// model.update(new_ratings, ++batch_number);                  // online: a batch from a stream
/// ```
#pragma once

#include <mlsd/core/error.hpp>
#include <mlsd/core/matrix_view.hpp>
#include <mlsd/core/roles.hpp>
#include <mlsd/core/version.hpp>
#include <mlsd/data/detail/config_json.hpp>
#include <mlsd/data/detail/random.hpp>
#include <mlsd/kernels/dot.hpp>
#include <mlsd/kernels/int8.hpp>
#include <mlsd/model/loss.hpp>
#include <mlsd/model/model_file.hpp>
#include <mlsd/model/training.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <numeric>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

MLSD_BEGIN_NAMESPACE
namespace model {

/// What a two-tower model minimises. `s(u, i)` is the score: the inner product of the towers plus
/// the enabled biases.
///
/// - `squared`: `w/2 · (s(u, i) − r)²` on explicit ratings r: biased matrix factorisation
///   (Koren, Bell and Volinsky, "Matrix factorization techniques for recommender systems", IEEE
///   Computer 2009, eq. 5), stepped after every interaction.
/// - `bpr`: `−w · ln σ(s(u, i) − s(u, j))` with one negative item j per positive, drawn (seeded)
///   from the items the user has no interaction with (Rendle et al., "BPR: Bayesian personalized
///   ranking from implicit feedback", UAI 2009), uniformly or by popularity; stepped after every
///   interaction.
/// - `sampled_softmax`: for a batch of B positives, `−w_r · log softmax_c(z_rc)[r]` with logits
///   `z_rc = s(u_r, i_c)/τ − log Q(i_c)`: the other items of the batch are the negatives (Yi et
///   al., "Sampling-bias-corrected neural modeling for large corpus item recommendations", RecSys
///   2019, eq. 3), and the optional logQ correction subtracts the log of each item's in-batch
///   sampling probability, so that popular items are not over-penalised for appearing often as
///   negatives. Stepped once per batch, on the batch's summed loss.
enum class two_tower_objective { squared, bpr, sampled_softmax };

/// "squared", "bpr" or "sampled_softmax".
[[nodiscard]] constexpr std::string_view to_string(two_tower_objective o) noexcept {
  switch (o) {
  case two_tower_objective::bpr:
    return "bpr";
  case two_tower_objective::sampled_softmax:
    return "sampled_softmax";
  case two_tower_objective::squared:
    break;
  }
  return "squared";
}

/// The optimizer of a two-tower model, applied per parameter row touched by a step.
///
/// - `sgd`: `θ −= η g`;
/// - `adagrad`: `G += g²; θ −= η g / sqrt(G)`, with `G` starting at `adagrad_initial` (Duchi,
///   Hazan and Singer, JMLR 2011): rare users and items keep larger steps than frequent ones.
///
/// `g = ∂L/∂θ + λ θ` in both (L2 on the rows the step touches, as in Koren et al. 2009).
enum class two_tower_optimizer { sgd, adagrad };

/// How BPR draws its negative item: `uniform` over the catalog (Rendle et al. 2009), or
/// `popularity`, proportional to `(count + 1)^α` of the item in the training set (the smoothed
/// unigram distribution of word2vec, Mikolov et al. 2013, α = 0.75): harder negatives, which
/// counter the popularity bias of uniform sampling.
enum class negative_sampling { uniform, popularity };

/// One observed interaction of a user with an item, the unit of training data.
///
/// `user_features` are hashed feature ids of the user or of the request (device, country, hour),
/// taken modulo `config::user_feature_buckets` like `model::embedding_bag` does; they are viewed,
/// not copied: the storage must outlive every call that reads the interaction.
struct interaction {
  std::uint32_t user = 0;
  std::uint32_t item = 0;
  /// The target of the `squared` objective (a rating); ignored by the ranking objectives.
  float rating = 1.0f;
  /// Multiplies the interaction's loss (and gradient); non-negative.
  float weight = 1.0f;
  std::span<const std::uint64_t> user_features{};
};

/// The input of a two-tower model as a scorer stage: a (user, item) pair.
struct user_item {
  std::uint32_t user = 0;
  std::uint32_t item = 0;
};

namespace detail {

/// Where each parameter table starts in a two-tower model's weight vector, in floats; `absent`
/// for a disabled bias.
struct two_tower_layout {
  static constexpr std::size_t absent = static_cast<std::size_t>(-1);
  std::size_t d = 0;
  std::size_t user_ids = 0;
  std::size_t user_features = 0;
  std::size_t item_ids = 0;
  std::size_t item_features = 0;
  std::size_t user_bias = absent;
  std::size_t item_bias = absent;
  std::size_t global_bias = absent;
  /// The number of weights; AdaGrad's accumulators follow them in the same vector.
  std::size_t weights = 0;
};

/// The gradient of one optimizer step as blocks of contiguous weights (an embedding row, a bias),
/// each with its own L2 coefficient. A step touches a few rows of a large model, so the gradient
/// is kept sparse; blocks of the same row added twice (an item twice in a batch, a repeated
/// feature) are summed by `finish` before the step, so that AdaGrad sees one gradient per row.
class sparse_gradient {
public:
  struct block {
    std::size_t offset;
    std::size_t width;
    float l2;
    std::size_t start; ///< of the block's values in `values()`
  };

  void clear() noexcept {
    blocks_.clear();
    values_.clear();
    unique_.clear();
  }

  /// Adds `scale · g[0 .. width)` as the gradient of weights `[offset, offset + width)`.
  void add(std::size_t offset, std::size_t width, float l2, const float* g, float scale) {
    blocks_.push_back({offset, width, l2, values_.size()});
    for (std::size_t k = 0; k < width; ++k) {
      values_.push_back(scale * g[k]);
    }
  }
  /// Adds `g` as the gradient of the single weight at `offset`.
  void add(std::size_t offset, float l2, float g) {
    blocks_.push_back({offset, 1, l2, values_.size()});
    values_.push_back(g);
  }

  /// Sums the blocks of each row (in the order they were added), adds `l2 · θ` to each row's
  /// gradient, and returns the penalty `Σ l2/2 · |θ|²` over the rows touched.
  /// O(b log b) for b blocks, plus the values.
  double finish(const float* w) {
    order_.resize(blocks_.size());
    std::iota(order_.begin(), order_.end(), std::size_t{0});
    std::stable_sort(order_.begin(), order_.end(), [this](std::size_t a, std::size_t b) {
      return blocks_[a].offset < blocks_[b].offset;
    });
    unique_.clear();
    for (std::size_t a = 0; a < order_.size();) {
      const block& first = blocks_[order_[a]];
      std::size_t b = a + 1;
      for (; b < order_.size() && blocks_[order_[b]].offset == first.offset; ++b) {
        const block& same = blocks_[order_[b]];
        for (std::size_t k = 0; k < first.width; ++k) {
          values_[first.start + k] += values_[same.start + k];
        }
      }
      unique_.push_back(order_[a]);
      a = b;
    }
    double penalty = 0.0;
    for (const std::size_t u : unique_) {
      const block& bl = blocks_[u];
      if (bl.l2 == 0.0f) {
        continue;
      }
      double squares = 0.0;
      for (std::size_t k = 0; k < bl.width; ++k) {
        const float theta = w[bl.offset + k];
        squares += static_cast<double>(theta) * theta;
        values_[bl.start + k] += bl.l2 * theta;
      }
      penalty += 0.5 * static_cast<double>(bl.l2) * squares;
    }
    return penalty;
  }

  /// Calls `f(offset, width, gradient)` once per row, after `finish`.
  template <class F>
  void for_each_row(F&& f) const {
    for (const std::size_t u : unique_) {
      const block& bl = blocks_[u];
      f(bl.offset, bl.width, values_.data() + bl.start);
    }
  }

private:
  std::vector<block> blocks_;
  std::vector<float> values_;
  std::vector<std::size_t> order_;
  std::vector<std::size_t> unique_;
};

/// Scratch memory of the training steps (one per thread).
struct two_tower_workspace {
  std::vector<float> users;          ///< B × d user tower outputs
  std::vector<float> items;          ///< B × d item tower outputs (BPR: the negative's)
  std::vector<float> diff;           ///< d
  std::vector<float> logits;         ///< B
  std::vector<float> coefficients;   ///< B × B: ∂L/∂s_rc of the sampled softmax
  std::vector<float> grad_users;     ///< B × d
  std::vector<float> grad_items;     ///< B × d
  std::vector<float> grad_item_bias; ///< B
  sparse_gradient gradient;
};

/// What a thread's share of an epoch did: the summed progressive loss, the interactions
/// trained on, and whether the progress callback asked to stop.
struct two_tower_shard_result {
  double loss = 0.0;
  std::size_t done = 0;
  bool stopped = false;
};

/// The loss of one step: the weighted data loss and the L2 penalty of the rows it touched.
struct two_tower_step_loss {
  double data = 0.0;
  double penalty = 0.0;
};

} // namespace detail

/// A two-tower retrieval model (Yi et al. 2019), with biased matrix factorisation (Koren et al.
/// 2009) as the special case of id-only towers with biases.
///
/// Towers. The user tower maps (user u, features F) to `p_u + mean_{f∈F} a_f`: the user's id
/// embedding plus the mean of its hashed feature embeddings (the embedding bag of
/// `model::embedding_bag`; no features: the id embedding alone). The item tower maps item i to
/// `q_i + mean_{g∈G_i} b_g` with the item's catalog features `G_i` (`set_item_features`). The
/// score is `s(u, i) = <user tower, item tower> + b_u + b_i + μ`, each bias when enabled
/// (`user_bias` and `global_bias` only with the `squared` objective: a per-user constant cancels
/// out of a ranking loss).
///
/// Export. `item_table()` holds every item tower's output and `user_embedding(u)` the user's query,
/// augmented so that their inner product *is* the score: item row `[q_i', b_i, 1]`, query
/// `[p_u', 1, b_u + μ]` (the bias columns present only when the biases are), hence
/// `<query, row_i> = <p_u', q_i'> + b_i + b_u + μ`. Retrieval by maximum inner product over the
/// table is then exact retrieval by score (`kernels::top_k`, `serving::exact_retriever`), and
/// `int8_item_table()` feeds the quantized retriever.
///
/// Training (`fit`) runs epochs over the interactions in a seeded order; see
/// `two_tower_objective`. With `threads > 1`, each thread trains a copy of the model on a fixed
/// shard of the epoch, and the copies (weights and AdaGrad state) are averaged in thread order at
/// the end of the epoch (the deterministic mode of `train_options`): the same seed and thread
/// count give a bit-identical model. There is no Hogwild mode.
///
/// Thread-safety: the const members (scoring, embeddings, export) are safe to call concurrently;
/// `fit`, `set_item_features` and `parameters()` writes are not. Complexity: a score is
/// O(d · (1 + |F| + |G_i|)); see `fit` for training.
class two_tower : public scorer_tag {
public:
  /// Settings; validated on construction.
  struct config {
    /// Users: user ids are `0 .. users-1`.
    std::size_t users = 1;
    /// Items: item ids are `0 .. items-1`, the rows of the item table.
    std::size_t items = 1;
    /// d, the dimension of the towers' outputs.
    std::size_t factors = 32;
    /// Rows of the hashed user-feature embedding table; 0: the user tower has no features.
    /// At most 2^24, so that model files store bucket ids exactly as float32.
    std::size_t user_feature_buckets = 0;
    /// Rows of the hashed item-feature embedding table; 0: no item features.
    std::size_t item_feature_buckets = 0;
    /// b_u, b_i and μ of biased MF (b_u and μ only with the `squared` objective).
    bool user_bias = false;
    bool item_bias = false;
    bool global_bias = false;
    two_tower_objective objective = two_tower_objective::squared;
    two_tower_optimizer optimizer = two_tower_optimizer::adagrad;
    /// η, scaled by the schedule's multiplier in each epoch.
    float learning_rate = 0.05f;
    /// λ of the L2 penalty on the embedding rows a step touches (ids and features).
    float l2 = 0.0f;
    /// λ of the L2 penalty on b_u and b_i (μ is not penalised).
    float bias_l2 = 0.0f;
    /// Standard deviation of the initial embeddings, drawn uniformly from `±√3 σ`; biases start
    /// at 0 (μ at the mean rating on the first `fit` of the `squared` objective).
    float init_stddev = 0.1f;
    /// AdaGrad's initial accumulator (> 0: it bounds the first steps by η|g|/sqrt(G0)).
    float adagrad_initial = 0.1f;
    /// BPR's negatives, and α of the popularity distribution `(count + 1)^α`.
    negative_sampling negatives = negative_sampling::uniform;
    float popularity_exponent = 0.75f;
    /// Sampled softmax: subtract log Q(item) from each logit (Yi et al. 2019), with Q the item's
    /// frequency in the training set, add-one smoothed.
    bool logq_correction = true;
    /// Sampled softmax: τ, the logits are `s / τ`.
    float temperature = 1.0f;
    /// Seeds the initial embeddings.
    std::uint64_t seed = 1;

    /// Throws `config_error` naming the first invalid field.
    void validate() const {
      constexpr std::size_t max_ids = std::size_t{1} << 32;
      constexpr std::size_t max_buckets = std::size_t{1} << 24;
      if (users == 0 || users > max_ids) {
        throw config_error("two_tower.users", "an integer from 1 to 2^32");
      }
      if (items == 0 || items > max_ids) {
        throw config_error("two_tower.items", "an integer from 1 to 2^32");
      }
      if (factors == 0 || factors > 4096) {
        throw config_error("two_tower.factors", "an integer from 1 to 4096");
      }
      if (user_feature_buckets > max_buckets) {
        throw config_error("two_tower.user_feature_buckets",
                           "an integer from 0 to 2^24 (bucket ids are stored as float32)");
      }
      if (item_feature_buckets > max_buckets) {
        throw config_error("two_tower.item_feature_buckets",
                           "an integer from 0 to 2^24 (bucket ids are stored as float32)");
      }
      if (objective != two_tower_objective::squared && user_bias) {
        throw config_error("two_tower.user_bias",
                           "false with a ranking objective (a per-user constant cancels out of "
                           "the bpr and sampled_softmax losses)");
      }
      if (objective != two_tower_objective::squared && global_bias) {
        throw config_error("two_tower.global_bias",
                           "false with a ranking objective (a constant cancels out of the bpr and "
                           "sampled_softmax losses)");
      }
      const auto positive = [](float v) { return v > 0.0f && std::isfinite(v); };
      const auto non_negative = [](float v) { return v >= 0.0f && std::isfinite(v); };
      if (!positive(learning_rate)) {
        throw config_error("two_tower.learning_rate", "a positive finite number");
      }
      if (!non_negative(l2)) {
        throw config_error("two_tower.l2", "a non-negative finite number");
      }
      if (!non_negative(bias_l2)) {
        throw config_error("two_tower.bias_l2", "a non-negative finite number");
      }
      if (!positive(init_stddev)) {
        throw config_error("two_tower.init_stddev",
                           "a positive finite number (all-zero embeddings get no gradient)");
      }
      if (!positive(adagrad_initial)) {
        throw config_error("two_tower.adagrad_initial", "a positive finite number");
      }
      if (!non_negative(popularity_exponent)) {
        throw config_error("two_tower.popularity_exponent", "a non-negative finite number");
      }
      if (!positive(temperature)) {
        throw config_error("two_tower.temperature", "a positive finite number");
      }
    }

    /// The settings as JSON (the model file's `hyper_parameters`).
    [[nodiscard]] nlohmann::json to_json() const {
      return {{"users", users},
              {"items", items},
              {"factors", factors},
              {"user_feature_buckets", user_feature_buckets},
              {"item_feature_buckets", item_feature_buckets},
              {"user_bias", user_bias},
              {"item_bias", item_bias},
              {"global_bias", global_bias},
              {"objective", std::string(to_string(objective))},
              {"optimizer", optimizer == two_tower_optimizer::sgd ? "sgd" : "adagrad"},
              {"learning_rate", learning_rate},
              {"l2", l2},
              {"bias_l2", bias_l2},
              {"init_stddev", init_stddev},
              {"adagrad_initial", adagrad_initial},
              {"negatives", negatives == negative_sampling::uniform ? "uniform" : "popularity"},
              {"popularity_exponent", popularity_exponent},
              {"logq_correction", logq_correction},
              {"temperature", temperature},
              {"seed", seed}};
    }

    /// Settings from JSON: missing keys keep their defaults, unknown keys and invalid values
    /// throw `config_error` naming the key.
    [[nodiscard]] static config from_json(const nlohmann::json& j) {
      data::detail::config_reader r(j, "two_tower");
      config c;
      r.read("users", c.users);
      r.read("items", c.items);
      r.read("factors", c.factors);
      r.read("user_feature_buckets", c.user_feature_buckets);
      r.read("item_feature_buckets", c.item_feature_buckets);
      r.read("user_bias", c.user_bias);
      r.read("item_bias", c.item_bias);
      r.read("global_bias", c.global_bias);
      static constexpr std::array<std::pair<two_tower_objective, std::string_view>, 3> objectives =
          {{{two_tower_objective::squared, "squared"},
            {two_tower_objective::bpr, "bpr"},
            {two_tower_objective::sampled_softmax, "sampled_softmax"}}};
      r.read_enum("objective", c.objective, objectives);
      static constexpr std::array<std::pair<two_tower_optimizer, std::string_view>, 2> optimizers =
          {{{two_tower_optimizer::sgd, "sgd"}, {two_tower_optimizer::adagrad, "adagrad"}}};
      r.read_enum("optimizer", c.optimizer, optimizers);
      r.read("learning_rate", c.learning_rate);
      r.read("l2", c.l2);
      r.read("bias_l2", c.bias_l2);
      r.read("init_stddev", c.init_stddev);
      r.read("adagrad_initial", c.adagrad_initial);
      static constexpr std::array<std::pair<negative_sampling, std::string_view>, 2> samplings = {
          {{negative_sampling::uniform, "uniform"}, {negative_sampling::popularity, "popularity"}}};
      r.read_enum("negatives", c.negatives, samplings);
      r.read("popularity_exponent", c.popularity_exponent);
      r.read("logq_correction", c.logq_correction);
      r.read("temperature", c.temperature);
      r.read("seed", c.seed);
      r.finish();
      c.validate();
      return c;
    }
    friend void to_json(nlohmann::json& j, const config& c) { j = c.to_json(); }
    friend void from_json(const nlohmann::json& j, config& c) { c = config::from_json(j); }
  };

  /// A scorer stage from a (user, item) pair to its score.
  using input_type = user_item;
  using output_type = float;

  /// The name of this model in model files.
  static constexpr std::string_view model_type = "two_tower";

  /// A model with embeddings drawn uniformly with standard deviation `init_stddev` from
  /// `config.seed` (in weight order), zero biases and no item features.
  /// @throws config_error for invalid settings.
  explicit two_tower(const config& c)
      : config_(checked(c))
      , layout_(make_layout(config_))
      , item_feature_offsets_(config_.items + 1, 0) {
    const std::size_t n =
        config_.optimizer == two_tower_optimizer::adagrad ? 2 * layout_.weights : layout_.weights;
    values_.assign(n, 0.0f);
    data::detail::splitmix64 rng(config_.seed);
    const double a = std::sqrt(3.0) * static_cast<double>(config_.init_stddev);
    const std::size_t embeddings = layout_.item_features + config_.item_feature_buckets * dim();
    for (std::size_t k = 0; k < embeddings; ++k) {
      values_[k] = static_cast<float>(a * (2.0 * rng.uniform() - 1.0));
    }
    if (config_.optimizer == two_tower_optimizer::adagrad) {
      std::fill(values_.begin() + static_cast<std::ptrdiff_t>(layout_.weights), values_.end(),
                config_.adagrad_initial);
    }
    refresh_item_table();
  }

  /// The settings the model was built with.
  [[nodiscard]] const config& settings() const noexcept { return config_; }
  /// d, the dimension of the towers.
  [[nodiscard]] std::size_t dim() const noexcept { return layout_.d; }
  /// The width of the exported item table and queries: d, plus 1 with an item bias, plus 1 with
  /// a user or global bias.
  [[nodiscard]] std::size_t embedding_dim() const noexcept {
    return layout_.d + (has_item_column() ? 1 : 0) + (has_constant_column() ? 1 : 0);
  }
  /// Epochs trained so far, over every call to `fit`.
  [[nodiscard]] std::size_t epochs_trained() const noexcept { return epochs_trained_; }

  // ----------------------------------------------------------------------------------------
  // Item catalog features

  /// Sets the catalog features of every item (`features[i]` for item i: hashed ids, taken
  /// modulo `item_feature_buckets`), and refreshes the item table.
  /// @throws std::invalid_argument if `features.size() != items`; input_error if features are
  /// given while `item_feature_buckets` is 0.
  void set_item_features(std::span<const std::vector<std::uint64_t>> features) {
    if (features.size() != config_.items) {
      std::string m = "mlsd::model::two_tower::set_item_features: expected one feature list per "
                      "item (";
      m += std::to_string(config_.items);
      m += "), got ";
      m += std::to_string(features.size());
      throw std::invalid_argument(m);
    }
    std::vector<std::uint32_t> offsets(config_.items + 1, 0);
    std::vector<std::uint32_t> buckets;
    for (std::size_t i = 0; i < features.size(); ++i) {
      if (!features[i].empty() && config_.item_feature_buckets == 0) {
        throw input_error(input_position(indexed("item_features", i)),
                          "no feature ids (two_tower.item_feature_buckets is 0)",
                          std::to_string(features[i].size()) + " ids");
      }
      for (const std::uint64_t id : features[i]) {
        buckets.push_back(static_cast<std::uint32_t>(id % config_.item_feature_buckets));
      }
      offsets[i + 1] = static_cast<std::uint32_t>(buckets.size());
    }
    item_feature_offsets_ = std::move(offsets);
    item_feature_buckets_ = std::move(buckets);
    refresh_item_table();
  }

  /// The feature buckets of item `i` (ids modulo `item_feature_buckets`). Precondition: i < items.
  [[nodiscard]] std::span<const std::uint32_t> item_features(std::size_t i) const noexcept {
    return std::span<const std::uint32_t>(item_feature_buckets_)
        .subspan(item_feature_offsets_[i], item_feature_offsets_[i + 1] - item_feature_offsets_[i]);
  }

  // ----------------------------------------------------------------------------------------
  // Scoring and export

  /// `s(u, i)`: the inner product of the towers plus the enabled biases (a predicted rating
  /// under `squared`, a ranking score otherwise).
  /// @throws input_error for an unknown user or item, or user features without buckets.
  [[nodiscard]] float score(std::uint32_t user, std::uint32_t item,
                            std::span<const std::uint64_t> user_features = {}) const {
    check_request(user, user_features);
    check_item(item);
    const std::size_t d = dim();
    std::array<float, 512> stack{};
    std::vector<float> heap;
    float* u = stack.data();
    if (2 * d > stack.size()) {
      heap.resize(2 * d);
      u = heap.data();
    }
    float* v = u + d;
    user_tower(values_.data(), user, user_features, u);
    item_tower(values_.data(), item, v);
    return raw_score(values_.data(), u, v, user, item);
  }

  /// The scorer stage: `score(x.user, x.item)`.
  output_type operator()(input_type x) const { return score(x.user, x.item); }

  /// The user's query for the item table: `[user tower, 1 (item bias), b_u + μ (user/global
  /// bias)]`, `embedding_dim()` floats, whose inner product with `item_table().row(i)` is
  /// `score(user, i, user_features)`.
  /// @throws input_error for an unknown user or features without buckets; std::invalid_argument
  /// if `out.size() != embedding_dim()`.
  void user_embedding(std::uint32_t user, std::span<const std::uint64_t> user_features,
                      std::span<float> out) const {
    check_request(user, user_features);
    if (out.size() != embedding_dim()) {
      std::string m = "mlsd::model::two_tower::user_embedding: the output has ";
      m += std::to_string(out.size());
      m += " floats, embedding_dim() is ";
      m += std::to_string(embedding_dim());
      throw std::invalid_argument(m);
    }
    const float* w = values_.data();
    user_tower(w, user, user_features, out.data());
    std::size_t c = dim();
    if (has_item_column()) {
      out[c++] = 1.0f;
    }
    if (has_constant_column()) {
      float constant = 0.0f;
      if (layout_.user_bias != layout_.absent) {
        constant += w[layout_.user_bias + user];
      }
      if (layout_.global_bias != layout_.absent) {
        constant += w[layout_.global_bias];
      }
      out[c] = constant;
    }
  }

  /// `user_embedding` into a new vector.
  [[nodiscard]] std::vector<float>
  user_embedding(std::uint32_t user, std::span<const std::uint64_t> user_features = {}) const {
    std::vector<float> out(embedding_dim());
    user_embedding(user, user_features, out);
    return out;
  }

  /// Every item's exported row, `items × embedding_dim()`, row-major: `[item tower, b_i (item
  /// bias), 1 (user/global bias)]`. Ready for `kernels::top_k` and `serving::exact_retriever`.
  /// The view stays valid, and is updated in place, until the model is destroyed or moved; it
  /// is rebuilt after `fit`, `set_item_features` and `refresh_item_table`.
  [[nodiscard]] matrix_view<const float> item_table() const noexcept {
    return {item_table_.data(), config_.items, embedding_dim()};
  }

  /// The int8 table of `item_table()` (`kernels::int8_table`, symmetric per-row scales) for
  /// `serving::int8_retriever` and `kernels::top_k_rescored`, which rescore the int8 shortlist
  /// with `item_table()` itself. O(items · embedding_dim()).
  [[nodiscard]] kernels::int8_table int8_item_table() const {
    return kernels::int8_table(item_table());
  }

  /// Recomputes `item_table()` from the weights (after editing `parameters()`).
  /// O(items · d · (1 + features per item)).
  void refresh_item_table() {
    const std::size_t e = embedding_dim();
    item_table_.resize(config_.items * e);
    const float* w = values_.data();
    for (std::size_t i = 0; i < config_.items; ++i) {
      float* row = item_table_.data() + i * e;
      item_tower(w, static_cast<std::uint32_t>(i), row);
      std::size_t c = dim();
      if (has_item_column()) {
        row[c++] = w[layout_.item_bias + i];
      }
      if (has_constant_column()) {
        row[c] = 1.0f;
      }
    }
  }

  // ----------------------------------------------------------------------------------------
  // Training

  /// Trains on `train` for `options.epochs` epochs (see `two_tower_objective` for what a step
  /// is). A first call on a fresh model sets μ to the weighted mean rating (`squared` with a
  /// global bias); later calls continue from the current weights (warm start; the schedule
  /// restarts at epoch 0). Item frequencies and user positives for sampling are taken from
  /// `train` (`fit_sampler`).
  ///
  /// As `model::train` does: the epoch's training loss is the progressive loss (each step's loss
  /// before its update, per interaction); `on_progress` is called after each batch (with one
  /// thread; with several, only at the end of each epoch) and after each epoch, and returning
  /// false stops training after the current batch, the epoch being closed as usual;
  /// `stopped_early` is true when training ended before `options.epochs` for either reason.
  ///
  /// Per epoch: O(n · d · (1 + features)) for `squared` and `bpr` (plus the negatives' rejection
  /// tests, O(log |positives of u|) each), O(n · B · d) for `sampled_softmax`, plus
  /// O(threads · weights) for averaging.
  /// @throws config_error for invalid options (Hogwild mode; `sampled_softmax` with a batch of
  /// fewer than 2; early stopping without a validation set; a `valid_metric`); input_error naming
  /// the first bad interaction (unknown user or item, a non-finite rating or weight, a negative
  /// weight, features without buckets) or an empty training set. Nothing is trained then.
  training_summary fit(std::span<const interaction> train, const train_options& options,
                       const progress_callback& on_progress = {}) {
    return fit(train, {}, options, on_progress);
  }

  /// `fit` with a validation set: its mean loss (`mean_loss`, batches of `options.batch_size`,
  /// BPR negatives from a seed derived from `options.seed`, the same every epoch) is reported
  /// after each epoch, and drives early stopping, which restores the weights of the best epoch
  /// (also when the last epoch is reached).
  training_summary fit(std::span<const interaction> train, std::span<const interaction> valid,
                       const train_options& options, const progress_callback& on_progress = {}) {
    using clock = std::chrono::steady_clock;
    const auto start = clock::now();
    check_options(options, !valid.empty());
    if (train.empty()) {
      throw input_error(input_position("interactions"), "at least one interaction", "none");
    }
    check_interactions(train, "interactions");
    check_interactions(valid, "validation");
    fit_sampler(train);
    if (epochs_trained_ == 0 && layout_.global_bias != layout_.absent) {
      double sum = 0.0, weights = 0.0;
      for (const interaction& x : train) {
        sum += static_cast<double>(x.weight) * x.rating;
        weights += x.weight;
      }
      values_[layout_.global_bias] = weights > 0.0 ? static_cast<float>(sum / weights) : 0.0f;
    }
    const std::uint64_t valid_seed = data::detail::splitmix64::hash(options.seed, 0x76616c6964);
    const bool early_stopping = options.stopping.patience > 0;
    training_summary summary;
    detail::early_stopper stopper(options); // the loss: check_options refuses a metric
    std::vector<float> best_values;
    const auto seconds = [&] {
      return std::chrono::duration<double>(clock::now() - start).count();
    };
    const std::size_t n = train.size();
    const std::size_t threads = std::min(options.threads, n);
    for (std::size_t epoch = 0; epoch < options.epochs; ++epoch) {
      const std::uint64_t epoch_seed = data::detail::splitmix64::hash(options.seed, epoch);
      std::vector<std::size_t> order(n);
      std::iota(order.begin(), order.end(), std::size_t{0});
      if (options.shuffle) {
        data::detail::splitmix64 rng(epoch_seed);
        for (std::size_t i = n; i > 1; --i) {
          std::swap(order[i - 1], order[static_cast<std::size_t>(rng.below(i))]);
        }
      }
      const float rate =
          config_.learning_rate * static_cast<float>(options.schedule.multiplier(epoch));
      const auto report = [&](bool epoch_done, std::size_t done, double loss,
                              std::optional<double> valid_loss) {
        if (!on_progress) {
          return true;
        }
        progress_report p;
        p.epoch = epoch;
        p.epochs = options.epochs;
        p.examples_done = done;
        p.examples_total = n;
        p.train_loss = done > 0 ? loss / static_cast<double>(done) : 0.0;
        p.valid_loss = valid_loss;
        p.seconds = seconds();
        p.epoch_done = epoch_done;
        return on_progress(p);
      };
      detail::two_tower_shard_result result;
      if (threads <= 1) {
        detail::two_tower_workspace ws;
        result = run_shard(
            values_.data(), train, order, 0, n, epoch_seed, rate, options.batch_size, ws,
            [&](std::size_t done, double loss) { return report(false, done, loss, std::nullopt); });
      } else {
        std::vector<std::vector<float>> copies(threads, values_);
        std::vector<detail::two_tower_shard_result> results(threads);
        {
          std::vector<std::thread> workers;
          for (std::size_t t = 0; t < threads; ++t) {
            workers.emplace_back([&, t] {
              detail::two_tower_workspace ws;
              results[t] = run_shard(copies[t].data(), train, order, t * n / threads,
                                     (t + 1) * n / threads, epoch_seed, rate, options.batch_size,
                                     ws, [](std::size_t, double) { return true; });
            });
          }
          for (auto& w : workers) {
            w.join();
          }
        }
        // Iterative parameter mixing, in thread order: the same for the same seed and threads.
        const float inverse = 1.0f / static_cast<float>(threads);
        for (std::size_t k = 0; k < values_.size(); ++k) {
          float sum = 0.0f;
          for (std::size_t t = 0; t < threads; ++t) {
            sum += copies[t][k];
          }
          values_[k] = sum * inverse;
        }
        for (const auto& r : results) {
          result.loss += r.loss;
          result.done += r.done;
        }
      }
      ++epochs_trained_;
      summary.epochs_run = epoch + 1;
      summary.best_epoch = epoch;
      summary.train_loss.push_back(result.done > 0 ? result.loss / static_cast<double>(result.done)
                                                   : 0.0);
      std::optional<double> valid_loss;
      if (!valid.empty()) {
        valid_loss = mean_loss(valid, options.batch_size, valid_seed);
        summary.valid_loss.push_back(*valid_loss);
      }
      bool patience_exhausted = false;
      if (early_stopping) {
        if (stopper.record(epoch, *valid_loss)) {
          best_values = values_;
        }
        patience_exhausted = stopper.exhausted();
        summary.best_epoch = stopper.best_epoch();
      }
      const bool go_on = report(true, result.done, result.loss, valid_loss);
      if (patience_exhausted || result.stopped || !go_on) {
        summary.stopped_early = epoch + 1 < options.epochs;
        break;
      }
    }
    if (early_stopping && summary.best_epoch + 1 != summary.epochs_run) {
      values_ = std::move(best_values);
    }
    refresh_item_table();
    summary.seconds = seconds();
    return summary;
  }

  /// Online learning from a stream (continual learning): the steps one epoch of `fit` takes on a
  /// batch, on `batch` in its order, at `config().learning_rate` times `rate_multiplier`: one
  /// step per interaction under `squared` and `bpr` (the BPR negative of the k-th drawn from
  /// `hash(seed, k)`), one step on the whole batch under `sampled_softmax` (its other
  /// interactions are the negatives). Negatives come from the sampler of the last `fit` or
  /// `fit_sampler` (popularity, the user's positives left out, logQ); on a model that has none,
  /// uniformly from the catalogue, with no positive left out and no logQ correction. The steps
  /// move μ as `fit`'s do, but `update` never initialises it (the first `fit` of a model does, to
  /// the mean rating). Pass a different `seed` per call (a counter will do), or every call draws
  /// the same BPR negatives for the same positions. Then `item_table()` is rebuilt
  /// (`refresh_item_table()`, O(items · embedding_dim())) unless `refresh` is false: for many small
  /// batches, pass false and refresh once before the table is served.
  ///
  /// Returns the mean loss per interaction before the steps (the progressive loss, as `fit`
  /// reports it), 0 for an empty batch. Not thread-safe. O(steps as in `fit`).
  /// @throws input_error naming `batch[i]` and the field of the first bad interaction;
  ///   config_error (`batch`) for fewer than 2 interactions under `sampled_softmax`, and
  ///   (`rate_multiplier`) for a multiplier that is not a finite number above 0. Nothing is
  ///   updated then.
  double update(std::span<const interaction> batch, std::uint64_t seed,
                float rate_multiplier = 1.0f, bool refresh = true) {
    if (!(std::isfinite(rate_multiplier) && rate_multiplier > 0.0f)) {
      throw config_error("rate_multiplier", "a finite number above 0");
    }
    check_interactions(batch, "batch");
    if (batch.empty()) {
      return 0.0;
    }
    if (config_.objective == two_tower_objective::sampled_softmax && batch.size() < 2) {
      throw config_error("batch", "at least 2 interactions with the sampled_softmax objective "
                                  "(the other interactions of a batch are the negatives)");
    }
    std::vector<std::size_t> order(batch.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    detail::two_tower_workspace ws;
    const detail::two_tower_shard_result result =
        run_shard(values_.data(), batch, order, 0, batch.size(), seed,
                  config_.learning_rate * rate_multiplier, batch.size(), ws,
                  [](std::size_t, double) { return true; });
    if (refresh) {
      refresh_item_table();
    }
    return result.loss / static_cast<double>(result.done);
  }

  /// Records what sampling needs from a training set: each item's count (popularity negatives,
  /// and Q(i) = (count + 1) / (n + items) of the logQ correction) and each user's positive items
  /// (BPR draws its negative outside them). `fit` calls it; call it yourself before
  /// `loss_and_gradient` or `mean_loss` on a model that has not been fitted. O(n log n).
  /// @throws input_error for an unknown user or item.
  void fit_sampler(std::span<const interaction> train) {
    check_interactions(train, "interactions");
    std::vector<double> counts(config_.items, 0.0);
    std::vector<std::uint32_t> offsets(config_.users + 1, 0);
    for (const interaction& x : train) {
      counts[x.item] += 1.0;
      ++offsets[x.user + 1];
    }
    for (std::size_t u = 0; u < config_.users; ++u) {
      offsets[u + 1] += offsets[u];
    }
    std::vector<std::uint32_t> items(train.size());
    std::vector<std::uint32_t> fill(offsets.begin(), offsets.end() - 1);
    for (const interaction& x : train) {
      items[fill[x.user]++] = x.item;
    }
    for (std::size_t u = 0; u < config_.users; ++u) {
      std::sort(items.begin() + offsets[u], items.begin() + offsets[u + 1]);
    }
    positive_offsets_ = std::move(offsets);
    positives_ = std::move(items);
    const double total = static_cast<double>(train.size() + config_.items);
    log_q_.resize(config_.items);
    cumulative_.resize(config_.items);
    double running = 0.0;
    for (std::size_t i = 0; i < config_.items; ++i) {
      log_q_[i] = static_cast<float>(std::log((counts[i] + 1.0) / total));
      running += std::pow(counts[i] + 1.0, static_cast<double>(config_.popularity_exponent));
      cumulative_[i] = running;
    }
  }

  /// The training loss of one optimizer step on `batch` (the weighted data loss plus the L2
  /// penalty of the rows it touches, each once) and its gradient with respect to every weight,
  /// written densely into `gradient` (`weight_count()` floats). For `squared` and `bpr` the
  /// batch's loss is the sum of its interactions' losses (`fit` steps after each one); BPR's
  /// negative for interaction k is drawn from `hash(seed, k)`. For tests and diagnostics.
  /// @throws input_error for bad interactions; std::invalid_argument for a wrong gradient size.
  double loss_and_gradient(std::span<const interaction> batch, std::uint64_t seed,
                           std::span<float> gradient) const {
    if (gradient.size() != layout_.weights) {
      throw std::invalid_argument(
          "mlsd::model::two_tower::loss_and_gradient: the gradient needs weight_count() floats");
    }
    check_interactions(batch, "batch");
    detail::two_tower_workspace ws;
    const auto loss = compute_step(values_.data(), batch, seed, ws);
    std::fill(gradient.begin(), gradient.end(), 0.0f);
    ws.gradient.for_each_row([&](std::size_t offset, std::size_t width, const float* g) {
      for (std::size_t k = 0; k < width; ++k) {
        gradient[offset + k] += g[k];
      }
    });
    return loss.data + loss.penalty;
  }

  /// The loss `loss_and_gradient` returns, without the gradient.
  [[nodiscard]] double step_loss(std::span<const interaction> batch, std::uint64_t seed) const {
    check_interactions(batch, "batch");
    detail::two_tower_workspace ws;
    const auto loss = compute_step(values_.data(), batch, seed, ws);
    return loss.data + loss.penalty;
  }

  /// The objective's mean data loss per interaction over `data`, without penalty: `squared` and
  /// `bpr` per interaction (BPR negatives drawn from `hash(seed, k)` for the k-th), and
  /// `sampled_softmax` over consecutive batches of `batch_size` in the given order (the loss
  /// depends on the batch: the same data and batch size give comparable numbers). 0 for no data.
  /// @throws input_error for bad interactions.
  [[nodiscard]] double mean_loss(std::span<const interaction> data, std::size_t batch_size = 256,
                                 std::uint64_t seed = 1) const {
    check_interactions(data, "interactions");
    if (data.empty()) {
      return 0.0;
    }
    detail::two_tower_workspace ws;
    double sum = 0.0;
    const std::size_t step = config_.objective == two_tower_objective::sampled_softmax
                                 ? std::max<std::size_t>(batch_size, 1)
                                 : 1;
    for (std::size_t b = 0; b < data.size(); b += step) {
      const std::size_t m = std::min(step, data.size() - b);
      sum += compute_step(values_.data(), data.subspan(b, m),
                          data::detail::splitmix64::hash(seed, b), ws, false)
                 .data;
    }
    return sum / static_cast<double>(data.size());
  }

  /// The number of weights (embedding tables, then biases).
  [[nodiscard]] std::size_t weight_count() const noexcept { return layout_.weights; }

  /// Every number training changes: the weights, then (AdaGrad) one accumulator per weight, in
  /// this order: user id embeddings (users × d), user feature embeddings, item id embeddings,
  /// item feature embeddings, b_u, b_i, μ. After writing, call `refresh_item_table()`.
  [[nodiscard]] std::span<float> parameters() noexcept { return values_; }
  [[nodiscard]] std::span<const float> parameters() const noexcept { return values_; }

  // ----------------------------------------------------------------------------------------
  // Model files

  /// The model as a model file: hyper-parameters (the config), training (epochs trained), and
  /// tables `user_embeddings` (users × d), `user_feature_embeddings`, `item_embeddings`,
  /// `item_feature_embeddings` (when there are buckets), `user_bias`, `item_bias`, `global_bias`
  /// (when enabled, n × 1), `item_feature_offsets` ((items + 1) × 1) and `item_feature_ids` when
  /// items have features, and `adagrad_accumulators` (weights × 1) under AdaGrad, so that
  /// training can continue after loading.
  [[nodiscard]] model_file to_model_file() const {
    model_file f;
    f.model_type = std::string(model_type);
    f.hyper_parameters = config_.to_json();
    f.training = {{"epochs_trained", epochs_trained_}};
    const std::span<const float> w(values_);
    const std::size_t d = dim();
    f.add_table("user_embeddings", config_.users, d,
                w.subspan(layout_.user_ids, config_.users * d));
    if (config_.user_feature_buckets > 0) {
      f.add_table("user_feature_embeddings", config_.user_feature_buckets, d,
                  w.subspan(layout_.user_features, config_.user_feature_buckets * d));
    }
    f.add_table("item_embeddings", config_.items, d,
                w.subspan(layout_.item_ids, config_.items * d));
    if (config_.item_feature_buckets > 0) {
      f.add_table("item_feature_embeddings", config_.item_feature_buckets, d,
                  w.subspan(layout_.item_features, config_.item_feature_buckets * d));
    }
    if (config_.user_bias) {
      f.add_table("user_bias", config_.users, 1, w.subspan(layout_.user_bias, config_.users));
    }
    if (config_.item_bias) {
      f.add_table("item_bias", config_.items, 1, w.subspan(layout_.item_bias, config_.items));
    }
    if (config_.global_bias) {
      f.add_table("global_bias", 1, 1, w.subspan(layout_.global_bias, 1));
    }
    if (!item_feature_buckets_.empty()) {
      const std::vector<float> offsets(item_feature_offsets_.begin(), item_feature_offsets_.end());
      const std::vector<float> ids(item_feature_buckets_.begin(), item_feature_buckets_.end());
      f.add_table("item_feature_offsets", offsets.size(), 1, offsets);
      f.add_table("item_feature_ids", ids.size(), 1, ids);
    }
    if (config_.optimizer == two_tower_optimizer::adagrad) {
      f.add_table("adagrad_accumulators", layout_.weights, 1, w.subspan(layout_.weights));
    }
    return f;
  }

  /// The model a model file holds.
  /// @throws config_error for invalid hyper-parameters; model_file_error `missing_table` or
  /// `bad_table` when a table is absent or its shape or contents disagree with them.
  [[nodiscard]] static two_tower from_model_file(const model_file& f) {
    two_tower m(config::from_json(f.hyper_parameters));
    const config& c = m.config_;
    const std::size_t d = m.dim();
    const auto copy = [&](std::string_view name, std::size_t rows, std::size_t cols,
                          std::size_t offset) {
      const named_table& t = f.table(name, rows, cols);
      std::copy(t.values.begin(), t.values.end(),
                m.values_.begin() + static_cast<std::ptrdiff_t>(offset));
    };
    copy("user_embeddings", c.users, d, m.layout_.user_ids);
    if (c.user_feature_buckets > 0) {
      copy("user_feature_embeddings", c.user_feature_buckets, d, m.layout_.user_features);
    }
    copy("item_embeddings", c.items, d, m.layout_.item_ids);
    if (c.item_feature_buckets > 0) {
      copy("item_feature_embeddings", c.item_feature_buckets, d, m.layout_.item_features);
    }
    if (c.user_bias) {
      copy("user_bias", c.users, 1, m.layout_.user_bias);
    }
    if (c.item_bias) {
      copy("item_bias", c.items, 1, m.layout_.item_bias);
    }
    if (c.global_bias) {
      copy("global_bias", 1, 1, m.layout_.global_bias);
    }
    if (c.optimizer == two_tower_optimizer::adagrad) {
      copy("adagrad_accumulators", m.layout_.weights, 1, m.layout_.weights);
    }
    const bool has_features = std::any_of(f.tables.begin(), f.tables.end(), [](const auto& t) {
      return t.name == "item_feature_offsets";
    });
    if (has_features) {
      const named_table& offsets = f.table("item_feature_offsets", c.items + 1, 1);
      const named_table& ids = f.table("item_feature_ids");
      const auto bad = [&](std::string detail) {
        return model_file_error(model_file_error::kind::bad_table, f.source, std::move(detail));
      };
      if (ids.cols != 1) {
        throw bad("table 'item_feature_ids' must have one column");
      }
      std::vector<std::uint32_t> o(offsets.values.size());
      for (std::size_t i = 0; i < o.size(); ++i) {
        const float v = offsets.values[i];
        const float previous = i == 0 ? 0.0f : offsets.values[i - 1];
        if (!(v >= previous) || v != std::floor(v) || (i == 0 && v != 0.0f) ||
            v > static_cast<float>(ids.rows)) {
          throw bad("table 'item_feature_offsets' must rise from 0 to the number of ids, in "
                    "whole numbers; row " +
                    std::to_string(i) + " breaks it");
        }
        o[i] = static_cast<std::uint32_t>(v);
      }
      if (o.back() != ids.rows) {
        throw bad("table 'item_feature_offsets' must end at the number of ids");
      }
      std::vector<std::uint32_t> b(ids.values.size());
      for (std::size_t k = 0; k < b.size(); ++k) {
        const float v = ids.values[k];
        if (!(v >= 0.0f) || v != std::floor(v) ||
            !(v < static_cast<float>(c.item_feature_buckets))) {
          throw bad("table 'item_feature_ids' row " + std::to_string(k) +
                    ": expected a bucket id below item_feature_buckets");
        }
        b[k] = static_cast<std::uint32_t>(v);
      }
      m.item_feature_offsets_ = std::move(o);
      m.item_feature_buckets_ = std::move(b);
    }
    if (f.training.is_object() && f.training.contains("epochs_trained") &&
        f.training["epochs_trained"].is_number_unsigned()) {
      m.epochs_trained_ = f.training["epochs_trained"].get<std::size_t>();
    }
    m.refresh_item_table();
    return m;
  }

private:
  static const config& checked(const config& c) {
    c.validate();
    return c;
  }

  static detail::two_tower_layout make_layout(const config& c) {
    detail::two_tower_layout l;
    l.d = c.factors;
    l.user_ids = 0;
    l.user_features = l.user_ids + c.users * c.factors;
    l.item_ids = l.user_features + c.user_feature_buckets * c.factors;
    l.item_features = l.item_ids + c.items * c.factors;
    std::size_t next = l.item_features + c.item_feature_buckets * c.factors;
    if (c.user_bias) {
      l.user_bias = next;
      next += c.users;
    }
    if (c.item_bias) {
      l.item_bias = next;
      next += c.items;
    }
    if (c.global_bias) {
      l.global_bias = next;
      next += 1;
    }
    l.weights = next;
    return l;
  }

  static std::string indexed(std::string_view name, std::size_t i) {
    std::string s(name);
    s += '[';
    s += std::to_string(i);
    s += ']';
    return s;
  }

  [[nodiscard]] bool has_item_column() const noexcept { return config_.item_bias; }
  [[nodiscard]] bool has_constant_column() const noexcept {
    return config_.user_bias || config_.global_bias;
  }

  void check_request(std::uint32_t user, std::span<const std::uint64_t> features) const {
    if (user >= config_.users) {
      std::string e = "a user id below ";
      e += std::to_string(config_.users);
      throw input_error(input_position("request", 0, 0, "user"), e, std::to_string(user));
    }
    if (!features.empty() && config_.user_feature_buckets == 0) {
      throw input_error(input_position("request", 0, 0, "user_features"),
                        "no feature ids (two_tower.user_feature_buckets is 0)",
                        std::to_string(features.size()) + " ids");
    }
  }

  void check_item(std::uint32_t item) const {
    if (item >= config_.items) {
      std::string e = "an item id below ";
      e += std::to_string(config_.items);
      throw input_error(input_position("request", 0, 0, "item"), e, std::to_string(item));
    }
  }

  void check_options(const train_options& options, bool has_valid) const {
    options.validate();
    if (options.mode == parallel_mode::hogwild) {
      throw config_error("mode", "deterministic (two_tower averages per-thread copies; it has no "
                                 "Hogwild mode)");
    }
    if (config_.objective == two_tower_objective::sampled_softmax && options.batch_size < 2) {
      throw config_error("batch_size", "at least 2 with the sampled_softmax objective (the other "
                                       "interactions of a batch are the negatives)");
    }
    if (options.stopping.patience > 0 && !has_valid) {
      throw config_error("stopping.patience", "0 without a validation set");
    }
    if (options.valid_metric) {
      throw config_error("valid_metric",
                         "unset (two_tower validates on interactions, not on scored rows: its "
                         "figure is the validation loss, under `squared` a monotone function of "
                         "the RMSE)");
    }
  }

  // Throws input_error naming `set[i]` and the field of the first bad interaction.
  void check_interactions(std::span<const interaction> data, std::string_view set) const {
    for (std::size_t i = 0; i < data.size(); ++i) {
      const interaction& x = data[i];
      const auto where = [&](const char* field) {
        return input_position(indexed(set, i), 0, 0, field);
      };
      if (x.user >= config_.users) {
        std::string e = "a user id below ";
        e += std::to_string(config_.users);
        throw input_error(where("user"), e, std::to_string(x.user));
      }
      if (x.item >= config_.items) {
        std::string e = "an item id below ";
        e += std::to_string(config_.items);
        throw input_error(where("item"), e, std::to_string(x.item));
      }
      if (config_.objective == two_tower_objective::squared && !std::isfinite(x.rating)) {
        throw input_error(where("rating"), "a finite rating", std::to_string(x.rating));
      }
      if (!(x.weight >= 0.0f) || !std::isfinite(x.weight)) {
        throw input_error(where("weight"), "a non-negative finite weight",
                          std::to_string(x.weight));
      }
      if (!x.user_features.empty() && config_.user_feature_buckets == 0) {
        throw input_error(where("user_features"),
                          "no feature ids (two_tower.user_feature_buckets is 0)",
                          std::to_string(x.user_features.size()) + " ids");
      }
    }
  }

  // out = id row + mean of the feature rows (sum, then times 1/n, as model::embedding_bag does).
  template <class Id>
  void tower(const float* w, std::size_t id_row, std::size_t feature_base, std::size_t buckets,
             std::span<const Id> features, float* out) const noexcept {
    const std::size_t d = dim();
    const float* id = w + id_row;
    if (features.empty()) {
      std::copy(id, id + d, out);
      return;
    }
    std::fill(out, out + d, 0.0f);
    for (const Id f : features) {
      const float* row = w + feature_base + static_cast<std::size_t>(f % buckets) * d;
      for (std::size_t j = 0; j < d; ++j) {
        out[j] += row[j];
      }
    }
    const float inverse = 1.0f / static_cast<float>(features.size());
    for (std::size_t j = 0; j < d; ++j) {
      out[j] = id[j] + out[j] * inverse;
    }
  }

  void user_tower(const float* w, std::uint32_t user, std::span<const std::uint64_t> features,
                  float* out) const noexcept {
    tower(w, layout_.user_ids + std::size_t{user} * dim(), layout_.user_features,
          std::max<std::size_t>(config_.user_feature_buckets, 1), features, out);
  }
  void item_tower(const float* w, std::uint32_t item, float* out) const noexcept {
    tower(w, layout_.item_ids + std::size_t{item} * dim(), layout_.item_features,
          std::max<std::size_t>(config_.item_feature_buckets, 1), item_features(item), out);
  }

  // The tower product plus the biases.
  float raw_score(const float* w, const float* u, const float* v, std::uint32_t user,
                  std::uint32_t item) const noexcept {
    float s = kernels::dot(u, v, dim());
    if (layout_.item_bias != layout_.absent) {
      s += w[layout_.item_bias + item];
    }
    if (layout_.user_bias != layout_.absent) {
      s += w[layout_.user_bias + user];
    }
    if (layout_.global_bias != layout_.absent) {
      s += w[layout_.global_bias];
    }
    return s;
  }

  // Adds `scale · g` as the gradient of the user tower's output: to the id row, and `1/|F|` of it
  // to each feature row (once per occurrence).
  void add_user_gradient(detail::sparse_gradient& grad, const interaction& x, const float* g,
                         float scale) const {
    const std::size_t d = dim();
    grad.add(layout_.user_ids + std::size_t{x.user} * d, d, config_.l2, g, scale);
    if (!x.user_features.empty()) {
      const float share = scale / static_cast<float>(x.user_features.size());
      for (const std::uint64_t f : x.user_features) {
        grad.add(layout_.user_features +
                     static_cast<std::size_t>(f % config_.user_feature_buckets) * d,
                 d, config_.l2, g, share);
      }
    }
  }
  void add_item_gradient(detail::sparse_gradient& grad, std::uint32_t item, const float* g,
                         float scale) const {
    const std::size_t d = dim();
    grad.add(layout_.item_ids + std::size_t{item} * d, d, config_.l2, g, scale);
    const auto features = item_features(item);
    if (!features.empty()) {
      const float share = scale / static_cast<float>(features.size());
      for (const std::uint32_t b : features) {
        grad.add(layout_.item_features + std::size_t{b} * d, d, config_.l2, g, share);
      }
    }
  }

  // A negative item for `user` (whose positive is `item`): drawn from the sampler until it is
  // neither `item` nor one of the user's training positives, at most 32 draws (then the last
  // draw, when the user has interacted with nearly the whole catalog).
  std::uint32_t draw_negative(std::uint32_t user, std::uint32_t item,
                              data::detail::splitmix64& rng) const noexcept {
    const bool have_positives = positive_offsets_.size() == config_.users + 1;
    std::uint32_t j = item;
    for (int attempt = 0; attempt < 32; ++attempt) {
      if (config_.negatives == negative_sampling::popularity && !cumulative_.empty()) {
        const double r = rng.uniform() * cumulative_.back();
        const auto it = std::upper_bound(cumulative_.begin(), cumulative_.end(), r);
        j = static_cast<std::uint32_t>(std::min<std::size_t>(
            static_cast<std::size_t>(it - cumulative_.begin()), config_.items - 1));
      } else {
        j = static_cast<std::uint32_t>(rng.below(config_.items));
      }
      if (j == item) {
        continue;
      }
      if (have_positives) {
        const auto first = positives_.begin() + positive_offsets_[user];
        const auto last = positives_.begin() + positive_offsets_[user + 1];
        if (std::binary_search(first, last, j)) {
          continue;
        }
      }
      break;
    }
    return j;
  }

  // The loss of one step on `batch` and (with `with_gradient`) its gradient in `ws.gradient`,
  // after `finish` (rows merged, L2 added). The weights are read from `w`, so that per-thread
  // copies can be stepped.
  detail::two_tower_step_loss compute_step(const float* w, std::span<const interaction> batch,
                                           std::uint64_t seed, detail::two_tower_workspace& ws,
                                           bool with_gradient = true) const {
    const std::size_t d = dim();
    const std::size_t b = batch.size();
    detail::two_tower_step_loss loss;
    detail::sparse_gradient& grad = ws.gradient;
    grad.clear();
    ws.users.resize(std::max<std::size_t>(b, 1) * d);
    ws.items.resize(std::max<std::size_t>(b, 1) * d);
    ws.diff.resize(d);
    float* u = ws.users.data();
    float* v = ws.items.data();
    switch (config_.objective) {
    case two_tower_objective::squared:
      for (const interaction& x : batch) {
        user_tower(w, x.user, x.user_features, u);
        item_tower(w, x.item, v);
        const float s = raw_score(w, u, v, x.user, x.item);
        loss.data +=
            static_cast<double>(x.weight) * loss_value(loss_function::squared, s, x.rating);
        if (!with_gradient) {
          continue;
        }
        const float g = x.weight * loss_gradient(loss_function::squared, s, x.rating);
        add_user_gradient(grad, x, v, g);
        add_item_gradient(grad, x.item, u, g);
        add_bias_gradients(grad, x.user, x.item, g);
      }
      break;
    case two_tower_objective::bpr:
      for (std::size_t k = 0; k < b; ++k) {
        const interaction& x = batch[k];
        data::detail::splitmix64 rng(data::detail::splitmix64::hash(seed, k));
        const std::uint32_t j = draw_negative(x.user, x.item, rng);
        float* vj = ws.diff.data();
        user_tower(w, x.user, x.user_features, u);
        item_tower(w, x.item, v);
        item_tower(w, j, vj);
        const float margin = raw_score(w, u, v, x.user, x.item) - raw_score(w, u, vj, x.user, j);
        loss.data +=
            static_cast<double>(x.weight) * loss_value(loss_function::logistic, margin, 1.0f);
        if (!with_gradient) {
          continue;
        }
        // ∂(−ln σ(x))/∂x = σ(x) − 1 (Rendle et al. 2009, eq. in section 4.2).
        const float g = x.weight * loss_gradient(loss_function::logistic, margin, 1.0f);
        for (std::size_t c = 0; c < d; ++c) {
          vj[c] = v[c] - vj[c];
        }
        add_user_gradient(grad, x, vj, g);
        add_item_gradient(grad, x.item, u, g);
        add_item_gradient(grad, j, u, -g);
        if (layout_.item_bias != layout_.absent) {
          grad.add(layout_.item_bias + x.item, config_.bias_l2, g);
          grad.add(layout_.item_bias + j, config_.bias_l2, -g);
        }
      }
      break;
    case two_tower_objective::sampled_softmax:
      loss.data = softmax_step(w, batch, ws, with_gradient);
      break;
    }
    if (with_gradient) {
      loss.penalty = grad.finish(w);
    }
    return loss;
  }

  void add_bias_gradients(detail::sparse_gradient& grad, std::uint32_t user, std::uint32_t item,
                          float g) const {
    if (layout_.user_bias != layout_.absent) {
      grad.add(layout_.user_bias + user, config_.bias_l2, g);
    }
    if (layout_.item_bias != layout_.absent) {
      grad.add(layout_.item_bias + item, config_.bias_l2, g);
    }
    if (layout_.global_bias != layout_.absent) {
      grad.add(layout_.global_bias, 0.0f, g);
    }
  }

  // In-batch sampled softmax (Yi et al. 2019, eq. 3 with the logQ correction of section 3.2):
  // z_rc = s(u_r, i_c)/τ − log Q(i_c); row r's loss is w_r (logsumexp_c z_rc − z_rr), over the
  // columns c whose item differs from i_r (other copies of the positive are not negatives).
  // ∂L/∂s_rc = w_r (softmax_rc − [c = r]) / τ.
  double softmax_step(const float* w, std::span<const interaction> batch,
                      detail::two_tower_workspace& ws, bool with_gradient) const {
    const std::size_t d = dim();
    const std::size_t b = batch.size();
    float* u = ws.users.data();
    float* v = ws.items.data();
    for (std::size_t r = 0; r < b; ++r) {
      user_tower(w, batch[r].user, batch[r].user_features, u + r * d);
      item_tower(w, batch[r].item, v + r * d);
    }
    ws.logits.resize(b);
    ws.coefficients.assign(b * b, 0.0f);
    const float inverse_t = 1.0f / config_.temperature;
    const bool logq = config_.logq_correction && log_q_.size() == config_.items;
    double total = 0.0;
    for (std::size_t r = 0; r < b; ++r) {
      float m = -std::numeric_limits<float>::infinity();
      for (std::size_t c = 0; c < b; ++c) {
        if (c != r && batch[c].item == batch[r].item) {
          continue;
        }
        float s = kernels::dot(u + r * d, v + c * d, d);
        if (layout_.item_bias != layout_.absent) {
          s += w[layout_.item_bias + batch[c].item];
        }
        float z = s * inverse_t;
        if (logq) {
          z -= log_q_[batch[c].item];
        }
        ws.logits[c] = z;
        m = std::max(m, z);
      }
      double sum = 0.0;
      for (std::size_t c = 0; c < b; ++c) {
        if (c != r && batch[c].item == batch[r].item) {
          continue;
        }
        sum += std::exp(static_cast<double>(ws.logits[c] - m));
      }
      const double log_sum = static_cast<double>(m) + std::log(sum);
      const float weight = batch[r].weight;
      total += static_cast<double>(weight) * (log_sum - static_cast<double>(ws.logits[r]));
      if (!with_gradient) {
        continue;
      }
      for (std::size_t c = 0; c < b; ++c) {
        if (c != r && batch[c].item == batch[r].item) {
          continue;
        }
        const double p = std::exp(static_cast<double>(ws.logits[c]) - log_sum);
        ws.coefficients[r * b + c] =
            static_cast<float>(weight * (p - (c == r ? 1.0 : 0.0)) * inverse_t);
      }
    }
    if (!with_gradient) {
      return total;
    }
    ws.grad_users.assign(b * d, 0.0f);
    ws.grad_items.assign(b * d, 0.0f);
    ws.grad_item_bias.assign(b, 0.0f);
    for (std::size_t r = 0; r < b; ++r) {
      for (std::size_t c = 0; c < b; ++c) {
        const float g = ws.coefficients[r * b + c];
        if (g == 0.0f) {
          continue;
        }
        float* gu = ws.grad_users.data() + r * d;
        float* gv = ws.grad_items.data() + c * d;
        const float* ur = u + r * d;
        const float* vc = v + c * d;
        for (std::size_t j = 0; j < d; ++j) {
          gu[j] += g * vc[j];
          gv[j] += g * ur[j];
        }
        ws.grad_item_bias[c] += g;
      }
    }
    for (std::size_t r = 0; r < b; ++r) {
      add_user_gradient(ws.gradient, batch[r], ws.grad_users.data() + r * d, 1.0f);
      add_item_gradient(ws.gradient, batch[r].item, ws.grad_items.data() + r * d, 1.0f);
      if (layout_.item_bias != layout_.absent) {
        ws.gradient.add(layout_.item_bias + batch[r].item, config_.bias_l2, ws.grad_item_bias[r]);
      }
    }
    return total;
  }

  // One optimizer step with the gradient in `grad`.
  void apply(float* values, const detail::sparse_gradient& grad, float rate) const noexcept {
    const bool adagrad = config_.optimizer == two_tower_optimizer::adagrad;
    float* accumulators = values + layout_.weights;
    grad.for_each_row([&](std::size_t offset, std::size_t width, const float* g) {
      float* theta = values + offset;
      if (adagrad) {
        float* acc = accumulators + offset;
        for (std::size_t k = 0; k < width; ++k) {
          acc[k] += g[k] * g[k];
          theta[k] -= rate * g[k] / std::sqrt(acc[k]);
        }
      } else {
        for (std::size_t k = 0; k < width; ++k) {
          theta[k] -= rate * g[k];
        }
      }
    });
  }

  // Trains `values` on the interactions at `order[first, last)`: per-interaction steps
  // (squared, bpr) or one step per batch of `batch_size` (sampled softmax). `report(done, loss)`
  // is called after each batch; when it returns false the shard stops.
  template <class Report>
  detail::two_tower_shard_result
  run_shard(float* values, std::span<const interaction> train, std::span<const std::size_t> order,
            std::size_t first, std::size_t last, std::uint64_t epoch_seed, float rate,
            std::size_t batch_size, detail::two_tower_workspace& ws, const Report& report) const {
    detail::two_tower_shard_result result;
    std::vector<interaction> batch;
    for (std::size_t b = first; b < last; b += batch_size) {
      const std::size_t end = std::min(last, b + batch_size);
      if (config_.objective == two_tower_objective::sampled_softmax) {
        batch.clear();
        for (std::size_t k = b; k < end; ++k) {
          batch.push_back(train[order[k]]);
        }
        result.loss += compute_step(values, batch, 0, ws).data;
        apply(values, ws.gradient, rate);
      } else {
        for (std::size_t k = b; k < end; ++k) {
          // Seeded by the position in the epoch's order, not by the thread: the negatives do
          // not depend on how the epoch is sharded.
          result.loss += compute_step(values, train.subspan(order[k], 1),
                                      data::detail::splitmix64::hash(epoch_seed, k), ws)
                             .data;
          apply(values, ws.gradient, rate);
        }
      }
      result.done = end - first;
      if (!report(result.done, result.loss)) {
        result.stopped = true;
        break;
      }
    }
    return result;
  }

  config config_;
  detail::two_tower_layout layout_;
  std::vector<float> values_;
  std::vector<float> item_table_;
  std::vector<std::uint32_t> item_feature_offsets_;
  std::vector<std::uint32_t> item_feature_buckets_;
  // Sampling statistics of the last training set (fit_sampler).
  std::vector<std::uint32_t> positive_offsets_;
  std::vector<std::uint32_t> positives_;
  std::vector<float> log_q_;
  std::vector<double> cumulative_;
  std::size_t epochs_trained_ = 0;
};

static_assert(scorer<two_tower>);
static_assert(model_file_serializable<two_tower>);

} // namespace model
MLSD_END_NAMESPACE
