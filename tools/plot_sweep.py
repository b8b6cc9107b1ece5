#!/usr/bin/python3
"""Draws the PNG plots of a `nax sweep` from its sweep.json (simulated or estimated sweeps alike):

- latency_area_all.png, latency_area_<model>.png: latency against chip area of every feasible
  point (coloured by the axis that moves latency most), the latency-area Pareto front as a
  staircase, its points numbered and their axis values listed beside the plot;
- energy_latency_all.png, energy_latency_<model>.png: energy per inference against latency, with
  the energy-latency front the same way;
- sensitivity.png: per axis and model, how much the mean latency and the mean energy change
  across the axis's values (configs/sweeps/README.md, "Sensitivity").

"all" is the model set: latencies and energies summed over the models, on the points every model
runs on (as the sweep's own "all" fronts).

    /usr/bin/python3 tools/plot_sweep.py OUT/sweep.json [--out DIR]   # DIR: default the JSON's

Prints the name of each PNG written. Keys it does not know are ignored. Needs Debian's
python3-matplotlib (tools/setup.sh --python).
"""
import argparse
import json
import math
import os
import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402

DPI = 100
FRONT_COLOUR = "#d62728"
MAX_LISTED = 16  # front points listed under a plot; the rest are in pareto.csv
MAX_LEGEND_VALUES = 8  # axis values named in a legend; more get a colour bar


def slug(text):
    """A model argument in a file name: 'mobilenet_v2:width=0.5' -> 'mobilenet_v2_width_0.5'."""
    s = re.sub(r"[^A-Za-z0-9_.-]+", "_", os.path.splitext(os.path.basename(str(text)))[0]
               if str(text).endswith((".yaml", ".onnx")) else str(text))
    return s.strip("_.") or "model"


def value_text(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, list):
        return "[" + ",".join(value_text(x) for x in v) + "]"
    return str(v)


def short_keys(keys):
    """Axis keys as short labels: the last path component where that is unambiguous."""
    last = [k.rsplit(".", 1)[-1] for k in keys]
    return {k: (s if last.count(s) == 1 else k) for k, s in zip(keys, last)}


def num(x):
    return x if isinstance(x, (int, float)) and not isinstance(x, bool) else None


class Sweep:
    def __init__(self, j):
        self.name = j.get("name", "sweep")
        self.keys = [a["key"] for a in j.get("axes", []) if "key" in a]
        self.short = short_keys(self.keys)
        self.models = [m["model"] for m in j.get("models", []) if "model" in m]
        self.estimated = j.get("by") == "estimator" or "estimator" in j or "check" in j
        self.overrides = {}  # point -> {key: value}
        self.results = {}  # (point, model) -> entry with latency_ms, energy_uj, area_mm2
        for e in j.get("points", []):
            p = e.get("point")
            if p is None:
                continue
            self.overrides[p] = e.get("overrides", {})
            if "infeasible" in e or num(e.get("latency_ms")) is None:
                continue  # an invalid chip, a refused model or an interrupted sweep
            self.results[(p, e.get("model"))] = e
        if not self.models:
            self.models = sorted({m for (_, m) in self.results})
        self.fronts = {(f.get("front"), f.get("model")): f.get("points", [])
                       for f in j.get("pareto", [])}
        self.sensitivity = j.get("sensitivity", [])

    def values(self, model):
        """{point: (latency_ms, energy_uj, area_mm2)}: the feasible points of a model or "all"."""
        out = {}
        for p in sorted(self.overrides):
            ms = self.models if model == "all" else [model]
            es = [self.results.get((p, m)) for m in ms]
            if not ms or any(e is None for e in es):
                continue
            out[p] = (sum(e["latency_ms"] for e in es), sum(e["energy_uj"] for e in es),
                      es[0]["area_mm2"])
        return out

    def colour_axis(self, model, effect):
        """The axis to colour points by: the one with the largest `effect` ("latency_effect" or
        "energy_effect") for the model (for "all": the largest mean over the models), else the
        first axis."""
        effects = {}
        for s in self.sensitivity:
            if model != "all" and s.get("model") != model:
                continue
            for a in s.get("axes", []):
                if a.get("key") in self.keys and num(a.get(effect)) is not None:
                    effects.setdefault(a["key"], []).append(a[effect])
        if effects:
            def mean_effect(k):
                e = effects.get(k, [0.0])
                return sum(e) / len(e), -self.keys.index(k)
            return max(self.keys, key=mean_effect)
        return self.keys[0] if self.keys else None

    def label(self, p):
        o = self.overrides.get(p, {})
        return " ".join(f"{self.short[k]}={value_text(o[k])}" for k in self.keys if k in o)

    def title(self, what, model):
        who = (f"all {len(self.models)} models (summed)" if model == "all" and len(self.models) > 1
               else (self.models[0] if model == "all" else model))
        return f"sweep '{self.name}': {what}, {who}" + (" [estimated]" if self.estimated else "")


