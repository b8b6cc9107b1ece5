// The MPI side of `nax sweep --mpi` (sweep_mpi.hpp). Messages are JSON text (MPI_CHAR), one
// per MPI message, told apart by tag:
//   worker -> 0   kHello   {"fingerprint": F} or {"error": text, "input_error": bool}
//   0 -> worker   kTask    {"point": p, "model": m}
//   worker -> 0   kResult  {"point": p, "model": m, "result": to_json(PairResult)}
//   worker -> 0   kFailed  {"point": p, "model": m, "error": text}    (a simulator failure)
//   0 -> worker   kStop    {}
//   worker -> 0   kBye     {}                                         (the answer to kStop)
// Every rank polls (MPI_Iprobe, then a millisecond's sleep when nothing came) rather than blocking
// in MPI_Recv, which in OpenMPI spins a core: rank 0 is idle between messages.
#include "tools/nax/sweep_mpi.hpp"

#include <fmt/format.h>

// The C API only: mpi.h would otherwise declare the deprecated C++ bindings (libmpi_cxx).
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <thread>
#include <vector>

#include "hw/sweep/points.hpp"
#include "hw/sweep/sweep_config.hpp"
#include "models/common/error.hpp"

namespace nax::cli {
namespace {

namespace sw = hw::sweep;

enum Tag : int { kHello = 1, kTask = 2, kResult = 3, kFailed = 4, kStop = 5, kBye = 6 };

// Pairs sent to a worker and not answered yet: one being simulated, one waiting, so the worker
// goes on while rank 0 is between polls.
constexpr int kInFlight = 2;

struct Message {
  int source = 0;
  int tag = 0;
  std::string body;
};

// An environment variable that one of the usual MPI launchers sets in every rank it starts
// (OpenMPI's mpirun, MPICH/Intel's Hydra, PMIx and Slurm's PMI).
bool started_by_launcher() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"}) {
    const char* s = std::getenv(v);
    if (s != nullptr && *s != '\0') return true;
  }
  return false;
}

void send(int to, Tag tag, const nlohmann::json& body) {
  const std::string text = body.dump();
  MPI_Send(text.data(), static_cast<int>(text.size()), MPI_CHAR, to, tag, MPI_COMM_WORLD);
}

std::optional<Message> try_recv() {
  int flag = 0;
  MPI_Status st;
  MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &st);
  if (flag == 0) return std::nullopt;
  int count = 0;
  MPI_Get_count(&st, MPI_CHAR, &count);
  Message m;
  m.source = st.MPI_SOURCE;
  m.tag = st.MPI_TAG;
  m.body.resize(static_cast<size_t>(count));
  MPI_Recv(m.body.data(), count, MPI_CHAR, st.MPI_SOURCE, st.MPI_TAG, MPI_COMM_WORLD,
           MPI_STATUS_IGNORE);
  return m;
}

void idle() {
  std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

nlohmann::json parse(const Message& m) {
  try {
    return m.body.empty() ? nlohmann::json::object() : nlohmann::json::parse(m.body);
  } catch (const nlohmann::json::exception& e) {
    throw Error(fmt::format("sweep --mpi: unreadable message (tag {}) from rank {}: {}", m.tag,
                            m.source, e.what()));
  }
}

[[noreturn]] void unexpected(const Message& m, const char* when) {
  throw Error(fmt::format("sweep --mpi: unexpected message (tag {}) from rank {} {}", m.tag,
                          m.source, when));
}

// Waits for every worker's greeting and checks it sees the sweep rank 0 sees. False when `stop`
// came first.
bool greet_workers(int size, const std::string& fingerprint, const std::function<bool()>& stop) {
  std::vector<char> greeted(static_cast<size_t>(size), 0);
  int left = size - 1;
  while (left > 0) {
    if (stop()) return false;
    const auto m = try_recv();
    if (!m) {
      idle();
      continue;
    }
    if (m->tag != kHello || greeted[static_cast<size_t>(m->source)])
      unexpected(*m, "before the work began");
    greeted[static_cast<size_t>(m->source)] = 1;
    --left;
    const nlohmann::json j = parse(*m);
    if (j.contains("error")) {
      const std::string what = fmt::format("rank {} cannot load the sweep: {}", m->source,
                                           j.at("error").get<std::string>());
      if (j.value("input_error", false)) throw InputError(what);
      throw Error(what);
    }
    const std::string theirs = j.at("fingerprint").get<std::string>();
    if (theirs != fingerprint)
      throw InputError(fmt::format(
          "rank {} sees another sweep than rank 0 (fingerprint {}, rank 0 {}): every rank must "
          "read the same description and model files",
          m->source, theirs, fingerprint));
  }
  return true;
}

}  // namespace

int mpi_launcher_ranks() {
  if (!started_by_launcher()) return 0;
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"}) {
    const char* s = std::getenv(v);
    if (s != nullptr && *s != '\0') return std::max(1, std::atoi(s));
  }
  return 1;  // PMIx without a size in the environment: unknown, at least this rank
}

