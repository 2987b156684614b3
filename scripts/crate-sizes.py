#!/usr/bin/env python3
"""Lines of non-test Rust source per workspace crate, and the core's share.

Non-test: files whose name does not end in `tests.rs`/`_tests.rs`, without inline
`#[cfg(test)] mod … { … }` blocks, blank lines and comment-only lines excluded.
    python3 scripts/crate-sizes.py
"""
import os, re, sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
CRATES = ["protocol", "formats", "driver", "sim", "models", "proofs", "tests", "benches"]


def code_lines(path):
    lines = open(path, encoding="utf-8").read().split("\n")
    count, skip_depth, pending_test = 0, None, False
    depth = 0
    for line in lines:
        stripped = line.strip()
        if skip_depth is None and stripped.startswith("#[cfg(") and "test" in stripped and "not(test" not in stripped:
            pending_test = True
            continue
        opens, closes = line.count("{"), line.count("}")
        if pending_test and skip_depth is None:
            pending_test = False
            if stripped.startswith(("mod ", "pub mod ", "pub(crate) mod ")) and "{" in stripped:
                skip_depth = depth
                depth += opens - closes
                continue
        depth += opens - closes
        if skip_depth is not None:
            if depth <= skip_depth:
                skip_depth = None
            continue
        if stripped and not stripped.startswith("//"):
            count += 1
    return count


def crate_size(crate):
    total = 0
    per_dir = {}
    for dirpath, _, files in os.walk(os.path.join(ROOT, crate, "src")):
        for name in files:
            if not name.endswith(".rs") or name.endswith("tests.rs") or name.endswith("_tests.rs"):
                continue
            n = code_lines(os.path.join(dirpath, name))
            total += n
            rel = os.path.relpath(os.path.join(dirpath, name), os.path.join(ROOT, crate, "src"))
            per_dir[rel] = n
    return total, per_dir


for crate in CRATES:
    total, _ = crate_size(crate)
    print(f"{crate:10} {total:6} lines of non-test code")

total, files = crate_size("protocol")
CORE = ("types.rs", "config.rs", "lib.rs", "quorum.rs")
core = sum(n for f, n in files.items() if f.startswith(("replica/", "wire/")) or f in CORE)
print(f"steadfast: {core} of {total} lines ({100 * core / total:.0f}%) are types, config, quorum, replica and wire;")
support = {f: n for f, n in files.items() if not (f.startswith(("replica/", "wire/")) or f in CORE)}
print("  the rest: " + ", ".join(f"{f} {n}" for f, n in sorted(support.items())))
