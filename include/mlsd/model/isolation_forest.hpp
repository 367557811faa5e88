/// @file
/// Isolation forest (Liu, Ting & Zhou, "Isolation Forest", ICDM 2008): an unsupervised anomaly
/// score that needs no labels, for fraud and abuse where labels are few, late and biased. Random
/// axis-parallel splits isolate a rare, different point in fewer steps than a typical one; the
/// score turns the average number of steps into a number in (0, 1] where values well above 0.5
/// mean "anomalous" (docs/mlp-and-anomaly-models.md).
#pragma once

#include <mlsd/core/error.hpp>
#include <mlsd/core/matrix_view.hpp>
#include <mlsd/core/roles.hpp>
#include <mlsd/core/version.hpp>
#include <mlsd/data/detail/config_json.hpp>
#include <mlsd/data/detail/random.hpp>
#include <mlsd/model/model_file.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <numbers>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

MLSD_BEGIN_NAMESPACE
namespace model {

/// c(n), the average path length of an unsuccessful search in a binary search tree of n points
/// (Liu et al. 2008, eq. 1), which normalises path lengths and stands in for the unbuilt subtree
/// below a leaf that still holds n points: `c(n) = 2 H(n − 1) − 2 (n − 1) / n` with the harmonic
/// number `H(i) ≈ ln(i) + 0.5772156649` (Euler's constant) for n > 2, `c(2) = 1` (the exact value,
/// where the approximation of H(1) is poor; scikit-learn does the same), `c(0) = c(1) = 0`.
[[nodiscard]] inline double average_path_length(std::uint64_t n) noexcept {
  if (n <= 1) {
    return 0.0;
  }
  if (n == 2) {
    return 1.0;
  }
  const double m = static_cast<double>(n - 1);
  return 2.0 * (std::log(m) + std::numbers::egamma_v<double>)-2.0 * m / static_cast<double>(n);
}

/// The settings of an `isolation_forest`.
struct isolation_forest_config {
  /// Number of trees t (Liu et al. find the path lengths converge well before 100).
  std::size_t trees = 100;
  /// Sub-sample size ψ drawn without replacement for each tree (at most the number of rows):
  /// small samples isolate anomalies better (less swamping and masking), the paper's default.
  std::size_t sample_size = 256;
  /// Height limit of a tree; 0 means the paper's ceil(log2 ψ), the average tree height, beyond
  /// which only normal points would be split further.
  std::size_t max_depth = 0;
  /// The expected share of anomalies, in (0, 0.5], which sets `threshold()` to the (1 − c)
  /// quantile of the training scores; none (JSON `"auto"`) sets the threshold to 0.5, the
  /// paper's boundary. scikit-learn's `contamination` parameter, with the same meaning.
  std::optional<double> contamination{};
  /// Seeds the sub-samples and the splits: the same seed and data give the same forest.
  std::uint64_t seed = 1;
  /// Threads that score a matrix of rows (fitting runs on one); 0 = one per hardware thread.
  /// Scores do not depend on it.
  std::size_t threads = 1;

  /// @throws mlsd::config_error naming the first invalid field.
  void validate() const {
    if (trees == 0) {
      throw config_error("trees", "at least 1");
    }
    if (sample_size < 2) {
      throw config_error("sample_size", "at least 2");
    }
    if (max_depth > 64) {
      throw config_error("max_depth", "0 (automatic) or a depth from 1 to 64");
    }
    if (contamination && !(*contamination > 0.0 && *contamination <= 0.5)) {
      throw config_error("contamination", "\"auto\" or a number in (0, 0.5]");
    }
  }

  /// The config as JSON (the `hyper_parameters` of the model file).
  [[nodiscard]] nlohmann::json to_json() const {
    nlohmann::json j = {{"trees", trees},
                        {"sample_size", sample_size},
                        {"max_depth", max_depth},
                        {"seed", seed},
                        {"threads", threads}};
    j["contamination"] = contamination ? nlohmann::json(*contamination) : nlohmann::json("auto");
    return j;
  }

