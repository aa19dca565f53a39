"""Text classifier: prediction speed, training time and peak memory on one core.

    python benchmarks/classify.py [--train-records 100000] [--predict-en 20000]
                                  [--predict-zh 5000] [--model-out models/text.skops]
    python benchmarks/classify.py --evaluate      # the evaluation figures (≈ 15 min)

Data (all real, from ../shared/data):

* training set — the canonical tables of the ingest stage (``data/interim/canonical``, or
  the inputs of params.yaml ``ingest.input`` under ../shared/data ingested on the fly) plus
  the USPTO XML slices of ``../shared/data/uspto-xml`` (the only real English records with
  abstracts), labelled by the taxonomy rules; plus the IPC titles in both languages
  (``../shared/data/ipc``). Records from Chinese exports (``cn_export``) are left out, so
  that Chinese is learnt from IPC titles and taxonomy keywords only (section C).
* Chinese dev set — the project's hand-labelled real Chinese texts, params.yaml
  ``train.cn_dev`` (``../shared/data/cn-text/cn_dev_labelled.csv``).
* English prediction input — the title + abstract of the real USPTO grants, **replicated**
  to ``--predict-en`` texts; Chinese — title + abstract (KPPatent-ZH ``test_data_TAC``)
  and abstracts (``data_A``), **replicated** to ``--predict-zh`` texts.
* training time on ``--train-records`` texts — the real labelled records **replicated**;
  the time of the actual training set (records + IPC titles) is printed too.

Targets (one core): English ≥ 5,000 records/s; training on 100k records ≤ 2 min.
Each measurement runs in a fresh child process (pinned with ``taskset -c 0`` when
available) so that its peak RSS is its own.
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


def load_records():
    """Real records with codes: the ingest stage's canonical tables + shared USPTO XML."""
    import pandas as pd

    from pipeline.ingest.run import ingest

    canon = ROOT / "data" / "interim" / "canonical"
    if (canon / "patents.parquet").is_file():
        sample = {t: pd.read_parquet(canon / f"{t}.parquet") for t in ("patents", "classifications")}
    else:
        ing = params()["ingest"]  # the ingest stage's inputs, under ../shared/data
        sample = ingest([ROOT / i for i in ing.input], limits=ing.limits, batch_size=ing.batch_size,
                        relative_to=ROOT, skip=ing.skip).tables
    xml = ingest([SHARED / "uspto-xml"]).tables
    p = pd.concat([sample["patents"], xml["patents"]], ignore_index=True).drop_duplicates("pub_id")
    c = pd.concat([sample["classifications"], xml["classifications"]], ignore_index=True)
    c = c.drop_duplicates(["pub_id", "scheme", "symbol"])
    cn_export = p["sources"].astype(str).str.contains("cn_export")
    return p[~cn_export], c[c["pub_id"].isin(p.loc[~cn_export, "pub_id"])]


def training_set(**kw):
    """The labelled training frame (records + IPC titles), built as the pipeline would."""
    from pipeline.classify import rules as R
    from pipeline.classify.text import build_training_set, condition_terms, load_ipc_titles

    p, c = load_records()
    rules = R.load_rules()
    titles = load_ipc_titles(SHARED / "ipc" / "ipc_titles_zh.tsv", SHARED / "ipc" / "ipc_titles_en.tsv.gz")
    kw.setdefault("condition_terms", condition_terms(rules))
    return build_training_set(p, R.rule_labels(c, rules), titles, classifications=c,
                              title_labels=R.symbol_labels(titles["symbol"], rules), **kw)


def chinese_texts() -> list[str]:
    import re

    out = []
    for name in ("test_data_TAC.json", "data_A.json"):
        for rec in json.loads((SHARED / "cn-text" / name).read_text(encoding="utf-8")):
            inp = rec["input"]
            title = re.search(r"标题：(.*)", inp)
            abstract = re.search(r"摘要：(.*)", inp)
            text = "\n".join(m.group(1).strip() for m in (title, abstract) if m)
            if text:
                out.append(text)
    return out


def params() -> dict:
    """The project's params.yaml, as the pipeline reads it."""
    from pipeline.config import load_params

    return load_params(ROOT / "params.yaml")


def dev_set():
    """The hand-labelled Chinese dev set: params.yaml ``train.cn_dev`` (in ../shared/data/cn-text)."""
    import pandas as pd

    dev = pd.read_csv(ROOT / params()["train"].cn_dev)
    dev["text"] = dev["title"] + "\n" + dev["abstract"].fillna("")
    dev["lang"] = "zh"
    return dev


