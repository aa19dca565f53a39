"""dvc.yaml declares what each stage reads, and nothing it does not read.

For each stage of dvc.yaml (a ``foreach`` stage: its first project stands for all) the
test works out statically what the stage's command runs and reads, and compares it with
the stage's ``deps`` and ``params``:

code
    The ``patnav`` command of the stage is a function of ``pipeline/cli.py``; the modules
    it imports (the stage's own module: ``run_stage``) and every module of ``pipeline`` they
    import, transitively — ``import`` and ``from … import`` statements, at module level or
    inside a function, relative imports resolved — plus the ``__init__.py`` of each package
    on the way. Three rules are the test's own, each checked below:

    * ``pipeline/__init__.py`` counts (it runs first) but its imports are not followed: they
      bind the public API (``pipeline.ingest``, ``pipeline.db`` …) for ``import pipeline``;
      no module of the package reads a name through it, and no module does anything at
      import but define names (:func:`test_importing_a_module_only_defines_names`).
    * ``pipeline/config.py`` counts for every stage (``load_params`` builds the params every
      command receives), but the imports inside ``load_params`` are attributed per section:
      each section (or field) is built by its stage's class, and a stage depends on the
      builders of the params it reads, not on every stage's module.
    * ``pipeline/cli.py`` counts for no stage: it parses options, calls the stage's
      function and prints what it returns (:func:`test_cli_is_thin_and_no_stage_declares_it`).

package data
    Files beside the code the modules read by a path built from ``Path(__file__)``
    (``.parent``, ``.parents[n]``, ``.with_name("…")``, ``/ "…"``), directly or through a
    module-level name; every data file of the package is either found so or listed in
    :data:`NOT_READ_BY_PATH` with the way it is read (:func:`test_every_package_data_file_is_accounted_for`).

params
    ``params["section"]`` and the attributes, keys and ``.get()`` read from it, followed
    from the command into each function of the package it is passed to (arguments bound to
    parameters, local names, properties of the params classes). A params object passed to
    anything else (stored in a dict, given to a library) counts as read whole. Two uses are
    not reads: ``name in params["projects"]`` (which project the command was given) and
    anything inside a ``raise`` (the error's wording).

files
    The path-valued params a stage reads (its inputs, reference data, other stages'
    metrics) must be covered by a dep or an out of the stage; the few files read by a
    literal path instead of a param are listed in :data:`LITERAL_READS`.

A directory dep covers the files below it. The database is the one file a stage reads
through a stand-in: ``<path>.contents.json`` (see the database stage of dvc.yaml).

Staleness: per module of the package, the stages declaring it must be the stages running
it (with the stage graph checked against ``dvc dag``), and in a copy of the checkout whose
stages are made up to date with empty stand-in outputs and ``dvc commit`` (seconds, no
repro), ``dvc status`` after touching a module run by one stage lists that stage only.
"""

from __future__ import annotations

import ast
import functools
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from pipeline.config import SHARED

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "pipeline"
BIN = Path(sys.executable).parent

# Package data files that no module names by a path beside the code, and how they are read.
NOT_READ_BY_PATH = {
    "pipeline/data/taxonomy_additions.yaml": "source of taxonomy.yaml for scripts/build_taxonomy.py; no stage reads it",
    "pipeline/data/label_noise.csv": "read through the param train.label_noise",
}

# Files a stage reads by a literal path rather than a param: the landscape stage's outputs
# under data/processed/<project>/ (pipeline/report/run.py load_report_data). The test does
# not follow path arithmetic through project_dir(); this table does.
LITERAL_READS = {
    "report": ["data/processed/${key}/scope.parquet", "data/processed/${key}/positioning.csv",
               "data/processed/${key}/talent_candidates.csv", "data/processed/${key}/metrics.json"],
}

# Read, and not declarable as a dep (reported here so that nobody looks for them in dvc.yaml).
UNDECLARED_READS = {
    "report": {"dvc.lock": "the md5 of the upstream stages' deps, printed as the report's fingerprints "
                           "(DVC's own file, rewritten by every run: as a dep the stage would never be up to date)",
               ".git HEAD": "the commit printed as the report's version (pipeline/report/run.py _version)"},
}

# Attribute paths of the params objects that are not params.yaml paths: ClassifyStageParams
# holds the classify section's label options as .labels (pipeline/config.py load_params).
PARAM_ALIASES = {("classify", "labels"): ("classify",)}
# The knobs several sections carry are set once, in params.yaml's analysis section.
PARAM_ALIASES.update({(section, key): ("analysis", key) for key, users in SHARED.items() for section in users})

# Calls that read or write files or the database: a stage command of cli.py makes none.
IO_CALLS = {"read_tables", "read_table", "write_tables", "write_json", "write_export", "write_project_outputs",
            "write_workbook", "read_project_outputs", "to_parquet", "read_parquet", "read_csv", "to_csv",
            "save_model", "load_model", "connect", "execute", "sql", "mkdir", "write_text", "write_bytes",
            "read_text", "read_bytes", "open", "build", "query", "read_list", "copytree", "rmtree"}


# ----------------------------------------------------------------------------- dvc.yaml


def _load(path: Path):
    return yaml.safe_load(path.read_text(encoding="utf-8"))


