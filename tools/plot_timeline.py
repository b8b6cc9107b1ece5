#!/usr/bin/python3
"""Draws a `nax sim --timeline` trace (Chrome trace-event JSON) as a PNG: one row per track
(layers, MAC array, vector unit, DMA channels), spans coloured by layer.

    /usr/bin/python3 tools/plot_timeline.py trace.json out.png [--title TEXT] [--from US --to US]

Needs Debian's python3-matplotlib (tools/setup.sh --python). The trace itself opens in
ui.perfetto.dev or chrome://tracing; this is for reports.
"""
import argparse
import json

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("trace")
    ap.add_argument("png")
    ap.add_argument("--title", default="")
    ap.add_argument("--from", dest="t0", type=float, default=None, help="start, microseconds")
    ap.add_argument("--to", dest="t1", type=float, default=None, help="end, microseconds")
    a = ap.parse_args()
    with open(a.trace) as f:
        j = json.load(f)
    events = j["traceEvents"] if isinstance(j, dict) else j
    names, order = {}, {}
    for e in events:
        if e.get("ph") == "M" and e.get("name") == "thread_name":
            names[e["tid"]] = e["args"]["name"]
        if e.get("ph") == "M" and e.get("name") == "thread_sort_index":
            order[e["tid"]] = e["args"]["sort_index"]
    spans = [e for e in events if e.get("ph") == "X"]
    tids = sorted({e["tid"] for e in spans}, key=lambda t: (order.get(t, t), t))
    row = {t: i for i, t in enumerate(tids)}
    layer_of = {}
    for e in spans:
        layer = (e.get("args") or {}).get("layer", e.get("name", ""))
        layer_of.setdefault(layer, len(layer_of))
    cmap = plt.get_cmap("tab20")
    fig, ax = plt.subplots(figsize=(14, 0.45 * len(tids) + 1.5))
    for e in spans:
        t0, dur = e["ts"], e.get("dur", 0)
        if a.t0 is not None and t0 + dur < a.t0:
            continue
        if a.t1 is not None and t0 > a.t1:
            continue
        layer = (e.get("args") or {}).get("layer", e.get("name", ""))
        ax.broken_barh([(t0, max(dur, 1e-3))], (row[e["tid"]] - 0.4, 0.8),
                       facecolors=cmap(layer_of[layer] % 20), linewidth=0)
    ax.set_yticks(range(len(tids)))
    ax.set_yticklabels([names.get(t, str(t)) for t in tids])
    ax.invert_yaxis()
    ax.set_xlabel("time (us at the chip clock)")
    if a.t0 is not None or a.t1 is not None:
        ax.set_xlim(a.t0, a.t1)
    ax.set_title(a.title or a.trace)
    fig.tight_layout()
    fig.savefig(a.png, dpi=110)


if __name__ == "__main__":
    main()
