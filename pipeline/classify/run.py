"""The classify stage: industry labels of every publication (rules on the codes, confirmed
or questioned by the text model), and the same for a list a user brings.

:func:`run_stage` is what ``dvc repro`` runs (``patnav classify``): the canonical tables
in, ``classify.out`` (Parquet) and ``classify.metrics`` out. :func:`classify_file` is
``patnav classify FILE``: a CSV / XLSX list in, the list with its labels out.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["run_stage", "classify_file", "label_metrics"]


def _rules_and_model(cp, root: Path):
    from .rules import load_rules
    from .text import load_model

    return load_rules(root / cp.taxonomy), load_model(root / cp.model)


def label_metrics(labels, agreement: dict) -> dict:
    """The stage's figures (DVC metrics): publications labelled, per industry, per source,
    flags, and the rule labels against incoPat's own SEI labels (``agreement``)."""
    counted = labels[labels["flag"].fillna("") != "codes_disagree"]
    return {
        "publications_labelled": int(counted["pub_id"].nunique()),
        "by_industry": counted.groupby("industry")["pub_id"].nunique().to_dict(),
        "by_source": counted["source"].value_counts().sort_index().to_dict(),
        "flags": labels["flag"].value_counts().sort_index().to_dict(),
        # PatNav's rule labels against incoPat's own SEI labels (新兴产业分类), the vendor as reference.
        "vendor_agreement": agreement,
    }


def run_stage(params: dict, root: Path) -> dict:
    """The classify stage: label the canonical tables' publications and write the labels
    (``classify.out``) and their metrics (``classify.metrics``).

    Parameters
    ----------
    params : dict
        :func:`pipeline.config.load_params`.
    root : Path
        The project folder; relative paths of params are taken from it.

    Returns
    -------
    dict
        ``labels`` (rows), ``metrics`` (as written) and the paths ``path``, ``metrics_path``.
    """
    from .. import io
    from .labels import label_patents
    from .text import condition_terms, off_scope_terms

    cp = params["classify"]
    rules, model = _rules_and_model(cp, root)
    tables = io.read_tables(root / params["ingest"].out, names=("patents", "classifications", "source_labels"))
    labels = label_patents(tables["patents"], tables["classifications"], rules, model, cp.labels,
                           condition_terms=condition_terms(rules, root / cp.taxonomy),
                           off_scope=off_scope_terms(root / cp.taxonomy))
    agreement = {}
    if "source_labels" in tables:
        from ..yamlfile import parse_yaml
        from .agreement import vendor_agreement

        agreement = vendor_agreement(tables["patents"], tables["classifications"], tables["source_labels"], rules,
                                     parse_yaml((root / cp.taxonomy).read_text(encoding="utf-8")))
    path = io.write_frame(labels, root / cp.out, "labels")
    metrics = label_metrics(labels, agreement)
    mpath = io.write_json(metrics, root / cp.metrics)
    return {"labels": len(labels), "metrics": metrics, "path": path, "metrics_path": mpath}


def classify_file(params: dict, root: Path, file: Path, out: Path | None = None, *, explain: bool = False) -> dict:
    """Classify a list (CSV / XLSX with a title column; abstract and codes optional) with
    the project's rules and model; write it with the columns industry, branch, confidence
    and reason added (``out``, default ``FILE.classified.csv`` / ``.xlsx``).

    Returns
    -------
    dict
        ``rows``, ``placed`` (rows in a focus industry) and the path ``dest``.
    """
    from .. import io
    from .labels import classify_list

    cp = params["classify"]
    rules, model = _rules_and_model(cp, root)
    df, cols = io.read_list(file)
    out_df = classify_list(df, cols["title"], rules, model, cp.labels, cols["abstract"], cols["ipc"],
                           title_en_col=cols.get("title_en"), abstract_en_col=cols.get("abstract_en"),
                           code_cols=[c for c in (cols.get("ipc_main"), cols.get("cpc")) if c],
                           explain=explain)
    dest = out or file.with_name(f"{file.stem}.classified{'.xlsx' if file.suffix.lower() == '.xlsx' else '.csv'}")
    io.write_export(out_df, dest)
    return {"rows": len(out_df), "placed": out_df["industry"].notna().sum(), "dest": dest}
