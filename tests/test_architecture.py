"""The README's architecture table is the truth: import-linter enforces it, and nothing imports in a circle."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[1]
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
PACKAGES = CONFIG["root_packages"]


def readme_table() -> dict[str, set[str]]:
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Architecture") : readme.index("### Scale-out")]
    rows = re.findall(r"^\| `(\w+)/` \|.*\| (.+?) \|$", section, re.MULTILINE)
    table = {}
    for package, may in rows:
        table[package] = set(PACKAGES) - {package} if may == "everything" else set(re.findall(r"`(\w+)`", may))
    return table


def allowed_by_contracts() -> dict[str, set[str]]:
    allowed = {p: set(PACKAGES) - {p} for p in PACKAGES}
    for contract in CONFIG["contracts"]:
        if contract["type"] == "layers":
            layers = [[m.strip() for m in layer.split("|")] for layer in contract["layers"]]
            for i, layer in enumerate(layers):
                not_below = {m for upper in layers[: i + 1] for m in upper}  # its own floor and every higher one
                for module in layer:
                    allowed[module] -= not_below
        elif contract["type"] == "forbidden":
            for source in contract["source_modules"]:
                allowed[source] -= set(contract["forbidden_modules"])
    return allowed


def test_the_readme_table_says_what_the_import_contracts_enforce():
    assert readme_table() == allowed_by_contracts()


def test_every_package_has_a_row():
    assert set(readme_table()) == set(PACKAGES)


def test_the_contracts_hold():
    done = subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports"))], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout[-3000:]


def test_no_two_modules_import_each_other_in_a_circle():
    graph = grimp.build_graph(*PACKAGES)
    cycles = []
    for module in sorted(graph.modules):
        for imported in graph.find_modules_directly_imported_by(module):
            if graph.chain_exists(importer=imported, imported=module):
                cycles.append((module, imported))
    assert cycles == [], f"import cycles: {cycles[:5]}"
