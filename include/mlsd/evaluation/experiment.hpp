/// @file
/// Online experiments (A/B tests), step 5 of the framework: did the new model help users? The
/// two-proportion z-test (conversion, click-through) with confidence intervals of the difference
/// and of the relative lift, Welch's t-test on means (revenue, watch time) from per-arm summary
/// statistics or a mergeable accumulator, sample size and minimum detectable effect, and the
/// sample-ratio-mismatch check that should gate every result (docs/online-experiments.md).
///
/// The distributions are computed here, with no dependency: the normal CDF (`std::erfc`) and its
/// inverse (Acklam's rational approximation refined by one Halley step), Student's t CDF and
/// inverse through the regularized incomplete beta function (Numerical Recipes' modified-Lentz
/// continued fraction), and the chi-square upper tail through the regularized incomplete gamma
/// function. Tests compare them with SciPy to 1e-10 relative.
///
/// Design parameters (alpha, power, baseline rate, effect, split) that are out of range throw
/// `config_error` naming the field; observed data that cannot be tested (more successes than
/// trials, a negative variance) throws `input_error` naming the test and the field; a test with
/// no answer on valid data (both arms at a rate of 0, every value equal) throws
/// `undefined_metric`. No result is ever NaN.
///
/// ```cpp
/// namespace ev = mlsd::evaluation;
/// const auto r = ev::two_proportion_z_test({.successes = 1210, .trials = 24000},   // control
///                                          {.successes = 1342, .trials = 24100});  // treatment
/// if (r.p_value < 0.05) { /* r.difference.ci_low, r.relative_lift->estimate, ... */ }
/// ```
#pragma once

#include <mlsd/core/error.hpp>
#include <mlsd/core/roles.hpp>
#include <mlsd/core/version.hpp>
#include <mlsd/data/detail/config_json.hpp>
#include <mlsd/data/numeric.hpp> // running_moments
#include <mlsd/evaluation/metric.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

