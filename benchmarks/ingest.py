"""Ingest throughput and peak memory on ≥ 100k records REPLICATED from the real files.

    python benchmarks/ingest.py [--xml-docs 100000] [--tsv-patents 120000] [--keep]

Inputs are built in a temporary folder by repeating real records from ../shared/data
(USPTO weekly XML slices; PatentsView tables with patent ids made unique per copy);
every figure printed is labelled "replicated". Each measurement runs in a fresh
subprocess so that its peak RSS is its own. Targets (issue 2, one core): XML ≥ 10 MB/s,
TSV ≥ 200k records/s, XML peak memory flat as the input grows 10×.

"records" are patents (XML documents, g_patent rows); "in rows" counts every input
line (for PatentsView: all tables — each patent brings ~7 assignee/inventor/CPC rows).
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

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
sys.path.insert(0, str(ROOT))


def build_xml(out: Path, n_docs: int) -> int:
    """Concatenate real USPTO documents (all weekly slices) until ``n_docs`` documents."""
    docs = []
    for f in sorted((SHARED / "uspto-xml").glob("ipgxml__*.xml")) + [SHARED / "uspto-xml" / "xml__ipg120327.196.xml"]:
        data = f.read_bytes()
        parts = data.split(b"<?xml")[1:]
        docs.extend(b"<?xml" + p for p in parts)
    written = 0
    with open(out, "wb") as fh:
        while written < n_docs:
            for d in docs:
                fh.write(d)
                written += 1
                if written >= n_docs:
                    break
    return written


def build_tsv(out: Path, n_patents: int) -> int:
    """Replicate the PatentsView tables, suffixing patent ids per copy so they stay unique."""
    import pandas as pd

    src = SHARED / "patentsview"
    tables = {f.stem: pd.read_csv(f, sep="\t", dtype=str, keep_default_na=False) for f in src.glob("g_*.tsv")}
    copies = -(-n_patents // len(tables["g_patent"]))
    out.mkdir(parents=True, exist_ok=True)
    for name, df in tables.items():
        if "patent_id" not in df.columns:
            df.to_csv(out / f"{name}.tsv", sep="\t", index=False)
            continue
        reps = []
        for i in range(copies):
            d = df.copy()
            # keep the id shape (digits / D-prefix) so normalisation does the real work
            d["patent_id"] = d["patent_id"] + f"{i:03d}"
            reps.append(d)
        pd.concat(reps).to_csv(out / f"{name}.tsv", sep="\t", index=False)
    return copies * len(tables["g_patent"])


def _measure(kind: str, path: str, canonical: bool) -> dict:
    """Run in a child process: read (and optionally canonicalise) one input, streaming."""
    from pipeline.ingest.canonical import canonicalize
    from pipeline.ingest.patentsview import PatentsViewAdapter
    from pipeline.ingest.uspto_xml import UsptoXmlAdapter

    adapter = UsptoXmlAdapter() if kind == "xml" else PatentsViewAdapter()
    start = time.perf_counter()
    n = 0
    for batch in adapter.read(Path(path), batch_size=2000 if kind == "xml" else 200_000):
        n += batch.n_records
        if canonical:
            canonicalize(batch, "bench", adapter.name)
    secs = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB -> MiB
    return {"records": n, "seconds": secs, "peak_rss_mib": peak}


def run_child(kind: str, path: Path, canonical: bool) -> dict:
    code = f"import json,sys; sys.path.insert(0,{str(ROOT)!r}); from benchmarks.ingest import _measure; print(json.dumps(_measure({kind!r},{str(path)!r},{canonical})))"
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    # taskset pins the child to one core: the targets are per core.
    cmd = ["taskset", "-c", "0", sys.executable, "-c", code] if _has_taskset() else [sys.executable, "-c", code]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, env=env, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _has_taskset() -> bool:
    from shutil import which

    return which("taskset") is not None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--xml-docs", type=int, default=100_000, help="documents in the large XML file (small = 1/10)")
    ap.add_argument("--tsv-patents", type=int, default=120_000)
    ap.add_argument("--keep", action="store_true", help="keep the generated inputs")
    args = ap.parse_args()

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.platform()}")
    print("inputs: REPLICATED from real files in ../shared/data (not new data)\n")
    tmp = Path(tempfile.mkdtemp(prefix="patnav-bench-"))
    rows = []
    try:
        for label, n in (("1x", args.xml_docs // 10), ("10x", args.xml_docs)):
            f = tmp / f"uspto_{label}.xml"
            docs = build_xml(f, n)
            mb = f.stat().st_size / 1e6
            for canonical in (False, True):
                r = run_child("xml", f, canonical)
                rows.append(("USPTO XML (replicated)", label, "parse+canonical" if canonical else "parse", docs, mb, r))
        d = tmp / "pv"
        build_tsv(d, args.tsv_patents)
        mb = sum(p.stat().st_size for p in d.glob("*.tsv")) / 1e6
        # every data line of every table (patents, assignees, inventors, CPC, locations)
        n = sum(sum(1 for _ in open(p, "rb")) - 1 for p in d.glob("*.tsv"))
        for canonical in (False, True):
            r = run_child("tsv", d, canonical)
            rows.append(("PatentsView TSV (replicated)", "-", "parse+canonical" if canonical else "parse", n, mb, r))
    finally:
        if not args.keep:
            import shutil

            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print(f"inputs kept in {tmp}")

    head = (f"{'input':30} {'size':>4} {'step':16} {'records':>9} {'in rows':>9} {'MB':>8} {'sec':>7} {'MB/s':>7}"
            f" {'rec/s':>9} {'rows/s':>9} {'peak MiB':>9}")
    print(head)
    print("-" * len(head))
    for name, size, step, n, mb, r in rows:
        s = r["seconds"]
        print(f"{name:30} {size:>4} {step:16} {r['records']:>9,} {n:>9,} {mb:>8.1f} {s:>7.1f} {mb / s:>7.1f}"
              f" {r['records'] / s:>9,.0f} {n / s:>9,.0f} {r['peak_rss_mib']:>9.0f}")
    xml = {(size, step): r for name, size, step, n, mb, r in rows if name.startswith("USPTO")}
    growth = xml[("10x", "parse")]["peak_rss_mib"] / xml[("1x", "parse")]["peak_rss_mib"]
    print(f"\nXML peak memory, 10x input vs 1x (parse): ×{growth:.2f} (flat = close to 1)")


if __name__ == "__main__":
    main()
