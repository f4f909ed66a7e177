"""Generate knowledge/api/<name>.json.gz, the API history of each package in knowledge/api/PACKAGES.toml.

    python scripts/gen_api_history.py                 # every package
    python scripts/gen_api_history.py markupsafe torch  # some
    python scripts/gen_api_history.py --index URL     # another PEP 691 index

It runs the same code as ``python -m envdoctor.kb.api_history refresh`` (envdoctor.kb.api_scan:
the releases' files are read with ast, never imported), but writes into the checkout's
knowledge/api/ instead of the user's data directory.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from envdoctor.kb.api_history import refresh_packages  # noqa: E402
from envdoctor.kb.api_scan import DEFAULT_INDEX  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("packages", nargs="*", help="distribution names (default: all of PACKAGES.toml)")
    parser.add_argument("--index", default=DEFAULT_INDEX)
    args = parser.parse_args()
    start = time.monotonic()
    written = refresh_packages(
        args.packages, ROOT / "knowledge" / "api", index=args.index, log=lambda t: print(t, file=sys.stderr)
    )
    for path, seconds in written:
        print(f"wrote {path.relative_to(ROOT)} ({path.stat().st_size >> 10} KiB, {seconds:.0f} s)")
    print(f"{len(written)} package(s) in {time.monotonic() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