PARAMS = _load(ROOT / "params.yaml")
DVC = _load(ROOT / "dvc.yaml")["stages"]
_VAR = re.compile(r"\$\{([^}]+)\}")


def _lookup(dotted: str, key: str | None):
    if dotted == "key":
        return key
    node = PARAMS
    for part in dotted.split("."):
        node = node[part]
    return node


def _interp(text: str, key: str | None) -> str:
    return _VAR.sub(lambda m: str(_lookup(m.group(1), key)), text)


def _entries(items) -> list[str]:
    """The paths of a deps / outs / metrics / plots list (entries are str or {path: options})."""
    return [next(iter(i)) if isinstance(i, dict) else i for i in items or []]


def _norm(path: str) -> str:
    return os.path.normpath(path).replace(os.sep, "/")


def _stage(name: str, body: dict, key: str | None) -> dict:
    raw = {k: _entries(body.get(k)) for k in ("deps", "outs", "metrics", "plots")}
    return {
        "name": name, "key": key, "cmd": _interp(body["cmd"], key), "raw": raw,
        "deps": [_norm(_interp(d, key)) for d in raw["deps"]],
        "outs": [_norm(_interp(o, key)) for k in ("outs", "metrics", "plots") for o in raw[k]],
        "params": [tuple(_interp(p, key).split(".")) for p in body.get("params") or []],
        # ${…} inside the stage's own definition: DVC reruns it when their values change.
        "interpolated": {tuple(_interp(m, key).split(".")) for text in [body["cmd"], *sum(raw.values(), [])]
                         for m in _VAR.findall(text) if m != "key"},
    }


def stages(all_keys: bool = False) -> dict[str, dict]:
    """Stage name → its resolved definition; a foreach stage by its first key (or every key)."""
    out = {}
    for name, body in DVC.items():
        if "foreach" in body:
            keys = list(_lookup(body["foreach"].strip("${}"), None))
            for key in keys if all_keys else keys[:1]:
                out[f"{name}@{key}" if all_keys else name] = _stage(name, body["do"], key)
        else:
            out[name] = _stage(name, body, None)
    return out


def covers(entry: str, path: str) -> bool:
    """A dep / out ``entry`` covers ``path``: the same file, a folder above it, or the
    database's content fingerprint standing for the database."""
    entry, path = _norm(entry), _norm(path)
    return entry == path or path.startswith(entry + "/") or entry == path + ".contents.json"


# ----------------------------------------------------------------------------- modules


def module_file(name: str) -> Path | None:
    p = ROOT.joinpath(*name.split("."))
    if (p / "__init__.py").is_file():
        return p / "__init__.py"
    return p.with_suffix(".py") if p.with_suffix(".py").is_file() else None


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


@functools.cache
def tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"))


def _package(path: Path) -> str:
    name = module_name(path)
    return name if path.name == "__init__.py" else name.rsplit(".", 1)[0]


def resolve_from(path: Path, node: ast.ImportFrom) -> str:
    """The absolute module of ``from … import`` in ``path``."""
    if not node.level:
        return node.module
    base = _package(path).split(".")
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _type_checking(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def import_nodes(path: Path):
    """(import node, enclosing function names) of a module, at any depth (not under
    ``if TYPE_CHECKING:``)."""
    def visit(node, funcs):
        for child in ast.iter_child_nodes(node):
            if _type_checking(child):
                continue
            if isinstance(child, ast.Import | ast.ImportFrom):
                yield child, funcs
            inner = funcs + (child.name,) if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef) else funcs
            yield from visit(child, inner)
    yield from visit(tree(path), ())


def imported_modules(path: Path, node: ast.Import | ast.ImportFrom) -> set[str]:
    """The modules of ``pipeline`` an import statement loads (a name that is a submodule too)."""
    if isinstance(node, ast.Import):
        return {a.name for a in node.names if a.name.split(".")[0] == "pipeline"}
    mod = resolve_from(path, node)
    if not mod or mod.split(".")[0] != "pipeline":
        return set()
    return {mod} | {f"{mod}.{a.name}" for a in node.names if module_file(f"{mod}.{a.name}")}


def follows(path: Path, funcs: tuple[str, ...]) -> bool:
    """Whether the closure follows an import of ``path`` made inside ``funcs`` (the two cut
    points of the module docstring)."""
    if rel(path) == "pipeline/__init__.py":
        return False
    return not (rel(path) == "pipeline/config.py" and "load_params" in funcs)


def closure(modules) -> set[Path]:
    """Every module file the given modules load (see the module docstring)."""
    seen: set[Path] = set()
    todo = list(modules)
    while todo:
        parts = todo.pop().split(".")
        for i in range(1, len(parts) + 1):  # a package's __init__ runs before its modules
            f = module_file(".".join(parts[:i]))
            if f is None or f in seen:
                continue
            seen.add(f)
            for node, funcs in import_nodes(f):
                if follows(f, funcs):
                    todo.extend(imported_modules(f, node))
    return seen


# ----------------------------------------------------------------------------- package data


