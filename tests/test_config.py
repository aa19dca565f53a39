"""params.yaml into typed params: the ground floor of the package."""

import ast
from pathlib import Path

import pytest
import yaml

from pipeline.config import SHARED, load_params
from pipeline.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "pipeline"


@pytest.fixture
def raw():
    return yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))


def _load(tmp_path, raw):
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return load_params(path)


def test_a_shared_knob_is_set_once_and_reaches_every_section_using_it(tmp_path, raw):
    raw["analysis"] = {"min_confidence": 0.7, "growth_window": 4, "window_years": 3}
    p = _load(tmp_path, raw)
    assert (p["score"].min_confidence, p["landscape"].min_confidence) == (0.7, 0.7)
    assert (p["score"].growth_window, p["landscape"].growth_window) == (4, 4)
    assert (p["score"].window_years, p["network"].window_years) == (3, 3)
    for key, users in SHARED.items():  # params.yaml sets each once, in analysis only
        assert key in yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))["analysis"]
        assert not any(key in (raw.get(section) or {}) for section in users)


def test_a_shared_knob_set_in_a_stage_section_is_refused(tmp_path, raw):
    raw["score"]["growth_window"] = 5
    with pytest.raises(ConfigError, match=r"score\.growth_window is set once for every stage as analysis\.growth_window"):
        _load(tmp_path, raw)


def test_an_unknown_analysis_key_is_refused(tmp_path, raw):
    raw["analysis"]["min_confidense"] = 0.5
    with pytest.raises(ConfigError, match="analysis: unknown key.*min_confidense"):
        _load(tmp_path, raw)


def test_config_imports_nothing_of_the_package_above_it():
    # The params classes are defined here; only the loader reaches up, for the projects.
    tree = ast.parse((PACKAGE / "config.py").read_text(encoding="utf-8"))
    top = {n.module for n in tree.body if isinstance(n, ast.ImportFrom) and n.level}
    assert top == {"errors", "yamlfile"}
    inner = {n.module for f in tree.body if isinstance(f, ast.FunctionDef)
             for n in ast.walk(f) if isinstance(n, ast.ImportFrom) and n.level}
    assert inner == {"project"}


def _import_graph():
    """Module -> the package modules it imports (module level or inside functions)."""
    import networkx as nx

    graph = nx.DiGraph()
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        mod = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        graph.add_node(mod)
        pkg = mod if path.name == "__init__.py" else mod.rsplit(".", 1)[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level:
                base = pkg.split(".")[: len(pkg.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
                for alias in node.names:  # `from . import db` names a module
                    sub = ROOT.joinpath(*f"{target}.{alias.name}".split("."))
                    graph.add_edge(mod, f"{target}.{alias.name}" if sub.with_suffix(".py").exists() or sub.is_dir()
                                   else target)
    return graph


# The layers of README.md ("Layers"), lowest first: a module imports its own layer or below.
LAYERS = [
    ("pipeline.errors", "pipeline.yamlfile", "pipeline.frames", "pipeline.growth", "pipeline.ingest.normalize", "pipeline.ingest.base",
     "pipeline.score", "pipeline.network"),
    ("pipeline.places", "pipeline.classify", "pipeline.classify.rules", "pipeline.project"),
    ("pipeline.config",),
    ("pipeline.schema", "pipeline.ingest.legal", "pipeline.ingest.merge", "pipeline.ingest.sheets",
     "pipeline.ingest.tabular", "pipeline.ingest.patentsview", "pipeline.ingest.uspto_xml", "pipeline.ingest.detect",
     "pipeline.ingest.canonical"),
    ("pipeline.io", "pipeline.db"),
    ("pipeline.ingest", "pipeline.ingest.run", "pipeline.locate", "pipeline.classify.*", "pipeline.network.*",
     "pipeline.score.*", "pipeline.landscape", "pipeline.recommend", "pipeline.lifecycle"),
    ("pipeline.report", "pipeline.report.*"),
    ("pipeline", "pipeline.api", "pipeline.cli", "pipeline.__main__"),
]


def _layer(mod: str) -> int:
    import fnmatch

    exact = [i for i, mods in enumerate(LAYERS) if mod in mods]
    if exact:
        return exact[0]
    return next(i for i, mods in enumerate(LAYERS) if any(fnmatch.fnmatchcase(mod, m) for m in mods if "*" in m))


def test_the_package_has_no_import_circle():
    import networkx as nx

    cycles = [c for c in nx.simple_cycles(_import_graph()) if len(c) > 1]
    assert not cycles, cycles


def test_no_module_imports_a_higher_layer():
    graph = _import_graph()
    up = sorted(f"{a} (layer {_layer(a)}) imports {b} (layer {_layer(b)})"
                for a, b in graph.edges if _layer(b) > _layer(a))
    assert not up, up
