"""Write the text model's test tables of docs/classification.md from metrics/train.json.

    python scripts/train_tables.py            # rewrite the tables between their markers
    python scripts/train_tables.py --check    # exit 1 if the document is out of date

The figures in the document are never typed by hand: `dvc repro` rewrites the metrics,
this script the tables, and a test keeps the two in step.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "classification.md"
METRICS = ROOT / "metrics" / "train.json"
INDUSTRIES = ("it", "manufacturing", "biomedicine", "nev")

# (metrics key, row label) in the order the document shows them.
F1_ROWS = [
    ("exports:en:title+abstract", "exports, English title + abstract"),
    ("us_grants:en:title+abstract", "US grants, English title + abstract"),
    ("by_year:en:title+abstract", "by year, English title + abstract"),
    ("exports:zh:title+abstract", "exports, Chinese title + abstract"),
    ("by_year:zh:title+abstract", "by year, Chinese title + abstract"),
    ("exports:zh:title", "exports, Chinese title only"),
    ("by_year:zh:title", "by year, Chinese title only"),
    ("zh_dev:random:title+abstract", "dev set random, Chinese T + A (hand labels)"),
    ("zh_dev:enriched:title+abstract", "dev set enriched, Chinese T + A (hand labels)"),
    ("zh_dev:random:title", "dev set random, Chinese title only"),
    ("zh_dev:enriched:title", "dev set enriched, Chinese title only"),
]
CEILING_ROWS = [
    ("exports:en:title+abstract", "exports, English T + A"),
    ("exports:zh:title+abstract", "exports, Chinese T + A"),
    ("exports:zh:title", "exports, Chinese title"),
    ("us_grants:en:title+abstract", "US grants, English T + A"),
    ("zh_dev:random:title+abstract", "dev set random, Chinese T + A (hand labels)"),
    ("zh_dev:enriched:title+abstract", "dev set enriched, Chinese T + A (hand labels)"),
]


def f1_table(m: dict) -> str:
    """Macro-F1 with its interval and each industry's F1 (positives) per test."""
    lines = ["| test | n | macro-F1 (95 % CI) | it F1 (pos.) | manufacturing | biomedicine | nev |",
             "|---|---|---|---|---|---|---|"]
    for key, label in F1_ROWS:
        t = m[key]
        lo, hi = t["macro_f1_ci95"]
        cells = [f"{t['per_industry'][i]['f1']:.2f} ({t['per_industry'][i]['support']:.0f})" for i in INDUSTRIES]
        lines.append(f"| {label} | {t['n']:,} | {t['macro_f1']:.2f} ({lo:.2f}–{hi:.2f}) | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def ceiling_table(m: dict) -> str:
    """Macro-F1 at the shipped thresholds beside the test-chosen ceiling, and average precision."""
    lines = ["| test | macro-F1 (validation thresholds) | ceiling (test-chosen thresholds) "
             "| AP it / manuf. / biomed. / nev |", "|---|---|---|---|"]
    for key, label in CEILING_ROWS:
        t = m[key]
        ap = " / ".join(f"{t['average_precision'][i]:.2f}" for i in INDUSTRIES)
        lines.append(f"| {label} | {t['macro_f1']:.2f} | {t['macro_f1_if_thresholds_chosen_on_test']:.2f} | {ap} |")
    return "\n".join(lines)


def render(doc: str, m: dict) -> str:
    """``doc`` with the text between each pair of markers replaced by its table."""
    for name, table in (("f1", f1_table(m)), ("ceiling", ceiling_table(m))):
        pattern = re.compile(rf"(<!-- train-table:{name} -->\n).*?(\n<!-- /train-table:{name} -->)", re.S)
        if not pattern.search(doc):
            raise SystemExit(f"{DOC}: markers <!-- train-table:{name} --> … <!-- /train-table:{name} --> not found")
        doc = pattern.sub(lambda g: g.group(1) + table + g.group(2), doc)
    return doc


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="exit 1 if the tables differ from the metrics")
    args = ap.parse_args(argv)
    doc = DOC.read_text(encoding="utf-8")
    new = render(doc, json.loads(METRICS.read_text(encoding="utf-8")))
    if args.check:
        if new != doc:
            print(f"{DOC} is out of date with {METRICS}: run python scripts/train_tables.py", file=sys.stderr)
            return 1
        return 0
    DOC.write_text(new, encoding="utf-8")
    print(f"tables → {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
