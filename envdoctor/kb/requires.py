"""The one reader of ``Requires-Dist`` lines: parse once, evaluate markers, never raise.

Installed metadata is written by every build tool of the last decade; some of it does not
parse (``python_version >= "3.6.*"``, a bare ``extra == 'dev'`` marker with a typo, a
version comparison on a non-version such as ``platform_release``). One such line must not
lose every diagnose check, so a line that cannot be read is skipped (``None``) and a
marker that cannot be evaluated counts as applying (the requirement is checked rather
than silently dropped). Parsing is cached: transformers alone declares hundreds of lines.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping

from packaging.markers import InvalidMarker, UndefinedComparison, UndefinedEnvironmentName
from packaging.requirements import InvalidRequirement, Requirement
from packaging.version import InvalidVersion

__all__ = ["applies", "is_extra_only", "parse_requirement"]

# A requirement whose whole marker is `extra == "name"` never applies to a plain install.
# Most Requires-Dist lines look like that, and skipping them by text avoids parsing each one.
_EXTRA_ONLY = re.compile(r"""^[^;]*;\s*extra\s*==\s*(['"])[^'"]*\1\s*$""")


def is_extra_only(text: str) -> bool:
    """Whether a Requires-Dist line applies only with an extra (``; extra == "dev"``)."""
    return _EXTRA_ONLY.match(text) is not None


@functools.lru_cache(maxsize=16384)
def parse_requirement(text: str) -> Requirement | None:
    """The requirement, or ``None`` when the line is not PEP 508."""
    try:
        return Requirement(text)
    except InvalidRequirement:
        return None


def applies(requirement: Requirement, markers: Mapping[str, str]) -> bool:
    """Whether the requirement's marker holds; a marker that cannot be evaluated counts as holding."""
    if requirement.marker is None:
        return True
    try:
        return requirement.marker.evaluate(dict(markers))
    except (UndefinedComparison, UndefinedEnvironmentName, InvalidMarker, InvalidVersion, TypeError, ValueError):
        return True
