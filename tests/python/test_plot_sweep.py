#!/usr/bin/python3
"""`nax sweep --out DIR` draws its PNG plots with tools/plot_sweep.py: the PNGs are listed and
written, --no-plots skips them, a Python without matplotlib gets "plots skipped (...)" and exit
code 0, and the script reads sweep.json files with keys it does not know (an estimator sweep's
`check`) and models that ran nowhere. Run by ctest (test `python_plot_sweep`) with NAX_BINARY and
NAX_SOURCE_DIR set."""
import importlib.util
import json
import os
import subprocess
import tempfile
import unittest

SOURCE = os.environ.get("NAX_SOURCE_DIR", os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
BINARY = os.environ.get("NAX_BINARY", os.path.join(SOURCE, "build", "tools", "nax"))
SCRIPT = os.path.join(SOURCE, "tools", "plot_sweep.py")

# 2 x 2 points, one of them an invalid chip, one an infeasible pair (tests/python/
# test_nax_module.py has the reasons).
SWEEP = """name: plots
base: default
axes:
  - key: mac_array.rows
    values: [8, 64]
  - key: sram.capacity_kib
    values: [2, 512]
models: ['mobilenet_v2:width=0.35,resolution=96']
"""
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
HAVE_MATPLOTLIB = importlib.util.find_spec("matplotlib") is not None


def png_size(path):
    """(width, height) from a PNG's IHDR."""
    with open(path, "rb") as f:
        head = f.read(24)
    assert head[:8] == PNG_MAGIC, path
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")


@unittest.skipUnless(os.path.exists(BINARY), "no nax binary (NAX_BINARY)")
class PlotSweepTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.cfg = os.path.join(cls.tmp.name, "s.yaml")
        with open(cls.cfg, "w") as f:
            f.write(SWEEP)
        cls.out = os.path.join(cls.tmp.name, "out")
        cls.sweep = subprocess.run([BINARY, "sweep", "--config", cls.cfg, "--out", cls.out,
                                  "--progress", "none"], capture_output=True, text=True)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    @unittest.skipUnless(HAVE_MATPLOTLIB, "no python3-matplotlib")
    def test_plots_are_listed_and_written(self):
        self.assertEqual(self.sweep.returncode, 0, self.sweep.stderr)
        listed = [l for l in self.sweep.stdout.splitlines() if l.startswith("plots in ")]
        self.assertEqual(len(listed), 1, self.sweep.stdout)
        names = listed[0].split(": ", 1)[1].split(", ")
        # One model: "all" is that model, drawn once per front, plus the sensitivity chart.
        self.assertEqual(names, ["latency_area_all.png", "energy_latency_all.png",
                                 "sensitivity.png"])
        for n in names:
            w, h = png_size(os.path.join(self.out, n))
            self.assertGreaterEqual(w, 600)
            self.assertGreaterEqual(h, 250)
            self.assertLess(os.path.getsize(os.path.join(self.out, n)), 150_000)

    def test_no_plots_and_missing_matplotlib(self):
        db = os.path.join(self.out, "sweep.db")
        quiet = os.path.join(self.tmp.name, "quiet")
        r = subprocess.run([BINARY, "sweep", "--config", self.cfg, "--db", db, "--resume",
                            "--out", quiet, "--no-plots"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn("plots", r.stdout.split("sensitivity (")[1])
        self.assertEqual([f for f in os.listdir(quiet) if f.endswith(".png")], [])
        # A python3 whose matplotlib does not import: the sweep still succeeds.
        fake = os.path.join(self.tmp.name, "fake", "matplotlib")
        os.makedirs(fake)
        with open(os.path.join(fake, "__init__.py"), "w") as f:
            f.write("raise ModuleNotFoundError(\"No module named 'matplotlib'\")\n")
        env = dict(os.environ, PYTHONPATH=os.path.dirname(fake))
        missing = os.path.join(self.tmp.name, "missing")
        r = subprocess.run([BINARY, "sweep", "--config", self.cfg, "--db", db, "--resume",
                            "--out", missing], capture_output=True, text=True, env=env)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("plots skipped (tools/plot_sweep.py needs Debian's python3-matplotlib: "
                      "ModuleNotFoundError: No module named 'matplotlib')", r.stdout)
        self.assertTrue(os.path.exists(os.path.join(missing, "sweep.json")))
        self.assertEqual([f for f in os.listdir(missing) if f.endswith(".png")], [])

    @unittest.skipUnless(HAVE_MATPLOTLIB, "no python3-matplotlib")
    def test_script_ignores_unknown_keys_and_empty_models(self):
        with open(os.path.join(self.out, "sweep.json")) as f:
            j = json.load(f)
        # An estimator sweep's extras, and a second model that ran on no point.
        j["check"] = {"points": [1], "all": {"latency_mape_pct": 3.2}}
        j["estimator"] = {"file": "x.json"}
        j["models"].append({"model": "ghost", "name": "ghost", "hash": "0"})
        for p in list(j["points"]):
            j["points"].append({"point": p["point"], "id": p["id"], "overrides": p["overrides"],
                                "model": "ghost", "infeasible": "refused", "new_key": 1})
        j["pareto"].append({"front": "latency_area", "model": "ghost", "points": []})
        d = os.path.join(self.tmp.name, "est")
        os.makedirs(d)
        path = os.path.join(d, "sweep.json")
        with open(path, "w") as f:
            json.dump(j, f)
        r = subprocess.run(["/usr/bin/python3", SCRIPT, path], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        # "all" needs every model on a point: none qualifies, so only the first model's plots.
        model = "mobilenet_v2_width_0.35_resolution_96"
        self.assertEqual(r.stdout.split(), [f"latency_area_{model}.png",
                                            f"energy_latency_{model}.png", "sensitivity.png"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
