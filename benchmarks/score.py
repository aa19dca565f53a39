"""Score stage at scale: 1M GENERATED patents scored, time and peak memory.

    python benchmarks/score.py [--patents 1000000] [--skip-stage]

ALL DATA HERE IS GENERATED (not real). The generator follows the shape of the bundled
sample's canonical tables: CN/US/JP/EP/KR publications 2000–2024 (invention 80 %,
utility model 15 %, design 5 %), 1–6 IPC codes per patent drawn from 400 subclasses /
4,000 main groups, log-normal reference lists citing earlier generated patents (mean 6),
claims log-normal (mean ≈ 15), families of 1–4 offices, legal status for CN records
(有效/失效/审中), one or two applicants from 50,000 applicant names with Chinese
provinces/cities/districts, two to three inventors each, and industry/branch labels for
≈ 45 % of the patents.

Steps timed, each in its own child process (peak RSS its own), pinned to one core:
``patents`` — per-patent indicators, cohort normalisation, composite index and CNIPA
flags (the target: ≤ 30 s at 1M); ``stage`` — the whole :func:`pipeline.score.run.score`
(adds portfolios, regions, concentration and inventor disambiguation + metrics; the
target: ≤ 140 s and ≤ 6 GB peak at 1M, issue 16). Time every run under
``flock /tmp/patnav-bench.lock`` on a shared machine, so that benchmarks do not overlap.
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
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PROVINCES = [("重庆市", "重庆市", ["江北区", "渝北区", "九龙坡区", "沙坪坝区"]),
             ("四川省", "成都市", ["武侯区", "高新区", "锦江区"]),
             ("广东省", "深圳市", ["南山区", "福田区", "宝安区"]),
             ("江苏省", "苏州市", ["工业园区", "吴中区"]),
             ("北京市", "北京市", ["海淀区", "朝阳区"])]
BRANCHES = {"nev": ["nev.vehicles", "nev.components", "nev.infrastructure", "nev.intelligent"],
            "it": ["it.ai", "it.cloud_bigdata", "it.network"],
            "manufacturing": ["manufacturing.equipment"],
            "biomedicine": ["biomedicine.pharma", "biomedicine.devices"]}


def generate(n: int, seed: int = 0) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """GENERATED canonical tables and labels for ``n`` patents (vectorised)."""
    rng = np.random.default_rng(seed)
    country = rng.choice(["CN", "US", "JP", "EP", "KR"], n, p=[0.55, 0.25, 0.1, 0.05, 0.05])
    ids = pd.Series(np.char.add(np.char.add(country.astype("U2"), np.arange(n).astype("U9")), "A"))
    ptype = rng.choice(["invention", "utility_model", "design"], n, p=[0.8, 0.15, 0.05])
    app = pd.to_datetime("2000-01-01") + pd.to_timedelta(np.sort(rng.integers(0, 25 * 365, n)), unit="D")
    pub = app + pd.to_timedelta(rng.integers(180, 720, n), unit="D")
    granted = rng.random(n) < 0.6
    grant = pd.Series(pub + pd.to_timedelta(rng.integers(200, 1500, n), unit="D")).where(granted)
    fam = rng.integers(0, n // 2, n)
    status = np.where(country == "CN", rng.choice(["有效", "失效", "审中"], n, p=[0.5, 0.35, 0.15]), None)
    patents = pd.DataFrame({
        "pub_id": ids, "doc_key": ids.str[:-1], "country": country, "pub_number": ids.str[2:-1], "kind": "A",
        "patent_type": ptype, "app_id": ids.str[:-1] + "X", "app_date": app.date, "pub_date": pub.date,
        "grant_date": grant.dt.date, "earliest_priority_date": app.date,
        "claims_count": pd.array(np.maximum(1, rng.lognormal(2.5, 0.6, n)).astype(int), dtype="Int64"),
        "family_id": pd.Series(fam).astype(str).radd("F"),
        "family_size": pd.array(rng.integers(1, 5, n), dtype="Int64"), "legal_status": status,
        "cited_by_count": pd.array([pd.NA] * n, dtype="Int64"),
        "pct_app": np.where(rng.random(n) < 0.08, "PCT/CN2020/000001", None), "wo_pub": None,
        "sources": "generated", "provenance": "generated:benchmark",
    })
    k = rng.integers(1, 7, n)
    pid = np.repeat(np.arange(n), k)
    mg = rng.zipf(1.6, len(pid)) % 4000
    sub = np.char.add("H0", (mg % 400).astype("U3"))
    classifications = pd.DataFrame({"pub_id": ids.to_numpy()[pid], "scheme": "IPC", "subclass": sub,
                                    "main_group": np.char.add(sub, (mg // 400).astype("U2")),
                                    "symbol": np.char.add(sub, "1/00"), "is_main": np.r_[True, pid[1:] != pid[:-1]],
                                    "seq": 0, "source": "generated"})
    refs = np.minimum(np.floor(rng.lognormal(np.log(6) - 0.4, 0.9, n)).astype(int), np.arange(n))
    cit_src = np.repeat(np.arange(n), refs)
    lag = np.floor(rng.lognormal(np.log(max(n, 10) / 40), 1.4, len(cit_src))).astype(np.int64) + 1
    cit_dst = np.where(cit_src - lag >= 0, cit_src - lag, (rng.random(len(cit_src)) * cit_src).astype(np.int64))
    citations = pd.DataFrame({"pub_id": ids.to_numpy()[cit_src], "seq": 0, "resolved_pub_id": ids.to_numpy()[cit_dst],
                              "cited_raw": ids.to_numpy()[cit_dst], "category": "examiner", "source": "generated"})
    napp = rng.integers(1, 3, n)
    app_pid = np.repeat(np.arange(n), napp)
    names = rng.zipf(1.3, len(app_pid)) % 50_000
    prov = rng.integers(0, len(PROVINCES), len(app_pid))
    dist = rng.integers(0, 2, len(app_pid))
    applicants = pd.DataFrame({
        "pub_id": ids.to_numpy()[app_pid], "role": "applicant", "seq": 0,
        "name_raw": np.char.add("企业", names.astype("U6")), "name_norm": np.char.add("企业", names.astype("U6")),
        "party_type": "enterprise", "country": "CN", "province": [PROVINCES[i][0] for i in prov],
        "city": [PROVINCES[i][1] for i in prov], "district": [PROVINCES[i][2][d] for i, d in zip(prov, dist, strict=True)],
        "source": "generated"})
    ninv = rng.integers(2, 4, n)
    inv_pid = np.repeat(np.arange(n), ninv)
    inv_names = rng.integers(0, 300_000, len(inv_pid))
    inventors = pd.DataFrame({
        "pub_id": ids.to_numpy()[inv_pid], "role": "inventor",
        "seq": np.arange(len(inv_pid)) - np.repeat(np.cumsum(ninv) - ninv, ninv),
        "name_raw": np.char.add("发明人", inv_names.astype("U6")), "name_norm": np.char.add("发明人", inv_names.astype("U6")),
        "party_type": "individual", "country": "CN", "province": None, "city": None, "district": None,
        "source": "generated"})
    parties = pd.concat([applicants, inventors], ignore_index=True)
    labelled = np.flatnonzero(rng.random(n) < 0.45)
    ind = rng.choice(list(BRANCHES), len(labelled))
    branch = [BRANCHES[i][j % len(BRANCHES[i])] for i, j in zip(ind, rng.integers(0, 4, len(labelled)), strict=True)]
    labels = pd.DataFrame({"pub_id": ids.to_numpy()[labelled], "industry": ind, "branch": branch, "source": "rule",
                           "confidence": 1.0, "flag": None, "rule_id": "gen", "explanation": "generated"})
    empty = {"npl": pd.DataFrame({"pub_id": pd.Series(dtype=str)}),
             "events": pd.DataFrame({"pub_id": pd.Series(dtype=str), "event_type": pd.Series(dtype=str),
                                     "event_date": pd.Series(dtype="datetime64[s]"), "amount": pd.Series(dtype=float)})}
    return {"patents": patents, "classifications": classifications, "citations": citations, "parties": parties,
            **empty}, labels


def _measure(folder: str, what: str) -> dict:
    from pipeline.score import indicators as ind
    from pipeline.score import run as sc
    from pipeline.score import value as val

    folder = Path(folder)
    tables = {t: pd.read_parquet(folder / f"{t}.parquet") for t in
              ("patents", "classifications", "citations", "parties", "npl", "events")}
    labels = pd.read_parquet(folder / "labels.parquet")
    params = sc.ScoreParams()
    start = time.perf_counter()
    steps = {}
    if what == "patents":
        t0 = time.perf_counter()
        indicators = ind.patent_indicators(tables["patents"], tables["classifications"], tables["citations"],
                                           tables["npl"], tables["events"], as_of=params.as_of_date)
        steps["indicators"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        counted, primary = sc.primary_labels(labels)
        values = indicators.merge(primary, on="pub_id", how="left")
        names = list(params.weights)
        numeric = values[names].apply(pd.to_numeric, errors="coerce").astype(float)
        norm = val.cohort_normalise(values[["pub_id", "year", "industry", "branch"]].join(numeric), names)
        steps["cohort normalisation"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        val.composite_index(norm, params.weights)
        steps["composite index"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        val.cnipa_high_value(tables["patents"], counted, as_of=params.as_of_date, events=tables["events"])
        steps["CNIPA flags"] = time.perf_counter() - t0
        n = len(indicators)
    else:
        out = sc.score(tables, labels, params, references=sc.read_references(params, ROOT))
        n = len(out["patents"])
        steps = {"whole stage": time.perf_counter() - start}
    return {"patents": n, "seconds": time.perf_counter() - start, "steps": steps,
            "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def _run_child(folder: Path, what: str) -> dict:
    code = (f"import json,sys; sys.path.insert(0,{str(ROOT)!r}); import benchmarks.score as b; "
            f"print(json.dumps(b._measure({str(folder)!r},{what!r})))")
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    from shutil import which

    cmd = ["taskset", "-c", "0"] if which("taskset") else []
    out = subprocess.run([*cmd, sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env,
                         cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--patents", type=int, default=1_000_000)
    ap.add_argument("--skip-stage", action="store_true", help="time only the per-patent scoring")
    args = ap.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{platform.platform()}; one core per run (taskset)")
    print("data: GENERATED (see the module docstring), not real\n")
    t0 = time.perf_counter()
    tables, labels = generate(args.patents)
    with tempfile.TemporaryDirectory(prefix="patnav-score-") as tmp:
        for name, df in tables.items():
            df.to_parquet(Path(tmp) / f"{name}.parquet", index=False)
        labels.to_parquet(Path(tmp) / "labels.parquet", index=False)
        rows = {k: len(v) for k, v in tables.items()}
        print(f"generated in {time.perf_counter() - t0:.1f} s: " + ", ".join(f"{k} {v:,}" for k, v in rows.items())
              + f", labels {len(labels):,}\n")
        del tables, labels
        for what in ("patents",) if args.skip_stage else ("patents", "stage"):
            r = _run_child(Path(tmp), what)
            steps = ", ".join(f"{k} {v:.1f} s" for k, v in r["steps"].items())
            print(f"{what:9} {r['patents']:>10,} patents  {r['seconds']:7.1f} s  "
                  f"{r['patents'] / r['seconds']:>9,.0f} patents/s  peak {r['peak_rss_mib']:,.0f} MiB  ({steps})")


if __name__ == "__main__":
    main()
