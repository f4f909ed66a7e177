"""Regenerate ``knowledge/compat/torch.toml`` of this checkout from the package index.

Runs :mod:`envdoctor.kb.refresh` (the same code ``python -m envdoctor.kb.refresh`` uses for
a user's data directory) with the checkout's table as both the base of the hand-curated
fields and the output. Needs the network; commit the result with the date it records.

    python scripts/gen_torch_family.py [--index https://pypi.org/simple]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from envdoctor.kb.refresh import DEFAULT_INDEX, RefreshError, refresh

TABLE = Path(__file__).resolve().parents[1] / "knowledge" / "compat" / "torch.toml"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", default=DEFAULT_INDEX)
    args = parser.parse_args()
    try:
        refresh(TABLE, index=args.index, base=TABLE, log=lambda text: print(text, file=sys.stderr))
    except RefreshError as exc:
        print(f"gen_torch_family: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {TABLE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