# ------------------------------------------------------------------------------ children


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _measure_train(ts_path: str, n_records: int, model_out: str) -> dict:
    import numpy as np
    import pandas as pd

    from pipeline.classify.evaluation import fit_model
    from pipeline.classify.text import save_model

    ts = pd.read_parquet(ts_path)
    if n_records:  # replicated real records only; negative n: those with an abstract only
        real = ts[~ts["source"].isin(["ipc_titles", "taxonomy"])]
        if n_records < 0:
            real = real[real["text"].str.contains("\n")]
        real = real.reset_index(drop=True)
        ts = real.iloc[np.resize(np.arange(len(real)), abs(n_records))].reset_index(drop=True)
    start = time.perf_counter()
    model = fit_model(ts)
    secs = time.perf_counter() - start
    out = {"records": len(ts), "seconds": secs, "peak_rss_mib": _peak_mib(),
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
    try:
        import pandas as pd

        from pipeline.classify.text import taxonomy_texts

        t0 = time.perf_counter()
        ts = pd.concat([training_set(), taxonomy_texts()], ignore_index=True)
        ts_path = tmp / "train.parquet"
        ts.to_parquet(ts_path)
        en = ts.loc[ts["source"] == "uspto_xml", "text"].tolist()
        (tmp / "en.json").write_text(json.dumps(en, ensure_ascii=False), encoding="utf-8")
        (tmp / "zh.json").write_text(json.dumps(chinese_texts(), ensure_ascii=False), encoding="utf-8")
        n_real = int((~ts["source"].isin(["ipc_titles", "taxonomy"])).sum())
        n_titles = int((ts["source"] == "ipc_titles").sum())
        print(f"training set built in {time.perf_counter() - t0:.0f} s: {len(ts):,} texts "
              f"({n_real:,} real records with codes, {n_titles:,} IPC titles, "
              f"{len(ts) - n_real - n_titles:,} taxonomy keywords/descriptions)\n")

        model_path = str(Path(args.model_out).resolve()) if args.model_out else str(tmp / "text.skops")
        rows = []
        r = run_child("_measure_train", str(ts_path), 0, model_path)
        rows.append(("train: actual training set (records + IPC titles)", r))
        r = run_child("_measure_train", str(ts_path), args.train_records, "")
        rows.append((f"train: {args.train_records:,} REPLICATED real records (as they come)", r))
        r = run_child("_measure_train", str(ts_path), -args.train_records, "")
        rows.append((f"train: {args.train_records:,} REPLICATED title+abstract records", r))
        r = run_child("_measure_predict", model_path, str(tmp / "en.json"), args.predict_en)
        rows.append(("predict: English title+abstract (REPLICATED)", r))
        r = run_child("_measure_predict", model_path, str(tmp / "zh.json"), args.predict_zh)
        rows.append(("predict: Chinese title+abstract (REPLICATED)", r))
    finally:
        if not args.keep:
            import shutil

            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print(f"inputs kept in {tmp}")

    head = f"{'measurement':58} {'texts':>8} {'sec':>7} {'texts/s':>9} {'peak MiB':>9}"
    print(head)
    print("-" * len(head))
    for name, r in rows:
        print(f"{name:58} {r['records']:>8,} {r['seconds']:>7.1f} {r['records'] / r['seconds']:>9,.0f}"
              f" {r['peak_rss_mib']:>9.0f}")
    train = rows[0][1]
    print(f"\nmodel: {train.get('model_mib', float('nan')):.1f} MiB (skops), features {train['features']}; "
          f"load {rows[3][1]['load_seconds']:.1f} s")
    print(f"mean text length: English {rows[3][1]['chars_per_text']:.0f} chars, "
          f"Chinese {rows[4][1]['chars_per_text']:.0f} chars")
    print("targets: English ≥ 5,000 texts/s; 100k records trained ≤ 120 s (one core)")


def evaluation(args) -> None:
    """Every figure reported for the model, from the hold-outs described in the output."""
    import pandas as pd

    from pipeline.classify.evaluation import (best_thresholds, bootstrap_f1, cross_fitted_thresholds, evaluate,
                                              fit_model, holdout_by_source, holdout_by_year, oof_probabilities,
                                              reliability, score_predictions, scores_table)
    from pipeline.classify.text import INDUSTRIES, taxonomy_texts

    inds = list(INDUSTRIES)
    pd.set_option("display.width", 200)
    base = training_set()
    ts = pd.concat([base, taxonomy_texts()], ignore_index=True)
    print("training set: rule labels with the SEI text conditions checked, bare-subclass-only labels dropped; "
          "positives per industry:")
    g = ts.groupby(["source", "lang"])
    summary = g[inds].sum()
    summary["texts"] = g.size()
    print(summary.to_string(), "\n")

    def report(title, model, test, lang="en", ci=True):
        res = evaluate(model, test)
        if lang not in res:
            return None
        print(f"--- {title}  [n={res[lang]['n']}]")
        print(scores_table(res, lang).to_string())
        if ci:
            sub = test[test["lang"] == lang].reset_index(drop=True)
            print("95% bootstrap CI of F1:", bootstrap_f1(sub, model.predict(sub["text"].tolist())))
        print()
        return res

    # A. Source hold-out: test = USPTO XML grants (title + abstract), 2005-2013.
    train, test = holdout_by_source(ts, ["uspto_xml"])
    print("=== A. source hold-out: train = Lens + PatentsView records (titles) + IPC titles + taxonomy keywords; "
          "test = USPTO XML grants 2005-2013, title + abstract (a source never seen in training)")
    oof = oof_probabilities(train)
    th = best_thresholds(train.loc[oof.index], oof)
    print("thresholds chosen on out-of-fold probabilities of the training records:", th)
    print("reliability, out-of-fold training records:")
    print(reliability(train.loc[oof.index], oof).to_string(), "\n")
    model = fit_model(train)
    report("A at thresholds 0.5", model, test)
    model.set_params(thresholds=th)
    report("A at the out-of-fold thresholds", model, test)
    report("A, titles only", model, test.assign(text=test["text"].str.split("\n").str[0]), ci=False)
    codes_only = training_set(condition_terms=None)
    codes_only = codes_only[codes_only["source"] == "uspto_xml"]
    report("A, truth = codes alone (SEI text conditions not checked)", model, codes_only, ci=False)
    print("reliability on the test records:")
    print(reliability(test, model.predict_proba(test["text"].tolist())).to_string(), "\n")
    two = fit_model(train, per_language=True).set_params(thresholds=th)
    report("A, two models (one per language)", two, test, ci=False)

    # B. Year hold-out over all real English records (mostly titles).
    last = args.last_train_year
    train_b, test_b = holdout_by_year(ts, last)
    print(f"=== B. year hold-out: train = records published <= {last} + IPC titles + keywords; test = records "
          f"published > {last} (Lens, PatentsView: titles; USPTO XML: title + abstract)")
    model_b = fit_model(train_b).set_params(thresholds=th)
    report("B, all test records, thresholds of A", model_b, test_b)
    for src in sorted(test_b["source"].unique()):
        report(f"B, test source {src}", model_b, test_b[test_b["source"] == src], ci=False)

    # C. Chinese dev set (hand-labelled real text) with the production model.
    print("=== C. Chinese: hand-labelled dev set (../shared/data/cn-text/cn_dev_labelled.csv; 200 random + 55 "
          "enriched records); model trained on all records + IPC titles + keywords. Chinese-export records are "
          "left out of training: Chinese is learnt from Chinese IPC titles and taxonomy keywords only")
    oof_all = oof_probabilities(ts)
    th_en = best_thresholds(ts.loc[oof_all.index], oof_all)
    print("English thresholds (out-of-fold, all real records):", th_en, "\n")
    dev = dev_set()
    random_200 = dev["note"].str.startswith("random")
    clear = ~dev["note"].str.contains("amb:")
    for name, p in (("one model", {}), ("two models", {"per_language": True})):
        m = fit_model(ts, **p)
        m.set_params(thresholds=th_en)
        report(f"C, {name}, English thresholds, all 255", m, dev, lang="zh", ci=False)
        proba = m.predict_proba(dev["text"].tolist())
        pred, chosen = cross_fitted_thresholds(dev[inds], proba)
        for stratum, mask in (("all 255", slice(None)), ("random 200", random_200), ("unambiguous", clear)):
            d = dev[mask].reset_index(drop=True)
            p_ = pred[mask].reset_index(drop=True)
            res = score_predictions(d, p_, lang="zh")
            print(f"--- C, {name}, thresholds cross-fitted on the dev set (2 folds), {stratum}  [n={len(d)}]")
            print(scores_table(res, "zh").to_string())
            if stratum != "unambiguous":
                print("95% bootstrap CI of F1:", bootstrap_f1(d, p_))
            print()
        print("thresholds chosen per fold:", chosen)
        print("reliability on the dev set:")
        print(reliability(dev, proba).to_string(), "\n")
        if name == "one model":
            th_zh = best_thresholds(dev[inds], proba)
    print("suggested params.yaml classify.thresholds:", {"en": th_en, "zh": th_zh},
          "(zh chosen on the whole dev set: it is then no longer an unbiased test of them)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--train-records", type=int, default=100_000)
    ap.add_argument("--predict-en", type=int, default=20_000)
    ap.add_argument("--predict-zh", type=int, default=5_000)
    ap.add_argument("--model-out", help="also keep the model trained on the actual training set here (.skops)")
    ap.add_argument("--keep", action="store_true", help="keep the generated inputs")
    ap.add_argument("--evaluate", action="store_true", help="print the evaluation figures instead of speed")
    ap.add_argument("--last-train-year", type=int, default=2012, help="year hold-out boundary (--evaluate)")
    args = ap.parse_args()
    print(machine_line())
    print("inputs: real records from ../shared/data; "
          "every 'REPLICATED' figure repeats real texts (not new data)\n")
    evaluation(args) if args.evaluate else speed(args)


if __name__ == "__main__":
    main()
