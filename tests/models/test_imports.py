"""The models package has no import cycles: the graph of its modules' top-level imports is
acyclic, the shared modules import no model, the protocol (``base``) no registry or loader, and
modules import first in a fresh interpreter."""

from __future__ import annotations

import ast
import graphlib
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import artistrec.models

PACKAGE = Path(artistrec.models.__file__).parent
#: Every module of the package by its dotted name below ``artistrec.models`` (a sub-package's
#: modules too: ``neural`` is its ``__init__``, ``neural.features`` one of its modules).
MODULES = sorted(
    m.name.removeprefix("artistrec.models.")
    for m in pkgutil.walk_packages(artistrec.models.__path__, prefix="artistrec.models.")
)
NEURAL = {m for m in MODULES if m == "neural" or m.startswith("neural.")}
MODELS = {"als", "bpr", "dlae", "ease", "hybrid", "hybrid_core", "item_knn"} | {
    "pipeline",
    "popularity",
    "rankers",
    "rp3beta",
    "seed_mf",
    "set_autoencoder",
    "spark_als",  # not registered (train als --engine spark), but a model: it builds on als
    "two_tower",
    *NEURAL,  # the neural models' parts
    "tag_profile",
}
SHARED = {
    "base",
    "params",
    "ranking",
    "weighting",
    "sparse",
    "linalg",
    "item_item",
    "tags",
    "capping",
}


def _file(module: str) -> Path:
    path = PACKAGE / (module.replace(".", "/") + ".py")
    return path if path.exists() else PACKAGE / module.replace(".", "/") / "__init__.py"


def _deps(module: str, top_level_only: bool) -> set[str]:
    """The ``artistrec.models`` modules that ``module`` imports (by dotted name)."""
    tree = ast.parse(_file(module).read_text(encoding="utf-8"))
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    names: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
    prefix = "artistrec.models."
    return {n[len(prefix) :] for n in names if n.startswith(prefix)} & set(MODULES)


def test_module_imports_form_no_cycle() -> None:
    graph = {m: _deps(m, top_level_only=True) - {m} for m in MODULES}
    order = list(graphlib.TopologicalSorter(graph).static_order())  # raises CycleError
    assert set(order) == set(MODULES)


def test_shared_modules_import_no_model_and_base_no_registry() -> None:
    assert SHARED | MODELS | {"registry", "io"} == set(MODULES)
    for module in SHARED:
        assert not _deps(module, top_level_only=False) & (MODELS | {"registry", "io"}), module
    assert "io" not in _deps("registry", top_level_only=False)


@pytest.mark.parametrize("first", ["io", "base", "hybrid", "registry", "dlae"])
def test_a_module_imports_first_in_a_fresh_interpreter(first: str) -> None:
    code = f"import artistrec.models.{first}; import artistrec; artistrec.load_model"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
