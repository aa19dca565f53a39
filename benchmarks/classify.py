"""Text classifier: prediction speed, training time and peak memory on one core.

    python benchmarks/classify.py [--predict-en 20000] [--predict-zh 5000] [--model-out PATH]

All input is real, from ../shared/data (paths from params.yaml):

* training — the train stage's full training frame
  (:func:`pipeline.classify.train.training_frame`): the canonical tables of the ingest
  stage (``data/interim/canonical``: Chinese exports in Chinese and English, USPTO XML,
  Lens and PatentsView titles), the US grant corpus ``en-text/uspto-latam``, the IPC
  titles in both languages and the taxonomy's texts, labelled as the train stage labels
  them (rules on codes, plus incoPat's SEI labels). One fit of the shipped model's
  configuration (params.yaml ``train.model``), timed.
* English prediction input — title + abstract of the 12,402 US grants of the corpus,
  **replicated** to ``--predict-en`` texts; Chinese — the Chinese title + abstract of the
  exports (canonical ``patents``), the KPPatent-ZH title + abstract records and the dev set,
  **replicated** to ``--predict-zh`` texts.

Targets (one core): English ≥ 5,000 and Chinese ≥ 2,000 title+abstract texts/s; training on
the full real data ≤ 3 min. Each measurement runs in a fresh child process (pinned with
``taskset -c 0`` when available), so its peak RSS is its own. The evaluation figures are
the train stage's (``patnav train`` → metrics/train.json).
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


# ------------------------------------------------------------------------------ data


def params() -> dict:
    """The project's params.yaml, as the pipeline reads it."""
    from pipeline.config import load_params

    return load_params(ROOT / "params.yaml")


def full_training_frame(out: Path) -> int:
    """The train stage's training frame of the real data, with its training labels, as Parquet."""
    from pipeline import io
    from pipeline.classify.corpus import read_uspto_latam
    from pipeline.classify.rules import load_rules
    from pipeline.classify.text import load_ipc_titles
    from pipeline.classify.train import training_frame, with_vendor_labels

    pr = params()
    tp, cp = pr["train"], pr["classify"]
    tables = io.read_tables(ROOT / pr["ingest"].out)
    ts = training_frame(tables["patents"], tables["classifications"], load_rules(ROOT / cp.taxonomy),
                        load_ipc_titles(ROOT / tp.ipc_titles_zh, ROOT / tp.ipc_titles_en),
                        latam=read_uspto_latam(ROOT / tp.en_text), source_labels=tables.get("source_labels"),
                        taxonomy=ROOT / cp.taxonomy)
    ts = with_vendor_labels(ts, (tp.evaluation or {}).get("vendor_labels", "union"))
    ts.drop(columns=[c for c in ts.columns if c.startswith("vendor_")]).to_parquet(out, index=False)
    return len(ts)


def english_texts(ts_path: Path) -> list[str]:
    import pandas as pd

    ts = pd.read_parquet(ts_path)
    return ts.loc[(ts["source"] == "uspto_latam") & ts["has_abstract"], "text"].tolist()


def chinese_texts(ts_path: Path) -> list[str]:
    import re

    import pandas as pd

    ts = pd.read_parquet(ts_path)
    out = ts.loc[(ts["lang"] == "zh") & ts["has_abstract"].astype(bool), "text"].tolist()
    for rec in json.loads((SHARED / "cn-text" / "test_data_TAC.json").read_text(encoding="utf-8")):
        inp = rec["input"]
        title = re.search(r"标题：(.*)", inp)
        abstract = re.search(r"摘要：(.*)", inp)
        text = "\n".join(m.group(1).strip() for m in (title, abstract) if m)
        if text:
            out.append(text)
    return out


# ------------------------------------------------------------------------------ children


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _measure_train(ts_path: str, model_out: str) -> dict:
    import pandas as pd

    from pipeline.classify.evaluation import fit_model
    from pipeline.classify.text import save_model

    tp = params()["train"]
    ts = pd.read_parquet(ts_path)
    start = time.perf_counter()
    model = fit_model(ts, random_state=tp.random_state, **dict(tp.model or {}))
    secs = time.perf_counter() - start
    real = ~ts["source"].isin(["ipc_titles", "taxonomy"])
    out = {"texts": len(ts), "real_texts": int(real.sum()), "seconds": secs, "peak_rss_mib": _peak_mib(),
           "features": {k: int(v) for k, v in model.n_features_.items()}}
    if model_out:
        save_model(model, model_out)
        out["model_mib"] = Path(model_out).stat().st_size / 2**20
    return out