MLSD_BEGIN_NAMESPACE
namespace evaluation {

// ---------------------------------------------------------------------------------------------
// Special functions
// ---------------------------------------------------------------------------------------------

namespace detail {

inline constexpr double pi = 3.141592653589793238462643383279502884;
/// `0.5 · ln(2π)`.
inline constexpr double half_log_two_pi = 0.918938533204672741780329736405617640;

/// `ln Γ(x)` for `x > 0`: Lanczos' approximation with Godfrey's coefficients (g = 7, 9 terms,
/// about 15 significant digits), and the reflection formula below 1/2. Our own rather than
/// `std::lgamma`, which writes the global `signgam` on glibc (a data race between threads).
[[nodiscard]] inline double log_gamma(double x) noexcept {
  if (x < 0.5) {
    return std::log(pi / std::sin(pi * x)) - log_gamma(1.0 - x);
  }
  static constexpr double c[9] = {
      0.99999999999980993,  676.5203681218851,     -1259.1392167224028,
      771.32342877765313,   -176.61502916214059,   12.507343278686905,
      -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7};
  const double z = x - 1.0;
  double a = c[0];
  for (int i = 1; i < 9; ++i) {
    a += c[i] / (z + i);
  }
  const double t = z + 7.5;
  return half_log_two_pi + (z + 0.5) * std::log(t) - t + std::log(a);
}

/// The remainder of Stirling's series, `ln Γ(x) - [(x - 1/2) ln x - x + ln(2π)/2]`, for
/// `x >= 15`, where five terms reach double precision (the next term is below 2.2e-16).
[[nodiscard]] inline double stirling_remainder(double x) noexcept {
  const double r = 1.0 / x;
  const double r2 = r * r;
  return r * (1.0 / 12 - r2 * (1.0 / 360 - r2 * (1.0 / 1260 - r2 * (1.0 / 1680 - r2 / 1188))));
}

/// `ln B(a, b) = ln Γ(a) + ln Γ(b) - ln Γ(a + b)`. When the larger argument is at least 15,
/// `ln Γ(a) - ln Γ(a + b)` is taken from Stirling's series in the form
/// `-(a - 1/2) ln(1 + b/a) - b ln(a + b) + b + r(a) - r(a + b)`, which does not subtract two
/// large logarithms: Student's t with many degrees of freedom (B(ν/2, 1/2)) stays exact.
[[nodiscard]] inline double log_beta(double a, double b) noexcept {
  if (a < b) {
    std::swap(a, b);
  }
  if (a < 15.0) {
    return log_gamma(a) + log_gamma(b) - log_gamma(a + b);
  }
  const double difference = -(a - 0.5) * std::log1p(b / a) - b * std::log(a + b) + b +
                            stirling_remainder(a) - stirling_remainder(a + b);
  return log_gamma(b) + difference;
}

/// A probability and its complement, each computed without cancellation where it is small.
struct tail_pair {
  double lower; ///< P(X <= x)
  double upper; ///< P(X > x) = 1 - lower
};

/// Throws `std::runtime_error` when a series or continued fraction did not converge (it does for
/// every finite argument the callers pass; this guards against an infinite loop).
[[noreturn]] inline void no_convergence(const char* function) {
  std::string what = "mlsd::evaluation::detail::";
  what += function;
  what += ": did not converge";
  throw std::runtime_error(what);
}

/// The continued fraction of the incomplete beta function, evaluated with the modified Lentz
/// method (Press et al., Numerical Recipes, 3rd ed., 2007, §6.4 `betacf`); it converges fast
/// for `x < (a + 1) / (a + b + 2)`, in O(√max(a, b)) terms.
[[nodiscard]] inline double incomplete_beta_fraction(double a, double b, double x) {
  constexpr double tiny = 1e-300;
  constexpr double eps = 1e-16;
  const double qab = a + b;
  const double qap = a + 1.0;
  const double qam = a - 1.0;
  double c = 1.0;
  double d = 1.0 - qab * x / qap;
  if (std::fabs(d) < tiny) {
    d = tiny;
  }
  d = 1.0 / d;
  double h = d;
  for (int m = 1; m <= 10'000'000; ++m) {
    const double m2 = 2.0 * m;
    double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
    d = 1.0 + aa * d;
    if (std::fabs(d) < tiny) {
      d = tiny;
    }
    c = 1.0 + aa / c;
    if (std::fabs(c) < tiny) {
      c = tiny;
    }
    d = 1.0 / d;
    h *= d * c;
    aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
    d = 1.0 + aa * d;
    if (std::fabs(d) < tiny) {
      d = tiny;
    }
    c = 1.0 + aa / c;
    if (std::fabs(c) < tiny) {
      c = tiny;
    }
    d = 1.0 / d;
    const double del = d * c;
    h *= del;
    if (std::fabs(del - 1.0) <= eps) {
      return h;
    }
  }
  no_convergence("incomplete_beta_fraction");
}

/// The regularized incomplete beta function `I_x(a, b)` and its complement `1 - I_x(a, b) =
/// I_y(b, a)`, for `a, b > 0` and `x + y = 1` given apart (so that a caller who knows `y` small,
/// e.g. `t² / (ν + t²)`, loses nothing to `1 - x`). The side below the mean comes from the
/// continued fraction, the other as its complement: about 1e-14 relative for parameters up to
/// about 10^3. With a large parameter and `x` near 1 (Student's t beyond ~10^4 degrees of
/// freedom) the fraction's Lentz recurrences cancel and the error grows to about 1e-11 relative
/// at `a = 5·10^5`, far below what a p-value needs, but not the last digit.
[[nodiscard]] inline tail_pair regularized_incomplete_beta(double a, double b, double x, double y) {
  if (x <= 0.0) {
    return {0.0, 1.0};
  }
  if (y <= 0.0) {
    return {1.0, 0.0};
  }
  const double log_x = x < 0.5 ? std::log(x) : std::log1p(-y);
  const double log_y = y < 0.5 ? std::log(y) : std::log1p(-x);
  const double front = std::exp(a * log_x + b * log_y - log_beta(a, b));
  if (x < (a + 1.0) / (a + b + 2.0)) {
    const double lower = front * incomplete_beta_fraction(a, b, x) / a;
    return {lower, 1.0 - lower};
  }
  const double upper = front * incomplete_beta_fraction(b, a, y) / b;
  return {1.0 - upper, upper};
}

/// The regularized incomplete gamma functions `P(a, x)` and `Q(a, x) = 1 - P(a, x)` for `a > 0`,
/// `x >= 0`: the series below `x < a + 1`, the Lentz continued fraction above (Numerical Recipes,
/// 3rd ed., §6.2 `gser` and `gcf`).
[[nodiscard]] inline tail_pair regularized_incomplete_gamma(double a, double x) {
  if (x <= 0.0) {
    return {0.0, 1.0};
  }
  const double front = std::exp(-x + a * std::log(x) - log_gamma(a));
  constexpr double eps = 1e-16;
  if (x < a + 1.0) {
    double ap = a;
    double del = 1.0 / a;
    double sum = del;
    for (int n = 0; n < 10'000'000; ++n) {
      ap += 1.0;
      del *= x / ap;
      sum += del;
      if (std::fabs(del) < std::fabs(sum) * eps) {
        const double lower = sum * front;
        return {lower, 1.0 - lower};
      }
    }
    no_convergence("regularized_incomplete_gamma (series)");
  }
  constexpr double tiny = 1e-300;
  double b = x + 1.0 - a;
  double c = 1.0 / tiny;
  double d = 1.0 / b;
  double h = d;
  for (int i = 1; i <= 10'000'000; ++i) {
    const double an = -i * (i - a);
    b += 2.0;
    d = an * d + b;
    if (std::fabs(d) < tiny) {
      d = tiny;
    }
    c = b + an / c;
    if (std::fabs(c) < tiny) {
      c = tiny;
    }
    d = 1.0 / d;
    const double del = d * c;
    h *= del;
    if (std::fabs(del - 1.0) <= eps) {
      const double upper = front * h;
      return {1.0 - upper, upper};
    }
  }
  no_convergence("regularized_incomplete_gamma (continued fraction)");
}

/// The standard normal CDF `Φ(x) = erfc(-x/√2) / 2` (exact in the lower tail; use
/// `normal_cdf(-x)` for the upper tail).
[[nodiscard]] inline double normal_cdf(double x) noexcept {
  return 0.5 * std::erfc(-x / std::sqrt(2.0));
}

/// The standard normal quantile `Φ⁻¹(p)` for `p` in (0, 1): Acklam's rational approximation
/// (P. J. Acklam 2003, relative error below 1.15e-9) refined by one step of Halley's method on
/// `Φ(x) - p`, which brings it to about 1e-15 relative. `p > 1/2` is answered as `-Φ⁻¹(1 - p)`
/// (`1 - p` is exact there), so both tails are refined where `Φ` has full relative precision.
[[nodiscard]] inline double normal_quantile(double p) noexcept {
  if (p > 0.5) {
    return -normal_quantile(1.0 - p);
  }
  static constexpr double a[6] = {-3.969683028665376e+01, 2.209460984245205e+02,
                                  -2.759285104469687e+02, 1.383577518672690e+02,
                                  -3.066479806614716e+01, 2.506628277459239e+00};
  static constexpr double b[5] = {-5.447609879822406e+01, 1.615858368580409e+02,
                                  -1.556989798598866e+02, 6.680131188771972e+01,
                                  -1.328068155288572e+01};
  static constexpr double c[6] = {-7.784894002430293e-03, -3.223964580411365e-01,
                                  -2.400758277161838e+00, -2.549732539343734e+00,
                                  4.374664141464968e+00,  2.938163982698783e+00};
  static constexpr double d[4] = {7.784695709041462e-03, 3.224671290700398e-01,
                                  2.445134137142996e+00, 3.754408661907416e+00};
  double x = 0.0;
  if (p < 0.02425) {
    const double q = std::sqrt(-2.0 * std::log(p));
    x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1.0);
  } else {
    const double q = p - 0.5;
    const double r = q * q;
    x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
        (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1.0);
  }
  // Halley's step (Acklam's refinement): cubic convergence from 1e-9 reaches double precision.
  const double e = normal_cdf(x) - p;
  const double u = e * std::sqrt(2.0 * pi) * std::exp(0.5 * x * x);
  return x - u / (1.0 + 0.5 * x * u);
}

/// Student's t distribution with `df > 0` degrees of freedom (real, as Welch's are): the two
/// tails beyond `|t|`, `P(|T| >= |t|) = I_{ν/(ν+t²)}(ν/2, 1/2)`.
[[nodiscard]] inline double student_t_two_sided(double t, double df) {
  const double t2 = t * t;
  const double x = df / (df + t2);
  const double y = t2 / (df + t2);
  return regularized_incomplete_beta(0.5 * df, 0.5, x, y).lower;
}

/// Student's t CDF `P(T <= t)`.
[[nodiscard]] inline double student_t_cdf(double t, double df) {
  const double tail = 0.5 * student_t_two_sided(t, df);
  return t < 0.0 ? tail : 1.0 - tail;
}

/// Student's t density.
[[nodiscard]] inline double student_t_pdf(double t, double df) noexcept {
  return std::exp(-0.5 * (df + 1.0) * std::log1p(t * t / df) - 0.5 * std::log(df) -
                  log_beta(0.5 * df, 0.5));
}

/// Student's t quantile for `p` in (0, 1): Newton's method on the upper tail, safeguarded by
/// bisection inside a bracket, from the Cornish–Fisher expansion around the normal quantile.
/// As accurate as the CDF: the CDF of the quantile returns `p` to about 1e-14 (1e-12 beyond
/// 10^5 degrees of freedom); SciPy's `stdtrit` is only good to about 3e-11.
[[nodiscard]] inline double student_t_quantile(double p, double df) {
  if (p < 0.5) {
    return -student_t_quantile(1.0 - p, df);
  }
  const double alpha = 1.0 - p; // the upper tail, exact for p >= 1/2
  if (alpha == 0.5) {
    return 0.0;
  }
  const auto upper = [df](double t) { return 0.5 * student_t_two_sided(t, df); };
  const double z = -normal_quantile(alpha);
  double t = z + (z * z * z + z) / (4.0 * df);
  double lo = 0.0;
  double hi = std::max(t, 1.0);
  while (upper(hi) > alpha) {
    lo = hi;
    hi *= 2.0;
  }
  if (!(t > lo && t < hi)) {
    t = 0.5 * (lo + hi);
  }
  for (int i = 0; i < 400; ++i) {
    const double f = upper(t) - alpha;
    if (f > 0.0) {
      lo = t;
    } else if (f < 0.0) {
      hi = t;
    } else {
      return t;
    }
    double next = t + f / student_t_pdf(t, df);
    if (!(next > lo && next < hi)) {
      next = 0.5 * (lo + hi);
    }
    if (std::fabs(next - t) <= 4.0 * std::numeric_limits<double>::epsilon() * next) {
      return next;
    }
    t = next;
  }
  return t;
}

/// The chi-square upper tail `P(X >= x)` with `df > 0` degrees of freedom, `Q(df/2, x/2)`.
[[nodiscard]] inline double chi_square_upper_tail(double x, double df) {
  return regularized_incomplete_gamma(0.5 * df, 0.5 * x).upper;
}

/// `P(X <= k)` for `X ~ Binomial(n, 1/2)`, `k < n`: `I_{1/2}(n - k, k + 1)`.
[[nodiscard]] inline double binomial_half_cdf(std::uint64_t k, std::uint64_t n) {
  if (k >= n) {
    return 1.0;
  }
  return regularized_incomplete_beta(static_cast<double>(n - k), static_cast<double>(k) + 1.0, 0.5,
                                     0.5)
      .lower;
}

/// Throws `input_error` at `test: field 'field'`: observed data an experiment cannot use.
[[noreturn]] inline void bad_arm(std::string_view test, std::string_view field,
                                 std::string expected, const std::string& found) {
  throw input_error(input_position(std::string(test), 0, 0, std::string(field)),
                    std::move(expected), found);
}

/// The shortest text that reads back as `v`.
[[nodiscard]] inline std::string double_text(double v) {
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

/// `prefix.name`.
[[nodiscard]] inline std::string dotted(std::string_view prefix, std::string_view name) {
  std::string out(prefix);
  out += '.';
  out += name;
  return out;
}

} // namespace detail

// ---------------------------------------------------------------------------------------------
// Results and configuration
// ---------------------------------------------------------------------------------------------

/// A point estimate with its two-sided confidence interval `[ci_low, ci_high]`.
struct interval_estimate {
  double estimate = 0.0;
  double ci_low = 0.0;
  double ci_high = 0.0;
  friend bool operator==(const interval_estimate&, const interval_estimate&) = default;
};

/// The significance level of a test: two-sided, confidence intervals at `1 - alpha`.
struct ab_test_config {
  /// The false-positive rate the experimenter accepts, in (0, 1); 0.05 by convention.
  double alpha = 0.05;

