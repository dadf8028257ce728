#!/usr/bin/env python3
"""Prints each crate's module graph and fails if any crate's modules form a cycle.

A module's edges are the other modules of its crate that its code names as `crate::name` (in a
`use` or a path, comments and `#[cfg(test)] mod tests` left out). A crate here is a folder
`src/` of one-file modules, which is what every crate of this workspace is.

    python3 scripts/module-cycles.py [-v]     # -v prints every edge
"""
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
NAME = r"[a-z_][a-z0-9_]*"


def code_of(path):
    text = path.read_text()
    text = re.split(r"#\[cfg\((?:all\()?test[^\]]*\]\s*mod tests", text)[0]
    return "\n".join(line.split("//")[0] for line in text.splitlines())


def graph(src):
    modules = {p.stem: p for p in src.glob("*.rs") if p.stem not in ("lib", "main")}
    edges = {}
    for name, path in modules.items():
        code = code_of(path)
        named = set(re.findall(rf"crate::({NAME})", code))
        for group in re.findall(r"crate::\{([^;]*?)\}\s*;", code, re.S):
            named.update(re.findall(rf"(?:^|[{{,\s])({NAME})(?=\s*(?:::|,|\}}|$))", group))
        edges[name] = sorted((named & modules.keys()) - {name})
    return edges


def cycles(edges):
    """The strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def main():
    verbose = "-v" in sys.argv[1:]
    crates = sorted(p.parent for p in ROOT.glob("**/Cargo.toml")
                    if "target" not in p.parts and (p.parent / "src").is_dir()
                    and "fuzz" not in p.relative_to(ROOT).parts)
    failed = False
    for crate in crates:
        edges = graph(crate / "src")
        found = cycles(edges)
        failed |= bool(found)
        count = sum(map(len, edges.values()))
        verdict = "cycles: " + "; ".join(" ↔ ".join(c) for c in found) if found else "no cycle"
        print(f"{crate.relative_to(ROOT)}: {len(edges)} modules, {count} edges, {verdict}")
        if verbose:
            for name, targets in sorted(edges.items()):
                print(f"  {name} -> {', '.join(targets) or '(none)'}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
