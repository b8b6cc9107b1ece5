#include "nas/accuracy/validate.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <limits>
#include <optional>
#include <set>
#include <sstream>

#include "models/common/error.hpp"
#include "models/common/workers.hpp"
#include "models/estimate/metrics.hpp"
#include "models/ir/analysis.hpp"
#include "models/model_source.hpp"
#include "nas/accuracy/score.hpp"

namespace nax::accuracy {
namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kRowsMagic = "# nax proxy validate rows v1 ";

struct Item {
  std::string arch;
  std::string model_arg;
  double accuracy = 0;
  std::map<std::string, double> published;
};

std::vector<Item> sample_items(const ValidateOptions& o) {
  const std::string dir = resolve_data_dir(o.data_dir);
  std::vector<Item> items;
  if (o.set == ValidationSet::kNaslib) {
    const ZcTable t = ZcTable::load(dir);
    const auto& recs = t.dataset("cifar10");
    const size_t n = o.sample == 0 ? recs.size() : std::min(o.sample, recs.size());
    for (size_t i : sample_indices(recs.size(), n, o.seed)) {
      Item it;
      it.arch = recs[i].arch;
      it.model_arg = BenchmarkArch{Benchmark::kNb201, it.arch}.model_arg();
      it.accuracy = recs[i].val_accuracy;
      for (const auto& [nax_name, naslib_name] : naslib_proxy_names()) {
        auto f = recs[i].scores.find(naslib_name);
        if (f != recs[i].scores.end()) it.published[nax_name] = f->second;
      }
      items.push_back(std::move(it));
    }
    return items;
  }
  const Benchmark b = o.set == ValidationSet::kNb201 ? Benchmark::kNb201 : Benchmark::kMacro;
  const BenchmarkOracle oracle(dir);
  const size_t population =
      b == Benchmark::kNb201 ? oracle.nb201().records().size() : oracle.macro().records().size();
  const size_t n = o.sample == 0 ? population : o.sample;
  if (n > population) {
    throw InputError(
        fmt::format("--sample {}: {} has {} networks", n, benchmark_name(b), population));
  }
  for (const OracleResult& r : sample_benchmark(oracle, b, n, o.seed)) {
    Item it;
    it.arch = r.arch.arch;
    it.model_arg = r.arch.model_arg();
    it.accuracy = r.accuracy;
    items.push_back(std::move(it));
  }
  return items;
}

std::vector<std::string> signal_names(const ValidateOptions& o) {
  if (o.train) return {"short_train"};
  if (!o.proxy.proxies.empty()) return o.proxy.proxies;
  return torchnet::proxy_names();
}

// What a row's values depend on (not the sample: rows are reusable across sample sizes and seeds).
std::string fingerprint(const ValidateOptions& o, const std::vector<std::string>& signals) {
  nlohmann::json j;
  j["set"] = validation_set_name(o.set);
  j["signals"] = signals;
  if (o.train) {
    const auto& t = o.training;
    j["train"] = {{"epochs", t.epochs},
                  {"batch", t.batch},
                  {"lr", t.lr},
                  {"weight_decay", t.weight_decay},
                  {"train_images", t.train_images},
                  {"test_images", t.test_images},
                  {"augment", t.augment},
                  {"seed", t.seed}};
  } else {
    j["proxy"] = {{"data", o.proxy.data}, {"batch", o.proxy.batch}, {"seed", o.proxy.seed}};
  }
  return j.dump();
}

ValidationRow evaluate(const Item& it, const ValidateOptions& o,
                       const std::vector<std::string>& signals) {
  const auto t0 = Clock::now();
  const Model m = load_model(it.model_arg);
  const ir::GraphStats st = ir::analyze(m.graph);
  ValidationRow r;
  r.arch = it.arch;
  r.accuracy = it.accuracy;
  r.params = st.params;
  r.flops = 2 * st.macs;
  r.published = it.published;
  if (o.train) {
    r.values["short_train"] = torchnet::short_train(m.graph, o.training).test_accuracy;
  } else {
    torchnet::ProxyOptions po = o.proxy;
    po.proxies = signals;
    for (const auto& s : torchnet::compute_proxies(m.graph, po).scores) r.values[s.name] = s.value;
  }
  r.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  return r;
}

nlohmann::json row_to_json(const ValidationRow& r) {
  return {{"arch", r.arch},      {"accuracy", r.accuracy}, {"params", r.params},
          {"flops", r.flops},    {"values", r.values},     {"published", r.published},
          {"seconds", r.seconds}};
}

ValidationRow row_from_json(const nlohmann::json& j) {
  ValidationRow r;
  r.arch = j.at("arch").get<std::string>();
  r.accuracy = j.at("accuracy").get<double>();
  r.params = j.at("params").get<int64_t>();
  r.flops = j.at("flops").get<int64_t>();
  r.values = j.at("values").get<std::map<std::string, double>>();
  r.published = j.at("published").get<std::map<std::string, double>>();
  r.seconds = j.at("seconds").get<double>();
  return r;
}

// Rows file: the magic line with the fingerprint, then one JSON object per line (a row). A last
// line cut short by a kill is ignored.
std::map<std::string, ValidationRow> read_rows(const std::string& path, const std::string& fp) {
  std::map<std::string, ValidationRow> rows;
  std::ifstream in(path);
  if (!in) return rows;
  std::string line;
  if (!std::getline(in, line)) return rows;
  if (line.rfind(kRowsMagic, 0) != 0) {
    throw InputError(SourceLoc{path, 1, 1},
                     "not a rows file of nax proxy validate (expected a first line starting "
                     "with '" +
                         std::string(kRowsMagic) + "')");
  }
  const std::string have = line.substr(std::string(kRowsMagic).size());
  if (have != fp) {
    throw InputError(SourceLoc{path, 1, 1},
                     "the rows in this file were computed with other options (" + have + "; now " +
                         fp + "): use another --rows file or the same options");
  }
  int lineno = 1;
  while (std::getline(in, line)) {
    ++lineno;
    if (line.empty()) continue;
    nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded()) {
      if (in.peek() == EOF) break;  // the line being written when the run was killed
      throw InputError(SourceLoc{path, lineno, 1}, "expected one JSON object per line");
    }
    try {
      ValidationRow r = row_from_json(j);
      rows[r.arch] = std::move(r);
    } catch (const nlohmann::json::exception& e) {
      throw InputError(SourceLoc{path, lineno, 1}, std::string("malformed row: ") + e.what());
    }
  }
  return rows;
}