  /// Reads a config written by `to_json`; absent keys keep their defaults.
  /// @throws mlsd::config_error naming an unknown key or an invalid value.
  [[nodiscard]] static isolation_forest_config from_json(const nlohmann::json& j) {
    data::detail::config_reader<nlohmann::json> r(j, "");
    isolation_forest_config c;
    r.read("trees", c.trees);
    r.read("sample_size", c.sample_size);
    r.read("max_depth", c.max_depth);
    r.read("seed", c.seed);
    r.read("threads", c.threads);
    if (const nlohmann::json* v = r.find("contamination")) {
      if (v->is_number()) {
        c.contamination = v->get<double>();
      } else if (!(v->is_string() && v->get<std::string>() == "auto")) {
        throw config_error("contamination",
                           data::detail::expected_found("\"auto\" or a number in (0, 0.5]", *v));
      }
    }
    r.finish();
    c.validate();
    return c;
  }
};

/// An isolation forest: `fit` it on rows of numeric features, then score rows; a score near 1
/// is an anomaly, scores well below 0.5 are normal, and a sample where every score is about 0.5
/// has no distinct anomalies (Liu et al. 2008, §2).
///
/// Each of the t trees is grown on ψ rows sampled without replacement: a node picks a feature at
/// random among those not constant on its rows and a split uniform in [min, max) of that feature
/// on its rows (rows below the split go left); it becomes a leaf at the height limit, with one row
/// left, or when every feature is constant on its rows. A row's path length in a tree is the
/// depth of the leaf it reaches plus `c(leaf size)`; its anomaly score is
/// `s = 2^(−E[h] / c(ψ))` with E[h] the mean over the trees.
///
/// Trees are stored as flat arrays in pre-order (feature, threshold, left child, right child,
/// size per node; feature −1 marks a leaf), which is also their model-file layout.
///
/// **Threshold.** `threshold()` is 0.5 (`contamination` "auto") or the (1 − c) quantile of the
/// training rows' scores (linear interpolation, NumPy's default); `is_anomaly(x)` is
/// `score(x) > threshold()`. In scikit-learn's terms (`score_samples` = −s), `offset()` is its
/// `offset_` = −threshold and `decision_function(x)` = −s − offset_ is negative for anomalies.
///
/// Cost: fitting O(t · ψ log ψ) after one O(rows · features) check of the input; scoring
/// O(t · log ψ) per row. Scoring is const and thread-safe.
class isolation_forest : public scorer_tag {
public:
  using input_type = std::span<const float>;
  using output_type = float;

  /// The `model_type` of its model files.
  static constexpr std::string_view model_type = "isolation_forest";

  /// An unfitted forest. @throws mlsd::config_error for an invalid config.
  explicit isolation_forest(isolation_forest_config config = {})
      : config_(config) {
    config_.validate();
  }

  [[nodiscard]] const isolation_forest_config& config() const noexcept { return config_; }
  [[nodiscard]] bool fitted() const noexcept { return !roots_.empty(); }
  /// Number of features the forest was fitted on.
  [[nodiscard]] std::size_t features() const noexcept { return features_; }
  /// The sub-sample size ψ actually used: min(`sample_size`, rows).
  [[nodiscard]] std::size_t sample_size() const noexcept { return psi_; }
  /// The height limit actually used.
  [[nodiscard]] std::size_t max_depth() const noexcept { return depth_limit_; }
  /// Number of trees.
  [[nodiscard]] std::size_t trees() const noexcept { return roots_.size(); }
  /// Total number of nodes of all trees.
  [[nodiscard]] std::size_t nodes() const noexcept { return feature_.size(); }
  /// The index of tree `t`'s root in the node arrays.
  [[nodiscard]] std::span<const std::uint32_t> roots() const noexcept { return roots_; }
  /// Per node: the split feature, or −1 for a leaf.
  [[nodiscard]] std::span<const std::int32_t> node_features() const noexcept { return feature_; }
  /// Per node: the split value (rows with `x[feature] < threshold` go left); 0 for a leaf.
  [[nodiscard]] std::span<const float> node_thresholds() const noexcept { return threshold_; }
  /// Per node: the left and right child's index (0 for a leaf).
  [[nodiscard]] std::span<const std::uint32_t> node_left() const noexcept { return left_; }
  [[nodiscard]] std::span<const std::uint32_t> node_right() const noexcept { return right_; }
  /// Per node: how many of the tree's sampled rows reached it.
  [[nodiscard]] std::span<const std::uint32_t> node_sizes() const noexcept { return size_; }