  /// Throws `config_error` naming `ab_test.alpha` unless `0 < alpha < 1`.
  void validate() const {
    if (!(alpha > 0.0 && alpha < 1.0)) {
      throw config_error("ab_test.alpha", "a number in (0, 1)");
    }
  }
  friend bool operator==(const ab_test_config&, const ab_test_config&) = default;
};

/// JSON: `{"alpha": a}`.
inline void to_json(nlohmann::json& j, const ab_test_config& c) {
  j = nlohmann::json{{"alpha", c.alpha}};
}
/// Reads `to_json`'s form (absent keys keep their default; unknown keys are errors).
inline void from_json(const nlohmann::json& j, ab_test_config& c) {
  data::detail::config_reader r(j, "ab_test");
  ab_test_config out;
  r.read("alpha", out.alpha);
  r.finish();
  out.validate();
  c = out;
}

/// JSON: `{"estimate": e, "ci_low": l, "ci_high": h}`.
inline void to_json(nlohmann::json& j, const interval_estimate& v) {
  j = nlohmann::json{{"estimate", v.estimate}, {"ci_low", v.ci_low}, {"ci_high", v.ci_high}};
}
/// Reads `to_json`'s form; every key is required.
inline void from_json(const nlohmann::json& j, interval_estimate& v) {
  data::detail::config_reader r(j, "interval_estimate");
  r.require("estimate", v.estimate);
  r.require("ci_low", v.ci_low);
  r.require("ci_high", v.ci_high);
  r.finish();
}

// ---------------------------------------------------------------------------------------------
// Two proportions
// ---------------------------------------------------------------------------------------------

/// One arm of an experiment on a rate: `successes` of `trials` (users who converted of users
/// exposed, clicks of impressions). The randomisation unit must be the trial: clicks per
/// impression with users randomised violates independence (docs/online-experiments.md).
struct proportion_arm {
  std::uint64_t successes = 0;
  std::uint64_t trials = 0;
  friend bool operator==(const proportion_arm&, const proportion_arm&) = default;
};

/// The result of `two_proportion_z_test`. The difference and the lift are treatment minus
/// control.
struct proportion_test_result {
  double control_rate = 0.0;   ///< `p_c = successes / trials` of the control arm
  double treatment_rate = 0.0; ///< `p_t` of the treatment arm
  /// `p_t - p_c` with its Wald interval from the unpooled standard error.
  interval_estimate difference;
  /// `p_t / p_c - 1` with the delta-method interval of the log ratio; empty when either rate
  /// is 0 (the log ratio is then infinite or undefined).
  std::optional<interval_estimate> relative_lift;
  double statistic = 0.0;  ///< z, from the pooled standard error
  double p_value = 1.0;    ///< two-sided
  double confidence = 0.0; ///< `1 - alpha`, the level of both intervals
  friend bool operator==(const proportion_test_result&, const proportion_test_result&) = default;
};

/// JSON: every field by name; `relative_lift` is `null` when empty.
inline void to_json(nlohmann::json& j, const proportion_test_result& r) {
  j = nlohmann::json{{"test", "two_proportion_z_test"},
                     {"control_rate", r.control_rate},
                     {"treatment_rate", r.treatment_rate},
                     {"difference", r.difference},
                     {"relative_lift", nullptr},
                     {"statistic", r.statistic},
                     {"p_value", r.p_value},
                     {"confidence", r.confidence}};
  if (r.relative_lift) {
    j["relative_lift"] = *r.relative_lift;
  }
}
/// Reads `to_json`'s form; every key is required.
inline void from_json(const nlohmann::json& j, proportion_test_result& r) {
  data::detail::config_reader rd(j, "proportion_test_result");
  std::string test;
  rd.require("test", test);
  rd.require("control_rate", r.control_rate);
  rd.require("treatment_rate", r.treatment_rate);
  r.difference = rd.at("difference").template get<interval_estimate>();
  const nlohmann::json& lift = rd.at("relative_lift");
  r.relative_lift.reset();
  if (!lift.is_null()) {
    r.relative_lift = lift.template get<interval_estimate>();
  }
  rd.require("statistic", r.statistic);
  rd.require("p_value", r.p_value);
  rd.require("confidence", r.confidence);
  rd.finish();
}

namespace detail {
inline void check_proportion_arm(std::string_view test, std::string_view arm,
                                 const proportion_arm& a) {
  if (a.trials < 2) {
    bad_arm(test, dotted(arm, "trials"), "at least 2 trials", std::to_string(a.trials));
  }
  if (a.successes > a.trials) {
    std::string expected = "at most trials (";
    expected += std::to_string(a.trials);
    expected += ") successes";
    bad_arm(test, dotted(arm, "successes"), expected, std::to_string(a.successes));
  }
}
} // namespace detail

/// The two-sided two-proportion z-test of `H0: p_t = p_c` (Fleiss, Levin & Paik 2003,
/// "Statistical Methods for Rates and Proportions", §3.3; statsmodels' `proportions_ztest`):
///
///     p̄ = (x_c + x_t) / (n_c + n_t),   z = (p_t - p_c) / √(p̄ (1 - p̄) (1/n_c + 1/n_t)),
///     p-value = 2 · Φ(-|z|) = erfc(|z| / √2).
///
/// The interval of the difference is Wald's, with the unpooled standard error (the pooled one
/// is only right under H0): `p_t - p_c ± z_{1-α/2} √(p_c(1-p_c)/n_c + p_t(1-p_t)/n_t)`
/// (statsmodels' `confint_proportions_2indep(..., method="wald", compare="diff")`). The
/// interval of the relative lift `p_t/p_c - 1` is the delta method on the log ratio (Katz et
/// al. 1978, "Obtaining confidence intervals for the risk ratio in cohort studies"):
/// `exp(ln(p_t/p_c) ± z_{1-α/2} √(1/x_t - 1/n_t + 1/x_c - 1/n_c)) - 1`, asymmetric around the
/// estimate as a ratio should be (statsmodels' `compare="ratio", method="log"`).
///
/// Normal approximations: trust them when each arm has at least ~10 successes and ~10 failures.
/// @throws input_error naming `control.trials`, `treatment.successes`, ... when an arm has
/// fewer than 2 trials or more successes than trials; config_error for a bad `alpha`;
/// undefined_metric when both arms have the same rate of 0 or of 1 (the pooled standard error
/// is 0: the data say nothing about a difference).
[[nodiscard]] inline proportion_test_result two_proportion_z_test(const proportion_arm& control,
                                                                  const proportion_arm& treatment,
                                                                  const ab_test_config& cfg = {}) {
  constexpr std::string_view test = "two_proportion_z_test";
  cfg.validate();
  detail::check_proportion_arm(test, "control", control);
  detail::check_proportion_arm(test, "treatment", treatment);
  const double x_c = static_cast<double>(control.successes);
  const double n_c = static_cast<double>(control.trials);
  const double x_t = static_cast<double>(treatment.successes);
  const double n_t = static_cast<double>(treatment.trials);
  const double p_c = x_c / n_c;
  const double p_t = x_t / n_t;
  const double pooled = (x_c + x_t) / (n_c + n_t);
  const double pooled_se = std::sqrt(pooled * (1.0 - pooled) * (1.0 / n_c + 1.0 / n_t));
  if (!(pooled_se > 0.0)) {
    std::string reason = "both arms have a rate of ";
    reason += pooled > 0.5 ? "1" : "0";
    reason += ": the pooled standard error is 0";
    throw undefined_metric(std::string(test), reason);
  }
  const double z_crit = -detail::normal_quantile(0.5 * cfg.alpha);
  proportion_test_result r;
  r.control_rate = p_c;
  r.treatment_rate = p_t;
  r.confidence = 1.0 - cfg.alpha;
  r.statistic = (p_t - p_c) / pooled_se;
  r.p_value = std::erfc(std::fabs(r.statistic) / std::sqrt(2.0));
  const double se = std::sqrt(p_c * (1.0 - p_c) / n_c + p_t * (1.0 - p_t) / n_t);
  const double diff = p_t - p_c;
  r.difference = {diff, diff - z_crit * se, diff + z_crit * se};
  if (x_c > 0.0 && x_t > 0.0) {
    const double log_ratio = std::log(p_t / p_c);
    const double log_se = std::sqrt(1.0 / x_t - 1.0 / n_t + 1.0 / x_c - 1.0 / n_c);
    r.relative_lift =
        interval_estimate{std::expm1(log_ratio), std::expm1(log_ratio - z_crit * log_se),
                          std::expm1(log_ratio + z_crit * log_se)};
  }
  return r;
}

// ---------------------------------------------------------------------------------------------
// Means: Welch's t-test
// ---------------------------------------------------------------------------------------------

/// The summary statistics of one arm on a continuous metric: `count` users, the `mean` and the
/// unbiased sample `variance` (divisor `count - 1`, numpy's `var(ddof=1)`).
struct arm_summary {
  std::uint64_t count = 0;
  double mean = 0.0;
  double variance = 0.0;
  friend bool operator==(const arm_summary&, const arm_summary&) = default;
};

/// JSON: `{"count": n, "mean": m, "variance": v}`.
inline void to_json(nlohmann::json& j, const arm_summary& s) {
  j = nlohmann::json{{"count", s.count}, {"mean", s.mean}, {"variance", s.variance}};
}
/// Reads `to_json`'s form; every key is required.
inline void from_json(const nlohmann::json& j, arm_summary& s) {
  data::detail::config_reader r(j, "arm_summary");
  r.require("count", s.count);
  r.require("mean", s.mean);
  r.require("variance", s.variance);
  r.finish();
}

/// The per-arm statistics of a continuous metric (revenue per user, watch time) as a mergeable
/// accumulator: one per shard or per day, merged, then handed to `welch_t_test`. Welford's
/// update per value (Welford 1962) and Chan, Golub & LeVeque's pairwise merge (1979, "Updating
/// formulae and a pairwise algorithm for computing sample variances"):
/// `M2 = M2_a + M2_b + δ² n_a n_b / n`, `δ = mean_b - mean_a`, with no cancellation of
/// `Σx² - n x̄²`. O(1) per value and per merge; not thread-safe (one per thread, then merge).
class arm_moments : public metric_tag {
public:
  using observation_type = double;
  using result_type = arm_summary;
  /// The accumulator's name in reports and errors.
  static constexpr std::string_view name = "arm_moments";

