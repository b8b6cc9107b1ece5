// `nax sweep --mpi` under mpirun (OpenMPI: --allow-run-as-root --oversubscribe): the outputs are
// the single-process run's byte for byte, with one worker rank and with two; a rank that reads
// other files than rank 0 is refused; --mpi with --shard or -j, and mpirun without --mpi, are
// usage errors, and --mpi without mpirun is a one-process run; Ctrl-C to mpirun, or SIGINT to rank
// 0, keeps what rank 0 committed and an --mpi --resume does exactly the rest.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "tests/integration/run_nax.hpp"

#ifndef NAX_MPIEXEC
#error "NAX_MPIEXEC (mpirun) is set by tests/CMakeLists.txt"
#endif

using nax::test::run_nax;
using nax::test::slurp;
namespace fs = std::filesystem;

namespace {

std::string tmp(const std::string& name) {
  return nax::test::tmp_path("sweep_mpi", name);
}

std::string write_config(const std::string& name, const std::string& text) {
  const std::string path = tmp(name);
  std::ofstream(path) << text;
  return path;
}

const char* kMpirunFlags = "--allow-run-as-root --oversubscribe";
// OpenMPI leaks by design and unloads its components in MPI_Finalize, so LeakSanitizer reports
// what it cannot even name: in sanitizer builds, the ranks run without leak detection.
const char* kNoLeakCheck = "ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 ";
const std::string kNoPlots = " --no-plots";  // the PNGs take seconds and are not compared

// `mpirun -np <np> nax <args>` through the shell (args quoted by the caller).
nax::test::RunResult run_mpi(int np, const std::string& args, const std::string& tag) {
  const std::string base = "nax_it_mpi_" + tag;
  const std::string cmd = std::string(kNoLeakCheck) + NAX_MPIEXEC + " " + kMpirunFlags + " -np " +
                          std::to_string(np) + " " + NAX_BINARY + " " + args + " >" + base +
                          ".out 2>" + base + ".err";
  const int status = std::system(cmd.c_str());
  nax::test::RunResult r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = slurp(base + ".out");
  r.err = slurp(base + ".err");
  std::remove((base + ".out").c_str());
  std::remove((base + ".err").c_str());
  return r;
}

nlohmann::json parse(const std::string& s) {
  INFO(s);
  return nlohmann::json::parse(s);
}

// 3 x 2 points x 2 small models: rows 8 / 16 / 64 x SRAM 2 / 512 KiB. 64 rows with 2 KiB is an
// infeasible chip, 8 and 16 rows with 2 KiB refuse the models (infeasible pairs), the rest run.
const char* kSweep =
    "name: mpi\n"
    "axes:\n"
    "  - {key: mac_array.rows, values: [8, 16, 64]}\n"
    "  - {key: sram.capacity_kib, values: [2, 512]}\n"
    "models: ['mobilenet_v2:width=0.35,resolution=96', 'mobilenet_v2:width=0.5,resolution=64']\n";

// The outputs a run in `dir` must share with the single-process run in `ref` (and, unless one of
// them resumed, the number of pairs simulated).
void check_same_outputs(const std::string& ref, const std::string& dir, bool resumed = false) {
  const std::string csv = slurp(ref + "/points.csv");
  REQUIRE(!csv.empty());
  CHECK(slurp(dir + "/points.csv") == csv);
  CHECK(slurp(dir + "/pareto.csv") == slurp(ref + "/pareto.csv"));
  const auto a = parse(slurp(ref + "/sweep.json")), b = parse(slurp(dir + "/sweep.json"));
  for (const char* k : {"points", "pareto", "sensitivity", "models", "sweep_hash"}) {
    INFO(k);
    CHECK(a[k] == b[k]);
  }
  if (!resumed) CHECK(a["counts"]["simulated"] == b["counts"]["simulated"]);
  CHECK(b["interrupted"] == false);
}

pid_t spawn_mpirun(int np, const std::vector<std::string>& nax_args, const std::string& tag) {
  const pid_t pid = fork();
  if (pid == 0) {
    std::vector<std::string> words = {NAX_MPIEXEC, "--allow-run-as-root", "--oversubscribe",
                                      "-np",       std::to_string(np),    NAX_BINARY};
    words.insert(words.end(), nax_args.begin(), nax_args.end());
    const char* asan = std::getenv("ASAN_OPTIONS");
    const std::string opts = (asan != nullptr && *asan != '\0' ? std::string(asan) + ":" : "") +
                             "detect_leaks=0";  // as kNoLeakCheck
    setenv("ASAN_OPTIONS", opts.c_str(), 1);
    std::vector<char*> argv;
    for (auto& w : words) argv.push_back(w.data());
    argv.push_back(nullptr);
    if (!freopen(("nax_it_mpi_" + tag + ".out").c_str(), "w", stdout) ||
        !freopen(("nax_it_mpi_" + tag + ".err").c_str(), "w", stderr)) {
      _exit(127);
    }
    execv(NAX_MPIEXEC, argv.data());
    _exit(127);
  }
  return pid;
}

// The pid of rank 0 of the job `mpirun_pid` started (its child with OMPI_COMM_WORLD_RANK=0), or
// -1.
pid_t rank0_of(pid_t mpirun_pid) {
  for (const auto& e : fs::directory_iterator("/proc")) {
    const std::string name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    const std::string stat = slurp(e.path().string() + "/stat");
    const size_t paren = stat.rfind(')');
    if (paren == std::string::npos) continue;
    std::istringstream fields(stat.substr(paren + 2));
    std::string state;
    long ppid = 0;
    fields >> state >> ppid;
    if (ppid != mpirun_pid) continue;
    const std::string env = slurp(e.path().string() + "/environ");
    if (env.find(std::string("OMPI_COMM_WORLD_RANK=0") + '\0') != std::string::npos)
      return static_cast<pid_t>(std::stol(name));
  }
  return -1;
}

}  // namespace

