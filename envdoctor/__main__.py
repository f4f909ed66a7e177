"""``python -m envdoctor``."""

from __future__ import annotations

import sys

from envdoctor._cli import main

if __name__ == "__main__":
    sys.exit(main())