class RowsWriter {
 public:
  RowsWriter(const std::string& path, const std::string& fp) : m_path(path) {
    if (path.empty()) return;
    std::ifstream probe(path);
    const bool fresh = !probe || probe.peek() == EOF;
    m_out.open(path, std::ios::app);
    if (!m_out) throw InputError("cannot write the rows file " + path);
    if (fresh) m_out << kRowsMagic << fp << "\n" << std::flush;
  }
  void add(const ValidationRow& r) {
    if (m_path.empty()) return;
    m_out << row_to_json(r).dump() << "\n" << std::flush;
  }

 private:
  std::string m_path;
  std::ofstream m_out;
};

}  // namespace

const char* validation_set_name(ValidationSet s) {
  switch (s) {
    case ValidationSet::kNb201:
      return "nb201";
    case ValidationSet::kMacro:
      return "nas-bench-macro";
    case ValidationSet::kNaslib:
      return "naslib";
  }
  return "?";
}

ValidationSet parse_validation_set(const std::string& s) {
  const std::vector<std::string> names = {"nb201", "nas-bench-macro", "naslib"};
  for (size_t i = 0; i < names.size(); ++i) {
    if (s == names[i]) return static_cast<ValidationSet>(i);
  }
  std::string msg = "unknown benchmark '" + s + "': expected nb201, nas-bench-macro or naslib";
  const std::string dym = did_you_mean(s, names);
  if (!dym.empty()) msg += " (did you mean '" + dym + "'?)";
  throw InputError(msg);
}

const std::map<std::string, std::string>& naslib_proxy_names() {
  static const std::map<std::string, std::string> m = {
      {"synflow", "synflow"}, {"jacob_cov", "jacov"}, {"snip", "snip"}, {"grad_norm", "grad_norm"}};
  return m;
}

ValidationRun run_validation(const ValidateOptions& o, const ValidateHooks& hooks) {
  const auto t0 = Clock::now();
  ValidationRun run;
  run.options = o;
  run.signals = signal_names(o);
  const std::vector<Item> items = sample_items(o);
  const std::string fp = fingerprint(o, run.signals);
  std::map<std::string, ValidationRow> have;
  if (!o.rows_path.empty()) have = read_rows(o.rows_path, fp);
  RowsWriter writer(o.rows_path, fp);

  std::vector<std::optional<ValidationRow>> rows(items.size());
  std::vector<size_t> todo;
  for (size_t i = 0; i < items.size(); ++i) {
    auto f = have.find(items[i].arch);
    if (f != have.end()) {
      rows[i] = f->second;
      rows[i]->accuracy = items[i].accuracy;
      rows[i]->published = items[i].published;
      ++run.reused;
    } else {
      todo.push_back(i);
    }
  }
  size_t done = run.reused, session = 0;
  auto seconds = [&] { return std::chrono::duration<double>(Clock::now() - t0).count(); };
  auto report = [&] {
    if (hooks.progress) hooks.progress(done, items.size(), session, seconds());
  };
  auto stop = [&] { return hooks.stop_requested && hooks.stop_requested(); };
  auto accept = [&](size_t i, ValidationRow r) {
    writer.add(r);
    rows[i] = std::move(r);
    ++done;
    ++session;
    report();
  };
  report();
  const int jobs = std::max(1, std::min<int>(o.jobs, static_cast<int>(todo.size())));
  if (jobs <= 1) {
    for (size_t i : todo) {
      if (stop()) break;
      accept(i, evaluate(items[i], o, run.signals));
    }
  } else {
    ForkPool pool(jobs, [&](int w, const ForkPool::Send& send) {
      for (size_t k = static_cast<size_t>(w); k < todo.size(); k += static_cast<size_t>(jobs)) {
        nlohmann::json j = row_to_json(evaluate(items[todo[k]], o, run.signals));
        j["item"] = todo[k];
        if (!send(j)) break;
      }
    });
    while (done < items.size() && !stop()) {
      for (const auto& [w, m] : pool.poll(250)) {
        if (m.contains("error")) {
          throw Error(
              fmt::format("validation worker {} failed: {}", w, m.at("error").get<std::string>()));
        }
        accept(m.at("item").get<size_t>(), row_from_json(m));
      }
      if (!pool.any_open() && done < items.size()) {
        throw Error(
            "validation workers exited before scoring every network; finished rows are "
            "kept in the rows file");
      }
    }
  }
  for (auto& r : rows) {
    if (r) run.rows.push_back(std::move(*r));
  }
  run.interrupted = run.rows.size() < items.size();
  run.seconds = seconds();
  return run;
}