TEST_CASE("nax sweep --mpi: 2 and 3 ranks give the single-process outputs", "[integration]") {
  const std::string cfg = write_config("a.yaml", kSweep);
  const std::string one = tmp("one"), two = tmp("two"), three = tmp("three");
  for (const auto& d : {one, two, three}) fs::remove_all(d);
  const auto r1 = run_nax("sweep --config " + cfg + " -q --out " + one + kNoPlots, "mpi_plain");
  INFO(r1.err);
  REQUIRE(r1.code == 0);
  // 5 valid chips x 2 models (4 of the pairs refused by the lowering)
  CHECK(parse(slurp(one + "/sweep.json"))["counts"]["simulated"] == 10);

  const auto r2 = run_mpi(2, "sweep --config " + cfg + " --mpi -q --out " + two + kNoPlots, "np2");
  INFO(r2.err);
  REQUIRE(r2.code == 0);
  CHECK(r2.out.empty());
  check_same_outputs(one, two);
  CHECK(nax::test::count_rows(two + "/sweep.db", "results") == 10);

  // Two workers; the summary is printed once (by rank 0).
  const auto r3 = run_mpi(3, "sweep --config " + cfg + " --mpi --out " + three + kNoPlots, "np3");
  INFO(r3.err);
  REQUIRE(r3.code == 0);
  check_same_outputs(one, three);
  const std::string head = "sweep 'mpi': 6 points (1 infeasible chip, 0 filtered out) x 2 models";
  REQUIRE(r3.out.find(head) != std::string::npos);
  CHECK(r3.out.find(head) == r3.out.rfind(head));

  // A finished sweep: refused without --resume, nothing simulated with it.
  const auto again =
      run_mpi(2, "sweep --config " + cfg + " --mpi -q --out " + two + kNoPlots, "again");
  CHECK(again.code == 2);
  CHECK(again.err.find("--resume") != std::string::npos);
  const auto resumed = run_mpi(
      2, "sweep --config " + cfg + " --mpi --out " + two + kNoPlots + " --resume --json -", "res");
  INFO(resumed.err);
  REQUIRE(resumed.code == 0);
  CHECK(parse(resumed.out)["counts"]["simulated"] == 0);
  CHECK(parse(resumed.out)["counts"]["reused"] == 10);
  check_same_outputs(one, two, true);
  for (const auto& d : {one, two, three}) fs::remove_all(d);
  fs::remove(cfg);
}

TEST_CASE("nax sweep --mpi: usage errors, ranks that disagree, no mpirun", "[integration]") {
  const std::string cfg = write_config("b.yaml", kSweep);
  const auto shard = run_nax("sweep --config " + cfg + " --mpi --shard 0/2", "mpi_shard");
  CHECK(shard.code == 2);
  CHECK(shard.err.find("--mpi and --shard") != std::string::npos);
  const auto jobs = run_nax("sweep --config " + cfg + " --mpi -j 2", "mpi_jobs");
  CHECK(jobs.code == 2);
  CHECK(jobs.err.find("--mpi and -j") != std::string::npos);
  const auto no_flag = run_mpi(2, "sweep --config " + cfg + " -q", "no_flag");
  CHECK(no_flag.code == 2);
  CHECK(no_flag.err.find("without --mpi: each would run the whole sweep") != std::string::npos);

  // Without mpirun: one process, with a note; the single run's outputs.
  const std::string plain = tmp("plain"), solo = tmp("solo");
  fs::remove_all(plain);
  fs::remove_all(solo);
  REQUIRE(run_nax("sweep --config " + cfg + " -q --out " + plain + kNoPlots, "mpi_plain2").code ==
          0);
  const auto s = run_nax(
      "sweep --config " + cfg + " --mpi --progress none --out " + solo + kNoPlots, "mpi_solo");
  INFO(s.err);
  REQUIRE(s.code == 0);
  CHECK(s.err.find("not started by an MPI launcher") != std::string::npos);
  check_same_outputs(plain, solo);

  // Rank 1 reads another description (MPMD: one command line per rank): refused before any work;
  // a rank that cannot read its description is named.
  const std::string other = write_config(
      "other.yaml",
      std::string(kSweep).replace(std::string(kSweep).find("[8, 16, 64]"), 11, "[8, 16, 32]"));
  const std::string db = tmp("mpmd.db");
  // Rank 0 reads `cfg`, rank 1 `rank1_config`.
  auto mpmd = [&](const std::string& rank1_config, const std::string& extra) {
    const std::string args = " sweep --mpi -q --db " + db + extra + " --config ";
    const std::string cmd = std::string(kNoLeakCheck) + NAX_MPIEXEC + " " + kMpirunFlags +
                            " -np 1 " + NAX_BINARY + args + cfg + " : -np 1 " + NAX_BINARY + args +
                            rank1_config;
    const std::string err = tmp("mpmd.err");
    const int status = std::system((cmd + " >/dev/null 2>" + err).c_str());
    const std::string text = slurp(err);
    fs::remove(err);
    return std::make_pair(WIFEXITED(status) ? WEXITSTATUS(status) : -1, text);
  };
  const auto [code, err] = mpmd(other, "");
  INFO(err);
  CHECK(code == 2);
  CHECK(err.find("rank 1 sees another sweep than rank 0") != std::string::npos);
  CHECK(nax::test::count_rows(db, "results") == 0);
  const auto [code2, err2] = mpmd(tmp("missing.yaml"), " --resume");
  INFO(err2);
  CHECK(code2 == 2);
  CHECK(err2.find("rank 1 cannot load the sweep") != std::string::npos);
  for (const char* suf : {"", "-wal", "-shm"}) fs::remove(db + suf);
  fs::remove_all(plain);
  fs::remove_all(solo);
  fs::remove(other);
  fs::remove(cfg);
}

