"""One number, one source: a report's PDF text against its workbook.

Used by the end-to-end test (tests/test_pipeline_dvc.py) on every sample report, and
runnable alone: ``python -m tests.report.consistency reports/<project>``.
"""

from __future__ import annotations

import re
import subprocess
from collections import Counter
import sys
from pathlib import Path

import pandas as pd

# A number as the reports print it: 2,478 · 0.988 · 123.1% · -0.50
NUMBER = re.compile(r"(?<![\w.])-?\d{1,3}(?:,\d{3})+(?:\.\d+)?%?|(?<![\w.,])-?\d+(?:\.\d+)?%?")


def pdf_text(path: Path) -> str:
    """The PDF's text by ``pdftotext`` (poppler), running header and page numbers left out
    (a paragraph may continue over a page break), whitespace removed (lines wrap anywhere)."""
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True,
                         check=True).stdout
    pages = [[ln for ln in page.splitlines() if ln.strip()] for page in out.split("\f")]
    # Running-header lines: the first lines of a page that recur on at least half the pages.
    tops = Counter(ln for p in pages for ln in set(p[:3]))
    header = {ln for ln, n in tops.items() if n >= max(2, len(pages) // 2)}
    keep = [ln for p in pages for ln in p
            if ln not in header and not re.fullmatch(r"\s*(第\s*\d+\s*页|Page \d+)\s*", ln)]
    return re.sub(r"\s+", "", "".join(keep))


def numbers(text: str) -> list[tuple[float, float]]:
    """(value, tolerance) of every number printed in ``text``: half a unit of its last digit."""
    out = []
    for tok in NUMBER.findall(text):
        pct = tok.endswith("%")
        body = tok.rstrip("%").replace(",", "")
        decimals = len(body.split(".")[1]) if "." in body else 0
        value, tol = float(body), 0.5 * 10 ** -decimals
        if pct:
            value, tol = value / 100, tol / 100
        out.append((value, tol))
    return out


def workbook_values(sheets: dict[str, pd.DataFrame]) -> list[float]:
    """Every number of the workbook's tables and parameters (not its text sheets)."""
    vals: set[float] = set()
    for name, df in sheets.items():
        if name.startswith("text"):
            continue
        for col in df.columns:
            for v in df[col].tolist():
                if isinstance(v, bool) or v is None:
                    continue
                if isinstance(v, (int, float)) and v == v:
                    vals.add(float(v))
                elif isinstance(v, str):
                    vals.update(x for x, _ in numbers(v))
        # Counts a sentence may quote: rows of a table, and column totals
        vals.add(float(len(df)))
        for col in df.select_dtypes("number").columns:
            vals.add(float(df[col].sum()))
    return sorted(vals)


def template_numbers(lang: str) -> set[float]:
    """Numbers written into the wording itself (``text.yaml``: "2021" of the concordance's
    title, "18 months" of the publication lag) — not figures from the data."""
    import yaml

    from pipeline.report.content import TEXT_PATH

    found: set[float] = set()

    def walk(node):
        if isinstance(node, dict):
            if isinstance(node.get(lang), str):
                found.update(v for v, _ in numbers(re.sub(r"\{[^}]*\}", " ", node[lang])))
            for v in node.values():
                walk(v)

    walk(yaml.safe_load(TEXT_PATH.read_text(encoding="utf-8")))
    return found


def check(report_dir: Path) -> list[str]:
    """Problems found in one project's reports: a workbook sentence missing from its PDF,
    or a number in a sentence that no table of the workbook holds."""
    problems = []
    book = next(report_dir.glob("*_tables.xlsx"))
    sheets = pd.read_excel(book, sheet_name=None, engine="openpyxl")
    values = pd.Series(workbook_values(sheets))
    for pdf in sorted(report_dir.glob("*.pdf")):
        lang = pdf.stem.rsplit("_", 1)[1]
        text = pdf_text(pdf)
        literal = template_numbers(lang)
        sentences = sheets.get(f"text_{lang}")
        if sentences is None:
            problems.append(f"{book.name}: no text_{lang} sheet for {pdf.name}")
            continue
        for s in sentences["text"].astype(str):
            if re.sub(r"\s+", "", s) not in text:
                problems.append(f"{pdf.name}: sentence not printed as in the workbook: {s[:80]!r}")
            for value, tol in numbers(s):
                if value in literal:
                    continue
                if not ((values - value).abs() <= tol + 1e-9).any():
                    problems.append(f"{pdf.name}: {value:g} (±{tol:g}) in {s[:80]!r} is in no table")
    return problems


if __name__ == "__main__":
    found = [p for d in sys.argv[1:] for p in check(Path(d))]
    print("\n".join(found) or "consistent")
    sys.exit(1 if found else 0)
