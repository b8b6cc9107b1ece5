#!/usr/bin/python3
"""The `nax` Python module (tools/python/nax_module.cpp): chips, models, simulation, sweeps and
search results come back as plain dicts and lists of dicts, with the same numbers as the `nax`
binary, and bad input raises ValueError with nax's message. Run by ctest (test `python_module`) with
PYTHONPATH set to the module's build directory."""
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import unittest

import nax

BINARY = os.path.join(os.path.dirname(os.path.dirname(nax.__file__)), "nax")

SWEEP_MODEL = "mobilenet_v2:width=0.35,resolution=96"
# 2 x 2 points (as tests/integration/cli_sweep_test.cpp): rows 8 / 64 x SRAM 2 / 512 KiB. 64x32
# cannot hold a minimal tile in 2 KiB (an infeasible chip); 8x32 with 2 KiB is a valid chip too
# small for the model's stem (an infeasible pair); the two 512 KiB chips run.
SWEEP = f"""name: py
base: default
axes:
  - key: mac_array.rows
    values: [8, 64]
  - key: sram.capacity_kib
    values: [2, 512]
models: ['{SWEEP_MODEL}']
"""


class NaxModuleTest(unittest.TestCase):
    def test_chip(self):
        c = nax.load_chip("default")
        self.assertEqual(c["name"], "default")
        self.assertEqual(c["parallelism"], c["cols"])
        wide = nax.load_chip("default", ["mac_array.cols=64"])
        self.assertEqual(wide["parallelism"], 64)
        self.assertNotEqual(wide["hash"], c["hash"])
        self.assertIn("default", nax.chip_presets())
        with self.assertRaises(ValueError) as e:
            nax.load_chip("default", ["mac_array.colz=64"])
        self.assertIn("colz", str(e.exception))

    def test_model_info(self):
        m = nax.model_info("mobilenet_v2")
        self.assertEqual(m["params"], 3504872)  # torchvision's count
        self.assertGreater(len(m["layers"]), 50)
        self.assertEqual(sum(l["macs"] for l in m["layers"]), m["macs"])
        with self.assertRaises(ValueError):
            nax.model_info("no_such_model")

    def test_simulate_matches_the_binary(self):
        r = nax.simulate("mobilenet_v2:width=0.5,resolution=96", "default")
        self.assertGreater(r["latency_ms"], 0)
        self.assertEqual(sum(l["cycles"] for l in r["layers"]) > 0, True)
        self.assertTrue(any(u["name"] == "mac_array" for u in r["units"]))
        if os.path.exists(BINARY):
            out = subprocess.run([BINARY, "sim", "--model", "mobilenet_v2:width=0.5,resolution=96",
                                  "--json", "-", "-q"], check=True, capture_output=True, text=True)
            j = json.loads(out.stdout)
            self.assertEqual(j["total_cycles"], r["total_cycles"])
            self.assertAlmostEqual(j["energy_uj"], r["energy_uj"], places=6)
        # A bigger array is not slower on this network.
        big = nax.simulate("mobilenet_v2:width=0.5,resolution=96", "default",
                           ["mac_array.rows=64", "mac_array.cols=64"])
        self.assertLessEqual(big["total_cycles"], r["total_cycles"])

    def test_search_results(self):
        if not os.path.exists(BINARY):
            self.skipTest("no nax binary next to the module's directory")
        space = os.path.join(os.environ.get("NAX_SOURCE_DIR", "."), "configs", "spaces",
                             "camera-classifier.yaml")
        with tempfile.TemporaryDirectory() as d:
            db = os.path.join(d, "s.db")
            subprocess.run([BINARY, "search", "--space", space, "--variant", "v2", "--latency",
                            "simulate", "--no-score", "--budget", "8", "--db", db, "-q"],
                           check=True)
            rows = nax.search_results(db)
            self.assertEqual(len(rows), 8)
            self.assertEqual([r["step"] for r in rows], list(range(8)))
            for r in rows:
                self.assertIn("latency_ms", r)
                self.assertIn("params", r)
            bad = os.path.join(d, "bad.db")
            sqlite3.connect(bad).execute("CREATE TABLE x(y)").connection.commit()
            with self.assertRaises(ValueError):
                nax.search_results(bad)

    def test_sweep_matches_simulate(self):
        with tempfile.TemporaryDirectory() as d:
            cfg = os.path.join(d, "s.yaml")
            with open(cfg, "w") as f:
                f.write(SWEEP)
            r = nax.sweep(cfg)
            self.assertEqual(r["name"], "py")
            self.assertEqual([a["key"] for a in r["axes"]], ["mac_array.rows", "sram.capacity_kib"])
            self.assertEqual(r["counts"]["points"], 4)
            self.assertEqual(r["counts"]["infeasible_points"], 1)
            points = r["points"]
            self.assertEqual([(p["point"], p["mac_array.rows"], p["sram.capacity_kib"])
                              for p in points], [(0, 8, 2), (1, 8, 512), (2, 64, 2), (3, 64, 512)])
            by_point = {p["point"]: p for p in points}
            self.assertFalse(by_point[0]["feasible"])  # the chip is valid, the model does not fit
            self.assertIn("area_mm2", by_point[0])
            self.assertFalse(by_point[2]["feasible"])  # the chip itself is invalid
            self.assertTrue(by_point[2]["infeasible"])
            for p in (by_point[1], by_point[3]):
                self.assertTrue(p["feasible"])
                self.assertNotIn("infeasible", p)
                self.assertEqual(p["model"], SWEEP_MODEL)
                sim = nax.simulate(SWEEP_MODEL, "default",
                                   [f"mac_array.rows={p['mac_array.rows']}",
                                    f"sram.capacity_kib={p['sram.capacity_kib']}"])
                self.assertEqual(p["cycles"], sim["total_cycles"])
                self.assertAlmostEqual(p["latency_ms"], sim["latency_ms"], places=9)
                self.assertAlmostEqual(p["energy_uj"], sim["energy_uj"], places=6)
                self.assertEqual(p["dram_read_bytes"], sim["dram_read_bytes"])
                self.assertEqual(p["dram_write_bytes"], sim["dram_write_bytes"])
                mac = next(u for u in sim["units"] if u["name"] == "mac_array")
                self.assertAlmostEqual(p["mac_array_utilization"], mac["utilization"], places=12)
                self.assertEqual(p["id"], nax.load_chip("default", [
                    f"mac_array.rows={p['mac_array.rows']}",
                    f"sram.capacity_kib={p['sram.capacity_kib']}"])["hash"])
            # The bigger array is faster and bigger: both points are on the latency-area front,
            # for the model and for "all" (one model: the same numbers).
            la = [e for e in r["pareto"] if e["front"] == "latency_area"]
            self.assertEqual(sorted((e["model"], e["point"]) for e in la),
                             [("all", 1), ("all", 3), (SWEEP_MODEL, 1), (SWEEP_MODEL, 3)])
            for e in r["pareto"]:
                self.assertAlmostEqual(e["latency_ms"], by_point[e["point"]]["latency_ms"])
                self.assertAlmostEqual(e["area_mm2"], by_point[e["point"]]["area_mm2"])
            self.assertEqual({(s["model"], s["key"]) for s in r["sensitivity"]},
                             {(SWEEP_MODEL, "mac_array.rows"), (SWEEP_MODEL, "sram.capacity_kib")})

            # DataFrame-friendly: flat rows of scalars, the same columns on every feasible row.
            for rows in (points, r["pareto"]):
                for row in rows:
                    for k, v in row.items():
                        self.assertIsInstance(v, (int, float, str, bool), k)
            self.assertEqual(set(by_point[1]), set(by_point[3]))
            try:
                import pandas
            except ImportError:
                pandas = None
            if pandas is not None:
                df = pandas.DataFrame(points)
                self.assertEqual(len(df), 4)
                ok = df[df.feasible]
                self.assertEqual(list(ok["mac_array.rows"]), [8, 64])
                self.assertTrue((ok.latency_ms > 0).all())

    def test_sweep_store_and_errors(self):
        with tempfile.TemporaryDirectory() as d:
            cfg = os.path.join(d, "s.yaml")
            with open(cfg, "w") as f:
                f.write(SWEEP)
            db = os.path.join(d, "s.db")
            first = nax.sweep(cfg, jobs=2, db=db)
            self.assertEqual(first["counts"]["simulated"], 3)  # 3 pairs: 2 run, 1 refused
            with self.assertRaises(ValueError) as e:
                nax.sweep(cfg, db=db)  # the store holds it: --resume needed
            self.assertIn("resume", str(e.exception))
            again = nax.sweep(cfg, db=db, resume=True)  # nothing simulated, same rows
            self.assertEqual(again["counts"]["simulated"], 0)
            self.assertEqual(again["counts"]["reused"], 3)
            self.assertEqual(again["points"], first["points"])
            if os.path.exists(BINARY):  # the binary reads the module's store: one format
                out = subprocess.run([BINARY, "sweep", "--config", cfg, "--db", db, "--resume",
                                      "--json", "-"], check=True, capture_output=True, text=True)
                j = json.loads(out.stdout)
                self.assertEqual(j["counts"]["simulated"], 0)
                lat = {p["point"]: p["latency_ms"] for p in j["points"] if "latency_ms" in p}
                self.assertEqual(lat, {p["point"]: p["latency_ms"] for p in first["points"]
                                       if p["feasible"]})
            half = nax.sweep(cfg, shard=(1, 2))
            self.assertEqual([p["point"] for p in half["points"]], [1, 3])

            bad = os.path.join(d, "bad.yaml")
            with open(bad, "w") as f:
                f.write(SWEEP.replace("mac_array.rows", "mac_array.rowz"))
            with self.assertRaises(ValueError) as e:
                nax.sweep(bad)
            self.assertIn(f"{bad}:4:", str(e.exception))
            self.assertIn("rowz", str(e.exception))
            with self.assertRaises(ValueError):
                nax.sweep(cfg, shard=(2, 2))
            with self.assertRaises(ValueError):
                nax.sweep(os.path.join(d, "missing.yaml"))


if __name__ == "__main__":
    unittest.main(verbosity=2)