  /// Grows the forest on the rows of `x` (row-major, one row per example) and, with a
  /// `contamination`, sets the threshold from their scores. Replaces any previous fit.
  /// @throws mlsd::input_error for fewer than 2 rows, no columns, or a value that is NaN or
  ///   infinite (naming its row and column, both counted from 0).
  isolation_forest& fit(matrix_view<const float> x) {
    if (x.rows() < 2 || x.cols() == 0) {
      std::string found = std::to_string(x.rows());
      found += " x ";
      found += std::to_string(x.cols());
      throw input_error(input_position("isolation_forest.fit"),
                        "a matrix of at least 2 rows and 1 column", found);
    }
    if (x.rows() > std::numeric_limits<std::uint32_t>::max()) {
      throw input_error(input_position("isolation_forest.fit"), "at most 2^32 - 1 rows",
                        std::to_string(x.rows()));
    }
    check_finite(x, "isolation_forest.fit");
    features_ = x.cols();
    psi_ = std::min(config_.sample_size, x.rows());
    depth_limit_ = config_.max_depth != 0
                       ? config_.max_depth
                       : static_cast<std::size_t>(std::ceil(std::log2(static_cast<double>(psi_))));
    feature_.clear();
    threshold_.clear();
    left_.clear();
    right_.clear();
    size_.clear();
    roots_.clear();

    std::vector<std::uint32_t> rows(x.rows());
    for (std::size_t i = 0; i < rows.size(); ++i) {
      rows[i] = static_cast<std::uint32_t>(i);
    }
    std::vector<std::uint32_t> feature_order(features_);
    for (std::size_t j = 0; j < features_; ++j) {
      feature_order[j] = static_cast<std::uint32_t>(j);
    }
    for (std::size_t t = 0; t < config_.trees; ++t) {
      data::detail::splitmix64 g(data::detail::splitmix64::hash(config_.seed, t));
      // A partial Fisher–Yates shuffle: its first ψ entries are a uniform sample without
      // replacement (whatever order earlier trees left the array in).
      for (std::size_t i = 0; i < psi_; ++i) {
        std::swap(rows[i], rows[i + g.below(rows.size() - i)]);
      }
      std::vector<std::uint32_t> sample(rows.begin(),
                                        rows.begin() + static_cast<std::ptrdiff_t>(psi_));
      roots_.push_back(static_cast<std::uint32_t>(feature_.size()));
      grow(x, sample, 0, g, feature_order);
    }
    threshold_score_ = 0.5f;
    if (config_.contamination) {
      std::vector<float> s = scores(x);
      std::sort(s.begin(), s.end());
      const double position = (1.0 - *config_.contamination) * static_cast<double>(s.size() - 1);
      const auto lo = static_cast<std::size_t>(std::floor(position));
      const std::size_t hi = std::min(lo + 1, s.size() - 1);
      const double fraction = position - static_cast<double>(lo);
      threshold_score_ = static_cast<float>(static_cast<double>(s[lo]) +
                                            fraction * (static_cast<double>(s[hi]) - s[lo]));
    }
    return *this;
  }

  /// E[h(x)], the mean path length of `x` over the trees.
  /// @throws mlsd::not_fitted_error before `fit`; mlsd::input_error for a row of the wrong
  ///   length or with a NaN or infinite value.
  [[nodiscard]] double mean_path_length(input_type x) const {
    check_row(x, 0, "isolation_forest.score");
    return mean_path_length_unchecked(x.data());
  }

  /// The anomaly score `s = 2^(−E[h(x)] / c(ψ))`, in (0, 1]. Same errors as `mean_path_length`.
  [[nodiscard]] float score(input_type x) const { return to_score(mean_path_length(x)); }

  /// The anomaly score (the scorer's call operator). Thread-safe.
  [[nodiscard]] output_type operator()(input_type x) const { return score(x); }

  /// The scores of every row of `x`, on `config().threads` threads (the same numbers for any
  /// thread count). @throws as `score`, naming the first bad row.
  [[nodiscard]] std::vector<float> scores(matrix_view<const float> x) const {
    std::vector<float> out(x.rows());
    scores(x, out);
    return out;
  }

