// `nax sweep --mpi`: one sweep spread over the ranks of an MPI job
// (`mpirun -np N nax sweep --config F --mpi --db D ...`).
//
// Rank 0 is the coordinator. It alone opens the store (--db and --out are on its file system; the
// ranks of a cluster do not share one safely for SQLite), expands and validates the points, skips
// the pairs the store holds (resume), hands the rest out pair by pair to ranks 1..N-1 (two in
// flight per worker, so a worker never waits for its next pair), commits their results in
// batches through hw/sweep/run.cpp (the store code of every other mode) and writes every output
// exactly as a single process does. Ranks 1..N-1 read the same description and models themselves
// (each first sends rank 0 a fingerprint of its points and models: a rank that sees other files is
// an error), simulate what they are sent and never open the store. Rank 0 only coordinates and
// sleeps between messages, so N ranks give N - 1 simulating processes: on k cores,
// `mpirun --oversubscribe -np k+1`. With -np 1 rank 0 simulates everything itself, and without
// mpirun (no MPI launcher in the environment) --mpi is a one-process run, with a note.
//
// Stopping: on SIGINT/SIGTERM rank 0 commits what it received, prints the resume command, stops
// the workers (each finishes its pair) and exits with 128 + signal, which mpirun passes on.
// Ctrl-C reaches only mpirun (OpenMPI 4.1): a second later it sends every rank SIGTERM, and
// SIGKILL another second later (odls_base_sigkill_timeout); rank 0 commits and prints within
// milliseconds, and mpirun exits 1. Workers ignore SIGINT and SIGTERM (rank 0 tells them when to
// stop): one that died at once would make mpirun kill rank 0 before it had printed. A rank that
// dies anyway makes mpirun end the job; what rank 0 committed stays. A worker whose simulation
// fails reports it and rank 0 fails the run (exit 1) after committing what it had.
//
// -j N does not combine with --mpi (the ranks are the workers), nor does --shard (an MPI job is
// one process of the sweep; give it the whole sweep).
#pragma once

#include <string>

#include "hw/sweep/run.hpp"

namespace nax::cli {

// The number of ranks of the MPI job an MPI launcher started this process in (from the
// environment, without initialising MPI), or 0 when none did.
int mpi_launcher_ranks();

class MpiSweep {
 public:
  // Initialises MPI when an MPI launcher started this process; otherwise a one-process run (and,
  // unless `quiet`, a note on stderr saying so).
  explicit MpiSweep(bool quiet);
  ~MpiSweep() { finish(); }
  MpiSweep(const MpiSweep&) = delete;
  MpiSweep& operator=(const MpiSweep&) = delete;

  bool launched() const { return m_launched; }  // MPI is initialised
  int rank() const { return m_rank; }
  int size() const { return m_size; }

  // Ranks > 0: loads the sweep at `config_path`, greets rank 0 and simulates the pairs it sends
  // until it says stop. Throws nothing the sweep's files cause: those go to rank 0.
  void serve(const std::string& config_path);

  // Rank 0 of more than one rank: the evaluator for run_sweep's hooks (hands `todo` out to the
  // workers; see the file comment).
  hw::sweep::EvaluateFn evaluator();

  // Rank 0 tells every worker to stop and waits until each has (results still arriving are
  // dropped, not committed: --resume does them); then every rank finalises MPI. Idempotent.
  void finish();

 private:
  bool m_launched = false;
  bool m_finished = false;
  int m_rank = 0;
  int m_size = 1;
};

}  // namespace nax::cli
