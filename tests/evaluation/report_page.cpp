// Writes a sample evaluation report of a synthetic click model, for the render test
// (tests/evaluation/render_report.sh) and for the figures of docs/evaluation-reports.md:
//
//   report_page OUT_DIR
//
// writes OUT_DIR/report.html, OUT_DIR/report.json and one SVG per figure (report_roc.svg,
// report_pr.svg, report_gain.svg, report_lift.svg, report_reliability.svg). The data comes from
// a fixed-seed std::mt19937 whose raw 32-bit outputs are turned into numbers here (not through
// the standard distributions, whose algorithms differ between standard libraries), so the files
// are the same on every platform. Exit status 0 on success, 1 when a file cannot be written, 2
// for a usage error.
#include <mlsd/evaluation/report.hpp>

#include <cmath>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <string>
#include <vector>

namespace ev = mlsd::evaluation;

namespace {

// A uniform number in (0, 1) from one raw output of the generator.
double uniform(std::mt19937& rng) {
  return (static_cast<double>(rng()) + 0.5) / 4294967296.0;
}

double logit(double p) {
  return std::log(p / (1.0 - p));
}
double sigmoid(double z) {
  return 1.0 / (1.0 + std::exp(-z));
}

void write_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) {
    throw std::runtime_error("cannot write " + path.string());
  }
}

} // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: report_page OUT_DIR\n";
    return 2;
  }
  try {
    const std::filesystem::path dir = argv[1];
    std::filesystem::create_directories(dir);
    // 3000 impressions on three devices: the true click probability depends on the device and a
    // hidden quality; the model sees the quality with noise and is over-confident (its logit is
    // 1.4 times too large), so the reliability diagram bends away from the diagonal. Six
    // impressions on "smart tv" have no click: ROC-AUC is undefined there, and the table says so.
    std::mt19937 rng(20240508u);
    const std::vector<std::string> devices = {"desktop", "mobile", "tablet"};
    const std::vector<double> device_logit = {-1.2, -1.8, -1.5};
    std::vector<float> scores;
    std::vector<float> labels;
    std::vector<std::string> slices;
    for (int i = 0; i < 3000; ++i) {
      const std::size_t d = rng() % devices.size();
      const double quality = 2.0 * uniform(rng) - 1.0;
      const double p_true = sigmoid(device_logit[d] + 2.0 * quality);
      const double seen = quality + 0.6 * (uniform(rng) - 0.5);
      const double p_model = sigmoid(1.4 * (device_logit[d] + 2.0 * seen) + 0.3);
      scores.push_back(static_cast<float>(p_model));
      labels.push_back(uniform(rng) < p_true ? 1.0f : 0.0f);
      slices.push_back(devices[d]);
    }
    for (int i = 0; i < 6; ++i) {
      scores.push_back(static_cast<float>(sigmoid(logit(0.05) + 0.1 * i)));
      labels.push_back(0.0f);
      slices.push_back("smart tv");
    }
    ev::binary_report_config cfg;
    cfg.title = "Click model: offline evaluation (synthetic sample)";
    cfg.model_name = "click model";
    cfg.slice_name = "device";
    ev::evaluation_report report = ev::binary_classifier_report(scores, labels, slices, cfg);
    report.add_text("About this page",
                    "A sample written by tests/evaluation/report_page.cpp: 3006 impressions of "
                    "a synthetic click model that is over-confident (its logits are 1.4 times too "
                    "large).\n\nText is escaped: <b>not bold</b> & \"quoted\".");
    report.write_html(dir / "report.html");
    report.write_json(dir / "report.json");
    const std::vector<std::pair<std::string, std::string>> figures = {
        {"ROC curve", "report_roc.svg"},
        {"Precision-recall curve", "report_pr.svg"},
        {"Cumulative gain", "report_gain.svg"},
        {"Lift", "report_lift.svg"},
        {"Reliability diagram", "report_reliability.svg"}};
    for (const auto& [title, file] : figures) {
      for (const ev::report_section& s : report.sections()) {
        if (s.title == title) {
          write_file(dir / file, std::get<ev::report_figure>(s.content).svg);
        }
      }
    }
    std::cout << "wrote " << (dir / "report.html").string() << '\n';
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "report_page: " << e.what() << '\n';
    return 1;
  }
}
