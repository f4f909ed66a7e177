"""Suite-wide settings: envdoctor's parse cache goes to a fresh folder, never the user's."""

from __future__ import annotations

import os
import tempfile

# Set before any test (or any CLI child a test starts) reads it: the suite runs with the cache
# on, as users do, in a folder of its own.
os.environ["ENVDOCTOR_CACHE_DIR"] = tempfile.mkdtemp(prefix="envdoctor-test-cache-")
