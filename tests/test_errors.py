"""The one error tree (pipeline/errors.py) and how the CLI reports it.

- no module of pipeline/ but errors.py defines an exception class, and no bare builtin
  error is raised outside a short list of internal invariants (an AST walk);
- every class of errors.py derives from PatNavError and is exported;
- a CLI call that used to end in a traceback (a bare ValueError / TypeError / AttributeError
  of bad params or input) now prints one ``error:`` line and exits with the mapped code,
  while an unexpected exception keeps its traceback.
"""

from __future__ import annotations

import ast
import builtins
import inspect
from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from pipeline import errors
from pipeline.cli import EXIT_CODES, app, exit_code
from pipeline.errors import (
    ArgumentError,
    ConfigError,
    PatNavError,
    ProjectDataError,
    QueryRefusedError,
)

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "pipeline"

# Builtin errors still raised in pipeline/, each guarding an invariant of the code itself
# (no user data or param reaches it): module → {enclosing function: exception}.
INTERNAL_INVARIANTS = {
    # TextClassifier.predict* before fit(): a caller's programming error; the CLI only
    # predicts with a model from load_model, which refuses an unfitted one (ModelFileError).
    "pipeline/classify/text.py": {"_check_fitted": "ValueError",
                                  # the train command always passes the model train() returned
                                  "save_model": "TypeError"},
    # the hold-out design itself is broken (a test record in training), not the data
    "pipeline/classify/train.py": {"assert_disjoint": "AssertionError"},
}
_BUILTIN_ERRORS = {n for n in dir(builtins) if isinstance(getattr(builtins, n), type)
                   and issubclass(getattr(builtins, n), BaseException)}


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        yield path.relative_to(ROOT).as_posix(), ast.parse(path.read_text(encoding="utf-8"))


def _base_name(node: ast.expr) -> str:
    return node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", "")


def _is_exception_base(name: str, local_errors: set[str]) -> bool:
    if name in _BUILTIN_ERRORS:
        # warning categories (LeidenNotStableWarning) are not errors: they stay with their module
        return not issubclass(getattr(builtins, name), Warning)
    return name in errors.__all__ or name in local_errors or name.endswith(("Error", "Exception"))


def test_no_module_but_errors_py_defines_an_exception_class():
    found = []
    for rel, tree in _modules():
        if rel == "pipeline/errors.py":
            continue
        local: set[str] = set()
        classes = [n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)]
        for _ in range(len(classes)):  # bases defined in the same module, to any depth
            for c in classes:
                if c.name not in local and any(_is_exception_base(_base_name(b), local) for b in c.bases):
                    local.add(c.name)
        found += [f"{rel}: class {name}" for name in sorted(local)]
    assert found == [], "define exception classes in pipeline/errors.py"


def _raises(tree: ast.AST):
    """(enclosing function, raised name) of every ``raise Name(...)`` / ``raise Name``."""
    def visit(node, func):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                yield from visit(child, child.name)
            elif isinstance(child, ast.Raise) and child.exc is not None:
                exc = child.exc.func if isinstance(child.exc, ast.Call) else child.exc
                yield func, _base_name(exc)
                yield from visit(child, func)
            else:
                yield from visit(child, func)
    yield from visit(tree, "<module>")


def test_no_bare_builtin_error_is_raised_but_the_listed_invariants():
    found = {}
    for rel, tree in _modules():
        for func, name in _raises(tree):
            if name in _BUILTIN_ERRORS and name not in ("NotImplementedError", "StopIteration", "SystemExit"):
                found.setdefault(rel, {})[func] = name
            assert name != "PatNavError", f"{rel}: {func} raises the base class; raise the kind that fits"
    assert found == INTERNAL_INVARIANTS


def _error_classes():
    return {name: obj for name, obj in vars(errors).items()
            if inspect.isclass(obj) and issubclass(obj, BaseException) and obj.__module__ == errors.__name__}


def test_every_error_class_derives_from_patnaverror_and_is_exported():
    classes = _error_classes()
    assert len(classes) >= 30
    for name, cls in classes.items():
        assert issubclass(cls, PatNavError), name
        assert name in errors.__all__, name
        assert cls.__doc__ and len(cls.__doc__.split()) >= 8, f"{name}: say when it is raised and what it names"
    assert sorted(errors.__all__) == sorted(classes)


def test_value_errors_stay_catchable_as_valueerror():
    # Bad values (settings, arguments) are ValueErrors, as Python's and scikit-learn's are.
    for name, cls in _error_classes().items():
        if issubclass(cls, ConfigError | ArgumentError):
            assert issubclass(cls, ValueError), name
    assert issubclass(errors.NotADAGError, errors.MainPathInputError)
    assert issubclass(QueryRefusedError, errors.QueryError)


