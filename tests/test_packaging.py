"""The wheel carries knowledge/, and an installed wheel finds it without the checkout."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_built_wheel_ships_and_loads_the_knowledge(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(dist), str(ROOT)],
        check=True,
        timeout=300,
    )
    (wheel,) = dist.glob("envdoctor-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    shipped_entries = {Path(n).name for n in names if n.startswith("envdoctor/knowledge/entries/")}
    checkout_entries = {p.name for p in (ROOT / "knowledge" / "entries").glob("*.toml")}
    assert shipped_entries == checkout_entries
    shipped_compat = {Path(n).name for n in names if n.startswith("envdoctor/knowledge/compat/")}
    assert {p.name for p in (ROOT / "knowledge" / "compat").glob("*.toml")} <= shipped_compat

    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "-q", "--target", str(target), str(wheel)],
        check=True,
        timeout=300,
    )
    probe = (
        "import envdoctor.kb.loader as l, sys; kb = l.load_knowledge(); "
        "print(kb.root); print(len(kb.entries)); print(sys.modules['envdoctor'].__file__)"
    )
    result = subprocess.run(
        [sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(target)!r}); {probe}"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=True,
        timeout=60,
    )
    root, count, module_file = result.stdout.split("\n")[:3]
    assert Path(module_file).is_relative_to(target)
    assert Path(root) == target / "envdoctor" / "knowledge"
    assert int(count) == len(checkout_entries)