  /// Adds one value. @throws input_error when it is not finite.
  void add(double x) {
    if (!std::isfinite(x)) {
      detail::bad_arm(name, "value", "a finite number", detail::double_text(x));
    }
    moments_.add(x);
  }

  /// Adds `other`'s values (`other` may be `*this`).
  void merge(const arm_moments& other) { moments_.merge(other.moments_); }

  /// The count, mean and unbiased variance. @throws undefined_metric below 2 values (a sample
  /// variance needs two).
  [[nodiscard]] arm_summary result() const {
    if (moments_.count() < 2) {
      std::string reason = std::to_string(moments_.count());
      reason += " values: a sample variance needs at least 2";
      throw undefined_metric(std::string(name), reason);
    }
    return {moments_.count(), moments_.mean(), moments_.sample_variance()};
  }

  /// Values added so far.
  [[nodiscard]] std::uint64_t count() const noexcept { return moments_.count(); }
  /// Their mean (0 before the first).
  [[nodiscard]] double mean() const noexcept { return moments_.mean(); }

private:
  data::running_moments moments_; // Welford with a shift, Chan's merge
};

static_assert(metric_accumulator<arm_moments>);

/// The result of `welch_t_test`; the difference is treatment minus control.
struct mean_test_result {
  double control_mean = 0.0;
  double treatment_mean = 0.0;
  /// `mean_t - mean_c` with the interval `± t_{1-α/2, df} · standard_error`.
  interval_estimate difference;
  double standard_error = 0.0; ///< `√(s_c²/n_c + s_t²/n_t)`
  double statistic = 0.0;      ///< t
  double df = 0.0;             ///< Welch–Satterthwaite degrees of freedom (not an integer)
  double p_value = 1.0;        ///< two-sided
  double confidence = 0.0;     ///< `1 - alpha`
  friend bool operator==(const mean_test_result&, const mean_test_result&) = default;
};

/// JSON: every field by name.
inline void to_json(nlohmann::json& j, const mean_test_result& r) {
  j = nlohmann::json{{"test", "welch_t_test"},
                     {"control_mean", r.control_mean},
                     {"treatment_mean", r.treatment_mean},
                     {"difference", r.difference},
                     {"standard_error", r.standard_error},
                     {"statistic", r.statistic},
                     {"df", r.df},
                     {"p_value", r.p_value},
                     {"confidence", r.confidence}};
}
/// Reads `to_json`'s form; every key is required.
inline void from_json(const nlohmann::json& j, mean_test_result& r) {
  data::detail::config_reader rd(j, "mean_test_result");
  std::string test;
  rd.require("test", test);
  rd.require("control_mean", r.control_mean);
  rd.require("treatment_mean", r.treatment_mean);
  r.difference = rd.at("difference").template get<interval_estimate>();
  rd.require("standard_error", r.standard_error);
  rd.require("statistic", r.statistic);
  rd.require("df", r.df);
  rd.require("p_value", r.p_value);
  rd.require("confidence", r.confidence);
  rd.finish();
}

namespace detail {
inline void check_arm_summary(std::string_view test, std::string_view arm, const arm_summary& s) {
  if (s.count < 2) {
    bad_arm(test, dotted(arm, "count"), "at least 2", std::to_string(s.count));
  }
  if (!std::isfinite(s.mean)) {
    bad_arm(test, dotted(arm, "mean"), "a finite number", double_text(s.mean));
  }
  if (!(s.variance >= 0.0 && std::isfinite(s.variance))) {
    bad_arm(test, dotted(arm, "variance"), "a finite number >= 0", double_text(s.variance));
  }
}
} // namespace detail

/// Welch's two-sided t-test of `H0: μ_t = μ_c` without assuming equal variances (Welch 1947,
/// "The generalization of 'Student's' problem when several different population variances are
/// involved"; SciPy's `ttest_ind_from_stats(..., equal_var=False)`):
///
///     v_c = s_c²/n_c,  v_t = s_t²/n_t,  t = (x̄_t - x̄_c) / √(v_c + v_t),
///     df = (v_c + v_t)² / (v_c²/(n_c - 1) + v_t²/(n_t - 1))      (Satterthwaite 1946),
///     p-value = I_{df/(df+t²)}(df/2, 1/2)                          (two-sided Student tail).
///
/// O(1), plus O(√df) for the incomplete beta function.
/// @throws input_error naming `control.count`, `treatment.variance`, ... for a count below 2,
/// a mean that is not finite or a negative variance; config_error for a bad `alpha`;
/// undefined_metric when both variances are 0 (the standard error is 0).
[[nodiscard]] inline mean_test_result welch_t_test(const arm_summary& control,
                                                   const arm_summary& treatment,
                                                   const ab_test_config& cfg = {}) {
  constexpr std::string_view test = "welch_t_test";
  cfg.validate();
  detail::check_arm_summary(test, "control", control);
  detail::check_arm_summary(test, "treatment", treatment);
  const double n_c = static_cast<double>(control.count);
  const double n_t = static_cast<double>(treatment.count);
  const double v_c = control.variance / n_c;
  const double v_t = treatment.variance / n_t;
  const double se2 = v_c + v_t;
  if (!(se2 > 0.0)) {
    throw undefined_metric(std::string(test),
                           "both arms have a variance of 0: the standard error is 0");
  }
  mean_test_result r;
  r.control_mean = control.mean;
  r.treatment_mean = treatment.mean;
  r.confidence = 1.0 - cfg.alpha;
  r.standard_error = std::sqrt(se2);
  const double diff = treatment.mean - control.mean;
  r.statistic = diff / r.standard_error;
  r.df = se2 * se2 / (v_c * v_c / (n_c - 1.0) + v_t * v_t / (n_t - 1.0));
  r.p_value = detail::student_t_two_sided(r.statistic, r.df);
  const double t_crit = detail::student_t_quantile(1.0 - 0.5 * cfg.alpha, r.df);
  r.difference = {diff, diff - t_crit * r.standard_error, diff + t_crit * r.standard_error};
  return r;
}

// ---------------------------------------------------------------------------------------------
// Sample size and minimum detectable effect
// ---------------------------------------------------------------------------------------------

/// The error rates an experiment is designed for: a two-sided test at level `alpha` that detects
/// the minimum effect with probability `power`.
struct power_config {
  /// The false-positive rate, in (0, 1); 0.05 by convention.
  double alpha = 0.05;
  /// The probability of detecting the minimum effect, in [0.5, 1); 0.8 by convention (below
  /// 0.5 the formulas' `z_power` turns negative and the design is meaningless).
  double power = 0.8;