def test_every_error_has_an_exit_code_and_the_table_is_kept():
    codes = {name: exit_code(cls.__new__(cls)) for name, cls in _error_classes().items()}
    assert set(codes.values()) == {1, 2}
    assert codes["ProjectDataError"] == 1
    # the codes tests and scripts already rely on
    for name in ("QueryRefusedError", "QueryError", "DatabaseError", "ConfigError", "UnreadableInputError",
                 "UnsupportedFormatError", "GraphInputError", "ConvergenceError"):
        assert codes[name] == 2, name
    assert exit_code(FileNotFoundError("x")) == 2
    assert all(issubclass(c, BaseException) for c in EXIT_CODES)


# ----------------------------------------------------------------------------- the CLI

@pytest.fixture
def runner():
    return CliRunner()


def _params_with(tmp_path: Path, **sections) -> Path:
    """params.yaml of the project with some keys of some sections replaced (one level deep)."""
    raw = yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))
    for section, values in sections.items():
        raw[section] = {**raw[section], **values}
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


def _one_error_line(res, code: int) -> str:
    """The run ended by the CLI with ``code`` and one ``error:`` line on stderr, no traceback."""
    assert res.exit_code == code, res.output
    assert isinstance(res.exception, SystemExit), repr(res.exception)  # not an exception that escaped
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), res.stderr
    assert "Traceback" not in res.output
    return lines[0]


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    from pipeline.classify.text import INDUSTRIES, TextClassifier, save_model

    texts = ["electric vehicle battery pack", "charging pile for electric cars", "neural network image recognition",
             "wireless base station", "antibody for treating cancer", "vaccine antigen", "industrial robot arm",
             "machine tool spindle"]
    industries = ["nev", "nev", "it", "it", "biomedicine", "biomedicine", "manufacturing", "manufacturing"]
    y = pd.DataFrame([[int(i == ind) for i in INDUSTRIES] for ind in industries], columns=list(INDUSTRIES))
    model = TextClassifier(min_df=1, estimator="logreg", calibration="none").fit(texts, y)
    return save_model(model, tmp_path_factory.mktemp("model") / "tiny.skops")


def _classify_params(tmp_path, model, **classify):
    return _params_with(tmp_path, classify={"taxonomy": str(PACKAGE / "data" / "taxonomy.yaml"), "model": str(model),
                                            **classify})


def _a_list(tmp_path) -> Path:
    path = tmp_path / "list.csv"
    path.write_text("标题,摘要\n一种电动汽车动力电池包,本发明公开了一种电池包。\n", encoding="utf-8")
    return path


def test_classify_with_thresholds_naming_an_unknown_industry(runner, tmp_path, tiny_model):
    # was: ValueError "thresholds name unknown industries" from TextClassifier, a traceback
    params = _classify_params(tmp_path, tiny_model, thresholds={"space": 0.3, "nev": 0.5})
    res = runner.invoke(app, ["classify", str(_a_list(tmp_path)), "--params", str(params)])
    line = _one_error_line(res, 2)
    assert "classify.thresholds name unknown industries: space (the model's industries: it," in line
    assert not (tmp_path / "list.classified.csv").exists()


def test_classify_with_a_threshold_that_is_not_a_probability(runner, tmp_path, tiny_model):
    # was: ValueError of float("high") deep in the labelling, a traceback
    params = _classify_params(tmp_path, tiny_model, thresholds={"zh": {"nev": "high"}})
    res = runner.invoke(app, ["classify", str(_a_list(tmp_path)), "--params", str(params)])
    assert "classify.thresholds.zh.nev must be a probability from 0 to 1, not 'high'" in _one_error_line(res, 2)


def test_classify_with_a_model_never_fitted(runner, tmp_path):
    # was: ValueError "TextClassifier is not fitted yet" at the first prediction, a traceback
    import skops.io as sio

    from pipeline.classify.text import TextClassifier

    model = tmp_path / "unfitted.skops"
    sio.dump(TextClassifier(), model)
    res = runner.invoke(app, ["classify", str(_a_list(tmp_path)), "--params", str(_classify_params(tmp_path, model))])
    assert f"{model}: holds a TextClassifier that was never fitted; run `patnav train`" in _one_error_line(res, 2)