def _path_value(node: ast.AST, here: Path, names: dict[str, Path]) -> Path | None:
    """The path an expression built from ``Path(__file__)`` (or a name bound to one) makes."""
    if isinstance(node, ast.Name):
        return names.get(node.id)
    if isinstance(node, ast.Call):
        f = node.func
        if isinstance(f, ast.Name) and f.id == "Path" and len(node.args) == 1 and \
                isinstance(node.args[0], ast.Name) and node.args[0].id == "__file__":
            return here
        if isinstance(f, ast.Attribute):
            base = _path_value(f.value, here, names)
            if base is not None and f.attr in ("resolve", "absolute") and not node.args:
                return base
            if base is not None and f.attr == "with_name" and isinstance(node.args[0], ast.Constant):
                return base.with_name(node.args[0].value)
            if base is not None and f.attr == "joinpath" and all(isinstance(a, ast.Constant) for a in node.args):
                return base.joinpath(*(a.value for a in node.args))
        return None
    if isinstance(node, ast.Attribute) and node.attr == "parent":
        base = _path_value(node.value, here, names)
        return base.parent if base is not None else None
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Attribute) and node.value.attr == "parents" \
            and isinstance(node.slice, ast.Constant):
        base = _path_value(node.value.value, here, names)
        return base.parents[node.slice.value] if base is not None else None
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div) and isinstance(node.right, ast.Constant) \
            and isinstance(node.right.value, str):
        base = _path_value(node.left, here, names)
        return base / node.right.value if base is not None else None
    return None


@functools.cache
def package_data(path: Path) -> frozenset[Path]:
    """The package's data files that a module names by a path beside its code."""
    here = path.resolve()
    names: dict[str, Path] = {}
    for stmt in tree(path).body:  # module-level names bound to such a path (in order)
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            value = _path_value(stmt.value, here, names)
            if value is not None:
                names[stmt.targets[0].id] = value
    found = set()
    for node in ast.walk(tree(path)):
        value = _path_value(node, here, names) if isinstance(node, ast.expr) else None
        if value is not None and value.is_file() and value.suffix != ".py" and value.is_relative_to(PACKAGE):
            found.add(value)
    return frozenset(found)


# ----------------------------------------------------------------------------- params


def _params_tree_get(path: tuple):
    node = PARAMS
    for part in path:
        if not isinstance(node, dict) or part not in node:
            raise KeyError(part)
        node = node[part]
    return node


def _in_params(path: tuple) -> bool:
    """Whether params.yaml holds ``path`` (``*``: any key)."""
    nodes = [PARAMS]
    for part in path:
        nodes = [n[k] for n in nodes if isinstance(n, dict) for k in (n if part == "*" else [part]) if k in n]
        if not nodes:
            return False
    return True


def param_path(path: tuple, key: str | None) -> tuple:
    """A read attribute path as a params.yaml path: aliases mapped, the project's key put in,
    cut to its longest prefix params.yaml holds (a property or default of a params class is
    computed from, or stands in for, the part above it)."""
    for alias, real in PARAM_ALIASES.items():
        if path[: len(alias)] == alias:
            path = real + path[len(alias):]
    path = tuple(key if p == "*" else p for p in path)
    for n in range(len(path), 0, -1):
        try:
            _params_tree_get(path[:n])
            return path[:n]
        except KeyError:
            continue
    return path[:1]


class Module:
    """A module's names: top-level functions and classes, and what its imports bind."""

    def __init__(self, path: Path):
        self.path = path
        self.defs = {n.name: n for n in tree(path).body if isinstance(n, ast.FunctionDef | ast.ClassDef)}
        self.imports = self._bindings(n for n in tree(path).body if isinstance(n, ast.Import | ast.ImportFrom))

    def _bindings(self, nodes) -> dict[str, tuple[str, str | None]]:
        """name → (module, attribute or None for the module itself)."""
        out = {}
        for node in nodes:
            if isinstance(node, ast.Import):
                for a in node.names:
                    if a.name.split(".")[0] == "pipeline":  # `import pipeline.x as y` binds y, else `pipeline`
                        out[a.asname or "pipeline"] = (a.name if a.asname else "pipeline", None)
            else:
                mod = resolve_from(self.path, node)
                if mod and mod.split(".")[0] == "pipeline":
                    for a in node.names:
                        sub = f"{mod}.{a.name}"
                        out[a.asname or a.name] = (sub, None) if module_file(sub) else (mod, a.name)
        return out

    def local_imports(self, func: ast.AST) -> dict[str, tuple[str, str | None]]:
        return self._bindings(n for n in ast.walk(func) if isinstance(n, ast.Import | ast.ImportFrom))


@functools.cache
def module(path: Path) -> Module:
    return Module(path)


def find_def(mod_name: str, attr: str, depth: int = 0):
    """(module file, def node) of ``mod_name.attr``, through re-exports."""
    f = module_file(mod_name)
    if f is None or depth > 5:
        return None
    m = module(f)
    if attr in m.defs:
        return f, m.defs[attr]
    if attr in m.imports:
        target, name = m.imports[attr]
        return find_def(target, name, depth + 1) if name else None
    return None


@functools.cache
def methods() -> dict[str, list[tuple[Path, ast.FunctionDef]]]:
    """Method name → (file, def) of every class of the package."""
    out: dict[str, list] = {}
    for f in sorted(PACKAGE.rglob("*.py")):
        for cls in (n for n in tree(f).body if isinstance(n, ast.ClassDef)):
            for fn in (n for n in cls.body if isinstance(n, ast.FunctionDef)):
                out.setdefault(fn.name, []).append((f, fn))
    return out


