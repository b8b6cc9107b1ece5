#!/usr/bin/python3
"""Draws the PNG plots of a `nax study` report from its JSON: per-stage/per-layer latency
before vs after (layers.png), search progress (progress.png), the Pareto front over every
evaluated candidate (pareto.png) and, when the study has them, the curated-vs-uncurated
convergence curves (curation.png) and the channel-count latency landscape (landscape.png).

    /usr/bin/python3 tools/plot_study.py study.json OUTDIR

Prints the name of each PNG written. Sections missing from the JSON (or empty) are skipped.
Needs Debian's python3-matplotlib (tools/setup.sh --python).
"""
import argparse
import json
import os
import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

DPI = 150


def stage_of(name):
    """'s3.1/expand' -> 's3'; 'stem/conv' -> 'stem'."""
    return re.split(r"[./]", str(name), maxsplit=1)[0] or str(name)


def num(x):
    return x if isinstance(x, (int, float)) and not isinstance(x, bool) else None


def save(fig, outdir, name):
    fig.tight_layout()
    fig.savefig(os.path.join(outdir, name), dpi=DPI)
    plt.close(fig)
    print(name)


def best_result(j):
    rs = [r for r in j.get("results") or [] if num(r.get("latency_ms")) is not None]
    return min(rs, key=lambda r: r["latency_ms"]) if rs else None


def plot_layers(j, study, outdir):
    lay = j.get("layers") or {}
    before, after = lay.get("before") or [], lay.get("after") or []
    if not before and not after:
        return
    best = best_result(j) or {}
    after_name = lay.get("after_variant") or best.get("variant") or "after"
    stages = []
    for name, _ in list(before) + list(after):
        if stage_of(name) not in stages:
            stages.append(stage_of(name))
    sums = []
    for series in (before, after):
        s = dict.fromkeys(stages, 0.0)
        for name, ms in series:
            s[stage_of(name)] += ms or 0.0
        sums.append([s[k] for k in stages])
    fig, (a1, a2) = plt.subplots(2, 1, figsize=(max(8, 0.6 * len(stages) + 4), 8))
    x, w = np.arange(len(stages)), 0.4
    a1.bar(x - w / 2, sums[0], w, label="baseline (%.3f ms)" % sum(sums[0]), color="tab:grey")
    a1.bar(x + w / 2, sums[1], w, label="%s (%.3f ms)" % (after_name, sum(sums[1])),
           color="tab:blue")
    a1.set_xticks(x)
    a1.set_xticklabels(stages, rotation=45 if len(stages) > 12 else 0, ha="right"
                       if len(stages) > 12 else "center")
    a1.set_ylabel("simulated latency (ms)")
    a1.set_title("%s: latency per stage, baseline vs %s" % (study, after_name))
    a1.legend()
    a1.grid(axis="y", alpha=0.3)
    for series, lbl, c in ((before, "baseline", "tab:grey"), (after, after_name, "tab:blue")):
        if series:
            a2.plot(range(len(series)), [ms or 0.0 for _, ms in series], "-o", ms=2.5,
                    lw=1, color=c, label="%s (%d layers)" % (lbl, len(series)))
    a2.set_xlabel("layer index (execution order)")
    a2.set_ylabel("simulated latency (ms)")
    a2.set_title("%s: latency per layer" % study)
    a2.legend()
    a2.grid(alpha=0.3)
    save(fig, outdir, "layers.png")


def plot_progress(j, study, outdir):
    prog = {k: v for k, v in (j.get("progress") or {}).items() if v}
    if not prog:
        return
    obj = j.get("objective") or "latency_ms"
    is_score = obj == "score"
    fig, ax = plt.subplots(figsize=(9, 5.5))
    for variant, pts in prog.items():
        pts = [p for p in pts if p and len(p) > 1 and num(p[1]) is not None]
        xs, ys = [p[0] for p in pts], [p[1] for p in pts]
        ax.step(xs, ys, where="post", lw=1.5, label=variant)
    base = num((j.get("baseline") or {}).get("score" if is_score else "latency_ms"))
    if base is not None:
        ax.axhline(base, ls="--", color="k", lw=1, label="baseline (%.4g)" % base)
    ax.set_xlabel("evaluations")
    ax.set_ylabel("best feasible %s so far (%s)" % (
        "score" if is_score else "latency (ms)", "higher is better" if is_score else
        "lower is better"))
    ax.set_title("%s: search progress (objective: %s)" % (study, obj))
    ax.grid(alpha=0.3)
    ax.legend()
    save(fig, outdir, "progress.png")