def scatter_points(ax, sweep, model, pts, xy, effect):
    """All feasible points, coloured by the axis with the largest effect (legend)."""
    key = sweep.colour_axis(model, effect)
    if key is None:
        ax.scatter(*zip(*[xy(v) for v in pts.values()]), s=22, c="#7f7f7f", alpha=0.6,
                   label="sweep point")
        return
    groups = {}
    for p, v in pts.items():
        groups.setdefault(value_text(sweep.overrides[p].get(key)), []).append(xy(v))
    names = list(groups)
    cmap = plt.get_cmap("viridis")
    try:
        names.sort(key=float)
        numeric = True
    except ValueError:
        numeric = False
    if numeric and len(names) > MAX_LEGEND_VALUES:  # a colour bar instead of a long legend
        cs = [float(value_text(sweep.overrides[p].get(key))) for p in pts]
        sc = ax.scatter(*zip(*[xy(v) for v in pts.values()]), s=24, c=cs, cmap=cmap, alpha=0.8,
                        edgecolors="none")
        ax.figure.colorbar(sc, ax=ax, pad=0.01).set_label(key)
        return
    for i, name in enumerate(names):
        colour = cmap(0.85 * i / max(1, len(names) - 1))
        xs, ys = zip(*groups[name])
        ax.scatter(xs, ys, s=24, color=colour, alpha=0.75, edgecolors="none",
                   label=f"{sweep.short[key]} = {name}")


def log_if_wide(ax, xs, ys):
    for vals, setter in ((xs, ax.set_xscale), (ys, ax.set_yscale)):
        pos = [v for v in vals if v > 0]
        if pos and max(pos) / min(pos) > 15:
            setter("log")


def front_plot(sweep, model, tag, kind, outdir):
    pts = sweep.values(model)
    if not pts:
        return None
    if kind == "latency_area":
        def xy(v):
            return v[2], v[0]
        xlabel, ylabel = "chip area (mm²)", "latency per inference (ms)"
        what = "latency vs area"
    else:
        def xy(v):
            return v[0], v[1]
        xlabel, ylabel = "latency per inference (ms)", "energy per inference (µJ)"
        what = "energy vs latency"
    if model == "all" and len(sweep.models) > 1:
        xlabel = xlabel.replace("per inference", f"summed over {len(sweep.models)} models")
        ylabel = ylabel.replace("per inference", f"summed over {len(sweep.models)} models")
    front = [e["point"] for e in sweep.fronts.get((kind, model), []) if e.get("point") in pts]
    front.sort(key=lambda p: xy(pts[p]))

    # The front's table under the plot: one monospace row per front point.
    metric_cols = (["latency_ms", "area_mm2"] if kind == "latency_area"
                   else ["energy_uj", "latency_ms"])
    head = ["#", "point"] + metric_cols + [sweep.short[k] for k in sweep.keys]
    metric = {p: dict(zip(("latency_ms", "energy_uj", "area_mm2"), pts[p])) for p in front}
    # Decimals per column: about 4 significant digits on its smallest value.
    digits = {}
    for c in metric_cols:
        low = min((abs(metric[p][c]) for p in front if metric[p][c]), default=1.0)
        digits[c] = min(6, max(0, 3 - math.floor(math.log10(low))))
    rows = []
    for n, p in enumerate(front[:MAX_LISTED], 1):
        o = sweep.overrides.get(p, {})
        rows.append([str(n), str(p)] + [f"{metric[p][c]:.{digits[c]}f}" for c in metric_cols]
                    + [value_text(o.get(k, "")) for k in sweep.keys])
    widths = [max(len(r[i]) for r in [head] + rows) for i in range(len(head))]
    lines = ["  ".join(c.rjust(w) for c, w in zip(r, widths)) for r in [head] + rows]
    if len(front) > MAX_LISTED:
        lines.append(f"... and {len(front) - MAX_LISTED} more front points in pareto.csv")
    table_in = 0.35 + 0.15 * len(lines)

    fig = plt.figure(figsize=(9, 4.6 + table_in))
    grid = fig.add_gridspec(2, 1, height_ratios=[4.6, table_in])
    ax = fig.add_subplot(grid[0])
    side = fig.add_subplot(grid[1])
    scatter_points(ax, sweep, model, pts, xy,
                   "latency_effect" if kind == "latency_area" else "energy_effect")
    if front:
        fx, fy = zip(*[xy(pts[p]) for p in front])
        ax.step(fx, fy, where="post", color=FRONT_COLOUR, lw=1.4, alpha=0.8, zorder=3)
        ax.scatter(fx, fy, s=70, facecolors="none", edgecolors=FRONT_COLOUR, linewidths=1.8,
                   zorder=4)
        for n, (x, y) in enumerate(zip(fx, fy), 1):
            if n <= MAX_LISTED:
                ax.annotate(str(n), (x, y), xytext=(5, 4), textcoords="offset points",
                            fontsize=8, color=FRONT_COLOUR, weight="bold", zorder=5)
    xs, ys = zip(*[xy(v) for v in pts.values()])
    log_if_wide(ax, xs, ys)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, which="major", alpha=0.3)
    ax.grid(True, which="minor", alpha=0.1)
    handles, labels = ax.get_legend_handles_labels()
    handles.append(Line2D([], [], color=FRONT_COLOUR, marker="o", markerfacecolor="none", lw=1.4))
    labels.append(f"Pareto front ({len(front)} point{'' if len(front) == 1 else 's'}, numbered)")
    ax.legend(handles, labels, fontsize=8, loc="best", framealpha=0.85)
    n_bad = len(sweep.overrides) - len(pts)
    sub = f"{len(pts)} feasible points" + (f" ({n_bad} infeasible not shown)" if n_bad else "")
    ax.set_title(sweep.title(what, model) + f"\n{sub}; lower-left is better", fontsize=10)
    side.axis("off")
    side.text(0.0, 1.0, "\n".join(lines), va="top", ha="left", family="monospace", fontsize=8.5,
              transform=side.transAxes)
    name = f"{kind}_{tag}.png"
    fig.tight_layout()
    fig.savefig(os.path.join(outdir, name), dpi=DPI)
    plt.close(fig)
    return name