def _is_property(fn: ast.FunctionDef) -> bool:
    return any(isinstance(d, ast.Name) and d.id in ("property", "cached_property") for d in fn.decorator_list)


_DICT_METHODS = {"items", "values", "keys", "copy"}


class ParamReads:
    """The params paths read from a command on (see the module docstring, *params*)."""

    def __init__(self):
        self.uses: set[tuple] = set()
        self.where: dict[tuple, str] = {}  # path → the first line reading it (for messages)
        self._done: set = set()
        self._at = ""

    def command(self, path: Path, func: ast.FunctionDef) -> set[tuple]:
        self._function(path, func, {}, module(path).local_imports(func))
        return self.uses

    # -- functions
    def _function(self, path, func, bindings: dict, local: dict, skip_self: bool = False):
        sig = (id(func), tuple(sorted(bindings.items())))
        if sig in self._done:
            return
        self._done.add(sig)
        env = dict(bindings)
        ctx = (path, {**module(path).imports, **local, **module(path).local_imports(func)}, func)
        if isinstance(func, ast.Lambda):
            self._ev(func.body, env, ctx)
        else:
            self._block(func.body, env, ctx)

    def _call_def(self, path, fn, args: list, kwargs: dict, extra: list, is_method: bool, self_path=None):
        """Bind path-valued arguments to ``fn``'s parameters and read its body."""
        if isinstance(fn, ast.ClassDef):
            init = next((n for n in fn.body if isinstance(n, ast.FunctionDef) and n.name == "__init__"), None)
            if init is None:  # a dataclass: the params object is stored whole
                for p in [*args, *kwargs.values(), *extra]:
                    if p is not None:
                        self._add(p)
                return
            fn, is_method = init, True
        a = fn.args
        names = [x.arg for x in [*a.posonlyargs, *a.args]]
        bindings = {}
        if is_method and names:
            if self_path is not None:
                bindings[names[0]] = self_path
            names = names[1:]
        for i, p in enumerate(args):
            if p is None:
                continue
            if i < len(names):
                bindings[names[i]] = p
            else:
                self._add(p)  # into *args
        kwnames = set(names) | {x.arg for x in a.kwonlyargs}
        for k, p in kwargs.items():
            if p is None:
                continue
            if k in kwnames:
                bindings[k] = p
            else:
                self._add(p)
        for p in extra:  # **mapping or *sequence of params
            if p is not None:
                self._add(p)
        if bindings:
            self._function(path, fn, bindings, {})

    # -- statements
    def _block(self, body, env, ctx):
        for st in body:
            self._stmt(st, env, ctx)

    def _bind(self, target, value, env, ctx):
        if isinstance(target, ast.Name):
            if value is None:
                env.pop(target.id, None)
            else:
                env[target.id] = value
        else:
            if value is not None:
                self._add(value)
            if isinstance(target, ast.Tuple | ast.List):
                for t in target.elts:
                    self._bind(t, None, env, ctx)
            else:
                self._ev(target, env, ctx)

    def _stmt(self, st, env, ctx):
        self._at = f"{rel(ctx[0])}:{st.lineno}"
        if isinstance(st, ast.Raise):
            return  # the error's wording only
        if isinstance(st, ast.Assign):
            if len(st.targets) == 1 and isinstance(st.targets[0], ast.Tuple) and isinstance(st.value, ast.Tuple) \
                    and len(st.targets[0].elts) == len(st.value.elts):
                for t, v in zip(st.targets[0].elts, st.value.elts):
                    self._bind(t, self._ev(v, env, ctx), env, ctx)
                return
            value = self._ev(st.value, env, ctx)
            for t in st.targets:
                self._bind(t, value, env, ctx)
        elif isinstance(st, ast.AnnAssign | ast.AugAssign):
            value = self._ev(st.value, env, ctx) if st.value is not None else None
            self._bind(st.target, value, env, ctx)
        elif isinstance(st, ast.For | ast.AsyncFor):
            self._use(self._ev(st.iter, env, ctx))
            self._bind(st.target, None, env, ctx)
            self._block(st.body + st.orelse, env, ctx)
        elif isinstance(st, ast.With | ast.AsyncWith):
            for item in st.items:
                value = self._ev(item.context_expr, env, ctx)
                if item.optional_vars is not None:
                    self._bind(item.optional_vars, value, env, ctx)
                else:
                    self._use(value)
            self._block(st.body, env, ctx)
        elif isinstance(st, ast.FunctionDef | ast.AsyncFunctionDef):
            self._function(ctx[0], st, {k: v for k, v in env.items()}, {})  # a closure sees the names around it
        elif isinstance(st, ast.Return):
            self._use(self._ev(st.value, env, ctx) if st.value is not None else None)
        else:
            for field in ("test", "value", "exc", "msg"):
                child = getattr(st, field, None)
                if isinstance(child, ast.expr):
                    self._use(self._ev(child, env, ctx))
            for field in ("body", "orelse", "finalbody"):
                self._block(getattr(st, field, []) or [], env, ctx)
            for handler in getattr(st, "handlers", []) or []:
                self._block(handler.body, env, ctx)

    def _use(self, value):
        if value is not None:
            self._add(value)

    def _add(self, value):
        self.uses.add(value)
        self.where.setdefault(value, self._at)

    # -- expressions: a params path, or None (any params path inside is then recorded as read)
    def _ev(self, node, env, ctx):
        if node is None:
            return None
        if isinstance(node, ast.Name):
            return env.get(node.id)
        if isinstance(node, ast.Attribute):
            base = self._ev(node.value, env, ctx)
            if base is None:
                return None
            if len(base) >= 6:  # deeper than params.yaml goes: an object built from it
                self._use(base)
                return None
            if not _in_params(base + (node.attr,)) and any(_is_property(fn) for _, fn in methods().get(node.attr, [])):
                for f, fn in methods()[node.attr]:
                    if _is_property(fn):
                        self._call_def(f, fn, [], {}, [], True, self_path=base)
                return None
            return base + (node.attr,)
        if isinstance(node, ast.Subscript):
            base = self._ev(node.value, env, ctx)
            if isinstance(node.slice, ast.Constant):
                key = node.slice.value
            else:
                self._use(self._ev(node.slice, env, ctx))
                key = "*"
            return base + (key,) if base is not None else None
        if isinstance(node, ast.Call):
            return self._call(node, env, ctx)
        if isinstance(node, ast.Compare) and all(isinstance(op, ast.In | ast.NotIn) for op in node.ops):
            self._use(self._ev(node.left, env, ctx))
            for c in node.comparators:  # which keys exist: not a read of their values
                self._ev(c, env, ctx)
            return None
        if isinstance(node, ast.Lambda):
            self._function(ctx[0], node, dict(env), {})
            return None
        if isinstance(node, ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp):
            inner = dict(env)
            for gen in node.generators:
                self._use(self._ev(gen.iter, inner, ctx))
                self._bind(gen.target, None, inner, ctx)
                for cond in gen.ifs:
                    self._use(self._ev(cond, inner, ctx))
            for part in ("elt", "key", "value"):
                if getattr(node, part, None) is not None:
                    self._use(self._ev(getattr(node, part), inner, ctx))
            return None
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.expr):
                self._use(self._ev(child, env, ctx))
            elif isinstance(child, ast.keyword):
                self._use(self._ev(child.value, env, ctx))
        return None

    def _call(self, node: ast.Call, env, ctx):
        path, names, func = ctx
        f = node.func
        if isinstance(f, ast.Name) and f.id in ("_params", "load_params"):
            return ()  # the whole params of params.yaml
        if isinstance(f, ast.Attribute):
            receiver = self._ev(f.value, env, ctx)
            if receiver is not None:  # a method of a params object
                if f.attr == "get" and node.args and isinstance(node.args[0], ast.Constant):
                    return receiver + (node.args[0].value,)
                found = [] if f.attr in _DICT_METHODS else methods().get(f.attr, [])
                args = [self._ev(a, env, ctx) for a in node.args]
                if not found:
                    self._use(receiver)
                    for a in args:
                        self._use(a)
                for mf, fn in found:
                    self._call_def(mf, fn, args, {k.arg: self._ev(k.value, env, ctx) for k in node.keywords
                                                  if k.arg}, [], True, self_path=receiver)
                return None
        args, extra = [], []
        for a in node.args:
            if isinstance(a, ast.Starred):
                extra.append(self._ev(a.value, env, ctx))
            else:
                args.append(self._ev(a, env, ctx))
        kwargs = {}
        for k in node.keywords:
            if k.arg is None:
                extra.append(self._ev(k.value, env, ctx))
            else:
                kwargs[k.arg] = self._ev(k.value, env, ctx)
        target = self._resolve(f, env, ctx)
        if target is None:
            for p in [*args, *kwargs.values(), *extra]:
                self._use(p)
            return None
        tf, fn = target
        self._call_def(tf, fn, args, kwargs, extra, False)
        return None

    def _resolve(self, f, env, ctx):
        """(file, def) a call's function names in the package, or None."""
        path, names, func = ctx
        if isinstance(f, ast.Name):
            if f.id in names:
                mod, attr = names[f.id]
                return find_def(mod, attr) if attr else None
            if f.id in module(path).defs:
                return path, module(path).defs[f.id]
            return None
        if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id in names:
            mod, attr = names[f.value.id]
            if attr is None:
                return find_def(mod, f.attr)
        if isinstance(f, ast.Attribute):
            self._use(self._ev(f.value, env, ctx))
        return None