def plot_pareto(j, study, outdir):
    ev = [e for e in j.get("evaluated") or [] if num(e.get("latency_ms")) is not None]
    front = [p for p in j.get("pareto") or [] if num(p.get("latency_ms")) is not None]
    if not ev and not front:  # minimal report: show the variants themselves
        front = [r for r in j.get("results") or [] if num(r.get("latency_ms")) is not None]
    if not ev and not front:
        return
    for e in ev + front + [j.get("baseline") or {}]:
        if num(e.get("memory_bytes")) is None and num(e.get("peak_activation_bytes")) is not None:
            e["memory_bytes"] = e["peak_activation_bytes"]
    use_score = any(num(e.get("score")) is not None for e in ev + front)
    key = "score" if use_score else "memory_bytes"
    fig, ax = plt.subplots(figsize=(9, 6))
    for feas, mk, lbl in ((True, "o", "evaluated (feasible)"), (False, "x", "infeasible")):
        pts = [e for e in ev if bool(e.get("feasible", True)) == feas and num(e.get(key)) is not None]
        if pts:
            ax.scatter([e["latency_ms"] for e in pts], [e[key] for e in pts], marker=mk, s=14,
                       color="lightgrey" if feas else "darkgrey", label=lbl, zorder=1)
    fr = sorted((p for p in front if num(p.get(key)) is not None), key=lambda p: p["latency_ms"])
    if fr:
        ax.plot([p["latency_ms"] for p in fr], [p[key] for p in fr], "-o", color="tab:red",
                ms=6, lw=1.2, zorder=3,
                label="Pareto front" if j.get("pareto") else "variants")
        for p in fr:
            ax.annotate(str(p.get("label") or p.get("variant") or ""), (p["latency_ms"], p[key]),
                        xytext=(5, 5), textcoords="offset points", fontsize=9, color="tab:red")
    b = j.get("baseline") or {}
    if num(b.get("latency_ms")) is not None and num(b.get(key)) is not None:
        ax.scatter([b["latency_ms"]], [b[key]], marker="*", s=250, color="gold", edgecolors="k",
                   label="baseline", zorder=4)
    ax.set_xlabel("latency (ms)")
    ax.set_ylabel("score" if use_score else "memory (bytes)")
    ax.set_title("%s: latency vs %s, %s" % (study, key, "evaluated candidates and front"
                                               if ev or j.get("pareto") else "variants"))
    ax.grid(alpha=0.3)
    ax.legend()
    save(fig, outdir, "pareto.png")


def seed_on_grid(pts, grid):
    """Best-so-far of one seed held (step) onto the evaluation grid; NaN before its first point."""
    pts = sorted((p[0], p[1]) for p in pts)
    xs = np.array([p[0] for p in pts], dtype=float)
    ys = np.minimum.accumulate(np.array([p[1] for p in pts], dtype=float))
    idx = np.searchsorted(xs, grid, side="right") - 1
    return np.where(idx >= 0, ys[np.clip(idx, 0, None)], np.nan)