  /// Throws `config_error` naming `power.alpha` or `power.power`.
  void validate() const {
    if (!(alpha > 0.0 && alpha < 1.0)) {
      throw config_error("power.alpha", "a number in (0, 1)");
    }
    if (!(power >= 0.5 && power < 1.0)) {
      throw config_error("power.power", "a number in [0.5, 1)");
    }
  }
  friend bool operator==(const power_config&, const power_config&) = default;
};

/// JSON: `{"alpha": a, "power": p}`.
inline void to_json(nlohmann::json& j, const power_config& c) {
  j = nlohmann::json{{"alpha", c.alpha}, {"power", c.power}};
}
/// Reads `to_json`'s form (absent keys keep their default; unknown keys are errors).
inline void from_json(const nlohmann::json& j, power_config& c) {
  data::detail::config_reader r(j, "power");
  power_config out;
  r.read("alpha", out.alpha);
  r.read("power", out.power);
  r.finish();
  out.validate();
  c = out;
}

/// Whether a minimum detectable effect on a rate is absolute (percentage points: 0.01 takes
/// 5% to 6%) or relative to the baseline (0.01 takes 5% to 5.05%).
enum class effect_scale : std::uint8_t { absolute, relative };

/// A minimum detectable effect on a rate, in both scales.
struct detectable_effect {
  double absolute = 0.0; ///< `p_t - p_c`
  double relative = 0.0; ///< `(p_t - p_c) / p_c`
  friend bool operator==(const detectable_effect&, const detectable_effect&) = default;
};

/// JSON: `{"absolute": a, "relative": r}`.
inline void to_json(nlohmann::json& j, const detectable_effect& e) {
  j = nlohmann::json{{"absolute", e.absolute}, {"relative", e.relative}};
}
/// Reads `to_json`'s form; both keys are required.
inline void from_json(const nlohmann::json& j, detectable_effect& e) {
  data::detail::config_reader r(j, "detectable_effect");
  r.require("absolute", e.absolute);
  r.require("relative", e.relative);
  r.finish();
}

namespace detail {
inline void check_rate(const char* field, double p) {
  if (!(p > 0.0 && p < 1.0)) {
    throw config_error(field, "a probability in (0, 1)");
  }
}

/// The real-valued per-arm size of Fleiss' formula for rates `p1`, `p2`.
[[nodiscard]] inline double proportion_sample_size(double p1, double p2, double z_alpha,
                                                   double z_power) noexcept {
  const double mean = 0.5 * (p1 + p2);
  const double root = z_alpha * std::sqrt(2.0 * mean * (1.0 - mean)) +
                      z_power * std::sqrt(p1 * (1.0 - p1) + p2 * (1.0 - p2));
  const double delta = p2 - p1;
  return root * root / (delta * delta);
}

/// `⌈n⌉`, at least 2, saturating at the largest `uint64_t`.
[[nodiscard]] inline std::uint64_t ceil_sample_size(double n) noexcept {
  if (!(n < 1.8e19)) {
    return std::numeric_limits<std::uint64_t>::max();
  }
  return std::max<std::uint64_t>(2, static_cast<std::uint64_t>(std::ceil(n)));
}
} // namespace detail

/// Users per arm (equal split) for a two-sided two-proportion test to detect the change of a
/// rate from `baseline_rate` to `baseline_rate + δ` (`δ = minimum_detectable_effect`, or
/// `minimum_detectable_effect · baseline_rate` on the relative scale), by the normal
/// approximation of Fleiss, Levin & Paik (2003, eq. 4.14, without continuity correction):
///
///     n = (z_{1-α/2} √(2 p̄ (1 - p̄)) + z_{power} √(p_1(1-p_1) + p_2(1-p_2)))² / δ²,
///     p̄ = (p_1 + p_2) / 2,
///
/// rounded up (and at least 2). The first term is the standard error under H0 (the pooled one
/// the z-test uses), the second under the alternative.
/// @throws config_error naming `baseline_rate` (not in (0, 1)), `minimum_detectable_effect`
/// (0, not finite, or moving the rate out of (0, 1)), or a field of `cfg`.
[[nodiscard]] inline std::uint64_t
sample_size_per_arm_for_proportions(double baseline_rate, double minimum_detectable_effect,
                                    effect_scale scale = effect_scale::absolute,
                                    const power_config& cfg = {}) {
  cfg.validate();
  detail::check_rate("baseline_rate", baseline_rate);
  const double delta = scale == effect_scale::absolute ? minimum_detectable_effect
                                                       : minimum_detectable_effect * baseline_rate;
  const double p2 = baseline_rate + delta;
  if (!(std::isfinite(delta) && delta != 0.0 && p2 > 0.0 && p2 < 1.0)) {
    throw config_error("minimum_detectable_effect",
                       "a non-zero effect that keeps baseline_rate + effect in (0, 1)");
  }
  return detail::ceil_sample_size(
      detail::proportion_sample_size(baseline_rate, p2, -detail::normal_quantile(0.5 * cfg.alpha),
                                     detail::normal_quantile(cfg.power)));
}

/// The smallest increase of a rate from `baseline_rate` that `per_arm` users per arm detect
/// with the configured power: the inverse of `sample_size_per_arm_for_proportions` (its
/// real-valued `n` is strictly decreasing in δ, so bisection finds the δ with `n(δ) = per_arm`
/// to double precision in at most 200 steps). Upward effects only; the formula is nearly
/// symmetric for decreases.
/// @throws config_error naming `baseline_rate`, `per_arm` (below 2) or a field of `cfg`;
/// undefined_metric when even a rate of 1 needs more than `per_arm` users.
[[nodiscard]] inline detectable_effect
minimum_detectable_effect_for_proportions(double baseline_rate, std::uint64_t per_arm,
                                          const power_config& cfg = {}) {
  cfg.validate();
  detail::check_rate("baseline_rate", baseline_rate);
  if (per_arm < 2) {
    throw config_error("per_arm", "at least 2 users per arm");
  }
  const double z_alpha = -detail::normal_quantile(0.5 * cfg.alpha);
  const double z_power = detail::normal_quantile(cfg.power);
  const double n = static_cast<double>(per_arm);
  double lo = 0.0;
  double hi = 1.0 - baseline_rate;
  if (detail::proportion_sample_size(baseline_rate, 1.0, z_alpha, z_power) > n) {
    std::string reason = "per_arm = ";
    reason += std::to_string(per_arm);
    reason += " is too small to detect any increase from the baseline rate";
    throw undefined_metric("minimum_detectable_effect_for_proportions", reason);
  }
  for (int i = 0; i < 200 && hi - lo > 4.0 * std::numeric_limits<double>::epsilon() * hi; ++i) {
    const double mid = 0.5 * (lo + hi);
    if (detail::proportion_sample_size(baseline_rate, baseline_rate + mid, z_alpha, z_power) > n) {
      lo = mid;
    } else {
      hi = mid;
    }
  }
  return {hi, hi / baseline_rate};
}

/// Users per arm (equal split) for a two-sided test on means to detect a difference of
/// `minimum_detectable_effect` when the metric's standard deviation per user is
/// `standard_deviation` in both arms, by the normal approximation (Chow, Shao & Wang 2008,
/// "Sample Size Calculations in Clinical Research", §3.2.1):
///
///     n = 2 σ² (z_{1-α/2} + z_{power})² / δ²,
///
/// rounded up (and at least 2). The t-based exact size is larger by about 2 users per arm
/// (Guenther 1981), immaterial at the sizes online experiments run at.
/// @throws config_error naming `standard_deviation`, `minimum_detectable_effect` or a field
/// of `cfg`.
[[nodiscard]] inline std::uint64_t sample_size_per_arm_for_means(double standard_deviation,
                                                                 double minimum_detectable_effect,
                                                                 const power_config& cfg = {}) {
  cfg.validate();
  if (!(standard_deviation > 0.0 && std::isfinite(standard_deviation))) {
    throw config_error("standard_deviation", "a finite number > 0");
  }
  if (!(std::isfinite(minimum_detectable_effect) && minimum_detectable_effect != 0.0)) {
    throw config_error("minimum_detectable_effect", "a finite non-zero number");
  }
  const double z = -detail::normal_quantile(0.5 * cfg.alpha) + detail::normal_quantile(cfg.power);
  const double ratio = standard_deviation / minimum_detectable_effect;
  return detail::ceil_sample_size(2.0 * z * z * ratio * ratio);
}

/// The smallest difference of means that `per_arm` users per arm detect, the inverse of
/// `sample_size_per_arm_for_means`: `δ = (z_{1-α/2} + z_{power}) σ √(2 / n)`.
/// @throws config_error naming `standard_deviation`, `per_arm` (below 2) or a field of `cfg`.
[[nodiscard]] inline double minimum_detectable_effect_for_means(double standard_deviation,
                                                                std::uint64_t per_arm,
                                                                const power_config& cfg = {}) {
  cfg.validate();
  if (!(standard_deviation > 0.0 && std::isfinite(standard_deviation))) {
    throw config_error("standard_deviation", "a finite number > 0");
  }
  if (per_arm < 2) {
    throw config_error("per_arm", "at least 2 users per arm");
  }
  const double z = -detail::normal_quantile(0.5 * cfg.alpha) + detail::normal_quantile(cfg.power);
  return z * standard_deviation * std::sqrt(2.0 / static_cast<double>(per_arm));
}

// ---------------------------------------------------------------------------------------------
// Sample-ratio mismatch
// ---------------------------------------------------------------------------------------------

/// The threshold below which a sample-ratio-mismatch p-value flags the experiment.
struct srm_config {
  /// In (0, 1); 0.001 by convention (Fabijan et al. 2019, "Diagnosing sample ratio mismatch in
  /// online controlled experiments", KDD): strict, because the check runs on every experiment
  /// and a false alarm discards a valid one.
  double threshold = 0.001;