std::vector<Correlation> correlate(const ValidationRun& run,
                                   const std::vector<std::vector<std::string>>& ensembles_in) {
  std::vector<double> acc;
  for (const auto& r : run.rows) acc.push_back(r.accuracy);
  std::vector<Correlation> out;
  auto add = [&](const std::string& name, const std::string& kind, const std::vector<double>& x,
                 const std::vector<double>& truth) {
    // Networks a signal could not score (non-finite) are left out of its correlation; n says
    // how many remain.
    std::vector<double> xs, ts;
    for (size_t i = 0; i < x.size(); ++i) {
      if (!std::isfinite(x[i])) continue;
      xs.push_back(x[i]);
      ts.push_back(truth[i]);
    }
    Correlation c;
    c.name = name;
    c.kind = kind;
    c.n = xs.size();
    c.spearman = est::spearman_rho(ts, xs);
    c.kendall = est::kendall_tau(ts, xs);
    out.push_back(c);
  };
  auto column = [&](const std::string& s) {
    std::vector<double> v;
    for (const auto& r : run.rows) {
      auto f = r.values.find(s);
      v.push_back(f == r.values.end() ? std::nan("") : f->second);
    }
    return v;
  };
  for (const auto& s : run.signals) add(s, "proxy", column(s), acc);
  {
    std::vector<double> score;
    for (const auto& r : run.rows)
      score.push_back(trainability_score(r.values).value_or(std::nan("")));
    if (!score.empty() && std::isfinite(score.front()) &&
        trainability_score(run.rows.front().values))
      add("score (" + score_name() + ")", "score", score, acc);
  }
  std::vector<double> params, flops;
  for (const auto& r : run.rows) {
    params.push_back(static_cast<double>(r.params));
    flops.push_back(static_cast<double>(r.flops));
  }
  add("#params", "baseline", params, acc);
  add("FLOPs", "baseline", flops, acc);

  std::vector<std::vector<std::string>> ensembles = ensembles_in;
  if (ensembles.empty() && run.signals.size() > 1) {
    const std::set<std::string> have(run.signals.begin(), run.signals.end());
    if (have.count("synflow") && have.count("jacob_cov") && have.count("snip"))
      ensembles.push_back({"synflow", "jacob_cov", "snip"});
    const auto& s = run.signals;
    for (size_t a = 0; a < s.size(); ++a)
      for (size_t b = a + 1; b < s.size(); ++b) {
        ensembles.push_back({s[a], s[b]});
        for (size_t c = b + 1; c < s.size(); ++c) ensembles.push_back({s[a], s[b], s[c]});
      }
  }
  for (const auto& members : ensembles) {
    std::vector<double> sum(run.rows.size(), 0.0);
    for (const auto& m : members) {
      std::vector<double> col = column(m);
      for (double& v : col) {
        if (!std::isfinite(v)) v = -std::numeric_limits<double>::infinity();  // ranks lowest
      }
      const std::vector<double> rk = est::average_ranks(col);
      for (size_t i = 0; i < sum.size(); ++i) sum[i] += rk[i];
    }
    std::string name;
    for (const auto& m : members) name += (name.empty() ? "" : "+") + m;
    add(name, "ensemble", sum, acc);
  }
  if (run.options.set == ValidationSet::kNaslib) {
    for (const auto& [nax_name, naslib_name] : naslib_proxy_names()) {
      std::vector<double> mine, theirs;
      for (const auto& r : run.rows) {
        auto a = r.values.find(nax_name);
        auto b = r.published.find(nax_name);
        if (a == r.values.end() || b == r.published.end()) continue;
        mine.push_back(a->second);
        theirs.push_back(b->second);
      }
      if (!mine.empty())
        add(nax_name + " vs NASLib " + naslib_name, "implementation", mine, theirs);
    }
  }
  return out;
}

}  // namespace nax::accuracy
