"""The package's layers, written once here and quoted in docs/ARCHITECTURE.md (a test checks the quote).

Every module's imports are read with :mod:`ast`. A module may import from its own layer or a lower
one, never from a higher one; the imports form no circle, neither between modules nor between
packages; no module imports another module's private (``_name``) names; the CLI imports only the
public API (``pipeline``) and its own modules. The package's own
modules are imported at the top of a module; an import inside a function needs a ``# lazy:``
reason on its line (a heavy or optional dependency behind it).
"""
from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "pipeline"

# Lowest first. A name is a module or a package (with everything under it) below ``pipeline``.
LAYERS = [
    ("base", ["core"]),
    ("inputs", ["source", "speech"]),   # what was filmed and what was said
    ("areas", ["faces", "reframe", "captions", "sound", "post"]),
    ("stages", ["analyse", "branding", "plan", "render", "validate", "report", "export", "master", "published"]),
    ("orchestrator", ["signoff", "orchestrator", "doctor"]),
    ("apps", ["campaign", "review", "demo", "propose"]),
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


def package_of(module: str) -> str:
    """The package (or top-level module) directly below ``pipeline`` that holds ``module``."""
    return module.split(".")[0]


def package_circles(root: Path = PACKAGE) -> list[str]:
    """Pairs of packages directly below ``pipeline`` that import each other (directly or round a circle)."""
    edges: dict[str, set[str]] = {}
    for path in sorted(root.rglob("*.py")):
        here = package_of(module_name(path, root))
        edges.setdefault(here, set()).update(package_of(t) for t, *_ in own_imports(path, root))
    for name, targets in edges.items():
        targets.discard(name)

    def reaches(start: str, goal: str) -> bool:
        seen, todo = set(), [start]
        while todo:
            node = todo.pop()
            if node == goal:
                return True
            if node not in seen:
                seen.add(node)
                todo += sorted(edges.get(node, ()))
        return False

    return [f"{a} <-> {b}" for a in sorted(edges) for b in sorted(edges[a]) if a < b and reaches(b, a)]


def private_imports(root: Path = PACKAGE) -> list[str]:
    """``from pipeline.x import _name`` across modules: a private name used outside its module."""
    wrong = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").startswith("pipeline")):
                for alias in node.names:
                    if alias.name.startswith("_") and not alias.name.startswith("__"):
                        wrong.append(f"pipeline/{path.relative_to(root)}:{node.lineno}: imports {alias.name}")
    return wrong


def cli_inner_imports(root: Path = PACKAGE) -> list[str]:
    """Imports by the CLI of anything but ``pipeline`` (the public API) and the CLI's own modules."""
    return [f"pipeline/{path.relative_to(root)}:{line}: {source.strip()}"
            for path in sorted((root / "cli").rglob("*.py"))
            for target, line, _, source in own_imports(path, root)
            if target not in ("__init__", "cli") and not target.startswith("cli.")]


def test_every_module_imports_only_its_own_layer_or_lower():
    wrong = layer_violations()
    assert not wrong, "imports from a higher layer:\n" + "\n".join(wrong)


def test_no_import_circle():
    found = circles()
    assert not found, "import circles:\n" + "\n".join(found)


def test_no_two_packages_import_each_other():
    found = package_circles()
    assert not found, "packages that import each other:\n" + "\n".join(found)


def test_no_module_imports_another_modules_private_names():
    wrong = private_imports()
    assert not wrong, "private names imported from another module:\n" + "\n".join(wrong)


def test_the_cli_imports_only_the_public_api():
    wrong = cli_inner_imports()
    assert not wrong, "the CLI imports inner modules (export the name from pipeline/__init__.py):\n" + "\n".join(wrong)


def test_the_architecture_doc_quotes_the_layers():
    doc = (PACKAGE.parent / "docs" / "ARCHITECTURE.md").read_text()
    quoted = doc.split("<!-- layers: generated from tests/test_layers.py LAYERS; lowest first -->\n")[1]
    quoted = quoted.split("<!-- /layers -->")[0]
    assert quoted == layers_markdown(), ("docs/ARCHITECTURE.md's layer list differs from LAYERS; paste:\n"
                                         + layers_markdown())


def layers_markdown() -> str:
    return "".join(f"{i + 1}. *{name}*: " + ", ".join(f"`{n}`" for n in names) + "\n"
                   for i, (name, names) in enumerate(LAYERS))


def test_own_modules_are_imported_at_the_top_unless_a_reason_is_given():
    hidden = [f"pipeline/{path.relative_to(PACKAGE)}:{line}: {source.strip()}"
              for path in sorted(PACKAGE.rglob("*.py"))
              for _, line, inside, source in own_imports(path) if inside and "# lazy:" not in source]
    assert not hidden, "own imports inside functions without a '# lazy: <reason>' comment:\n" + "\n".join(hidden)


def test_the_checks_catch_an_upward_import_and_a_circle(tmp_path):
    """A tiny package with a base module importing the orchestrator, and a circle: both are found."""
    root = tmp_path / "pipeline"
    (root / "speech").mkdir(parents=True)
    (root / "core").mkdir()
    (root / "__init__.py").write_text("")
    (root / "core" / "__init__.py").write_text("")
    (root / "speech" / "__init__.py").write_text("")
    (root / "core" / "cache.py").write_text("from ..orchestrator import render_episode\n")
    (root / "orchestrator.py").write_text("from pipeline.core.cache import x\n")
    (root / "speech" / "a.py").write_text("def f():\n    from pipeline.speech import b\n")
    (root / "speech" / "b.py").write_text("from . import a\n")
    assert layer_violations(root) == ["pipeline/core/cache.py:1: core.cache (base) imports orchestrator (orchestrator)"]
    assert sorted(circles(root)) == ["core.cache -> orchestrator -> core.cache", "speech.a -> speech.b -> speech.a"]
    (inside,) = [i for _, _, i, _ in own_imports(root / "speech" / "a.py", root)]
    assert inside


def test_the_checks_catch_a_package_circle_a_private_import_and_a_cli_inner_import(tmp_path):
    """Planted: ``faces`` and ``reframe`` importing each other, a private name crossing modules, and a
    CLI command importing an inner module: each check names exactly the planted line."""
    root = tmp_path / "pipeline"
    for package in ("faces", "reframe", "cli"):
        (root / package).mkdir(parents=True)
        (root / package / "__init__.py").write_text("")
    (root / "__init__.py").write_text("")
    (root / "faces" / "moving.py").write_text("from pipeline.reframe.shots import detect_shots\n")
    (root / "reframe" / "shots.py").write_text("def detect_shots():\n    pass\n")
    (root / "reframe" / "base.py").write_text("from pipeline.faces.masking import _same_kind\n")
    (root / "faces" / "masking.py").write_text("def _same_kind():\n    pass\n")
    (root / "cli" / "render.py").write_text("from pipeline import render_episode\nfrom pipeline.cli import entry\n"
                                            "from pipeline.faces.masking import mask_frame\n")
    assert package_circles(root) == ["faces <-> reframe"]
    assert private_imports(root) == ["pipeline/reframe/base.py:1: imports _same_kind"]
    assert cli_inner_imports(root) == ["pipeline/cli/render.py:3: from pipeline.faces.masking import mask_frame"]
