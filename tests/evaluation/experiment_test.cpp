// Online experiments (include/mlsd/evaluation/experiment.hpp): the special functions against
// SciPy 1.10, each test against the same formula written with SciPy (the Python is next to the
// constants), Welford/Chan moments against a two-pass reference, edge cases, bad input, JSON.
//
// Every reference value was printed with Python 3.11, numpy 1.24 and SciPy 1.10 (Debian
// bookworm's python3-scipy) as `repr(float(x))`, i.e. to 17 significant digits:
//   import numpy as np; from scipy import stats, special, optimize
#include <mlsd/evaluation/experiment.hpp>

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace ev = mlsd::evaluation;
namespace dt = mlsd::evaluation::detail;

namespace {

// |actual - expected| <= rel · |expected| (or <= rel when expected is 0).
bool close(double actual, double expected, double rel) {
  const double scale = expected == 0.0 ? 1.0 : std::fabs(expected);
  return std::fabs(actual - expected) <= rel * scale;
}

#define CHECK_CLOSE(actual, expected, rel)                                                         \
  do {                                                                                             \
    const double a_ = (actual);                                                                    \
    const double e_ = (expected);                                                                  \
    INFO(#actual << " = " << a_ << ", expected " << e_);                                           \
    CHECK(close(a_, e_, rel));                                                                     \
  } while (false)

template <class F>
std::string field_of_input_error(F&& f) {
  try {
    f();
  } catch (const mlsd::input_error& e) {
    return e.where().field;
  }
  return "(no input_error)";
}

template <class F>
std::string field_of_config_error(F&& f) {
  try {
    f();
  } catch (const mlsd::config_error& e) {
    return e.field();
  }
  return "(no config_error)";
}

} // namespace

TEST_CASE("regularized incomplete beta agrees with scipy.special.betainc",
          "[evaluation][experiment][special]") {
  // special.betainc(a, b, x) and 1 - it (the complement is computed apart: I_y(b, a)).
  struct row {
    double a, b, x, lower, upper;
  };
  const row rows[] = {
      {0.5, 0.5, 0.3, 0.3690101195655454, 0.6309898804344546},
      {2.0, 3.0, 0.4, 0.5247999999999999, 0.47520000000000007},
      {10.0, 0.5, 0.9, 0.15164090963470997, 0.84835909036529},
      {50.0, 0.5, 0.999, 0.7523690199653768, 0.24763098003462325},
      {30.0, 40.0, 0.45, 0.6447480085585666, 0.3552519914414334},
      {1.0, 1.0, 0.25, 0.25, 0.75},
      {5000.0, 0.5, 0.9999, 0.3173105072577324, 0.6826894927422675},
      {200.0, 300.0, 0.41, 0.6776281647721865, 0.32237183522781354},
  };
  for (const row& r : rows) {
    INFO("a = " << r.a << ", b = " << r.b << ", x = " << r.x);
    const dt::tail_pair t = dt::regularized_incomplete_beta(r.a, r.b, r.x, 1.0 - r.x);
    CHECK_CLOSE(t.lower, r.lower, 1e-10);
    CHECK_CLOSE(t.upper, r.upper, 1e-10);
  }
  CHECK(dt::regularized_incomplete_beta(2.0, 3.0, 0.0, 1.0).lower == 0.0);
  CHECK(dt::regularized_incomplete_beta(2.0, 3.0, 1.0, 0.0).upper == 0.0);
}

TEST_CASE("Student's t CDF and quantile agree with scipy.special.stdtr and stdtrit",
          "[evaluation][experiment][special]") {
  // special.stdtr(df, t), 2 * special.stdtr(df, -abs(t))
  struct cdf_row {
    double t, df, cdf, two_sided;
  };
  const cdf_row cdf_rows[] = {
      {2.0, 1.0, 0.8524163823495667, 0.2951672353008664},
      {-1.5, 3.0, 0.11529193262241141, 0.23058386524482283},
      {2.5, 7.3, 0.9801748826671998, 0.039650234665600415},
      {0.3, 12.0, 0.6153447629558738, 0.7693104740882523},
      {4.0, 25.5, 0.999759465579456, 0.00048106884108795896},
      {-6.0, 100.0, 1.58624575140143e-08, 3.17249150280286e-08},
      {1.96, 1e4, 0.9749882398840835, 0.05002352023183303},
      {3.0, 1e6, 0.9986500687292891, 0.0026998625414217953},
      {10.0, 5.0, 0.9999145262121285, 0.00017094757574296357},
  };
  for (const cdf_row& r : cdf_rows) {
    INFO("t = " << r.t << ", df = " << r.df);
    CHECK_CLOSE(dt::student_t_cdf(r.t, r.df), r.cdf, 1e-10);
    CHECK_CLOSE(dt::student_t_two_sided(r.t, r.df), r.two_sided, 1e-10);
  }
  // special.stdtrit(df, p)
  struct quantile_row {
    double p, df, t;
  };
  const quantile_row quantile_rows[] = {
      {0.975, 1.0, 12.706204736432095},   {0.975, 2.0, 4.302652729911275},
      {0.995, 3.7, 4.869252253428671},    {0.9, 10.0, 1.3721836411102863},
      {0.975, 30.0, 2.0422724563012373},  {0.975, 1e3, 1.9623390808264074},
      {0.999999, 4.0, 41.57785415015412}, {0.025, 8.0, -2.306004135033371},
      {0.975, 1e6, 1.9599663568141066},
  };
  for (const quantile_row& r : quantile_rows) {
    INFO("p = " << r.p << ", df = " << r.df);
    const double t = dt::student_t_quantile(r.p, r.df);
    CHECK_CLOSE(t, r.t, 1e-10);
    // SciPy's stdtrit is good to ~3e-11; the round trip through the CDF is tighter (1e-14 up
    // to 10^4 degrees of freedom, 1e-12 beyond: see regularized_incomplete_beta).
    CHECK_CLOSE(dt::student_t_cdf(t, r.df), r.p, r.df > 1e4 ? 1e-11 : 1e-14);
  }
  CHECK(dt::student_t_quantile(0.5, 7.0) == 0.0);
}

TEST_CASE("the normal quantile agrees with scipy.special.ndtri to 1e-12",
          "[evaluation][experiment][special]") {
  // special.ndtri(p)
  struct row {
    double p, z;
  };
  const row rows[] = {
      {0.975, 1.959963984540054},    {0.8, 0.8416212335729143},   {0.995, 2.5758293035489004},
      {0.02425, -1.972961051311885}, {0.01, -2.3263478740408408}, {1e-10, -6.361340902404056},
      {1e-300, -37.0470962993612},   {0.3, -0.5244005127080409},  {0.9999999, 5.199337582290661},
      {0.6, 0.2533471031357997},
  };
  for (const row& r : rows) {
    INFO("p = " << r.p);
    CHECK_CLOSE(dt::normal_quantile(r.p), r.z, 1e-12);
  }
  CHECK(std::fabs(dt::normal_quantile(0.5)) < 1e-300);
}

TEST_CASE("the chi-square upper tail agrees with scipy.special.chdtrc",
          "[evaluation][experiment][special]") {
  // special.chdtrc(k, x)
  struct row {
    double x, k, q;
  };
  const row rows[] = {
      {3.0, 1.0, 0.08326451666355042},
      {10.83, 1.0, 0.0009986863791802592},
      {0.5, 2.0, 0.7788007830714049},
      {20.0, 3.0, 0.00016974243555282632},
      {1.0, 5.0, 0.9625657732472964},
      {100.0, 10.0, 5.4497019829205215e-17},
      {0.0, 1.0, 1.0},
      {1e-3, 1.0, 0.9747728793699604},
  };
  for (const row& r : rows) {
    INFO("x = " << r.x << ", k = " << r.k);
    CHECK_CLOSE(dt::chi_square_upper_tail(r.x, r.k), r.q, 1e-10);
  }
}

TEST_CASE("two-proportion z-test: statistic, p-value and both intervals",
          "[evaluation][experiment][proportions]") {
  // def prop(x_c, n_c, x_t, n_t, alpha=0.05):
  //     pc = x_c/n_c; pt = x_t/n_t; pp = (x_c + x_t)/(n_c + n_t)
  //     z = (pt - pc)/np.sqrt(pp*(1 - pp)*(1/n_c + 1/n_t)); pval = 2*stats.norm.sf(abs(z))
  //     zc = stats.norm.ppf(1 - alpha/2); se = np.sqrt(pc*(1 - pc)/n_c + pt*(1 - pt)/n_t)
  //     diff = (pt - pc, pt - pc - zc*se, pt - pc + zc*se)
  //     lr = np.log(pt/pc); lse = np.sqrt(1/x_t - 1/n_t + 1/x_c - 1/n_c)
  //     lift = (np.expm1(lr), np.expm1(lr - zc*lse), np.expm1(lr + zc*lse))
  // (the same as statsmodels' proportions_ztest and confint_proportions_2indep with
  // method="wald", compare="diff" and method="log", compare="ratio").
  SECTION("prop(1210, 24000, 1342, 24100)") {
    const auto r = ev::two_proportion_z_test({1210, 24000}, {1342, 24100});
    CHECK(r.control_rate == 1210.0 / 24000.0);
    CHECK(r.treatment_rate == 1342.0 / 24100.0);
    CHECK_CLOSE(r.statistic, 2.57724591098585, 1e-12);
    CHECK_CLOSE(r.p_value, 0.009959107107879606, 1e-10);
    CHECK_CLOSE(r.difference.estimate, 0.005267980636237901, 1e-12);
    CHECK_CLOSE(r.difference.ci_low, 0.001262412813012901, 1e-10);
    CHECK_CLOSE(r.difference.ci_high, 0.009273548459462901, 1e-10);
    REQUIRE(r.relative_lift.has_value());
    CHECK_CLOSE(r.relative_lift->estimate, 0.10448887212372694, 1e-12);
    CHECK_CLOSE(r.relative_lift->ci_low, 0.024051276261831754, 1e-10);
    CHECK_CLOSE(r.relative_lift->ci_high, 0.19124471295833506, 1e-10);
    CHECK(r.confidence == Approx(0.95).epsilon(1e-15));
  }
  SECTION("prop(1210, 24000, 1342, 24100, alpha=0.01): wider intervals, same test") {
    const auto r = ev::two_proportion_z_test({1210, 24000}, {1342, 24100}, {0.01});
    CHECK_CLOSE(r.p_value, 0.009959107107879606, 1e-10);
    CHECK_CLOSE(r.difference.ci_low, 3.7721825112430746e-06, 1e-8);
    CHECK_CLOSE(r.difference.ci_high, 0.01053218908996456, 1e-10);
    REQUIRE(r.relative_lift.has_value());
    CHECK_CLOSE(r.relative_lift->ci_low, 6.308956744636187e-06, 1e-8);
    CHECK_CLOSE(r.relative_lift->ci_high, 0.2198879724246911, 1e-10);
  }
  SECTION("prop(0, 500, 8, 500): zero conversions in control, no relative lift") {
    const auto r = ev::two_proportion_z_test({0, 500}, {8, 500});
    CHECK_CLOSE(r.statistic, 2.839809171235324, 1e-12);
    CHECK_CLOSE(r.p_value, 0.004514052854917141, 1e-10);
    CHECK(r.difference.estimate == 0.016);
    CHECK_CLOSE(r.difference.ci_low, 0.005001824908376088, 1e-10);
    CHECK_CLOSE(r.difference.ci_high, 0.026998175091623913, 1e-10);
    CHECK_FALSE(r.relative_lift.has_value());
    // Zero in the treatment arm: the mirror image.
    const auto m = ev::two_proportion_z_test({8, 500}, {0, 500});
    CHECK_CLOSE(m.statistic, -2.839809171235324, 1e-12);
    CHECK_CLOSE(m.p_value, 0.004514052854917141, 1e-10);
    CHECK_FALSE(m.relative_lift.has_value());
  }
  SECTION("prop(50, 1000, 50, 1000): equal arms") {
    const auto r = ev::two_proportion_z_test({50, 1000}, {50, 1000});
    CHECK(r.statistic == 0.0);
    CHECK(r.p_value == 1.0);
    CHECK(r.difference.estimate == 0.0);
    CHECK_CLOSE(r.difference.ci_low, -0.019103365880544242, 1e-10);
    CHECK_CLOSE(r.difference.ci_high, 0.019103365880544242, 1e-10);
    REQUIRE(r.relative_lift.has_value());
    CHECK(r.relative_lift->estimate == 0.0);
    CHECK_CLOSE(r.relative_lift->ci_low, -0.31755088918464913, 1e-10);
    CHECK_CLOSE(r.relative_lift->ci_high, 0.4653107230299672, 1e-10);
  }
  SECTION("both arms at 0 or at 1: undefined, not NaN") {
    CHECK_THROWS_AS(ev::two_proportion_z_test({0, 100}, {0, 200}), ev::undefined_metric);
    CHECK_THROWS_AS(ev::two_proportion_z_test({100, 100}, {200, 200}), ev::undefined_metric);
    // 0 against 1 is defined: the pooled rate is 1/2.
    const auto r = ev::two_proportion_z_test({0, 100}, {100, 100});
    CHECK(r.statistic == Approx(std::sqrt(200.0)).epsilon(1e-14));
    CHECK(r.difference.ci_low == 1.0);
    CHECK(r.difference.ci_high == 1.0);
  }
}

TEST_CASE("two-proportion z-test validates its input", "[evaluation][experiment][proportions]") {
  CHECK(field_of_input_error([] {
          (void)ev::two_proportion_z_test({1, 1}, {1, 10});
        }) == "control.trials");
  CHECK(field_of_input_error([] {
          (void)ev::two_proportion_z_test({1, 10}, {11, 10});
        }) == "treatment.successes");
  CHECK(field_of_config_error([] {
          (void)ev::two_proportion_z_test({1, 10}, {2, 10}, {0.0});
        }) == "ab_test.alpha");
  CHECK(field_of_config_error([] {
          (void)ev::two_proportion_z_test({1, 10}, {2, 10}, {1.0});
        }) == "ab_test.alpha");
  try {
    (void)ev::two_proportion_z_test({1, 10}, {11, 10});
  } catch (const mlsd::input_error& e) {
    CHECK(std::string(e.what()) ==
          "two_proportion_z_test: field 'treatment.successes': expected at most trials (10) "
          "successes, found '11'");
  }
}

TEST_CASE("Welch's t-test agrees with scipy.stats.ttest_ind_from_stats",
          "[evaluation][experiment][means]") {
  // def welch(mc, vc, nc, mt, vt, nt, alpha=0.05):
  //     r = stats.ttest_ind_from_stats(mt, np.sqrt(vt), nt, mc, np.sqrt(vc), nc, equal_var=False)
  //     a = vc/nc; b = vt/nt; df = (a + b)**2/(a*a/(nc - 1) + b*b/(nt - 1)); se = np.sqrt(a + b)
  //     tc = optimize.brentq(lambda t: special.stdtr(df, t) - (1 - alpha/2), 0, 100,
  //                          xtol=1e-15, rtol=1e-15)
  //     ci = (mt - mc - tc*se, mt - mc + tc*se)
  // (not stats.t.ppf: SciPy's stdtrit is accurate to about 3e-11 only, e.g. for df = 9.0065 it
  // returns 2.2619095332107837, whose stdtr is 0.975 - 2.3e-12; brentq on stdtr gives
  // 2.261909533267614, as mlsd does.)
  struct row {
    ev::arm_summary control, treatment;
    double alpha, t, p, df, se, ci_low, ci_high;
  };
  const row rows[] = {
      // welch(12.3, 40.5, 1000, 13.1, 55.2, 800)
      {{1000, 12.3, 40.5},
       {800, 13.1, 55.2},
       0.05,
       2.4175915408619946,
       0.01573632764590147,
       1577.5419516347072,
       0.33090784215548597,
       0.15093456007070738,
       1.4490654399292904},
      // welch(3.0, 2.0, 5, 5.5, 9.0, 7)
      {{5, 3.0, 2.0},
       {7, 5.5, 9.0},
       0.05,
       1.9255199605935192,
       0.08626665070894975,
       9.006468305304013,
       1.2983506020002016,
       -0.4367516041880015,
       5.436751604188002},
      // welch(1.0, 0.0, 10, 1.5, 0.25, 12, 0.1): one arm without variance, df = n_t - 1
      {{10, 1.0, 0.0},
       {12, 1.5, 0.25},
       0.1,
       3.464101615137755,
       0.00529473230878037,
       11.0,
       0.14433756729740643,
       0.24078635412191451,
       0.7592136458780855},
  };
  for (const row& w : rows) {
    INFO("control n = " << w.control.count << ", treatment n = " << w.treatment.count);
    const auto r = ev::welch_t_test(w.control, w.treatment, {w.alpha});
    CHECK(r.control_mean == w.control.mean);
    CHECK(r.treatment_mean == w.treatment.mean);
    CHECK_CLOSE(r.statistic, w.t, 1e-12);
    CHECK_CLOSE(r.p_value, w.p, 1e-10);
    CHECK_CLOSE(r.df, w.df, 1e-12);
    CHECK_CLOSE(r.standard_error, w.se, 1e-12);
    CHECK_CLOSE(r.difference.estimate, w.treatment.mean - w.control.mean, 1e-15);
    CHECK_CLOSE(r.difference.ci_low, w.ci_low, 1e-10);
    CHECK_CLOSE(r.difference.ci_high, w.ci_high, 1e-10);
  }
  SECTION("equal arms: t = 0, p = 1") {
    const auto r = ev::welch_t_test({100, 2.0, 1.0}, {100, 2.0, 1.0});
    CHECK(r.statistic == 0.0);
    CHECK(r.p_value == 1.0);
    CHECK(r.df == Approx(198.0).epsilon(1e-14));
  }
  SECTION("undefined and bad input") {
    CHECK_THROWS_AS(ev::welch_t_test({10, 1.0, 0.0}, {10, 2.0, 0.0}), ev::undefined_metric);
    CHECK(field_of_input_error([] {
            (void)ev::welch_t_test({1, 1.0, 1.0}, {10, 2.0, 1.0});
          }) == "control.count");
    CHECK(field_of_input_error([] {
            (void)ev::welch_t_test({10, 1.0, 1.0}, {10, 2.0, -1.0});
          }) == "treatment.variance");
    CHECK(field_of_input_error([] {
            (void)ev::welch_t_test({10, std::numeric_limits<double>::quiet_NaN(), 1.0},
                                   {10, 2.0, 1.0});
          }) == "control.mean");
  }
}

TEST_CASE("arm_moments: raw values give scipy.stats.ttest_ind(equal_var=False)",
          "[evaluation][experiment][means]") {
  // a = np.array([3.1, 4.7, 2.2, 5.9, 4.4, 3.8, 6.1, 2.9]); b = np.array([5.2, 6.8, 4.9, 7.7,
  // 5.5, 6.3, 8.1]); a.mean(), a.var(ddof=1), b.mean(), b.var(ddof=1);
  // stats.ttest_ind(b, a, equal_var=False)
  const std::vector<double> a = {3.1, 4.7, 2.2, 5.9, 4.4, 3.8, 6.1, 2.9};
  const std::vector<double> b = {5.2, 6.8, 4.9, 7.7, 5.5, 6.3, 8.1};
  ev::arm_moments control;
  ev::arm_moments treatment;
  for (const double x : a) {
    control.add(x);
  }
  for (const double x : b) {
    treatment.add(x);
  }
  const ev::arm_summary sa = control.result();
  const ev::arm_summary sb = treatment.result();
  CHECK(sa.count == 8);
  CHECK_CLOSE(sa.mean, 4.1375, 1e-14);
  CHECK_CLOSE(sa.variance, 1.9741071428571428, 1e-13);
  CHECK_CLOSE(sb.mean, 6.357142857142857, 1e-14);
  CHECK_CLOSE(sb.variance, 1.539523809523809, 1e-13);
  const auto r = ev::welch_t_test(sa, sb);
  CHECK_CLOSE(r.statistic, 3.2491245338169104, 1e-12);
  CHECK_CLOSE(r.p_value, 0.006341706594179963, 1e-10);

  SECTION("merge of shards equals adding everything, against a two-pass reference") {
    // Values near 1e9: Σx² - n·x̄² would lose every digit; Welford and Chan do not.
    std::mt19937 rng(7);
    std::normal_distribution<double> noise(0.0, 3.0);
    std::vector<double> values;
    for (int i = 0; i < 1000; ++i) {
      values.push_back(1e9 + noise(rng));
    }
    long double mean = 0;
    for (const double v : values) {
      mean += v;
    }
    mean /= values.size();
    long double ss = 0;
    for (const double v : values) {
      ss += (v - mean) * (v - mean);
    }
    const double variance = static_cast<double>(ss / (values.size() - 1));

    ev::arm_moments shards[3];
    for (std::size_t i = 0; i < values.size(); ++i) {
      shards[i % 7 == 0 ? 0 : (i % 3 == 0 ? 1 : 2)].add(values[i]);
    }
    ev::arm_moments all = shards[0];
    all.merge(shards[1]);
    all.merge(shards[2]);
    all.merge(ev::arm_moments{}); // an empty shard changes nothing
    const ev::arm_summary s = all.result();
    CHECK(s.count == 1000);
    CHECK_CLOSE(s.mean, static_cast<double>(mean), 1e-15);
    // Welford's running mean rounds at 1e9 · 2^-53 per step: about 1e-9 relative here, where
    // Σx² - n·x̄² (Σx² ≈ 1e21, so ±1e5 of rounding against n·s² ≈ 9000) would be meaningless.
    CHECK_CLOSE(s.variance, variance, 1e-8);

    ev::arm_moments twice = all;
    twice.merge(twice);
    CHECK(twice.count() == 2000);
    // Every value twice: the same mean, twice the sum of squares over 1999 degrees of freedom.
    CHECK_CLOSE(twice.result().variance, variance * 2.0 * 999.0 / 1999.0, 1e-8);
  }
  SECTION("fewer than 2 values and non-finite values") {
    ev::arm_moments m;
    CHECK_THROWS_AS(m.result(), ev::undefined_metric);
    m.add(1.0);
    CHECK_THROWS_AS(m.result(), ev::undefined_metric);
    CHECK(field_of_input_error([&] { m.add(std::numeric_limits<double>::infinity()); }) == "value");
    CHECK(m.count() == 1);
  }
}

TEST_CASE("sample size and minimum detectable effect", "[evaluation][experiment][power]") {
  // def ssp(p1, p2, alpha=0.05, power=0.8):
  //     za = stats.norm.ppf(1 - alpha/2); zb = stats.norm.ppf(power); pb = (p1 + p2)/2
  //     return (za*np.sqrt(2*pb*(1 - pb)) + zb*np.sqrt(p1*(1 - p1) + p2*(1 - p2)))**2/(p2 - p1)**2
  // np.ceil(ssp(0.05, 0.06)) = 8158 (8157.73...), np.ceil(ssp(0.10, 0.11, 0.01, 0.9)) = 27964,
  // np.ceil(ssp(0.2, 0.18)) = 6039
  CHECK(ev::sample_size_per_arm_for_proportions(0.05, 0.01) == 8158);
  CHECK(ev::sample_size_per_arm_for_proportions(0.05, 0.2, ev::effect_scale::relative) == 8158);
  CHECK(ev::sample_size_per_arm_for_proportions(0.10, 0.01, ev::effect_scale::absolute,
                                                {0.01, 0.9}) == 27964);
  CHECK(ev::sample_size_per_arm_for_proportions(0.2, -0.02) == 6039);

  // def ssm(sd, d, alpha=0.05, power=0.8):
  //     z = stats.norm.ppf(1 - alpha/2) + stats.norm.ppf(power); return 2*z*z*sd*sd/d/d
  // np.ceil(ssm(10, 1)) = 1570 (1569.78...), np.ceil(ssm(3.5, 0.2, 0.01, 0.95)) = 10912
  CHECK(ev::sample_size_per_arm_for_means(10.0, 1.0) == 1570);
  CHECK(ev::sample_size_per_arm_for_means(3.5, 0.2, {0.01, 0.95}) == 10912);
  CHECK(ev::sample_size_per_arm_for_means(10.0, 100.0) == 2); // at least 2

  // optimize.brentq(lambda d: ssp(0.05, 0.05 + d) - 8000, 1e-9, 0.95 - 1e-12, xtol=1e-15,
  //                 rtol=1e-15) = 0.010102517054625629
  const ev::detectable_effect e = ev::minimum_detectable_effect_for_proportions(0.05, 8000);
  CHECK_CLOSE(e.absolute, 0.010102517054625629, 1e-12);
  CHECK_CLOSE(e.relative, 0.20205034109251258, 1e-12);
  // The inverse: the sample size of the MDE is the n it came from.
  const ev::detectable_effect e2 = ev::minimum_detectable_effect_for_proportions(0.05, 8158);
  CHECK(ev::sample_size_per_arm_for_proportions(0.05, e2.absolute) == 8158);
  CHECK(e2.absolute <= 0.01);
  CHECK_THROWS_AS(ev::minimum_detectable_effect_for_proportions(0.5, 2), ev::undefined_metric);

  // z = stats.norm.ppf(0.975) + stats.norm.ppf(0.8); z*10*np.sqrt(2/1570) = 0.9999286429540278
  CHECK_CLOSE(ev::minimum_detectable_effect_for_means(10.0, 1570), 0.9999286429540278, 1e-12);

  SECTION("design parameters are validated, naming the field") {
    CHECK(field_of_config_error([] { (void)ev::sample_size_per_arm_for_proportions(0.0, 0.01); }) ==
          "baseline_rate");
    CHECK(field_of_config_error([] {
            (void)ev::sample_size_per_arm_for_proportions(0.95, 0.06);
          }) == "minimum_detectable_effect");
    CHECK(field_of_config_error([] { (void)ev::sample_size_per_arm_for_proportions(0.05, 0.0); }) ==
          "minimum_detectable_effect");
    CHECK(field_of_config_error([] {
            (void)ev::sample_size_per_arm_for_proportions(0.05, 0.01, ev::effect_scale::absolute,
                                                          {0.05, 0.3});
          }) == "power.power");
    CHECK(field_of_config_error([] {
            (void)ev::sample_size_per_arm_for_means(10.0, 1.0, {1.5, 0.8});
          }) == "power.alpha");
    CHECK(field_of_config_error([] { (void)ev::sample_size_per_arm_for_means(-1.0, 1.0); }) ==
          "standard_deviation");
    CHECK(field_of_config_error([] { (void)ev::minimum_detectable_effect_for_means(1.0, 1); }) ==
          "per_arm");
    CHECK(field_of_config_error(
              [] { (void)ev::minimum_detectable_effect_for_proportions(0.05, 0); }) == "per_arm");
  }
}

TEST_CASE("sample-ratio mismatch agrees with scipy.stats.chisquare",
          "[evaluation][experiment][srm]") {
  // w = np.array(w, float); e = np.array(o).sum()*w/w.sum(); stats.chisquare(o, e)
  struct row {
    std::vector<std::uint64_t> observed;
    std::vector<double> weights;
    double statistic, p;
    bool mismatch;
  };
  const row rows[] = {
      {{50210, 49790}, {1, 1}, 1.764, 0.1841263727849757, false},
      {{10000, 10500}, {1, 1}, 12.195121951219512, 0.00047914643458730067, true},
      {{2013, 3977, 4010}, {0.2, 0.4, 0.4}, 0.24175, 0.8861447207602534, false},
      {{5000, 5000}, {50, 50}, 0.0, 1.0, false},
  };
  for (const row& w : rows) {
    INFO("observed[0] = " << w.observed[0]);
    const ev::srm_result r = ev::sample_ratio_mismatch(w.observed, w.weights);
    CHECK_CLOSE(r.statistic, w.statistic, 1e-12);
    CHECK_CLOSE(r.p_value, w.p, 1e-10);
    CHECK(r.mismatch == w.mismatch);
    CHECK(r.df == w.observed.size() - 1);
    REQUIRE(r.expected_count.size() == w.observed.size());
  }
  const std::vector<std::uint64_t> counts = {2013, 3977, 4010};
  const std::vector<double> split = {0.2, 0.4, 0.4};
  const ev::srm_result r = ev::sample_ratio_mismatch(counts, split);
  CHECK_CLOSE(r.expected_count[0], 2000.0, 1e-15);
  CHECK_CLOSE(r.expected_count[1], 4000.0, 1e-15);
  // A looser threshold flags the same data.
  CHECK(ev::sample_ratio_mismatch(std::vector<std::uint64_t>{10000, 10300},
                                  std::vector<double>{1, 1}, {0.05})
            .mismatch);

  SECTION("bad input") {
    const std::vector<std::uint64_t> two = {10, 12};
    const std::vector<double> three = {1, 1, 1};
    CHECK_THROWS_AS(ev::sample_ratio_mismatch(two, three), std::invalid_argument);
    const std::vector<std::uint64_t> one = {10};
    const std::vector<double> w1 = {1};
    CHECK_THROWS_AS(ev::sample_ratio_mismatch(one, w1), std::invalid_argument);
    const std::vector<double> negative = {1, -1};
    CHECK(field_of_config_error([&] { (void)ev::sample_ratio_mismatch(two, negative); }) ==
          "design_weights[1]");
    const std::vector<std::uint64_t> none = {0, 0};
    const std::vector<double> even = {1, 1};
    CHECK_THROWS_AS(ev::sample_ratio_mismatch(none, even), ev::undefined_metric);
    CHECK(field_of_config_error([&] { (void)ev::sample_ratio_mismatch(two, even, {0.0}); }) ==
          "srm.threshold");
  }
}

TEST_CASE("experiment results and configs round-trip through JSON",
          "[evaluation][experiment][json]") {
  const auto p = ev::two_proportion_z_test({1210, 24000}, {1342, 24100});
  const nlohmann::json jp = p;
  CHECK(jp.at("test") == "two_proportion_z_test");
  CHECK(jp.at("difference").at("ci_low").get<double>() == p.difference.ci_low);
  CHECK(nlohmann::json::parse(jp.dump()).get<ev::proportion_test_result>() == p);

  const auto no_lift = ev::two_proportion_z_test({0, 500}, {8, 500});
  const nlohmann::json jn = no_lift;
  CHECK(jn.at("relative_lift").is_null());
  CHECK(nlohmann::json::parse(jn.dump()).get<ev::proportion_test_result>() == no_lift);

  const auto m = ev::welch_t_test({5, 3.0, 2.0}, {7, 5.5, 9.0});
  const nlohmann::json jm = m;
  CHECK(jm.at("df").get<double>() == m.df);
  CHECK(nlohmann::json::parse(jm.dump()).get<ev::mean_test_result>() == m);

  const auto s = ev::sample_ratio_mismatch(std::vector<std::uint64_t>{10000, 10500},
                                           std::vector<double>{1, 1});
  CHECK(nlohmann::json::parse(nlohmann::json(s).dump()).get<ev::srm_result>() == s);

  const ev::arm_summary a{12, 1.5, 0.25};
  CHECK(nlohmann::json(a).get<ev::arm_summary>() == a);
  const ev::detectable_effect d{0.01, 0.2};
  CHECK(nlohmann::json(d).get<ev::detectable_effect>() == d);

  CHECK(nlohmann::json(ev::power_config{0.01, 0.9}).get<ev::power_config>() ==
        ev::power_config{0.01, 0.9});
  CHECK(nlohmann::json::object().get<ev::power_config>() == ev::power_config{});
  CHECK(nlohmann::json(ev::ab_test_config{0.1}).get<ev::ab_test_config>().alpha == 0.1);
  CHECK(nlohmann::json(ev::srm_config{0.01}).get<ev::srm_config>().threshold == 0.01);
  CHECK(field_of_config_error([] {
          (void)nlohmann::json{{"alpha", 2.0}}.get<ev::ab_test_config>();
        }) == "ab_test.alpha");
  CHECK(field_of_config_error([] {
          (void)nlohmann::json{{"powr", 0.9}}.get<ev::power_config>();
        }) == "power.powr");
  CHECK(field_of_config_error([] {
          (void)nlohmann::json{{"estimate", 1.0}}.get<ev::interval_estimate>();
        }) == "interval_estimate.ci_low");
}