  /// Throws `config_error` naming `srm.threshold` unless `0 < threshold < 1`.
  void validate() const {
    if (!(threshold > 0.0 && threshold < 1.0)) {
      throw config_error("srm.threshold", "a number in (0, 1)");
    }
  }
  friend bool operator==(const srm_config&, const srm_config&) = default;
};

/// JSON: `{"threshold": t}`.
inline void to_json(nlohmann::json& j, const srm_config& c) {
  j = nlohmann::json{{"threshold", c.threshold}};
}
/// Reads `to_json`'s form (absent keys keep their default; unknown keys are errors).
inline void from_json(const nlohmann::json& j, srm_config& c) {
  data::detail::config_reader r(j, "srm");
  srm_config out;
  r.read("threshold", out.threshold);
  r.finish();
  out.validate();
  c = out;
}

/// The result of `sample_ratio_mismatch`.
struct srm_result {
  double statistic = 0.0;             ///< Pearson's χ² = Σ (O_i - E_i)² / E_i
  std::uint64_t df = 0;               ///< arms - 1
  double p_value = 1.0;               ///< the χ² upper tail
  bool mismatch = false;              ///< `p_value < threshold`: do not trust the experiment
  std::vector<double> expected_count; ///< E_i = total · w_i / Σ w, per arm
  friend bool operator==(const srm_result&, const srm_result&) = default;
};

/// JSON: every field by name.
inline void to_json(nlohmann::json& j, const srm_result& r) {
  j = nlohmann::json{{"test", "sample_ratio_mismatch"},
                     {"statistic", r.statistic},
                     {"df", r.df},
                     {"p_value", r.p_value},
                     {"mismatch", r.mismatch},
                     {"expected_count", r.expected_count}};
}
/// Reads `to_json`'s form; every key is required.
inline void from_json(const nlohmann::json& j, srm_result& r) {
  data::detail::config_reader rd(j, "srm_result");
  std::string test;
  rd.require("test", test);
  rd.require("statistic", r.statistic);
  rd.require("df", r.df);
  rd.require("p_value", r.p_value);
  rd.require("mismatch", r.mismatch);
  rd.require("expected_count", r.expected_count);
  rd.finish();
}

/// The sample-ratio-mismatch check (Fabijan et al. 2019; Kohavi, Tang & Xu 2020, "Trustworthy
/// Online Controlled Experiments", ch. 21): Pearson's chi-square goodness-of-fit test of the
/// observed users per arm against the split the experiment was designed with,
///
///     E_i = N · w_i / Σ_j w_j,   χ² = Σ_i (O_i - E_i)² / E_i,   p = Q((k - 1)/2, χ²/2)
///
/// (SciPy's `chisquare(observed, expected)`). A p-value below the threshold means the
/// assignment or the logging is broken (bots filtered in one arm, a redirect that loses users,
/// a crash in the treatment): the experiment's other results are not to be trusted.
/// `design_weights` need not sum to 1 ({50, 50} and {1, 1} are the same split). O(arms).
/// @throws std::invalid_argument when the spans differ in size or hold fewer than 2 arms;
/// config_error naming `design_weights[i]` (not finite and > 0) or `srm.threshold`;
/// undefined_metric when no user was observed.
[[nodiscard]] inline srm_result sample_ratio_mismatch(std::span<const std::uint64_t> observed,
                                                      std::span<const double> design_weights,
                                                      const srm_config& cfg = {}) {
  cfg.validate();
  detail::check_same_size("sample_ratio_mismatch", "observed counts", observed.size(),
                          "design weights", design_weights.size());
  if (observed.size() < 2) {
    throw std::invalid_argument("mlsd::evaluation::sample_ratio_mismatch: at least 2 arms");
  }
  double weight_sum = 0.0;
  for (std::size_t i = 0; i < design_weights.size(); ++i) {
    if (!(design_weights[i] > 0.0 && std::isfinite(design_weights[i]))) {
      throw config_error(data::detail::indexed_path("design_weights", i), "a finite number > 0");
    }
    weight_sum += design_weights[i];
  }
  double total = 0.0;
  for (const std::uint64_t o : observed) {
    total += static_cast<double>(o);
  }
  if (total == 0.0) {
    throw undefined_metric("sample_ratio_mismatch", "no observations");
  }
  srm_result r;
  r.df = observed.size() - 1;
  r.expected_count.reserve(observed.size());
  for (std::size_t i = 0; i < observed.size(); ++i) {
    const double e = total * design_weights[i] / weight_sum;
    const double d = static_cast<double>(observed[i]) - e;
    r.statistic += d * d / e;
    r.expected_count.push_back(e);
  }
  r.p_value = detail::chi_square_upper_tail(r.statistic, static_cast<double>(r.df));
  r.mismatch = r.p_value < cfg.threshold;
  return r;
}

} // namespace evaluation
MLSD_END_NAMESPACE