def plot_curation(j, study, outdir):
    cur = j.get("curation") or {}
    curves = {space: {alg: [c for c in ([[p for p in s or [] if p and len(p) > 1 and num(p[1])
                                          is not None] for s in seeds or []]) if c]
                      for alg, seeds in (algs or {}).items()}
              for space, algs in (cur.get("curves") or {}).items()}
    seeds_all = [s for algs in curves.values() for ss in algs.values() for s in ss]
    if not seeds_all:
        return
    target = num(cur.get("target_latency_ms")) or min(p[1] for s in seeds_all for p in s)
    tol = num(cur.get("tolerance"))
    floor = 1e-3
    fig, ax = plt.subplots(figsize=(10, 6))
    colours = {"curated": "tab:green", "uncurated": "tab:orange"}
    for ci, (space, algs) in enumerate(sorted(curves.items())):
        colour = colours.get(space, "C%d" % (ci + 2))
        for alg, seeds in sorted(algs.items()):
            if not seeds:
                continue
            ls = "-" if alg == "evolution" else "--" if alg == "random" else ":"
            grid = np.unique(np.concatenate([[p[0] for p in s] for s in seeds]).astype(float))
            rows = np.array([seed_on_grid(s, grid) for s in seeds])
            gap = np.clip((rows / target - 1.0) * 100.0, floor, None)
            for r in gap:
                ax.step(grid, r, where="post", color=colour, ls=ls, lw=0.5, alpha=0.3)
            with np.errstate(all="ignore"):
                ok = ~np.all(np.isnan(gap), axis=0)
                med = np.full(len(grid), np.nan)
                med[ok] = np.nanmedian(gap[:, ok], axis=0)
            ax.step(grid, med, where="post", color=colour, ls=ls, lw=2,
                    label="%s / %s (median of %d seeds)" % (space, alg, len(seeds)))
    if tol is not None:
        ax.axhline(tol * 100, color="k", lw=1, ls="-.", label="tolerance (%.3g%%)" % (tol * 100))
    ax.set_yscale("log")
    ax.set_xlabel("evaluations")
    ax.set_ylabel("best latency so far / target - 1  (%%, target %.4g ms)" % target)
    ax.set_title("%s: convergence, curated vs uncurated search space" % study)
    ce, ue, ratio = cur.get("curated_evals"), cur.get("uncurated_evals"), cur.get("ratio")
    if ce is not None or ue is not None:
        txt = ("evaluations until within tolerance\nof each space's own best (median):\n"
               "curated %s, uncurated %s" % (ce, ue))
        if num(ratio) is not None:
            txt += "\nratio %.2fx" % ratio
        gap = cur.get("best_gap_pct")
        if num(gap) is not None:
            txt += "\ncurated best %+.2f%% vs uncurated best" % gap
        ax.text(0.98, 0.97, txt, transform=ax.transAxes, ha="right", va="top", fontsize=10,
                bbox=dict(boxstyle="round", fc="white", ec="0.6"))
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left", fontsize=9)
    save(fig, outdir, "curation.png")


def plot_landscape(j, study, outdir):
    land = (j.get("curation") or {}).get("landscape") or {}
    ch = land.get("channels") or []
    if not ch:
        return
    lat, macs, par = land.get("latency_ms") or [], land.get("macs") or [], num(land.get("parallelism"))
    stage = land.get("stage", "?")
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(13, 5))
    for ax, ys, lbl, colour, step in ((a1, lat, "simulated latency (ms)", "tab:red", True),
                                      (a2, macs, "MACs", "tab:blue", False)):
        n = min(len(ch), len(ys))
        if n:
            if step:
                ax.step(ch[:n], ys[:n], where="post", color=colour, lw=1.5)
            else:
                ax.plot(ch[:n], ys[:n], color=colour, lw=1.5)
            ax.plot(ch[:n], ys[:n], ".", color=colour, ms=3)
        if par and par > 0 and ch:
            for m in np.arange(np.ceil(min(ch) / par) * par, max(ch) + 1, par):
                ax.axvline(m, color="0.6", lw=0.8, ls=":")
        ax.set_xlabel("channels in stage %s%s" % (stage, " (dotted: multiples of %g)" % par
                                                  if par else ""))
        ax.set_ylabel(lbl)
        ax.grid(axis="y", alpha=0.3)
    a1.set_title("%s: latency vs channels (rocky)" % study)
    a2.set_title("%s: MACs vs channels (smooth)" % study)
    save(fig, outdir, "landscape.png")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("study", help="JSON written by `nax study`")
    ap.add_argument("outdir", help="directory for the PNGs (created if missing)")
    a = ap.parse_args()
    with open(a.study) as f:
        j = json.load(f)
    os.makedirs(a.outdir, exist_ok=True)
    study = j.get("study") or os.path.basename(a.study)
    for plot in (plot_layers, plot_progress, plot_pareto, plot_curation, plot_landscape):
        plot(j, study, a.outdir)


if __name__ == "__main__":
    main()
