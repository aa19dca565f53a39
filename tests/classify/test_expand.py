"""Landscape expansion (seed / anti-seed) on tiny hand-made cases and on the sample."""

import pandas as pd

from pipeline.config import ExpandParams
from pipeline.project import SearchStrategy
from pipeline.classify.expand import (anti_seeds, expand, landscape_set,
                                      precision_recall, prune, seed_set)


def _toy():
    patents = pd.DataFrame({
        "pub_id": ["a", "b", "c", "d", "e", "f"],
        "title": ["Lithium battery cell", "Battery pack cooling", "Hand hoe", "Battery charger", "Seed drill", "Plough"],
        "abstract": ["A lithium-ion battery.", "Cooling of battery packs.", "A garden hoe.", "Charging batteries.",
                     "Drilling seeds.", "A plough."],
    })
    cls = pd.DataFrame({
        "pub_id": ["a", "b", "c", "d", "e"],
        "symbol": ["H01M10/0525", "H01M10/613", "A01B1/06", "H02J7/00", "A01C7/00"],
        "subclass": ["H01M", "H01M", "A01B", "H02J", "A01C"],
        "main_group": ["H01M10", "H01M10", "A01B1", "H02J7", "A01C7"],
    })
    cit = pd.DataFrame({"pub_id": ["d", "f"], "resolved_pub_id": ["a", "c"]})
    return patents, cls, cit


def test_seeds_from_keywords_codes_and_list():
    patents, cls, _ = _toy()
    assert seed_set(patents, cls, SearchStrategy(keywords=("LITHIUM",))).tolist() == ["a"]
    assert seed_set(patents, cls, SearchStrategy(codes=("H01M10*",))).tolist() == ["a", "b"]
    assert seed_set(patents, cls, SearchStrategy(codes=("H01M10/613",))).tolist() == ["b"]
    assert seed_set(patents, cls, SearchStrategy(codes=("A01B",))).tolist() == ["c"]  # bare subclass = A01B*
    assert seed_set(patents, cls, SearchStrategy(seeds=("e", "zz"))).tolist() == ["e"]  # unknown ids dropped
    assert not SearchStrategy()


def test_expansion_levels_hand_computed():
    patents, cls, cit = _toy()
    out = expand(pd.Series(["a"]), cls, cit, ExpandParams(code_min_share=1.0, citation_levels=2))
    # a's main group H01M10 brings b; d cites a (level 1); nothing cites d.
    assert out.values.tolist() == [["a", 0, "seed"], ["b", 1, "code"], ["d", 1, "citation"]]
    none = expand(pd.Series([], dtype="string"), cls, cit)
    assert none.empty and list(none.columns) == ["pub_id", "level", "via"]


def test_anti_seeds_are_outside_and_seeded():
    universe = pd.Series(list("abcdefghij"))
    a1 = anti_seeds(universe, pd.Series(["a", "b"]), 4, random_state=1)
    a2 = anti_seeds(universe, pd.Series(["a", "b"]), 4, random_state=1)
    assert a1.tolist() == a2.tolist() and len(a1) == 4 and not a1.isin(["a", "b"]).any()
    assert len(anti_seeds(universe, universe, 4)) == 0


def test_pruning_keeps_on_topic_candidates():
    texts = pd.Series({"s1": "battery cell lithium", "s2": "battery pack lithium ion", "n1": "garden hoe",
                       "n2": "plough soil", "n3": "seed drill", "c1": "lithium battery electrode", "c2": "soil plough blade"})
    out = prune(pd.Series(["c1", "c2"]), texts, pd.Series(["s1", "s2"]), pd.Series(["n1", "n2", "n3"]),
                ExpandParams(prune_threshold=0.5))
    assert out.set_index("pub_id")["keep"].to_dict() == {"c1": True, "c2": False}


def test_precision_recall_hand_computed():
    sample = pd.DataFrame({"pub_id": ["a", "b", "c", "d"], "relevant": [1, 0, 1, 1]})
    r = precision_recall(pd.Series(["a", "b", "d"]), sample)
    assert (r["precision"], r["recall"]) == (round(2 / 3, 4), round(2 / 3, 4))
    empty = precision_recall(pd.Series([], dtype=str), sample)
    assert empty["in_set"] == 0 and empty["recall"] == 0


def test_landscape_set_on_the_real_sample(sample_tables):
    t = sample_tables
    out = landscape_set(t["patents"], t["classifications"], t["citations"],
                        SearchStrategy(keywords=("unmanned aerial", "无人机"), codes=("B64C39*",)))
    seeds = out[out.level == 0]
    assert len(seeds) > 50 and out.loc[out.level == 0, "in_set"].all()
    assert out["in_set"].sum() >= len(seeds)
    again = landscape_set(t["patents"], t["classifications"], t["citations"],
                          SearchStrategy(keywords=("unmanned aerial", "无人机"), codes=("B64C39*",)))
    pd.testing.assert_frame_equal(out, again)