@pytest.mark.parametrize("network, message", [
    # was: ValueError "k must be an integer" from the key-route main path search, a traceback
    ({"key_routes": 2.5}, "network.key_routes must be a whole number ≥ 1, not 2.5"),
    # was: TypeError "pagerank() got an unexpected keyword argument", a traceback
    ({"pagerank": {"alpha": 0.85, "maxiter": 100}}, "network.pagerank: unknown key(s) maxiter (known: alpha, tol, max_iter)"),
])
def test_network_main_path_and_centrality_params(runner, tmp_path, network, message):
    edges = tmp_path / "edges.csv"
    edges.write_text("citing,cited\nb,a\nc,b\n", encoding="utf-8")
    res = runner.invoke(app, ["network", str(edges), "--params", str(_params_with(tmp_path, network=network))])
    assert message in _one_error_line(res, 2)
    assert not (tmp_path / "edges.network").exists()


def test_train_with_an_unknown_estimator_fails_before_reading_data(runner, tmp_path):
    # was: ValueError "estimator must be 'logreg' or 'sgd'" after the training data was built
    params = _params_with(tmp_path, train={"model": {"estimator": "svm"}})
    res = runner.invoke(app, ["train", "--params", str(params)])
    assert "train.model.estimator must be 'logreg' or 'sgd', not 'svm'" in _one_error_line(res, 2)


def test_score_weights_that_are_not_a_mapping(runner, tmp_path):
    # was: AttributeError "'int' object has no attribute 'values'" while reading params, a traceback
    res = runner.invoke(app, ["score", "--params", str(_params_with(tmp_path, score={"weights": 3}))])
    assert "score.weights must map indicators to non-negative numbers" in _one_error_line(res, 2)


def test_ingest_limit_that_is_not_a_whole_number(runner, tmp_path):
    # was: ValueError from Limits (wrapped while reading params); now a ConfigError naming the file
    params = _params_with(tmp_path, ingest={"limits": {"field": "many"}})
    res = runner.invoke(app, ["ingest", str(_a_list(tmp_path)), "--out", str(tmp_path / "o"), "--params", str(params)])
    assert f"{params}: ingest.limits.field must be a positive whole number, got 'many'" in _one_error_line(res, 2)


def test_project_new_with_an_unknown_region(runner, tmp_path):
    # parse_region raised a bare ValueError; now RegionNameError, named by the project's field
    params = _params_with(tmp_path)
    before = params.read_bytes()
    res = runner.invoke(app, ["project", "new", "mars", "--industry", "nev", "--region", "重庆市火星区",
                              "--params", str(params)])
    assert "project 'mars': region: unknown region '重庆市火星区'" in _one_error_line(res, 2)
    assert params.read_bytes() == before


def test_db_build_without_canonical_tables(runner, tmp_path):
    params = _params_with(tmp_path, ingest={"out": str(tmp_path / "canonical")},
                          database={"path": str(tmp_path / "p.duckdb")})
    res = runner.invoke(app, ["db", "build", "--params", str(params)])
    assert "canonical table(s) missing" in _one_error_line(res, 2)


def test_a_failed_query_is_one_line_even_when_duckdb_writes_several(runner, tmp_path):
    from pipeline import db, io, schema

    io.write_tables({t: schema.empty(t) for t in schema.TABLES}, tmp_path / "canon")
    db.build(tmp_path / "canon", tmp_path / "t.duckdb")
    with pytest.raises(errors.QueryError) as info:
        db.query("SELECT * FROM patentz", tmp_path / "t.duckdb")
    assert "\n" in str(info.value)  # DuckDB's message: error, hint, the query line and a caret
    res = runner.invoke(app, ["sql", "SELECT * FROM patentz", "--db", str(tmp_path / "t.duckdb")])
    line = _one_error_line(res, 2)
    assert line.startswith("error: query failed:") and "patentz" in line


def test_data_that_cannot_support_the_project_exits_1(runner, monkeypatch):
    import pipeline.report.run as report_run

    def refuse(*args, **kwargs):
        raise ProjectDataError("'某公司': 0 of its patents in the data; lower report.recommend.min_enterprise_patents")

    monkeypatch.setattr(report_run, "write_report", refuse)
    project = next(iter(yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))["projects"]))
    res = runner.invoke(app, ["report", project, "--params", str(ROOT / "params.yaml")])
    assert "0 of its patents in the data" in _one_error_line(res, 1)


def test_an_unexpected_exception_keeps_its_traceback(runner, tmp_path, monkeypatch):
    import pipeline.db as db

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(db, "query", broken)
    res = runner.invoke(app, ["sql", "SELECT 1", "--db", str(tmp_path / "t.duckdb")])
    assert isinstance(res.exception, RuntimeError) and res.exit_code == 1
    assert "error:" not in res.stderr
