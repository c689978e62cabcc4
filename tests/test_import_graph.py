"""The house's import rules, checked on the source (an AST scan, no imports run):

- no ``sys.path`` edits anywhere in the code (scripts reach shared code through the installed
  ``fsr`` package);
- no import cycle between modules, counting imports placed inside functions (an import hidden
  in a function to dodge a cycle is still a cycle);
- fsr's layers import downwards only (``LAYERS``: a package may import its own layer and the
  layers before it).
"""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CODE = ("fsr", "bench", "leaderboard", "demo", "tools")
# fsr's packages from the bottom up; a module may import from its own row and rows above it
LAYERS = [
    {"fsr.files", "fsr.imageio", "fsr.device", "fsr.options", "fsr.assets"},
    {"fsr.archs", "fsr.face", "fsr.pose"},
    {"fsr.priors", "fsr.metrics", "fsr.methods"},
    {"fsr.synth"},  # face synthesis (synthetic pose): a crop turned to another yaw, checked
    {"fsr.data"},  # training/benchmark data, which may use synthetic pose
    {"fsr.losses", "fsr.models", "fsr.train", "fsr.restore"},
    # the benchmark's floors: what is scored, computing it into the cache, tables from the cache
    {"fsr.bench"},  # the package itself: BenchError only
    {"fsr.bench.inputs"},  # suites, the datasets registry and readers, the protocol
    {"fsr.bench.compute"},  # the engine, its cache (store) and every network it runs
    {"fsr.bench.report"},  # run tables from the cache, plots, manifest, merging runs
    {"fsr.bench.leaderboard"},  # Markdown pages from the tables
    {"fsr.__main__"},
]


def _modules() -> dict[str, Path]:
    out = {}
    for top in CODE:
        for path in (REPO / top).rglob("*.py"):
            rel = path.relative_to(REPO).with_suffix("")
            parts = list(rel.parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join(parts)] = path
    return out


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*up, base] if base else up)
            names = [f"{base}.{a.name}" for a in node.names] + [base]
        else:
            continue
        for n in names:
            while n and n not in known:  # the longest known prefix: a module, not a name
                n = n.rpartition(".")[0]
            if n and n != name:
                found.add(n)
    return found


def _graph() -> dict[str, set[str]]:
    mods = _modules()
    known = set(mods)
    return {name: _imports(name, path, known) for name, path in mods.items()}


def test_no_sys_path_edits():
    offenders = [str(p.relative_to(REPO)) for top in (*CODE, "tests")
                 for p in (REPO / top).rglob("*.py") if "sys.path.insert" in p.read_text()
                 or "sys.path.append" in p.read_text()]
    offenders = [o for o in offenders if o != "tests/test_import_graph.py"]
    assert offenders == []


def test_no_import_cycles():
    edges = _graph()
    cycles = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt.startswith(node + "."):
                continue  # a package importing its own submodule
            if state.get(nxt) == 1:
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node)
    # a submodule importing its package's __init__ (for a shared name like BenchError) is
    # not a cycle of ideas when __init__ imports nothing back
    real = [c for c in cycles if not all(b.startswith(a + ".") or a.startswith(b + ".")
                                         for a, b in zip(c, c[1:], strict=False))]
    assert real == [], "\n".join(" -> ".join(c) for c in real)


def _layer(module: str) -> int | None:
    """The row of the longest package prefix of ``module`` (fsr.bench.compute before fsr.bench)."""
    best = None
    for i, row in enumerate(LAYERS):
        for p in row:
            if (module == p or module.startswith(p + ".")) and (best is None or len(p) > best[1]):
                best = (i, len(p))
    return None if best is None else best[0]


def test_fsr_layers_import_downwards():
    upward = []
    for mod, deps in _graph().items():
        lm = _layer(mod)
        if lm is None:
            continue
        for dep in deps:
            ld = _layer(dep)
            if ld is not None and ld > lm:
                upward.append(f"{mod} -> {dep}")
    assert sorted(upward) == []