# ----------------------------------------------------------------------------- commands


@functools.cache
def cli_commands() -> dict[tuple[str, ...], ast.FunctionDef]:
    """``patnav`` command words → the function of pipeline/cli.py that runs it."""
    t = tree(PACKAGE / "cli.py")
    groups = {"app": ()}
    for node in ast.walk(t):  # app.add_typer(db_app, name="db")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "add_typer":
            name = next(k.value.value for k in node.keywords if k.arg == "name")
            groups[node.args[0].id] = (name,)
    out = {}
    for fn in (n for n in t.body if isinstance(n, ast.FunctionDef)):
        for d in fn.decorator_list:
            if isinstance(d, ast.Call) and isinstance(d.func, ast.Attribute) and d.func.attr == "command":
                word = d.args[0].value if d.args else fn.name.replace("_", "-")
                out[groups[d.func.value.id] + (word,)] = fn
    return out


def command_of(stage: dict) -> ast.FunctionDef:
    words = stage["cmd"].split()
    assert words[0] == "patnav", stage["cmd"]
    for n in range(len(words) - 1, 0, -1):
        if tuple(words[1: n + 1]) in cli_commands():
            return cli_commands()[tuple(words[1: n + 1])]
    raise AssertionError(f"no command of pipeline/cli.py runs {stage['cmd']!r}")


