"""Citation-network analytics at scale: our sparse kernels against plain networkx.

    python benchmarks/network.py                       # 10k, 100k (with networkx) and 1M / 10M (ours)
    python benchmarks/network.py --sizes 1000000 --nx-max 100000

ALL GRAPHS HERE ARE GENERATED (not real data). The generator follows the shape of the
real USPTO grants in ../shared/data: patents in time order, each citing earlier ones;
references per patent log-normal (heavy right tail, as real reference lists), cited
patents chosen with a recency bias (log-normal lag) and a Pareto "fitness" so that
forward citations are heavy-tailed (a few patents cited thousands of times, most
never). Mean references per patent 10 → 1M patents give ≈ 10M citations.

Steps timed, for both implementations: building the graph, forward/backward citation
counts, PageRank (tol 1e-10, L1; ours is exact on a DAG, from one sweep over the
topological levels, which the "pagerank" column also pays for and the main paths reuse),
HITS (tol 1e-10; ours by restarted Lanczos on AᵀA, ~20 products with it where power
iteration needs 40-60; networkx by an SVD), and SPC traversal weights with the global,
local forward and key-route (top 10 links) main paths. Each implementation runs
in a fresh child process so its peak RSS is its own. Targets (issue 5): at 1M patents /
10M citations all core-patent and main-path metrics ≤ 30 s and ≤ 3 GB; ≥ 30× faster
than networkx at the largest size networkx finishes in reasonable time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


# ----------------------------------------------------------------------------- generator


def generate_dag(n: int, mean_refs: float = 10.0, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A GENERATED citation DAG: ``src`` cites ``dst`` (``dst < src`` always), unique edges.

    Vectorised: every edge is drawn at once. Node index = time order.
    """
    rng = np.random.default_rng(seed)
    sigma = 0.9
    mu = np.log(mean_refs) - sigma**2 / 2  # log-normal with the requested mean
    refs = np.minimum(np.floor(rng.lognormal(mu, sigma, n) + 0.5).astype(np.int64), 500)
    refs = np.minimum(refs, np.arange(n))  # node i can cite at most i earlier nodes
    src = np.repeat(np.arange(n, dtype=np.int64), refs)
    fitness = rng.pareto(1.2, n) + 1.0
    # Six candidates per reference at a log-normal distance back in time; the fittest wins.
    # (At 1M: ~41 % never cited, median 2, 99th percentile ~63, max ~500 forward citations.)
    lag = np.floor(rng.lognormal(np.log(max(n, 10) / 50), 1.6, (len(src), 6))).astype(np.int64) + 1
    cand = src[:, None] - lag
    # Too far back for an early patent: any earlier patent, uniformly (no pile-up on node 0).
    early = cand < 0
    cand[early] = np.floor(rng.random(int(early.sum())) * np.broadcast_to(src[:, None], cand.shape)[early]).astype(np.int64)
    dst = cand[np.arange(len(src)), np.argmax(fitness[cand], axis=1)]
    keep = dst < src
    key = np.unique(src[keep] * n + dst[keep])  # sorted, unique
    return key // n, key % n


# ----------------------------------------------------------------------------- ours


def _load(path: str) -> tuple[int, np.ndarray, np.ndarray]:
    z = np.load(path)
    return int(z["n"]), z["src"], z["dst"]