def _measure_predict(model_path: str, texts_path: str, n: int) -> dict:
    import numpy as np

    from pipeline.classify.text import load_model

    start = time.perf_counter()
    model = load_model(model_path)
    load_s = time.perf_counter() - start
    base = json.loads(Path(texts_path).read_text(encoding="utf-8"))
    texts = [base[i] for i in np.resize(np.arange(len(base)), n)]
    model.predict_proba(texts[:50])  # warm-up: tokenizer and jieba dictionary load
    start = time.perf_counter()
    model.predict_proba(texts)
    secs = time.perf_counter() - start
    return {"records": n, "seconds": secs, "load_seconds": load_s, "peak_rss_mib": _peak_mib(),
            "chars_per_text": float(np.mean([len(t) for t in texts]))}


def run_child(func: str, *args) -> dict:
    code = (f"import json,sys; sys.path.insert(0,{str(ROOT)!r}); from benchmarks.classify import {func}; "
            f"print(json.dumps({func}(*{args!r})))")
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    from shutil import which

    # taskset pins the child to one core: the targets are per core.
    cmd = (["taskset", "-c", "0"] if which("taskset") else []) + [sys.executable, "-c", code]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
    if out.returncode:
        raise RuntimeError(f"{func} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def machine_line() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem = next(int(x.split()[1]) for x in Path("/proc/meminfo").read_text().splitlines()
                   if x.startswith("MemTotal")) / 2**20
    except (OSError, StopIteration):
        mem = float("nan")
    import sklearn

    return (f"machine: {cpu}, {os.cpu_count()} cores, {mem:.0f} GiB RAM, Python {platform.python_version()}, "
            f"scikit-learn {sklearn.__version__}, {platform.platform()}")


# ------------------------------------------------------------------------------ main


def speed(args) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="patnav-bench-classify-"))
    ts_path = tmp / "training.parquet"
    print(machine_line())
    n = full_training_frame(ts_path)
    model_path = args.model_out or str(tmp / "model.skops")
    t = run_child("_measure_train", str(ts_path), model_path)
    print(f"training on the full real data: {t['texts']:,} texts ({t['real_texts']:,} real records' texts, the rest "
          f"IPC titles and taxonomy texts) in {t['seconds']:.1f} s on one core (target ≤ 180 s), "
          f"peak RSS {t['peak_rss_mib']:.0f} MiB, features {t['features']}, model file {t.get('model_mib', 0):.1f} MiB")
    for lang, texts, n_pred, target in (("English", english_texts(ts_path), args.predict_en, 5000),
                                        ("Chinese", chinese_texts(ts_path), args.predict_zh, 2000)):
        path = tmp / f"{lang}.json"
        path.write_text(json.dumps(texts, ensure_ascii=False), encoding="utf-8")
        r = run_child("_measure_predict", model_path, str(path), n_pred)
        rate = r["records"] / r["seconds"]
        print(f"{lang} title+abstract: {r['records']:,} texts ({len(texts):,} real, replicated; "
              f"{r['chars_per_text']:.0f} characters each) predicted in {r['seconds']:.2f} s = {rate:,.0f} texts/s "
              f"on one core (target ≥ {target:,}), model load {r['load_seconds']:.1f} s, peak RSS {r['peak_rss_mib']:.0f} MiB")
    if not args.keep:
        for f in tmp.iterdir():
            if str(f) != model_path:
                f.unlink()
    print(f"(n = {n:,} training texts; inputs in {tmp if args.keep else 'a removed temporary folder'})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--predict-en", type=int, default=20_000)
    ap.add_argument("--predict-zh", type=int, default=5_000)
    ap.add_argument("--model-out", help="keep the model trained on the full real data here (.skops)")
    ap.add_argument("--keep", action="store_true", help="keep the generated inputs")
    args = ap.parse_args()
    speed(args)


if __name__ == "__main__":
    main()