  /// The scores of every row of `x` into `out` (of `x.rows()` elements).
  void scores(matrix_view<const float> x, std::span<float> out) const {
    require_fitted();
    if (out.size() != x.rows()) {
      std::string expected = "an output span of ";
      expected += std::to_string(x.rows());
      expected += " scores";
      throw input_error(input_position("isolation_forest.scores"), expected,
                        std::to_string(out.size()));
    }
    if (x.rows() > 0 && x.cols() != features_) {
      std::string expected = std::to_string(features_);
      expected += " features";
      throw input_error(input_position("isolation_forest.score row 0"), expected,
                        std::to_string(x.cols()));
    }
    check_finite(x, "isolation_forest.score");
    std::size_t threads =
        config_.threads != 0 ? config_.threads : std::max(1u, std::thread::hardware_concurrency());
    threads = std::max<std::size_t>(1, std::min(threads, x.rows() / 64));
    const auto work = [&](std::size_t part) {
      const std::size_t first = x.rows() * part / threads;
      const std::size_t last = x.rows() * (part + 1) / threads;
      for (std::size_t r = first; r < last; ++r) {
        out[r] = to_score(mean_path_length_unchecked(x.row(r).data()));
      }
    };
    std::vector<std::jthread> helpers;
    for (std::size_t p = 1; p < threads; ++p) {
      helpers.emplace_back(work, p);
    }
    work(0);
  }

  /// The score above which a row is an anomaly (see the class comment).
  [[nodiscard]] float threshold() const noexcept { return threshold_score_; }
  /// scikit-learn's `offset_`: −threshold().
  [[nodiscard]] float offset() const noexcept { return -threshold_score_; }
  /// scikit-learn's `decision_function`: `threshold() − score(x)`, negative for anomalies.
  [[nodiscard]] float decision_function(input_type x) const { return threshold_score_ - score(x); }
  /// `score(x) > threshold()`.
  [[nodiscard]] bool is_anomaly(input_type x) const { return score(x) > threshold_score_; }

  /// The model file: `hyper_parameters` = `config().to_json()`; tables `nodes` (nodes × 5:
  /// feature (−1 = leaf), threshold, left, right, size, as floats), `roots` (trees × 1) and
  /// `fitted` (1 × 4: features, ψ, height limit, threshold).
  /// @throws mlsd::not_fitted_error before `fit`; std::length_error when a node index or size
  ///   exceeds 2^24 (not exact in a float; ψ up to about 8 million per tree is fine).
  [[nodiscard]] model_file to_model_file() const {
    require_fitted();
    constexpr std::size_t exact = std::size_t{1} << 24;
    if (feature_.size() > exact || features_ > exact || psi_ > exact) {
      throw std::length_error("isolation_forest::to_model_file: more than 2^24 nodes, "
                              "features or samples cannot be stored exactly as floats");
    }
    model_file file;
    file.model_type = std::string(model_type);
    file.hyper_parameters = config_.to_json();
    named_table nodes{"nodes", feature_.size(), 5, {}};
    nodes.values.reserve(feature_.size() * 5);
    for (std::size_t i = 0; i < feature_.size(); ++i) {
      nodes.values.push_back(static_cast<float>(feature_[i]));
      nodes.values.push_back(threshold_[i]);
      nodes.values.push_back(static_cast<float>(left_[i]));
      nodes.values.push_back(static_cast<float>(right_[i]));
      nodes.values.push_back(static_cast<float>(size_[i]));
    }
    named_table roots{"roots", roots_.size(), 1, {}};
    for (const std::uint32_t r : roots_) {
      roots.values.push_back(static_cast<float>(r));
    }
    named_table fitted{"fitted", 1, 4,
                       std::vector<float>{static_cast<float>(features_), static_cast<float>(psi_),
                                          static_cast<float>(depth_limit_), threshold_score_}};
    file.tables = {std::move(nodes), std::move(roots), std::move(fitted)};
    return file;
  }