MpiSweep::MpiSweep(bool quiet) {
  if (!started_by_launcher()) {
    if (!quiet)
      std::cerr << "nax: --mpi: not started by an MPI launcher (mpirun); running as one process\n";
    return;
  }
  int initialised = 0;
  MPI_Initialized(&initialised);
  if (initialised == 0) MPI_Init(nullptr, nullptr);
  m_launched = true;
  MPI_Comm_rank(MPI_COMM_WORLD, &m_rank);
  MPI_Comm_size(MPI_COMM_WORLD, &m_size);
}

void MpiSweep::serve(const std::string& config_path) {
  // Rank 0 decides when to stop. mpirun answers Ctrl-C with SIGTERM to every rank, then SIGKILL a
  // second later; a worker that died at once would make it end the job (rank 0 too) before rank 0
  // had printed its message.
  std::signal(SIGINT, SIG_IGN);
  std::signal(SIGTERM, SIG_IGN);
  std::optional<sw::SweepConfig> config;
  sw::Expansion expansion;
  std::vector<sw::SweepModel> models;
  nlohmann::json hello;
  try {
    config = sw::load_sweep_config(config_path);
    expansion = sw::expand_points(*config);
    models = sw::load_sweep_models(*config);
    hello["fingerprint"] = sw::sweep_fingerprint(config->hash, expansion, models);
  } catch (const InputError& e) {
    std::string text;
    for (const auto& d : e.diagnostics()) text += (text.empty() ? "" : "\n  ") + d.str();
    hello["error"] = text.empty() ? std::string(e.what()) : text;
    hello["input_error"] = true;
    config.reset();
  } catch (const std::exception& e) {
    hello["error"] = e.what();
    hello["input_error"] = false;
    config.reset();
  }
  send(0, kHello, hello);
  for (;;) {
    const auto m = try_recv();
    if (!m) {
      idle();
      continue;
    }
    if (m->tag == kStop) {
      send(0, kBye, nlohmann::json::object());
      return;
    }
    if (m->tag != kTask) continue;  // nothing else is sent to workers
    nlohmann::json reply = {{"point", -1}, {"model", -1}};
    try {
      const nlohmann::json task = parse(*m);
      const size_t p = task.at("point").get<size_t>(), k = task.at("model").get<size_t>();
      reply = {{"point", p}, {"model", k}};
      if (!config || p >= expansion.points.size() || !expansion.points[p].feasible ||
          k >= models.size())
        throw Error("no such pair in this rank's sweep");
      reply["result"] = sw::to_json(sw::simulate_pair(*expansion.points[p].chip, models[k].graph));
      send(0, kResult, reply);
    } catch (const std::exception& e) {
      reply["error"] = e.what();
      send(0, kFailed, reply);
    }
  }
}

sw::EvaluateFn MpiSweep::evaluator() {
  const int size = m_size;
  return [size](const sw::SweepRun& run, const std::vector<sw::PairTask>& todo,
                const sw::RecordFn& record, const std::function<bool()>& stop) {
    if (todo.empty()) return;
    if (!greet_workers(size, sw::sweep_fingerprint(run.sweep_hash, run.expansion, run.models),
                       stop))
      return;
    std::vector<int> in_flight(static_cast<size_t>(size), 0);
    size_t next = 0, received = 0;
    while (received < todo.size()) {
      if (stop()) return;
      for (int w = 1; w < size; ++w) {
        for (int& n = in_flight[static_cast<size_t>(w)]; n < kInFlight && next < todo.size();
             ++n, ++next)
          send(w, kTask, {{"point", todo[next].point}, {"model", todo[next].model}});
      }
      const auto m = try_recv();
      if (!m) {
        idle();
        continue;
      }
      const nlohmann::json j = parse(*m);
      if (m->tag == kFailed)
        throw Error(fmt::format("sweep --mpi: rank {} failed on point {} model {}: {}", m->source,
                                j.value("point", -1), j.value("model", -1),
                                j.value("error", std::string("?"))));
      if (m->tag != kResult || in_flight[static_cast<size_t>(m->source)] == 0)
        unexpected(*m, "while the work was handed out");
      --in_flight[static_cast<size_t>(m->source)];
      record(j.at("point").get<size_t>(), j.at("model").get<size_t>(),
             sw::pair_from_json(j.at("result")));
      ++received;
    }
  };
}

void MpiSweep::finish() {
  if (!m_launched || m_finished) return;
  m_finished = true;
  std::vector<char> gone(static_cast<size_t>(m_size), 0);
  int left = m_rank == 0 ? m_size - 1 : 0;
  for (int w = 1; w <= left; ++w) send(w, kStop, nlohmann::json::object());
  while (left > 0) {
    const auto m = try_recv();
    if (!m) {
      idle();
      continue;
    }
    if (m->tag == kBye && !gone[static_cast<size_t>(m->source)]) {
      gone[static_cast<size_t>(m->source)] = 1;
      --left;
    }
  }
  int finalised = 0;
  MPI_Finalized(&finalised);
  if (finalised == 0) MPI_Finalize();
}

}  // namespace nax::cli
