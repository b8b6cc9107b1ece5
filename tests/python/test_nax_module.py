#!/usr/bin/python3
"""The `nax` Python module (tools/python/nax_module.cpp): chips, models, simulation and search
results come back as plain dicts and lists of dicts, with the same numbers as the `nax` binary,
and bad input raises ValueError with nax's message. Run by ctest (test `python_module`) with
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


if __name__ == "__main__":
    unittest.main(verbosity=2)
