"""Which regexes take time that grows faster than the line: every knowledge and module pattern.

Run by hand: ``python benchmarks/bench_regex.py [--length 4000]``. Each pattern of the
knowledge (``[match] patterns`` and ``exclude``) and each module-level compiled pattern of
``envdoctor`` is searched in lines made of one repeated filler (``x``, ``a.``, ``a==``,
``a requires ``...: runs of the characters patterns start with, and the literals they wait
for). The slowest filler is then timed on a line four times as long: a linear search takes
about 4x as long, a quadratic one about 16x. Patterns over 3 ms at ``--length`` are listed
with that ratio; a ratio near 16 is a pattern to fix (``envdoctor explain --lint`` names the
usual shape, a pattern that can start inside a run: see README, "Knowledge"). Module
patterns used only with ``match``/``fullmatch`` show up here too: their search is what is
timed.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import re
import time

import envdoctor
from envdoctor.kb.loader import load_knowledge

FILLERS = [
    "x", "a.", "x-", "1,", " ", "(", "'", '"', "[", "a ", "x|", "0.", "ab", "-", "_", "é", "a==", "a=", "x.y ",
    "{a", "a:", "a/", " ,", "\t ", "1 ", "1.", "a,", ", ", "A", "Error ", "a_", ".a", "a=a ", "A a", "a.so ",
    "x() ", "a requires ", "Error: ",
]  # fmt: skip


def patterns() -> dict[str, re.Pattern[str]]:
    found: dict[str, re.Pattern[str]] = {}
    for entry in load_knowledge().entries:
        for index, pattern in enumerate((*entry.patterns, *entry.exclude)):
            found[f"knowledge {entry.id}[{index}]"] = pattern
    for module_info in pkgutil.walk_packages(envdoctor.__path__, "envdoctor."):
        if module_info.name.endswith(("_interpreter_script", "zygote", "__main__")):
            continue  # scripts run in another interpreter
        try:
            module = importlib.import_module(module_info.name)
        except Exception:  # an optional dependency missing: nothing to time there
            continue
        for name, value in vars(module).items():
            if isinstance(value, re.Pattern) and isinstance(value.pattern, str):
                found[f"{module_info.name}.{name}"] = value
    return found


def seconds(pattern: re.Pattern[str], line: str) -> float:
    start = time.perf_counter()
    pattern.search(line)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--length", type=int, default=4000, help="characters of the first line (default 4000)")
    options = parser.parse_args()
    length = options.length
    slow = []
    found = patterns()
    for name, pattern in found.items():
        worst, filler = max((seconds(pattern, (f * length)[:length]), f) for f in FILLERS)
        if worst > 0.003:
            longer = seconds(pattern, (filler * 4 * length)[: 4 * length])
            slow.append((longer / worst, worst, longer, name, filler, pattern.pattern[:70]))
    print(f"{len(found)} patterns; {len(slow)} over 3 ms on {length:,} characters")
    for ratio, first, second, name, filler, text in sorted(slow, reverse=True):
        print(f"{ratio:5.1f}x  {first:.4f}s -> {second:.4f}s  {name:<44} {filler!r:<14} {text}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
