"""Check which releases of a compiled package are built against NumPy 2 (for knowledge/compat/numpy2.toml).

For each ``NAME==VERSION`` it downloads the Linux x86_64 CPython 3.11 wheel (``pip download
--no-deps --only-binary=:all:``) and looks for the import string NumPy 2 headers emit,
``numpy._core._multiarray_umath``, in its compiled modules; a wheel whose modules only name
``numpy.core._multiarray_umath`` was built against NumPy 1 and fails under NumPy 2.

Run: python scripts/check_numpy2_builds.py numexpr==2.9.0 numexpr==2.10.0 ...
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

NUMPY2 = b"numpy._core._multiarray_umath"
NUMPY1 = b"numpy.core._multiarray_umath"


def check(requirement: str) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
             "--python-version", "3.11", "--platform", "manylinux2014_x86_64", "-d", tmp, requirement],
            check=True,
            timeout=600,
        )  # fmt: skip
        wheel = next(Path(tmp).glob("*.whl"))
        numpy2 = numpy1 = 0
        with zipfile.ZipFile(wheel) as archive:
            for name in archive.namelist():
                if name.endswith(".so") or ".so." in name:
                    data = archive.read(name)
                    numpy2 += NUMPY2 in data
                    numpy1 += NUMPY1 in data and NUMPY2 not in data
        verdict = "numpy2" if numpy2 else ("numpy1" if numpy1 else "no-numpy-c-api")
        return f"{requirement}: {verdict} ({wheel.name}: {numpy2} module(s) name numpy._core, {numpy1} only numpy.core)"


if __name__ == "__main__":
    for arg in sys.argv[1:]:
        print(check(arg), flush=True)