def entry_modules(fn: ast.FunctionDef) -> set[str]:
    """The modules of ``pipeline`` a command function imports."""
    cli = PACKAGE / "cli.py"
    return {m for node in ast.walk(fn) if isinstance(node, ast.Import | ast.ImportFrom)
            for m in imported_modules(cli, node)}


@functools.cache
def builders() -> dict[tuple, set[str]]:
    """(section,) or (section, field) → the modules whose classes config.load_params builds it with."""
    cfg = PACKAGE / "config.py"
    fn = next(n for n in tree(cfg).body if isinstance(n, ast.FunctionDef) and n.name == "load_params")
    names = {**module(cfg).imports, **module(cfg).local_imports(fn)}

    def mods(expr) -> set[str]:
        return {names[n.id][0] for n in ast.walk(expr) if isinstance(n, ast.Name) and n.id in names}

    out: dict[tuple, set[str]] = {}
    for node in ast.walk(fn):
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Subscript) \
                and isinstance(node.targets[0].value, ast.Name) and node.targets[0].value.id == "out":
            section = node.targets[0].slice.value
            value = node.value
            if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id not in names:
                for k in value.keywords:  # a class of config.py: its fields one by one
                    out.setdefault((section, k.arg), set()).update(mods(k.value))
                out.setdefault((section,), set()).update(set().union(*map(mods, value.args)) if value.args else set())
            elif isinstance(value, ast.Dict):
                for k, v in zip(value.keys, value.values):
                    out.setdefault((section, k.value), set()).update(mods(v))
                out.setdefault((section,), set())
            else:
                out.setdefault((section,), set()).update(mods(value))
    return out


def builder_modules(reads: set[tuple]) -> set[str]:
    out = set()
    for p in reads:
        if not p:
            continue
        for key, mods in builders().items():
            if key[0] == p[0] and (len(key) == 1 or len(p) == 1 or key[1] == p[1]):
                out |= mods
    return out


@functools.cache
def analysis() -> dict[str, dict]:
    """Per stage: ``code`` (module files), ``data`` (package data files), ``params`` (paths
    read, as params.yaml paths) and ``reads`` (files named by the path-valued params read)."""
    out = {}
    for name, st in stages().items():
        fn = command_of(st)
        tracker = ParamReads()
        raw_reads = tracker.command(PACKAGE / "cli.py", fn)
        where = {}
        for p in sorted(raw_reads, key=len):
            if p:
                where.setdefault(param_path(p, st["key"]), tracker.where[p])
        params = set(where)
        code = closure(entry_modules(fn) | {"pipeline.config"} | builder_modules(raw_reads))
        data = set().union(*(package_data(f) for f in code))
        reads = set()
        for p in params:
            value = _params_tree_get(p)
            leaves = [value] if not isinstance(value, dict | list) else \
                [v for v in _leaves(value)]
            reads |= {_norm(v) for v in leaves if isinstance(v, str) and "/" in v}
        reads |= {_norm(_interp(r, st["key"])) for r in LITERAL_READS.get(name, [])}
        out[name] = {"code": code, "data": data, "params": params, "reads": reads, "stage": st, "where": where,
                     "whole": tracker.where.get(())}
    return out


def _leaves(node):
    if isinstance(node, dict):
        for v in node.values():
            yield from _leaves(v)
    elif isinstance(node, list):
        for v in node:
            yield from _leaves(v)
    else:
        yield node


def _declared_files(st: dict) -> set[str]:
    """The package files a stage's deps cover."""
    files = set()
    for dep in (d for d in st["deps"] if d.startswith("pipeline")):
        p = ROOT / dep
        if p.is_dir():
            files |= {rel(f) for f in p.rglob("*") if f.is_file() and "__pycache__" not in f.parts}
        elif p.is_file():
            files.add(dep)
    return {f for f in files if f.startswith("pipeline/")}


# ----------------------------------------------------------------------------- tests


def test_every_stage_is_analysed():
    names = set(analysis())
    assert names == set(DVC), names
    for name, a in analysis().items():
        assert a["code"] and a["params"], name


@pytest.mark.parametrize("name", list(DVC))
def test_stage_declares_the_code_and_package_data_it_runs(name):
    a = analysis()[name]
    needed = {rel(f) for f in a["code"] | a["data"]}
    missing = sorted(f for f in needed if not any(covers(d, f) for d in a["stage"]["deps"]))
    assert not missing, f"{name}: add to its deps in dvc.yaml: {missing}"


@pytest.mark.parametrize("name", list(DVC))
def test_stage_declares_no_code_it_does_not_run(name):
    # A stale dep reruns the stage needlessly; a directory dep must not cover modules it never loads.
    a = analysis()[name]
    used = {rel(f) for f in a["code"] | a["data"]} | a["reads"]
    stale = sorted(_declared_files(a["stage"]) - used)
    assert not stale, f"{name}: declared in dvc.yaml but not run: {stale}"