def sensitivity_plot(sweep, outdir):
    rows = [s for s in sweep.sensitivity if s.get("axes")]
    if not rows:
        return None
    keys = []
    for s in rows:
        for a in s["axes"]:
            if a.get("key") not in keys:
                keys.append(a["key"])
    keys.sort(key=lambda k: -max((a.get("latency_effect") or 0) for s in rows for a in s["axes"]
                                 if a.get("key") == k))
    height = max(3.4, 2.1 + 0.25 * len(keys) * len(rows))
    fig, axes = plt.subplots(1, 2, figsize=(10, height), sharey=True)
    bar = 0.8 / len(rows)
    cmap = plt.get_cmap("tab10")
    for ax, field, what in ((axes[0], "latency_effect", "latency"),
                            (axes[1], "energy_effect", "energy")):
        for i, s in enumerate(rows):
            eff = {a["key"]: a.get(field) for a in s["axes"]}
            ys = [k_i + (i - (len(rows) - 1) / 2) * bar for k_i in range(len(keys))]
            vals = [100.0 * (eff.get(k) or 0.0) for k in keys]
            bars = ax.barh(ys, vals, height=bar * 0.92, color=cmap(i % 10), label=s["model"])
            for b, v in zip(bars, vals):
                ax.annotate(f"{v:.0f}%", (b.get_width(), b.get_y() + b.get_height() / 2),
                            xytext=(3, 0), textcoords="offset points", va="center", fontsize=7)
        ax.set_xlabel(f"change of mean {what} across the axis's values (%)")
        ax.grid(True, axis="x", alpha=0.3)
        ax.set_xlim(0, max(1.0, ax.get_xlim()[1] * 1.12))
        ax.set_title(f"{what} effect", fontsize=10)
    axes[0].set_yticks(range(len(keys)))
    axes[0].set_yticklabels(keys)
    axes[0].invert_yaxis()
    fig.suptitle(f"sweep '{sweep.name}': sensitivity per axis ((max - min) / min of the means)"
                 + (" [estimated]" if sweep.estimated else ""), fontsize=11)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=min(len(rows), 4), fontsize=9,
               frameon=False)
    fig.tight_layout(rect=(0, 0.06 + 0.03 * ((len(rows) - 1) // 4), 1, 1))
    name = "sensitivity.png"
    fig.savefig(os.path.join(outdir, name), dpi=DPI)
    plt.close(fig)
    return name


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("sweep_json", help="sweep.json written by `nax sweep --out DIR`")
    ap.add_argument("--out", help="directory for the PNGs (default: the JSON's directory)")
    args = ap.parse_args()
    with open(args.sweep_json) as f:
        sweep = Sweep(json.load(f))
    outdir = args.out or os.path.dirname(os.path.abspath(args.sweep_json))
    os.makedirs(outdir, exist_ok=True)
    models = ["all"] + (sweep.models if len(sweep.models) > 1 else [])
    tags = []  # file name parts, unique: a repeated one gets _<its position>
    for m in models:
        tag = "all" if m == "all" else slug(m)
        tags.append(tag if tag not in tags else f"{tag}_{len(tags)}")
    written = []
    for kind in ("latency_area", "energy_latency"):
        for m, tag in zip(models, tags):
            written.append(front_plot(sweep, m, tag, kind, outdir))
    written.append(sensitivity_plot(sweep, outdir))
    for name in written:
        if name:
            print(name)


if __name__ == "__main__":
    main()
