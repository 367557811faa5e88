// The progress bar (include/mlsd/model/progress.hpp): the rendered line, the number formats, and
// when it draws (a string stream is never a terminal, so nothing depends on timing here).
#include <mlsd/model/progress.hpp>
#include <mlsd/model/trainer.hpp>

#include <catch2/catch.hpp>

#include <sstream>
#include <string>

using mlsd::model::progress_bar;
using mlsd::model::progress_display;
using mlsd::model::progress_report;

namespace {

progress_report report(std::size_t epoch, std::size_t done, double seconds,
                       bool epoch_done = false) {
  progress_report r;
  r.epoch = epoch;
  r.epochs = 10;
  r.examples_done = done;
  r.examples_total = 32'561;
  r.train_loss = 0.34567;
  r.seconds = seconds;
  r.epoch_done = epoch_done;
  if (epoch_done) {
    r.valid_loss = 0.3321;
  }
  return r;
}

} // namespace

TEST_CASE("progress_bar renders epoch, bar, counts, rate, ETA and losses", "[model][progress]") {
  // Epoch 2 (index 1), 8,140 of 32,561 done: 40,701 processed in 0.5 s = 81,402 ex/s; 325,610 in
  // all, 284,909 left: 3.5 s -> rounded up to 0:00:04. 8140 / 32561 = 24.99 %: 4 of 20 '#'.
  CHECK(progress_bar::render(report(1, 8'140, 0.5)) ==
        "epoch 2/10 [####----------------]  24% 8,140/32,561 ex | 81.40k ex/s | ETA 0:00:04 | "
        "train 0.3457");
  CHECK(progress_bar::render(report(9, 32'561, 40.0, true), 10) ==
        "epoch 10/10 [##########] 100% 32,561/32,561 ex | 8.14k ex/s | ETA 0:00:00 | "
        "train 0.3457 | valid 0.3321");
  CHECK(progress_bar::render(report(0, 0, 0.0), 4) ==
        "epoch 1/10 [----]   0% 0/32,561 ex | 0 ex/s | ETA --:--:-- | train 0.3457");
  progress_report with_metric = report(9, 32'561, 40.0, true);
  with_metric.valid_metric = 0.78121;
  with_metric.valid_metric_name = "roc_auc";
  CHECK(progress_bar::render(with_metric, 10) ==
        "epoch 10/10 [##########] 100% 32,561/32,561 ex | 8.14k ex/s | ETA 0:00:00 | "
        "train 0.3457 | valid 0.3321 | valid roc_auc 0.7812");

  CHECK(progress_bar::format_rate(812.4) == "812");
  CHECK(progress_bar::format_rate(2'500.0) == "2.50k");
  CHECK(progress_bar::format_rate(1'254'000.0) == "1.25M");
  CHECK(progress_bar::format_rate(3.0e9) == "3.00G");
  CHECK(progress_bar::format_duration(0.0) == "0:00:00");
  CHECK(progress_bar::format_duration(59.2) == "0:01:00");
  CHECK(progress_bar::format_duration(3 * 3600 + 25 * 60 + 7) == "3:25:07");
  CHECK(progress_bar::format_duration(100 * 3600) == "100:00:00");
}

TEST_CASE("progress_bar draws with carriage returns only when enabled", "[model][progress]") {
  std::ostringstream quiet;
  {
    progress_bar bar(quiet); // automatic: a string stream is not a terminal
    CHECK_FALSE(bar.enabled());
    bar.draw(report(0, 100, 1.0));
  }
  CHECK(quiet.str().empty());

  std::ostringstream never;
  progress_bar off(never, {.display = progress_display::never});
  off.draw(report(0, 100, 1.0, true));
  CHECK(never.str().empty());

  std::ostringstream out;
  {
    progress_bar bar(out, {.display = progress_display::always, .bar_width = 4});
    CHECK(bar.enabled());
    const auto cb = bar.callback();
    CHECK(cb(report(0, 20'000, 1.0)));
    CHECK(cb(report(0, 100, 1.0))); // a shorter line erases the end of the longer one
    CHECK(cb(report(0, 32'561, 2.0, true)));
    CHECK(cb(report(1, 100, 3.0))); // left open: the destructor ends the line
  }
  const std::string first = progress_bar::render(report(0, 20'000, 1.0), 4);
  const std::string second = progress_bar::render(report(0, 100, 1.0), 4);
  const std::string third = progress_bar::render(report(0, 32'561, 2.0, true), 4);
  const std::string fourth = progress_bar::render(report(1, 100, 3.0), 4);
  REQUIRE(second.size() < first.size());
  const std::string expected = "\r" + first + "\r" + second +
                               std::string(first.size() - second.size(), ' ') + "\r" + third +
                               "\n\r" + fourth + "\n";
  CHECK(out.str() == expected);

  CHECK_THROWS_AS(progress_bar(out, {.min_interval_seconds = -1.0}), mlsd::config_error);
  CHECK_THROWS_AS(progress_bar(out, {.bar_width = 201}), mlsd::config_error);
}

TEST_CASE("progress_bar as the trainer's callback", "[model][progress][trainer]") {
  // A model-free check of the wiring: every report of a real run becomes one drawn line.
  struct tiny : mlsd::scorer_tag, mlsd::trainable_tag {
    using input_type = mlsd::sparse_row_view;
    using output_type = float;
    using label_type = float;
    std::vector<float> w = std::vector<float>(1, 0.0f);
    [[nodiscard]] mlsd::model::loss_function loss() const {
      return mlsd::model::loss_function::logistic;
    }
    [[nodiscard]] float margin(mlsd::sparse_row_view) const { return w[0]; }
    float learn(mlsd::sparse_row_view x, float label, float) {
      const float z = margin(x);
      w[0] -= 0.1f * mlsd::model::loss_gradient(loss(), z, label);
      return mlsd::model::loss_value(loss(), z, label);
    }
    float operator()(mlsd::sparse_row_view x) const { return margin(x); }
    float update(mlsd::sparse_row_view x, float label) { return learn(x, label, 1.0f); }
    std::span<float> parameters() { return w; }
  };
  static_assert(mlsd::model::sgd_model<tiny>);
  mlsd::sparse_batch data;
  for (int i = 0; i < 10; ++i) {
    data.start_row(1.0f);
    data.finish_row();
  }
  tiny m;
  std::ostringstream out;
  progress_bar bar(out, {.display = progress_display::always});
  mlsd::model::train_options o;
  o.epochs = 2;
  o.batch_size = 5;
  mlsd::model::train(m, data, &data, o, bar.callback());
  const std::string s = out.str();
  CHECK(std::count(s.begin(), s.end(), '\r') == 6); // 2 batches + the end, twice
  CHECK(std::count(s.begin(), s.end(), '\n') == 2);
  CHECK(s.find("epoch 2/2 [####################] 100% 10/10 ex") != std::string::npos);
  CHECK(s.find("| valid ") != std::string::npos);
}