@pytest.mark.parametrize("name", list(DVC))
def test_stage_declares_the_params_it_reads(name):
    a = analysis()[name]
    st = a["stage"]
    assert a["whole"] is None, f"{name}: every param is read at {a['whole']} (pass the section it needs)"
    declared = st["params"]
    missing = sorted(f"{'.'.join(map(str, p))} (read at {a['where'][p]})" for p in a["params"]
                     if not any(p[: len(d)] == d for d in declared) and p not in st["interpolated"])
    assert not missing, f"{name}: add to its params in dvc.yaml: {missing}"
    stale = sorted(".".join(d) for d in declared
                   if not any(p[: len(d)] == d or d[: len(p)] == p for p in a["params"]))
    assert not stale, f"{name}: declares params it never reads: {stale}"


@pytest.mark.parametrize("name", list(DVC))
def test_stage_declares_the_files_it_reads(name):
    a = analysis()[name]
    st = a["stage"]
    missing = sorted(f for f in a["reads"] if not any(covers(e, f) for e in st["deps"] + st["outs"]))
    assert not missing, f"{name}: add to its deps in dvc.yaml: {missing}"


def test_known_reads_are_seen():
    # The analysis finds what the issue found missing (a guard against an analysis that sees nothing).
    a = analysis()
    assert {"pipeline/landscape.py", "pipeline/score/talent.py", "pipeline/ingest/normalize.py", "pipeline/db.py",
            "pipeline/io.py"} <= {rel(f) for f in a["report"]["code"]}
    assert {"metrics/train.json", "pipeline/data/taxonomy.yaml"} <= a["report"]["reads"]
    assert "pipeline/classify/text.py" in {rel(f) for f in a["network"]["code"]}
    assert "pipeline/places.py" in {rel(f) for f in a["score"]["code"]}  # project regions (was project.py)
    assert {("analysis", "min_confidence"), ("analysis", "growth_window"), ("score", "talent_top")} <= a["landscape"]["params"]
    assert ("score",) not in a["landscape"]["params"]  # read field by field, through project_views
    assert ("network", "main_path_weight") in a["report"]["params"]
    # The undeclarable reads are still made (else drop them from UNDECLARED_READS).
    report_code = "".join(f.read_text(encoding="utf-8") for f in a["report"]["code"])
    assert '"dvc.lock"' in report_code and '"rev-parse"' in report_code


def test_cli_is_thin_and_no_stage_declares_it():
    # cli.py parses options and prints: a wording change must rerun nothing. It imports
    # from the package only params and errors at module level, and no stage command reads
    # or writes a file itself.
    for name, body in DVC.items():
        deps = (body.get("do") or body).get("deps", [])
        assert "pipeline/cli.py" not in deps and "pipeline" not in deps, name
    cli = PACKAGE / "cli.py"
    top = {m for n in tree(cli).body if isinstance(n, ast.Import | ast.ImportFrom) for m in imported_modules(cli, n)}
    assert top <= {"pipeline.config", "pipeline.errors"}, top
    for st in stages().values():
        fn = command_of(st)
        calls = {c.func.attr if isinstance(c.func, ast.Attribute) else getattr(c.func, "id", "")
                 for c in ast.walk(fn) if isinstance(c, ast.Call)}
        assert not calls & IO_CALLS, (st["name"], sorted(calls & IO_CALLS))
        imported = {a.name for n in ast.walk(fn) if isinstance(n, ast.ImportFrom) for a in n.names}
        assert any(i.startswith("run_") for i in imported), (st["name"], imported)
        assert "_params" in calls, st["name"]


def test_importing_a_module_only_defines_names():
    # What makes it safe not to follow pipeline/__init__.py's imports: the modules they load
    # (and theirs) only define names at import, so loading one that a stage does not use
    # cannot change the stage's outputs.
    root = PACKAGE / "__init__.py"
    loaded = closure({m for node, _ in import_nodes(root) for m in imported_modules(root, node)})
    assert len(loaded) > 10
    defining = ast.Import | ast.ImportFrom | ast.FunctionDef | ast.ClassDef | ast.Assign | ast.AnnAssign
    for f in sorted(loaded):
        for node in tree(f).body:
            docstring = isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
            assert docstring or isinstance(node, defining), f"{rel(f)}:{node.lineno}: a statement run at import"


def test_no_module_reads_a_name_through_the_root_package():
    # pipeline/__init__.py re-exports names for `import pipeline`; its imports are not followed,
    # so no module of the package may reach those names through it.
    public = {a.asname or a.name for n in tree(PACKAGE / "__init__.py").body if isinstance(n, ast.ImportFrom)
              for a in n.names}
    for f in sorted(PACKAGE.rglob("*.py")):
        for node, _ in import_nodes(f):
            if isinstance(node, ast.Import):
                assert all(a.name != "pipeline" for a in node.names), f"{rel(f)}: import pipeline"
            elif resolve_from(f, node) == "pipeline":
                names = {a.name for a in node.names} & public
                assert all(module_file(f"pipeline.{n}") for n in names), (rel(f), names)


