"""The package's layers, written once here and drawn in docs/ARCHITECTURE.md.

Every module's imports are read with :mod:`ast`. A module may import from its own layer or a lower
one, never from a higher one, and the imports between modules form no circle. The package's own
modules are imported at the top of a module; an import inside a function needs a ``# lazy:``
reason on its line (a heavy or optional dependency behind it).
"""
from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "pipeline"

# Lowest first. A name is a module or a package (with everything under it) below ``pipeline``.
LAYERS = [
    ("base", ["version", "errors", "cache", "resources", "ffmpeg", "threads", "lock", "networks", "crash", "textfile", "interrupt"]),
    ("inputs", ["source", "speech"]),   # what was filmed and what was said
    ("areas", ["faces", "reframe", "captions", "sound", "post", "provenance"]),
    ("stages", ["analyse", "branding", "plan", "mask_timeline", "render", "validate", "report", "export", "master", "published"]),
    ("orchestrator", ["fingerprint", "approval", "audit_log", "orchestrator", "doctor"]),
    ("apps", ["campaign", "review", "demo"]),
    ("interface", ["cli", "__init__"]),
]


def module_name(path: Path, root: Path = PACKAGE) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__" and len(parts) > 1:
        parts = parts[:-1]
    return ".".join(parts)


def layer_of(module: str) -> int:
    for index, (_, names) in enumerate(LAYERS):
        if any(module == name or module.startswith(name + ".") for name in names):
            return index
    raise AssertionError(f"pipeline.{module} belongs to no layer: add it to LAYERS in tests/test_layers.py")


def _is_module(root: Path, dotted: str) -> bool:
    path = root.joinpath(*dotted.split("."))
    return path.is_dir() or path.with_suffix(".py").is_file()


def own_imports(path: Path, root: Path = PACKAGE) -> list[tuple[str, int, bool, str]]:
    """(module imported, below ``pipeline``; line; inside a function; source line) per own import."""
    text = path.read_text()
    lines = text.splitlines()
    tree = ast.parse(text)
    module = module_name(path, root)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    if module == "__init__":
        package = ""
    nested = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            nested.update(id(n) for n in ast.walk(node) if n is not node)
    out = []
    for node in ast.walk(tree):
        targets = []
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".") if package else []
                base = base[:len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            elif node.module == "pipeline" or (node.module or "").startswith("pipeline."):
                target = node.module[len("pipeline."):] if node.module != "pipeline" else ""
            else:
                continue
            for alias in node.names:
                sub = f"{target}.{alias.name}" if target else alias.name
                targets.append(sub if _is_module(root, sub) else (target or "__init__"))
        elif isinstance(node, ast.Import):
            targets = [a.name[len("pipeline."):] for a in node.names if a.name.startswith("pipeline.")]
        out += [(t, node.lineno, id(node) in nested, lines[node.lineno - 1]) for t in targets]
    return out


def layer_violations(root: Path = PACKAGE) -> list[str]:
    wrong = []
    for path in sorted(root.rglob("*.py")):
        module = module_name(path, root)
        here = layer_of(module)
        for target, line, _, _ in own_imports(path, root):
            if layer_of(target) > here:
                wrong.append(f"pipeline/{path.relative_to(root)}:{line}: {module} ({LAYERS[here][0]}) "
                             f"imports {target} ({LAYERS[layer_of(target)][0]})")
    return wrong


def circles(root: Path = PACKAGE) -> list[str]:
    edges = {module_name(p, root): {t for t, *_ in own_imports(p, root)} for p in sorted(root.rglob("*.py"))}
    for module, targets in edges.items():
        targets.discard(module)
    state: dict[str, int] = {}
    found = []

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(edges.get(node, ())):
            if nxt in edges and state.get(nxt) == 1:
                found.append(" -> ".join(stack[stack.index(nxt):] + [nxt]))
            elif nxt in edges and nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node, [node])
    return found


def test_every_module_imports_only_its_own_layer_or_lower():
    wrong = layer_violations()
    assert not wrong, "imports from a higher layer:\n" + "\n".join(wrong)


def test_no_import_circle():
    found = circles()
    assert not found, "import circles:\n" + "\n".join(found)


def test_own_modules_are_imported_at_the_top_unless_a_reason_is_given():
    hidden = [f"pipeline/{path.relative_to(PACKAGE)}:{line}: {source.strip()}"
              for path in sorted(PACKAGE.rglob("*.py"))
              for _, line, inside, source in own_imports(path) if inside and "# lazy:" not in source]
    assert not hidden, "own imports inside functions without a '# lazy: <reason>' comment:\n" + "\n".join(hidden)


def test_the_checks_catch_an_upward_import_and_a_circle(tmp_path):
    """A tiny package with a base module importing the orchestrator, and a circle: both are found."""
    root = tmp_path / "pipeline"
    (root / "speech").mkdir(parents=True)
    (root / "__init__.py").write_text("")
    (root / "speech" / "__init__.py").write_text("")
    (root / "cache.py").write_text("from .orchestrator import render_episode\n")
    (root / "orchestrator.py").write_text("from pipeline.cache import x\n")
    (root / "speech" / "a.py").write_text("def f():\n    from pipeline.speech import b\n")
    (root / "speech" / "b.py").write_text("from . import a\n")
    assert layer_violations(root) == ["pipeline/cache.py:1: cache (base) imports orchestrator (orchestrator)"]
    assert sorted(circles(root)) == ["cache -> orchestrator -> cache", "speech.a -> speech.b -> speech.a"]
    (inside,) = [i for _, _, i, _ in own_imports(root / "speech" / "a.py", root)]
    assert inside