TEST_CASE("nax sweep --mpi: Ctrl-C to mpirun keeps the committed pairs, --resume the rest",
          "[integration]") {
  // 8 x 8 arrays x resnet18: several seconds with one or two worker ranks. Each interruption
  // comes after a commit of rank 0 (it commits about once a second), with pairs left to do.
  const std::string cfg =
      write_config("int.yaml",
                   "name: mpi_int\n"
                   "axes:\n"
                   "  - {key: mac_array.rows, values: [8, 12, 16, 24, 32, 48, 64, 96]}\n"
                   "  - {key: mac_array.cols, values: [8, 12, 16, 24, 32, 48, 64, 96]}\n"
                   "models: [resnet18]\n");
  const std::string db = tmp("int.db");
  for (const char* suf : {"", "-wal", "-shm"}) fs::remove(db + suf);
  auto rows_in = [&] { return nax::test::count_rows(db, "results"); };
  const pid_t pid = spawn_mpirun(2, {"sweep", "--config", cfg, "--mpi", "--db", db, "-q"}, "int");
  const bool running = nax::test::wait_until(pid, [&] { return rows_in() >= 1; });
  ::kill(pid, SIGINT);
  const int code = nax::test::wait_exit(pid);
  REQUIRE(running);
  CHECK(code != 0);  // mpirun stops the job (and exits 1); rank 0 commits first
  const std::string err = slurp("nax_it_mpi_int.err");
  CHECK_THAT(err, Catch::Contains("interrupted") && Catch::Contains("--mpi --resume"));
  const int64_t first = rows_in();
  REQUIRE(first >= 1);
  REQUIRE(first < 64);

  // Resumed, then SIGINT to rank 0 alone (as a batch system may send it): rank 0 commits, stops
  // the workers and exits 130, which mpirun passes on.
  const pid_t pid2 =
      spawn_mpirun(3, {"sweep", "--config", cfg, "--mpi", "--db", db, "--resume", "-q"}, "int2");
  pid_t rank0 = -1;
  const bool running2 = nax::test::wait_until(pid2, [&] {
    if (rank0 < 0) rank0 = rank0_of(pid2);
    return rank0 > 0 && rows_in() > first;
  });
  if (rank0 > 0) ::kill(rank0, SIGINT);
  const int code2 = nax::test::wait_exit(pid2);
  REQUIRE(running2);
  REQUIRE(rank0 > 0);
  CHECK(code2 == 130);
  const std::string err2 = slurp("nax_it_mpi_int2.err");
  CHECK_THAT(err2, Catch::Contains("interrupted") && Catch::Contains("--mpi --resume"));
  const int64_t kept = rows_in();
  REQUIRE(kept > first);
  REQUIRE(kept < 64);

  const auto r =
      run_mpi(3, "sweep --config " + cfg + " --mpi --db " + db + " --resume --json -", "int_res");
  INFO(r.err);
  REQUIRE(r.code == 0);
  const auto j = parse(r.out);
  CHECK(j["counts"]["reused"] == kept);
  CHECK(j["counts"]["simulated"] == 64 - kept);
  CHECK(j["interrupted"] == false);
  CHECK(rows_in() == 64);
  for (const auto& p : j["points"]) CHECK(p.contains("latency_ms"));
  for (const char* suf : {"", "-wal", "-shm"}) fs::remove(db + suf);
  for (const char* f :
       {"nax_it_mpi_int.out", "nax_it_mpi_int.err", "nax_it_mpi_int2.out", "nax_it_mpi_int2.err"})
    std::remove(f);
  fs::remove(cfg);
}
