#!/usr/bin/env python3
"""Checks the layout rules of docs/architecture.md that the compiler does not:

- no circle between source files: file A naming an item of file B (a `use`, or a
  `crate::`/`super::` path in code) is an edge A -> B; the module tree itself (`mod b;`) is not;
- no file of the agent (router-container/src) over 400 lines.

Prints each circle and each long file, and exits 1 if there is any. Usage: check-layout.py [ROOT]
"""

import re
import sys
from pathlib import Path

MAX_AGENT_LINES = 400
IDENT = r"[A-Za-z_][A-Za-z0-9_]*"


def crates(root):
    for manifest in sorted(root.glob("*/Cargo.toml")):
        src = manifest.parent / "src"
        if src.is_dir():
            yield src


def module_of(src, path):
    """`src/a/b.rs` -> ["a", "b"]; `src/a/mod.rs` -> ["a"]; lib.rs/main.rs/bin files -> []."""
    rel = path.relative_to(src).with_suffix("")
    parts = list(rel.parts)
    if parts and parts[0] == "bin":
        return None
    if parts[-1] in ("mod", "lib", "main"):
        parts = parts[:-1]
    return parts


def file_of(src, module, roots):
    """The file of a module path, or None. `roots` are the crate's root files."""
    if not module:
        return roots[0] if roots else None
    base = src.joinpath(*module)
    for cand in (base.with_suffix(".rs"), base / "mod.rs"):
        if cand.exists():
            return cand
    return None


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return "\n".join(line.split("//")[0] for line in text.splitlines())


def expand_use(tree):
    """`a::{b, c::{d, e}}` -> ["a::b", "a::c::d", "a::c::e"]."""
    tree = tree.strip()
    m = re.match(r"^(.*?)\{(.*)\}$", tree, flags=re.S)
    if not m:
        return [re.sub(r"\s+as\s+\w+$", "", tree)]
    prefix, inner = m.group(1), m.group(2)
    items, depth, cur = [], 0, ""
    for ch in inner:
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        if ch == "," and depth == 0:
            items.append(cur)
            cur = ""
        else:
            cur += ch
    items.append(cur)
    out = []
    for it in items:
        if it.strip():
            out += [prefix + p for p in expand_use(it)]
    return out


def paths_in(text, children):
    """Every `crate::…`, `super::…` and `self::…` path the file names; a `use` of a child
    module by its bare name (`use grants::X` in a mod.rs) counts as `self::`."""
    paths = []
    for m in re.finditer(r"\buse\s+([^;]+);", text):
        for p in expand_use(m.group(1)):
            p = re.sub(r"\s+", "", p)
            if p.split("::")[0] in children:
                p = "self::" + p
            paths.append(p)
    code = re.sub(r"\buse\s+[^;]+;", "", text)
    paths += re.findall(rf"\b(?:crate|super|self)(?:::{IDENT})+", code)
    return [p for p in paths if re.match(r"^(crate|super|self)::", p)]


def reexports(f):
    """Names a file re-exports (`pub use a::b::Name;`), each with the path it comes from."""
    text = strip_comments(f.read_text()).split("#[cfg(test)]")[0]
    children = set(re.findall(rf"^\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+({IDENT})\s*;", text, flags=re.M))
    out = {}
    for m in re.finditer(r"\bpub(?:\([^)]*\))?\s+use\s+([^;]+);", text):
        for p in expand_use(m.group(1)):
            p = re.sub(r"\s+", "", p)
            name = p.split("::")[-1]
            if p.split("::")[0] in children:
                p = "self::" + p
            if re.match(r"^(crate|super|self)::", p) and name != "*":
                out[name] = p
    return out


def resolve(src, here, path, roots, depth=0):
    """The file an item path lands in: the deepest module file along the path, following
    re-exports to where the item is defined."""
    segs = path.split("::")
    if segs[0] == "crate":
        mod = []
    elif segs[0] == "self":
        mod = list(here)
    else:
        mod = list(here)
        while segs and segs[0] == "super":
            mod = mod[:-1]
            segs = segs[1:]
        segs = ["super"] + segs  # keep the shape: first is consumed below
    segs = segs[1:]
    target = file_of(src, mod, roots)
    rest = list(segs)
    for s in segs:
        f = file_of(src, mod + [s], roots)
        if f is None:
            break
        mod.append(s)
        rest = rest[1:]
        target = f
    if rest and target is not None and depth < 8:
        via = reexports(target).get(rest[0])
        if via is not None:
            found = resolve(src, mod, via, roots, depth + 1)
            if found is not None:
                return found
    return target


def edges_of_crate(src):
    roots = [p for p in (src / "lib.rs", src / "main.rs") if p.exists()]
    files = sorted(p for p in src.rglob("*.rs") if module_of(src, p) is not None)
    edges = {}
    for f in files:
        here = module_of(src, f)
        text = strip_comments(f.read_text())
        # A file's unit tests (`#[cfg(test)] mod tests`, at its end) are inside it: their
        # `super::` is this file, and test code is no part of the layout.
        text = text.split("#[cfg(test)]")[0]
        children = set(re.findall(rf"^\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+({IDENT})\s*;", text, flags=re.M))
        targets = set()
        for p in paths_in(text, children):
            t = resolve(src, here, p, roots)
            if t is not None and t != f:
                targets.add(t)
        edges[f] = targets
    return edges


def cycles(edges):
    """Strongly connected components with more than one file (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in edges:
        if v not in index:
            visit(v)
    return out


def main():
    root = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent)
    bad = 0
    files = 0
    for src in crates(root):
        edges = edges_of_crate(src)
        files += len(edges)
        for comp in cycles(edges):
            bad += 1
            print("circle: " + " <-> ".join(str(p.relative_to(root)) for p in comp))
    for f in sorted((root / "router-container/src").rglob("*.rs")):
        n = len(f.read_text().splitlines())
        if n > MAX_AGENT_LINES:
            bad += 1
            print(f"too long: {f.relative_to(root)} has {n} lines (at most {MAX_AGENT_LINES})")
    print(f"layout: {files} files, {bad} problem(s)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