  /// The forest saved by `to_model_file`, checked node by node (children after their parent and
  /// within the arrays, features in range), so that scoring a loaded forest cannot run astray.
  /// @throws model_file_error (`wrong_model_type`, `bad_table`, `missing_table`);
  ///   mlsd::config_error for invalid hyper-parameters.
  [[nodiscard]] static isolation_forest from_model_file(const model_file& file) {
    if (file.model_type != model_type) {
      std::string message = "expected a 'isolation_forest' model, found '";
      message += file.model_type;
      message += '\'';
      throw model_file_error(model_file_error::kind::wrong_model_type, file.source, message);
    }
    isolation_forest f(isolation_forest_config::from_json(file.hyper_parameters));
    const named_table& fitted = file.table("fitted");
    const named_table& nodes = file.table("nodes");
    const named_table& roots = file.table("roots");
    const auto bad = [&file](const std::string& message) {
      return model_file_error(model_file_error::kind::bad_table, file.source, message);
    };
    const auto whole = [](float v, double limit) {
      return v >= 0.0f && v <= limit && v == std::floor(v);
    };
    if (fitted.rows != 1 || fitted.cols != 4 || fitted.values.size() != 4 ||
        !whole(fitted.values[0], 1 << 24) || fitted.values[0] < 1 ||
        !whole(fitted.values[1], 1 << 24) || fitted.values[1] < 2 || !whole(fitted.values[2], 64) ||
        !std::isfinite(fitted.values[3])) {
      throw bad("table 'fitted' must be 1 x 4: features >= 1, sample size >= 2, height limit "
                "<= 64, a finite threshold");
    }
    f.features_ = static_cast<std::size_t>(fitted.values[0]);
    f.psi_ = static_cast<std::size_t>(fitted.values[1]);
    f.depth_limit_ = static_cast<std::size_t>(fitted.values[2]);
    f.threshold_score_ = fitted.values[3];
    if (nodes.cols != 5 || nodes.values.size() != nodes.rows * 5 || nodes.rows == 0) {
      throw bad("table 'nodes' must be nodes x 5 (feature, threshold, left, right, size)");
    }
    if (roots.rows != f.config_.trees || roots.cols != 1 || roots.values.size() != roots.rows) {
      std::string message = "table 'roots' must be trees x 1, trees = ";
      message += std::to_string(f.config_.trees);
      throw bad(message);
    }
    const std::size_t n = nodes.rows;
    for (std::size_t i = 0; i < n; ++i) {
      const float* v = nodes.values.data() + i * 5;
      const bool leaf = v[0] == -1.0f;
      std::string where = "table 'nodes' row ";
      where += std::to_string(i);
      if (!leaf && !(whole(v[0], static_cast<double>(f.features_ - 1)) &&
                     whole(v[2], static_cast<double>(n - 1)) && v[2] > static_cast<float>(i) &&
                     whole(v[3], static_cast<double>(n - 1)) && v[3] > static_cast<float>(i))) {
        where += ": a split needs a feature below ";
        where += std::to_string(f.features_);
        where += " and children after it";
        throw bad(where);
      }
      if (!whole(v[4], static_cast<double>(f.psi_)) || (!leaf && !std::isfinite(v[1]))) {
        where += ": a size of at most the sample size and a finite threshold";
        throw bad(where);
      }
      f.feature_.push_back(leaf ? -1 : static_cast<std::int32_t>(v[0]));
      f.threshold_.push_back(leaf ? 0.0f : v[1]);
      f.left_.push_back(leaf ? 0 : static_cast<std::uint32_t>(v[2]));
      f.right_.push_back(leaf ? 0 : static_cast<std::uint32_t>(v[3]));
      f.size_.push_back(static_cast<std::uint32_t>(v[4]));
    }
    for (const float r : roots.values) {
      if (!whole(r, static_cast<double>(n - 1))) {
        std::string message = "table 'roots': a root index below ";
        message += std::to_string(n);
        throw bad(message);
      }
      f.roots_.push_back(static_cast<std::uint32_t>(r));
    }
    return f;
  }

private:
  void require_fitted() const {
    if (!fitted()) {
      throw not_fitted_error("isolation_forest");
    }
  }

  [[nodiscard]] static input_position where(std::string_view what, std::size_t row,
                                            std::size_t column) {
    std::string file(what);
    file += " row ";
    file += std::to_string(row);
    std::string field = "column ";
    field += std::to_string(column);
    return input_position(std::move(file), 0, 0, std::move(field));
  }

