// mlsd: train, apply and evaluate mlsd models from the command line, in the conventions of
// LIBLINEAR, libFM and xLearn. docs/cli.md documents every flag; this file only wires the
// subcommands to their headers and turns every error into a message and an exit code
// (0 success, 1 runtime error, 2 usage error): nothing escapes main.
#include "cli_common.hpp"
#include "commands.hpp"
#include "models.hpp"
#include "settings.hpp"

#include <mlsd/core/error.hpp>
#include <mlsd/core/version.hpp>
#include <mlsd/model/model_file.hpp>

#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>
#include <iostream>
#include <new>
#include <string>

namespace {

int run(int argc, char** argv) {
  using namespace mlsd_cli;
  CLI::App app("mlsd: train, apply and evaluate mlsd models on LIBSVM, libffm and CSV files",
               "mlsd");
  app.require_subcommand(1);
  app.footer("Run 'mlsd <command> --help' for a command's flags. Exit codes: 0 success, 1 bad "
             "data or model file, 2 bad usage.");
  app.add_flag_callback(
      "--version",
      [] {
        std::string text = "mlsd ";
        text += mlsd::version_string;
        text += " (model file version ";
        text += std::to_string(mlsd::model::model_file_version);
        text += ")";
        throw CLI::CallForVersion(text, 0);
      },
      "Print the version and exit");

  train_settings train;
  apply_settings predict;
  apply_settings eval;
  CLI::App* train_cmd = add_train_command(app, train, available_models(), model_help());
  CLI::App* predict_cmd = add_predict_command(app, predict);
  CLI::App* eval_cmd = add_eval_command(app, eval);
  metrics_settings metrics;
  CLI::App* metrics_cmd = add_metrics_command(app, metrics);
  std::string topic;
  CLI::App* help_cmd = app.add_subcommand("help", "Show this help, or a command's");
  help_cmd->add_option("command", topic, "train, predict, eval or metrics");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForVersion& e) {
    std::cout << e.what() << '\n';
    return success;
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? success : usage_failure;
  }
  if (help_cmd->parsed()) {
    if (topic.empty()) { // app.help() would describe the selected subcommand, `help` itself
      std::cout << app.get_formatter()->make_help(&app, "mlsd", CLI::AppFormatMode::Normal);
      return success;
    }
    for (CLI::App* cmd : {train_cmd, predict_cmd, eval_cmd, metrics_cmd}) {
      if (cmd->get_name() == topic) {
        std::cout << app.get_formatter()->make_help(cmd, "mlsd " + topic,
                                                    CLI::AppFormatMode::Normal);
        return success;
      }
    }
    std::cerr << "mlsd: no command '" << topic << "' (train, predict, eval, metrics)\n";
    return usage_failure;
  }
  if (train_cmd->parsed()) {
    train.epochs_given = train_cmd->count("--epochs") > 0;
    train.batch_size_given = train_cmd->count("--batch-size") > 0;
    train.threads_given = train_cmd->count("--threads") > 0;
    return run_train(train);
  }
  if (predict_cmd->parsed()) {
    return run_predict(predict);
  }
  if (metrics_cmd->parsed()) {
    return run_metrics(metrics);
  }
  return run_eval(eval);
}

int report(const char* kind, const char* what, int code) {
  std::fprintf(stderr, "mlsd: %s%s\n", kind, what);
  if (code == mlsd_cli::usage_failure) {
    std::fputs("Run with --help for more information.\n", stderr);
  }
  return code;
}

} // namespace

int main(int argc, char** argv) {
  using namespace mlsd_cli;
  try {
    return run(argc, argv);
  } catch (const usage_error& e) {
    return report("", e.what(), usage_failure);
  } catch (const mlsd::config_error& e) {
    return report("", e.what(), usage_failure);
  } catch (const mlsd::input_error& e) {
    return report("error: ", e.what(), runtime_failure);
  } catch (const mlsd::model::model_file_error& e) {
    return report("error: ", e.what(), runtime_failure);
  } catch (const std::bad_alloc&) {
    return report("error: ", "out of memory", runtime_failure);
  } catch (const std::exception& e) {
    return report("error: ", e.what(), runtime_failure);
  } catch (...) {
    return report("error: ", "unknown exception", runtime_failure);
  }
}