def _ours(path: str) -> dict:
    """The network stage's own functions, as ``pipeline.network.run.analyse`` calls them."""
    import pandas as pd

    from pipeline.network.centrality import hits, pagerank
    from pipeline.network.graph import citation_counts, from_edges
    from pipeline.network.mainpath import build_dag, main_path_analysis

    n, src, dst = _load(path)
    t = {}
    start = time.perf_counter()
    t0 = time.perf_counter()
    # Integer ids as a user edge list: factorised, deduplicated, checked for cycles.
    graph = from_edges(pd.DataFrame({"citing": src, "cited": dst}))
    del src, dst
    n, s, d = graph.n, graph.src, graph.dst
    t["build"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    counts = citation_counts(graph)
    t["citation counts"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    dag = build_dag(n, s, d)  # levelled once for PageRank and the main paths, as the stage does
    pr = pagerank(n, s, d, alpha=0.85, tol=1e-10, dag=dag)
    t["pagerank"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    hi = hits(n, s, d, tol=1e-10)
    t["hits"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    mp = main_path_analysis(n, s, d, method="spc", k=10, dag=dag)
    t["spc + main paths"] = time.perf_counter() - t0
    total = time.perf_counter() - start
    ids = graph.nodes["node"].astype("int64").to_numpy()  # back to the generator's node numbers
    top = ids[np.argsort(-pr.scores, kind="stable")[:100]]
    w = mp.weights
    return {"edges": int(len(s)), "times": t, "total": total,
            "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "check": {"max_forward": int(counts["forward"].max()) if n else 0,
                      "pagerank_iterations": int(pr.iterations), "hits_products": int(hi.iterations),
                      "top100_pagerank": top.tolist(), "max_spc": float(w.max()) if len(w) else 0.0,
                      "global_path_edges": int(len(mp.global_path)), "local_path_edges": int(len(mp.local_forward)),
                      "key_route_edges": int(len(mp.key_route))}}


# ----------------------------------------------------------------------------- networkx


def _heaviest_run(G, node, forward: bool) -> list:
    """From ``node``, keep taking the heaviest SPC edge — towards the citing patents
    (``forward``, knowledge-flow direction) or towards the cited ones — until none is left."""
    edges = []
    while G.in_degree(node) if forward else G.out_degree(node):
        if forward:
            _, nxt = max((G[p][node]["spc"], p) for p in G.predecessors(node))
            edges.append((nxt, node))
        else:
            _, nxt = max((G[node][s]["spc"], s) for s in G.successors(node))
            edges.append((node, nxt))
        node = nxt
    return edges


def _nx(path: str) -> dict:
    """The same metrics written plainly against networkx (what an analyst would write)."""
    import networkx as nx

    n, src, dst = _load(path)
    t = {}
    start = time.perf_counter()
    t0 = time.perf_counter()
    G = nx.DiGraph()
    G.add_nodes_from(range(n))
    G.add_edges_from(zip(src.tolist(), dst.tolist()))
    t["build"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    fwd = dict(G.in_degree())
    dict(G.out_degree())
    t["citation counts"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    pr = nx.pagerank(G, alpha=0.85, tol=1e-10 / n, max_iter=1000)  # nx stops at N·tol: same L1 criterion
    t["pagerank"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    nx.hits(G, tol=1e-10, max_iter=1000)
    t["hits"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    order = list(nx.topological_sort(G))
    into = {}
    for v in order:  # paths from the top (uncited) nodes into v
        preds = list(G.predecessors(v))
        into[v] = 1.0 if not preds else float(sum(into[p] for p in preds))
    out_of = {}
    for v in reversed(order):  # paths from v down to the nodes that cite nothing
        succ = list(G.successors(v))
        out_of[v] = 1.0 if not succ else float(sum(out_of[s] for s in succ))
    for u, v in G.edges():
        G[u][v]["spc"] = into[u] * out_of[v]
    path = nx.dag_longest_path(G, weight="spc", default_weight=0)
    # Local forward search in the knowledge-flow direction (cited → citing): start at the
    # heaviest edge out of a node that cites nothing, keep taking the heaviest next edge.
    starts = [(G[u][v]["spc"], u, v) for v in G if G.out_degree(v) == 0 for u in G.predecessors(v)]
    local = []
    if starts:
        _, u, v = max(starts)
        local = [(u, v), *_heaviest_run(G, u, forward=True)]
    top = sorted(G.edges(data="spc"), key=lambda e: -e[2])[:10]
    key_edges = set()
    for u, v, _ in top:
        key_edges.add((u, v))
        key_edges.update(_heaviest_run(G, u, forward=True))
        key_edges.update(_heaviest_run(G, v, forward=False))
    t["spc + main paths"] = time.perf_counter() - t0
    total = time.perf_counter() - start
    top_pr = sorted(pr, key=lambda k: (-pr[k], k))[:100]
    return {"edges": int(len(src)), "times": t, "total": total,
            "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "check": {"max_forward": max(fwd.values()) if n else 0, "top100_pagerank": top_pr,
                      "max_spc": max((d for *_, d in G.edges(data="spc")), default=0.0),
                      "global_path_edges": max(len(path) - 1, 0)}}


# ----------------------------------------------------------------------------- runner


def _has_taskset() -> bool:
    from shutil import which

    return which("taskset") is not None


def run_child(impl: str, path: Path, timeout: float) -> dict | None:
    code = (f"import json,sys; sys.path.insert(0,{str(ROOT)!r}); import benchmarks.network as b; "
            f"print(json.dumps(b._{impl}({str(path)!r})))")
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    cmd = ["taskset", "-c", "0", sys.executable, "-c", code] if _has_taskset() else [sys.executable, "-c", code]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, check=True, env=env, cwd=ROOT, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000], help="patents (nodes)")
    ap.add_argument("--nx-max", type=int, default=100_000, help="largest size networkx is run at")
    ap.add_argument("--nx-timeout", type=float, default=1800, help="seconds before networkx is given up")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{platform.platform()}; one core per run (taskset)")
    print("graphs: GENERATED (see the module docstring), not real data\n")
    steps = ["build", "citation counts", "pagerank", "hits", "spc + main paths"]
    head = f"{'nodes':>9} {'edges':>11} {'impl':9} " + " ".join(f"{s[:12]:>12}" for s in steps) + \
        f" {'total s':>8} {'peak MiB':>9} {'speed-up (metrics only)':>24}"
    print(head)
    print("-" * len(head))
    tmp = Path(tempfile.mkdtemp(prefix="patnav-net-"))
    for n in args.sizes:
        src, dst = generate_dag(n, seed=args.seed)
        path = tmp / f"dag_{n}.npz"
        np.savez(path, n=n, src=src, dst=dst)
        del src, dst
        ours = run_child("ours", path, timeout=3600)
        theirs = run_child("nx", path, timeout=args.nx_timeout) if n <= args.nx_max else None
        path.unlink()
        for name, r in (("ours", ours), ("networkx", theirs)):
            if r is None:
                if name == "networkx":
                    print(f"{n:>9,} {'':>11} {name:9} " + ("not run" if n > args.nx_max else "timed out"))
                continue
            cells = " ".join(f"{r['times'].get(s, float('nan')):>12.2f}" for s in steps)
            metric_total = sum(r["times"].get(s, 0.0) for s in steps)
            speed = ""
            if name == "networkx" and ours:
                metrics = steps[1:]
                speed = (f"×{metric_total / ours['total']:.0f} "
                         f"(metrics ×{sum(r['times'][s] for s in metrics) / sum(ours['times'][s] for s in metrics):.0f})")
            print(f"{n:>9,} {r['edges']:>11,} {name:9} {cells} {metric_total:>8.2f} {r['peak_rss_mib']:>9.0f} {speed:>24}")
        if ours and theirs:
            a, b = ours["check"], theirs["check"]
            same = len(set(a["top100_pagerank"]) & set(b["top100_pagerank"]))
            print(f"{'':>9} agreement: top-100 PageRank overlap {same}/100; max SPC {a['max_spc']:.6g} vs "
                  f"{b['max_spc']:.6g}; max forward {a['max_forward']} vs {b['max_forward']}; "
                  f"global path edges {a['global_path_edges']} vs {b['global_path_edges']}")
    print("\n'total s' includes building the graph (ours: from an edge list, with dedupe and the cycle check;"
          " networkx: DiGraph). 'spc + main paths' = SPC weights, global, local forward and key-route (k=10) paths.")


if __name__ == "__main__":
    main()