  static void check_finite(matrix_view<const float> x, std::string_view what) {
    for (std::size_t r = 0; r < x.rows(); ++r) {
      const std::span<const float> row = x.row(r);
      for (std::size_t c = 0; c < row.size(); ++c) {
        if (!std::isfinite(row[c])) {
          throw input_error(where(what, r, c), "a finite number", std::to_string(row[c]));
        }
      }
    }
  }

  void check_row(input_type x, std::size_t row, std::string_view what) const {
    require_fitted();
    if (x.size() != features_) {
      std::string file(what);
      file += " row ";
      file += std::to_string(row);
      std::string expected = std::to_string(features_);
      expected += " features";
      throw input_error(input_position(std::move(file)), expected, std::to_string(x.size()));
    }
    check_finite(matrix_view<const float>(x.data(), 1, x.size()), what);
  }

  [[nodiscard]] float to_score(double mean_path) const noexcept {
    return static_cast<float>(std::exp2(-mean_path / average_path_length(psi_)));
  }

  [[nodiscard]] double mean_path_length_unchecked(const float* x) const noexcept {
    double sum = 0.0;
    for (const std::uint32_t root : roots_) {
      std::uint32_t node = root;
      std::size_t depth = 0;
      while (feature_[node] >= 0) {
        node = x[feature_[node]] < threshold_[node] ? left_[node] : right_[node];
        ++depth;
      }
      sum += static_cast<double>(depth) + average_path_length(size_[node]);
    }
    return sum / static_cast<double>(roots_.size());
  }

  /// Grows the subtree of `rows` at `depth` in pre-order; returns its root's index.
  std::uint32_t grow(matrix_view<const float> x, std::span<std::uint32_t> rows, std::size_t depth,
                     data::detail::splitmix64& g, std::vector<std::uint32_t>& feature_order) {
    const auto node = static_cast<std::uint32_t>(feature_.size());
    feature_.push_back(-1);
    threshold_.push_back(0.0f);
    left_.push_back(0);
    right_.push_back(0);
    size_.push_back(static_cast<std::uint32_t>(rows.size()));
    if (depth >= depth_limit_ || rows.size() <= 1) {
      return node;
    }
    // Features in a fresh random order until one is not constant on these rows: a uniform
    // choice among the non-constant features (as scikit-learn's extra trees draw them).
    const std::size_t d = feature_order.size();
    for (std::size_t k = 0; k < d; ++k) {
      std::swap(feature_order[k], feature_order[k + g.below(d - k)]);
      const std::uint32_t q = feature_order[k];
      float lo = x(rows[0], q), hi = lo;
      for (const std::uint32_t r : rows) {
        lo = std::min(lo, x(r, q));
        hi = std::max(hi, x(r, q));
      }
      if (!(lo < hi)) {
        continue;
      }
      const auto split = static_cast<float>(static_cast<double>(lo) +
                                            g.uniform() * (static_cast<double>(hi) - lo));
      const auto middle = std::partition(rows.begin(), rows.end(),
                                         [&](std::uint32_t r) { return x(r, q) < split; });
      const auto n_left = static_cast<std::size_t>(middle - rows.begin());
      feature_[node] = static_cast<std::int32_t>(q);
      threshold_[node] = split;
      const std::uint32_t left = grow(x, rows.first(n_left), depth + 1, g, feature_order);
      const std::uint32_t right = grow(x, rows.subspan(n_left), depth + 1, g, feature_order);
      left_[node] = left;
      right_[node] = right;
      return node;
    }
    return node; // every feature is constant here: a leaf
  }

  isolation_forest_config config_;
  std::size_t features_ = 0;
  std::size_t psi_ = 0;
  std::size_t depth_limit_ = 0;
  float threshold_score_ = 0.5f;
  std::vector<std::int32_t> feature_;
  std::vector<float> threshold_;
  std::vector<std::uint32_t> left_, right_, size_;
  std::vector<std::uint32_t> roots_;
};

static_assert(scorer<isolation_forest>);

} // namespace model
MLSD_END_NAMESPACE
