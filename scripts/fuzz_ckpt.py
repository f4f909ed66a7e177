"""Differential fuzzing of ``envdoctor keys``' safety verdict against the real unpickler.

Run from the repository root: ``python scripts/fuzz_ckpt.py -n 10000 [--seed 0] [--keep DIR]``.
Prints how many mutants each side called unsafe, the exit codes, and every miss (the real
loader would resolve a non-allowlisted global or run a payload, envdoctor exits 0) and every
bug (exit 3); exits 1 if there is any. The machinery lives in ``tests/ckpt/fuzz.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.ckpt.fuzz import main

if __name__ == "__main__":
    sys.exit(main())