def test_every_package_data_file_is_accounted_for():
    found = {rel(p) for f in PACKAGE.rglob("*.py") for p in package_data(f)}
    data = {rel(p) for p in PACKAGE.rglob("*") if p.is_file() and p.suffix != ".py" and "__pycache__" not in p.parts}
    assert data - found == set(NOT_READ_BY_PATH), data - found
    assert not found & set(NOT_READ_BY_PATH)


# ----------------------------------------------------------------------------- staleness


def _dag(sts: dict[str, dict]) -> set[tuple[str, str]]:
    """Stage edges: an out of one covers (or lies inside) a dep of another."""
    return {(a, b) for a, sa in sts.items() for b, sb in sts.items() if a != b
            for o in sa["outs"] for d in sb["deps"] if covers(o, d) or covers(d, o)}


def _downstream(edges, start: set[str]) -> set[str]:
    out, todo = set(start), list(start)
    while todo:
        s = todo.pop()
        for a, b in edges:
            if a == s and b not in out:
                out.add(b)
                todo.append(b)
    return out


def test_each_module_is_declared_by_exactly_the_stages_that_run_it():
    """Touching a module makes stale the stages that run it and their downstream stages,
    no other (static: dvc.yaml's deps and stage graph against the analysis)."""
    sts = stages(all_keys=True)
    proc = subprocess.run([str(BIN / "dvc"), "dag", "--dot"], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, env=dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}"))
    assert proc.returncode == 0, proc.stderr
    edges = set(re.findall(r'"([^"]+)" -> "([^"]+)"', proc.stdout))
    assert edges == _dag(sts), "the stage graph of dvc.yaml is not what DVC sees"
    runs: dict[str, set[str]] = {}
    for name, a in analysis().items():
        for f in {rel(f) for f in a["code"] | a["data"]} | a["reads"]:
            runs.setdefault(f, set()).update(s for s in sts if s.split("@")[0] == name)
    files = {rel(p) for p in PACKAGE.rglob("*") if p.is_file() and "__pycache__" not in p.parts}
    wrong = {}
    for f in sorted(files):
        declared = {s for s, st in sts.items() if any(covers(d, f) for d in st["deps"])}
        if declared != runs.get(f, set()):
            wrong[f] = {"declared by": sorted(declared), "run by": sorted(runs.get(f, set()))}
    assert not wrong, wrong
    # e.g. a module only the report runs: only the reports go stale.
    only = {f: s for f, s in runs.items() if {x.split("@")[0] for x in s} == {"report"}}
    assert only and all(_downstream(edges, s) == s for s in only.values())


# --- the same, as DVC sees it: `dvc status` after touching one module ------------------------


@pytest.fixture(scope="module")
def committed_copy(tmp_path_factory):
    """A copy of the checkout whose stages are all up to date without running them: empty
    stand-ins for every output, recorded by `dvc commit` (seconds, not a repro)."""
    dst = tmp_path_factory.mktemp("deps") / "patnav"
    (dst.parent / "shared").symlink_to(ROOT.parent / "shared", target_is_directory=True)
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True,
                           text=True, check=True).stdout.splitlines()
    for f in files:
        if (ROOT / f).is_file() and f != "dvc.lock":
            (dst / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / f, dst / f)
    lock = _load(ROOT / "dvc.lock")["stages"]
    for name, st in stages(all_keys=True).items():
        for out in st["outs"]:
            entry = next((o for o in lock.get(name, {}).get("outs", []) if _norm(o["path"]) == out), {})
            p = dst / out
            if str(entry.get("md5", "")).endswith(".dir"):
                p.mkdir(parents=True, exist_ok=True)
                (p / "stand-in").write_text(name)
            else:
                p.parent.mkdir(parents=True, exist_ok=True)
                p.write_text(name)
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}", CI="true")
    for cmd in (["git", "init", "-q"], [str(BIN / "dvc"), "commit", "-f", "-q"]):
        proc = subprocess.run(cmd, cwd=dst, capture_output=True, text=True, env=env, timeout=300)
        assert proc.returncode == 0, proc.stderr
    return dst, env


def _status(root: Path, env) -> set[str]:
    proc = subprocess.run([str(BIN / "dvc"), "status", "--json"], cwd=root, capture_output=True, text=True,
                          env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return set(json.loads(proc.stdout or "{}"))


def test_touching_a_module_makes_only_its_stages_stale(committed_copy):
    root, env = committed_copy
    assert _status(root, env) == set()
    sts = stages(all_keys=True)
    runs: dict[str, set[str]] = {}
    for name, a in analysis().items():
        for f in a["code"]:
            runs.setdefault(rel(f), set()).update(s for s in sts if s.split("@")[0] == name)
    # One module per set of stages that run it alone: a stage's own module, a report's page code …
    picks = {}
    for f, s in sorted(runs.items()):
        picks.setdefault(frozenset(s), f)
    picks = {s: f for s, f in picks.items() if len({x.split("@")[0] for x in s}) == 1}
    assert len(picks) >= 4, picks
    for s, f in picks.items():
        path = root / f
        before = path.read_bytes()
        path.write_bytes(before + b"\n# touched\n")
        try:
            assert _status(root, env) == set(s), f
        finally:
            path.write_bytes(before)
    assert _status(root, env) == set()
