// External accuracy evaluator (`--accuracy-cmd 'CMD {model}'`): any program that trains or
// evaluates a network (a PyTorch script, a cluster job wrapper, a lookup in someone else's table)
// becomes nax's accuracy oracle.
//
// For each candidate, evaluate():
// 1. makes a fresh directory `<work_dir>/<tag->name-hash>` (name: the model name with characters
//    other than [A-Za-z0-9._-] replaced by '_'; hash: its graph hash; an existing directory of
//    that name is emptied first, so the name is deterministic and the files are never stale);
// 2. writes the candidate there as `model.onnx` (onnx_export.hpp: opset 13, seeded random
//    weights, or shape-only) and, when it has a block-level description (zoo and YAML models), as
//    `model.yaml` (spec::write_model_yaml);
// 3. substitutes the placeholders of the command template, each value single-quoted for the
//    shell:  {model} and {onnx}: the ONNX path; {yaml}: the YAML path; {dir}: the directory;
//    {name}: the model name. `{word}` with any other lowercase word is an error (a typo); other
//    braces are left alone. The same values are in the environment as NAX_ONNX, NAX_YAML,
//    NAX_DIR, NAX_NAME;
// 4. runs `/bin/sh -c <command>` in its own process group, in nax's working directory, with a
//    timeout (the whole group is killed when it expires; when the shell ends, whatever it left
//    running in its group is killed too), capturing stdout and stderr (also
//    saved as stdout.txt and stderr.txt in the directory; at most the last 1 MiB of each is kept);
// 5. parses the accuracy from stdout (parse_accuracy_output).
//
// Output contract (parse_accuracy_output):
// - the last line of stdout matching `accuracy[ :=]+<number>` (case-insensitive, anywhere in the
//   line, so `val_accuracy: 0.93` and `Top-1 Accuracy = 71.2%` match) gives the number (the first
//   such match on that line);
// - else the last number on the last non-empty line of stdout;
// - a number followed by '%' is a percentage; otherwise one in [0, 1] is a fraction and one in
//   (1, 100] a percentage. The result is in percent, in [0, 100]; anything else is an error.
// Failures are nax::Error with the command, the reason and the last lines of the output: a
// non-zero exit status (with stderr's tail), death by a signal, the timeout, no number found
// (with stdout's tail), a number out of range.
#pragma once

#include <string>

#include "models/model_source.hpp"
#include "models/onnx/onnx_export.hpp"

namespace nax::accuracy {

struct ExternalOptions {
  std::string command;       // template, e.g. "python3 eval.py {model} --epochs 5"
  std::string work_dir;      // parent of the candidates' directories (created if missing)
  double timeout_s = 3600;   // per evaluation; 0 = none
  onnx::ExportOptions onnx;  // seed, shape_only, fold_bn of the ONNX file
  size_t tail_lines = 10;    // lines of output shown in error messages
};

struct ExternalResult {
  double accuracy = 0;                    // percent, [0, 100]
  std::string matched;                    // the stdout line the accuracy came from
  std::string dir, onnx_path, yaml_path;  // yaml_path empty when the model has no spec
  std::string command;                    // after substitution
  std::string out, err;                   // captured stdout and stderr
  int exit_status = 0;
  double seconds = 0;  // wall time of the command
};

class ExternalEvaluator {
 public:
  // Checks the template (InputError for an unknown placeholder, with a did-you-mean, or an empty
  // command or work directory).
  explicit ExternalEvaluator(ExternalOptions opts);

  const ExternalOptions& options() const { return m_opts; }
  // Evaluates one model; `tag` (optional) prefixes its directory name, e.g. a candidate index.
  ExternalResult evaluate(const Model& m, const std::string& tag = "") const;

 private:
  ExternalOptions m_opts;
  bool m_uses_yaml = false;
};

// The accuracy (percent) in a command's stdout under the contract above; `matched` gets the line
// it came from. Throws Error (showing the last `tail_lines` lines) when there is none or it is out
// of range.
double parse_accuracy_output(const std::string& out, std::string* matched = nullptr,
                             size_t tail_lines = 10);

}  // namespace nax::accuracy
