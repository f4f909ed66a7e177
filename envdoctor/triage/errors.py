"""Find the error a log ends in, so that no failed run is reported as "nothing recognised".

A pasted log that holds a traceback, an exception line or a fatal error shows a run that
stopped. When no knowledge entry explains that error, triage still reports it: the
fallback entry (``OT100``, whose ``[match] patterns`` say what an error line is) quotes the
*final* exception line (in a chained traceback the last one is what stopped the program)
and names the package whose frame raised it, read from the traceback's file paths
(``.../site-packages/<pkg>/...``, Windows ``...\\Lib\\site-packages\\<pkg>\\...``, Jupyter's
``~/env/lib/python3.8/site-packages/<pkg>/x.py in f(...)``). The fallback's patterns are not
part of the ordinary symptom pass: they run here, after every other entry had its turn.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from envdoctor.kb.entry import Entry
from envdoctor.model import Finding
from envdoctor.triage.logs import LogText
from envdoctor.triage.symptoms import MAX_MATCHED, literal_gate, required_literals

__all__ = ["FALLBACK_ID", "ErrorSignal", "find_error", "is_explained"]

#: The entry that reports an error no other entry explains.
FALLBACK_ID = "OT100"

#: A library frame: the first directory under site-packages / dist-packages is the package.
_LIBRARY_FRAME = re.compile(r"(?:site|dist)-packages[\\/]+(?P<package>[A-Za-z_][\w.\-]*?)(?:[\\/]|\.py\b|-)")
_FRAME = re.compile(r'^\s*File "(?P<path>[^"]+)", line \d+|^(?P<jpath>(?:[A-Za-z]:)?[~\\/][^\s]+\.py) in \S+\(')
_TRACEBACK_START = re.compile(r"Traceback \(most recent call last\)")

#: Import names whose distribution has another name (what the user would pip install).
_DISTRIBUTION_OF = {
    "PIL": "pillow",
    "cv2": "opencv-python",
    "sklearn": "scikit-learn",
    "yaml": "pyyaml",
    "google": "protobuf",
    "skimage": "scikit-image",
    "mmcv_full": "mmcv-full",
    "_distutils_hack": "setuptools",
    "pkg_resources": "setuptools",
}


@dataclass(frozen=True)
class ErrorSignal:
    """The final error line of a log, where it is, and who raised it."""

    text: str
    line: int
    package: str | None
    frame: str | None
    lines: tuple[int, ...]


def _package_of(path: str) -> str | None:
    match = _LIBRARY_FRAME.search(path)
    if match is None:
        return None
    name = match.group("package")
    return _DISTRIBUTION_OF.get(name, name)


def _raising_frame(log: LogText, index: int) -> tuple[str | None, str | None]:
    """The package and file path of the frame closest above line ``index`` (its traceback)."""
    lines = log.lines
    closest: str | None = None
    for cursor in range(index - 1, max(-1, index - 400), -1):
        text = lines[cursor].text
        match = _FRAME.match(text)
        if match is not None:
            path = match.group("path") or match.group("jpath")
            if closest is None:
                closest = path
            package = _package_of(path)
            if package is not None:
                return package, closest
        elif _TRACEBACK_START.search(text) and closest is not None:
            break
    return None, closest


@functools.lru_cache(maxsize=8)
def _gate(patterns: tuple[re.Pattern[str], ...]) -> re.Pattern[str] | None:
    """One regex over the literals the error patterns need (``None``: some pattern has none)."""
    sensitive: set[str] = set()
    folded: set[str] = set()
    for pattern in patterns:
        literals = required_literals(pattern)
        if not literals:
            return None
        (folded if pattern.flags & re.IGNORECASE else sensitive).update(literals)
    return literal_gate(sensitive, folded)


def find_error(log: LogText, entry: Entry) -> ErrorSignal | None:
    """The last line of ``log`` that one of ``entry``'s error-line patterns (those with an
    ``exception`` group) matches, if any; the traceback header is used only when nothing else is."""
    found: list[tuple[int, str, int]] = []
    error_patterns = [p for p in entry.patterns if "exception" in p.groupindex]  # others document frames
    gate = _gate(tuple(error_patterns))
    for index, line in enumerate(log.lines):
        if line.noise or not line.text:
            continue
        text = line.text[:MAX_MATCHED]
        if gate is not None and gate.search(text) is None:
            continue  # holds none of the literals an error line needs: most lines of a training log
        for pattern in error_patterns:
            match = pattern.search(text)
            if match is None:
                continue
            if any(ex.search(text) for ex in entry.exclude):
                break
            quoted = match.group("exception") or text.strip()
            found.append((index, quoted.strip(), line.number))
            break
    if not found:
        return None
    # a traceback's own header ("Traceback (most recent call last):") is a last resort
    real = [f for f in found if not _TRACEBACK_START.search(f[1])]
    index, text, number = (real or found)[-1]
    package, frame = _raising_frame(log, index)
    return ErrorSignal(text, number, package, frame, tuple(f[2] for f in found))


def is_explained(signal: ErrorSignal, findings: Sequence[Finding], report_lines: Iterable[int] = ()) -> bool:
    """Whether a harmful finding accounts for the error: an error-severity finding, or one
    whose evidence is the error line itself, or the error is a state-dict load report that
    harmful findings explain (``report_lines``: the lines of the parsed reports)."""
    error_lines = set(signal.lines)
    if signal.line in set(report_lines) and any(not f.benign for f in findings):
        return True
    for finding in findings:
        if finding.benign:
            continue
        if finding.severity == "error" or any(e.line in error_lines for e in finding.evidence):
            return True
    return False
