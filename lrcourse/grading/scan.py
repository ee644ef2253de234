"""Read a submission's code for tampering, before anything runs.

The grader does not rely on this scan to be safe (checks are judged outside
the learner's process); it finds what an instructor should look at and says
why.  Each finding names the cell and the construct.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["Finding", "scan_cell", "scan_cells"]

# Modules whose attributes a learner has no business replacing.
GUARDED_MODULES = {
    "np", "numpy", "numpy.testing", "lrcourse", "builtins", "sys", "os", "math", "IPython",
}
# Calls and names that reach around the grader.
SUSPICIOUS_CALLS = {
    "os._exit": "ends the process (os._exit)",
    "sys.exit": "ends the program (sys.exit)",
    "exit": "ends the program (exit)",
    "quit": "ends the program (quit)",
    "os.kill": "sends a signal (os.kill)",
    "signal.signal": "installs a signal handler",
    "sys.settrace": "installs a tracer (sys.settrace)",
    "sys.setprofile": "installs a profiler hook (sys.setprofile)",
    "importlib.reload": "reloads a module (importlib.reload)",
    "gc.get_objects": "walks the interpreter's objects (gc)",
    "gc.get_referrers": "walks the interpreter's objects (gc)",
    "inspect.getsource": "reads source code (inspect.getsource)",
    "ctypes.CDLL": "loads native code (ctypes)",
    "setattr": "sets an attribute with setattr",
    "exec": "runs code built at run time (exec)",
    "eval": "runs code built at run time (eval)",
    "compile": "compiles code at run time",
    "__import__": "imports through __import__",
}
SUSPICIOUS_ATTRIBUTES = {
    "input_transformers_cleanup": "registers an IPython input transformer",
    "input_transformers_post": "registers an IPython input transformer",
    "input_transformer_manager": "changes IPython's input transformation",
    "ast_transformers": "registers an IPython AST transformer",
    "register": None,  # only suspicious on .events (handled below)
    "__code__": "rewrites a function's code (__code__)",
    "__globals__": "reaches into a function's globals (__globals__)",
    "__closure__": "reaches into a function's closure (__closure__)",
    "__builtins__": "changes builtins",
    "modules": None,  # only suspicious as sys.modules (handled below)
    "_getframe": "inspects interpreter frames (sys._getframe)",
    "f_globals": "reaches into a frame's globals",
    "f_locals": "reaches into a frame's locals",
}
SUSPICIOUS_IMPORTS = {
    "ctypes": "imports ctypes (native memory access)",
    "gc": "imports gc (walks the interpreter's objects)",
    "lrcourse.checks": "imports the course's checks into a solution",
    "lrcourse.grading": "imports the grader",
    "signal": "imports signal",
    "importlib": "imports importlib",
    "inspect": "imports inspect",
    "multiprocessing": "imports multiprocessing",
    "subprocess": "starts other programs (subprocess)",
}


@dataclass(frozen=True)
class Finding:
    """Something in a cell an instructor should look at."""

    cell: int  # index in the notebook
    line: int
    what: str

    def __str__(self) -> str:
        return f"cell {self.cell + 1}, line {self.line}: {self.what}"


def _dotted(node: ast.AST) -> str:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    elif isinstance(node, ast.Call):
        parts.append(_dotted(node.func) + "()")
    return ".".join(reversed(parts))


def scan_cell(source: str, index: int) -> list[Finding]:
    """Findings in one code cell (IPython magics are transformed first)."""
    from IPython.core.inputtransformer2 import TransformerManager

    try:
        python = TransformerManager().transform_cell(source)
        tree = ast.parse(python)
    except (SyntaxError, ValueError):
        return []  # a cell that does not parse cannot tamper with anything
    found: list[Finding] = []

    def note(node: ast.AST, what: str) -> None:
        found.append(Finding(index, getattr(node, "lineno", 0), what))

    for node in ast.walk(tree):
        if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign | ast.Delete):
            targets = node.targets if isinstance(node, ast.Assign | ast.Delete) else [node.target]
            for target in targets:
                if isinstance(target, ast.Attribute):
                    owner = _dotted(target.value)
                    if owner.split(".")[0] in GUARDED_MODULES or owner.startswith("get_ipython"):
                        note(node, f"replaces {owner}.{target.attr}")
                if isinstance(target, ast.Subscript) and _dotted(target.value) == "sys.modules":
                    note(node, "replaces an entry of sys.modules")
        elif isinstance(node, ast.Call):
            name = _dotted(node.func)
            bare = name.split(".")[-1] if name.startswith("get_ipython()") else name
            if name in SUSPICIOUS_CALLS:
                note(node, SUSPICIOUS_CALLS[name])
            elif name.endswith("events.register") or bare == "register_magic_function":
                note(node, "registers an IPython hook")
            elif name.endswith((".append", ".insert", ".extend")) and any(
                key in name for key in ("input_transformers", "ast_transformers")
            ):
                note(node, "registers an IPython input transformer")
        elif isinstance(node, ast.Attribute):
            what = SUSPICIOUS_ATTRIBUTES.get(node.attr)
            if what:
                note(node, what)
            elif node.attr == "modules" and _dotted(node.value) == "sys":
                note(node, "touches sys.modules")
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [
                node.module or ""]
            for module in names:
                for banned, what in SUSPICIOUS_IMPORTS.items():
                    if module == banned or module.startswith(banned + "."):
                        note(node, what)
    return _unique(found)


def scan_cells(cells: Iterable[tuple[int, str]]) -> list[Finding]:
    """Findings in several cells, given as ``(index, source)``."""
    return [f for index, source in cells for f in scan_cell(source, index)]


def _unique(found: list[Finding]) -> list[Finding]:
    seen, out = set(), []
    for f in found:
        if (f.line, f.what) not in seen:
            seen.add((f.line, f.what))
            out.append(f)
    return out
