"""Main paths and clusters of a project's own part of the citation network."""

import pandas as pd

from pipeline.network.run import subset_clusters, subset_main_paths

CLUSTERS = {"similarity": "coupling", "method": "leiden", "resolution": 1.0, "min_shared": 1, "min_size": 3, "seed": 0}


def _edges():
    # Battery patents A, B, C share references X and Y; drone patents D, E, F share P and Q;
    # Z (outside the project) cites X only.
    rows = [(c, r) for c in "ABC" for r in "XY"] + [(c, r) for c in "DEF" for r in "PQ"] + [("Z", "X")]
    return pd.DataFrame(rows, columns=["citing", "cited"])


def test_subset_clusters_are_the_projects_own_and_labelled_from_their_titles():
    e = _edges()
    scope = list("ABCDEF")
    keep = e["citing"].isin(scope)
    pats = pd.DataFrame({"pub_id": list("ABCDEF"), "filing_year": 2020,
                         "title": ["lithium battery cell", "lithium battery pack", "battery lithium anode",
                                   "drone rotor blade", "drone rotor arm", "rotor drone frame"]})
    cls = pd.DataFrame({"pub_id": list("ABCDEF"), "main_group": ["H01M10"] * 3 + ["B64C27"] * 3})
    out = subset_clusters(e, keep, CLUSTERS, cls, pats, scope_ids=scope, lang="en")
    assert sorted(out["size"].tolist()) == [3, 3] and out["in_scope"].tolist() == [3, 3]
    labels = sorted(out["label"].tolist())
    assert labels[0].startswith("B64C27") and "drone" in labels[0] and "rotor" in labels[0]
    assert labels[1].startswith("H01M10") and "battery" in labels[1] and "lithium" in labels[1]
    # Z is not in the project: its edge is not used, so no cluster holds it.
    assert subset_clusters(e, e["citing"] == "Z", CLUSTERS, cls, pats, scope_ids=scope).empty


def test_subset_main_path_uses_only_the_kept_edges():
    e = pd.DataFrame({"citing": ["B", "C", "Z"], "cited": ["A", "B", "Y"]})
    got = subset_main_paths(e, e["citing"] != "Z", k=1)
    assert got[got["path"] == "global"][["citing", "cited"]].values.tolist() == [["B", "A"], ["C", "B"]]
    assert subset_main_paths(e, [False] * 3).empty
