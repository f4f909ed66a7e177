"""Score ``envdoctor triage`` on the development corpus of real pastes (tests/corpus/).

Each case is ``tests/corpus/cases/<id>.log`` (a paste copied from a public GitHub thread)
and ``<id>.toml`` (the thread, the versions that printed it and an answer key grounded in
what the maintainer or reporter established); tests/corpus/README.md describes the format.

For every case the script runs exactly what ``envdoctor triage --json --no-probe FILE``
runs (in-process by default, ``--cli`` runs the real command in a subprocess), and prints:

* ``n``, the number of repositories, the share of cases printed by old releases;
* ``top1``: share of cases whose FIRST finding has ``answer.category`` or an id in
  ``answer.ids``;
* ``top3``: the same over the first three findings;
* ``fix_agreement``: over the cases whose answer has ``pins``, the share where every
  answer pin is *agreed*: envdoctor's constraints (the ``constraints`` of the JSON, i.e.
  every finding's fix pins, optional ones included) contain a requirement for the same
  package (names compared after PEP 503 normalisation) whose specifier is *compatible*
  with the answer's: if the answer pins one version (``==V``, ``===V``), envdoctor's
  specifier must admit V; otherwise some version must satisfy both specifiers, where the
  candidates are every version named in either specifier and probes just below and above
  each (``0.25.999`` for ``<0.26``; pre-releases allowed). A requirement with no
  specifier (just a name) agrees with nothing;
* ``fatal_called_harmless``: fatal cases that have findings but whose first finding is
  benign or whose findings are all benign;
* ``fatal_left_silent``: fatal cases with no finding at all;
* ``benign_called_fatal`` (for information): benign cases with a non-benign first finding;
* a per-family breakdown (n, top1, top3).

``--json`` prints the same as one object, ``--list-misses`` lists each top-1 miss with what
envdoctor said, ``--prefix sd-`` scores only the cases whose id starts with ``sd-``.
Exit status: 0, or 2 for an unreadable or invalid case (the message names the file).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tomllib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "tests" / "corpus" / "cases"
INDEX = ROOT / "knowledge" / "index"

REQUIRED = {"url": str, "repo": str, "year": int, "versions": str, "old": bool, "family": str}
ANSWER_REQUIRED = {"category": str, "fatal": bool, "benign": bool, "resolution": str}


class CaseError(Exception):
    """A case file is missing, unreadable or does not follow the format."""


@dataclass(frozen=True)
class Case:
    id: str
    log: Path
    url: str
    repo: str
    year: int
    versions: str
    old: bool
    family: str
    category: str
    fatal: bool
    benign: bool
    ids: tuple[str, ...]
    pins: tuple[str, ...]
    resolution: str


@dataclass
class Outcome:
    case: Case
    findings: list[dict[str, Any]]
    constraints: list[str]
    top1: bool = False
    top3: bool = False
    fix: bool | None = None  # None: the answer has no pins
    fatal_called_harmless: bool = False
    fatal_left_silent: bool = False
    benign_called_fatal: bool = False
    missing_pins: list[str] = field(default_factory=list)


def _categories() -> frozenset[str] | None:
    try:
        from envdoctor.model import CATEGORIES
    except ImportError:  # pragma: no cover - envdoctor not importable: skip the check
        return None
    return CATEGORIES


def load_case(toml_path: Path, categories: frozenset[str] | None = None) -> Case:
    """Read and check one case; raise :class:`CaseError` naming the file."""
    name = toml_path.name
    log = toml_path.with_suffix(".log")
    if not log.is_file():
        raise CaseError(f"{name}: no {log.name} beside it")
    try:
        data = tomllib.loads(toml_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise CaseError(f"{name}: cannot be read ({exc})") from None
    for key, kind in REQUIRED.items():
        if not isinstance(data.get(key), kind):
            raise CaseError(f"{name}: '{key}' missing or not a {kind.__name__}")
    answer = data.get("answer")
    if not isinstance(answer, dict):
        raise CaseError(f"{name}: no [answer] table")
    for key, kind in ANSWER_REQUIRED.items():
        if not isinstance(answer.get(key), kind):
            raise CaseError(f"{name}: 'answer.{key}' missing or not a {kind.__name__}")
    if not data["url"].startswith("https://github.com/"):
        raise CaseError(f"{name}: url must be a https://github.com/ thread")
    if categories is not None and answer["category"] not in categories:
        raise CaseError(f"{name}: answer.category {answer['category']!r} is not a README category")
    if answer["benign"] and answer["fatal"]:
        raise CaseError(f"{name}: a fatal case cannot be benign")
    ids = answer.get("ids", [])
    pins = answer.get("pins", [])
    if not (isinstance(ids, list) and all(isinstance(i, str) for i in ids)):
        raise CaseError(f"{name}: answer.ids must be a list of strings")
    if not (isinstance(pins, list) and all(isinstance(p, str) for p in pins)):
        raise CaseError(f"{name}: answer.pins must be a list of strings")
    for pin in pins:
        try:
            Requirement(pin)
        except InvalidRequirement as exc:
            raise CaseError(f"{name}: answer pin {pin!r} is not PEP 508 ({exc})") from None
    if not answer["resolution"].strip():
        raise CaseError(f"{name}: answer.resolution is empty")
    return Case(
        id=toml_path.stem,
        log=log,
        url=data["url"],
        repo=data["repo"],
        year=data["year"],
        versions=data["versions"],
        old=data["old"],
        family=data["family"],
        category=answer["category"],
        fatal=answer["fatal"],
        benign=answer["benign"],
        ids=tuple(ids),
        pins=tuple(pins),
        resolution=answer["resolution"],
    )


def load_cases(folder: Path = CASES, prefix: str = "") -> list[Case]:
    categories = _categories()
    cases = [load_case(p, categories) for p in sorted(folder.glob(f"{prefix}*.toml"))]
    orphans = sorted(p.name for p in folder.glob(f"{prefix}*.log") if not p.with_suffix(".toml").is_file())
    if orphans:
        raise CaseError(f"{', '.join(orphans)}: no .toml beside it")
    return cases


# --- running triage -------------------------------------------------------------------


def triage_in_process(log: Path) -> dict[str, Any]:
    """What ``envdoctor triage --json --no-probe LOG`` prints, without a subprocess."""
    from envdoctor.model import gather_constraints, to_jsonable
    from envdoctor.triage import read_log, triage_log

    result = triage_log(read_log(str(log)), facts={}, notes=[])
    return {
        "findings": [to_jsonable(f) for f in result.findings],
        "constraints": to_jsonable(gather_constraints(result.findings)),
    }


def triage_cli(log: Path) -> dict[str, Any]:
    """Run the real command line and read its JSON."""
    proc = subprocess.run(
        [sys.executable, "-m", "envdoctor", "triage", "--json", "--no-probe", str(log)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if proc.returncode not in (0, 1):
        raise CaseError(f"{log.name}: envdoctor triage exited {proc.returncode}: {proc.stderr.strip()[-300:]}")
    document: dict[str, Any] = json.loads(proc.stdout)
    return document


# --- scoring --------------------------------------------------------------------------

_RELEASES: dict[str, list[Version]] = {}


def _releases(name: str) -> list[Version]:
    if name not in _RELEASES:
        versions: list[Version] = []
        path = INDEX / f"{name}.json"
        if path.is_file():
            try:
                releases = json.loads(path.read_text(encoding="utf-8")).get("releases", {})
            except (OSError, ValueError):
                releases = {}
            for text in releases:
                try:
                    versions.append(Version(text))
                except InvalidVersion:
                    continue
        _RELEASES[name] = versions
    return _RELEASES[name]


def _named_versions(spec: SpecifierSet) -> list[Version]:
    """Every version a specifier names, and probes just below and above each.

    ``<0.26`` and ``<0.26`` share every version below 0.26, but neither names one: the probes
    (``0.25.999``, ``0.26.0.1``, ...) stand in for the releases either side of a bound, so
    two ranges that overlap are seen to overlap without a copy of the package index.
    """
    out: list[Version] = []
    for s in spec:
        text = s.version.removesuffix(".*")
        try:
            version = Version(text)
        except InvalidVersion:
            continue
        out.append(version)
        release = list(version.release) + [0] * (3 - len(version.release))
        for position in range(len(release)):
            if release[position] > 0:
                below = release[:position] + [release[position] - 1] + [999] * (len(release) - position - 1)
                out.append(Version(".".join(map(str, below))))
        out.append(Version(".".join(map(str, [*release, 1]))))
        out.append(Version(".".join(map(str, [release[0], release[1] + 1, 0]))))
    return out


def specifiers_compatible(answer: SpecifierSet, ours: SpecifierSet, name: str) -> bool:
    """The rule in the module docstring: ``==V`` must be admitted, ranges must intersect."""
    if not str(ours):
        return False
    exact = [s for s in answer if s.operator in ("==", "===") and not s.version.endswith(".*")]
    if exact:
        return all(ours.contains(s.version, prereleases=True) for s in exact)
    candidates = set(_releases(name)) | set(_named_versions(answer)) | set(_named_versions(ours))
    return any(answer.contains(v, prereleases=True) and ours.contains(v, prereleases=True) for v in candidates)


def pin_agreed(pin: str, constraints: Iterable[str]) -> bool:
    want = Requirement(pin)
    name = canonicalize_name(want.name)
    for text in constraints:
        try:
            have = Requirement(text)
        except InvalidRequirement:
            continue
        if canonicalize_name(have.name) == name and specifiers_compatible(want.specifier, have.specifier, name):
            return True
    return False


def _matches(case: Case, finding: dict[str, Any]) -> bool:
    return finding.get("category") == case.category or finding.get("id") in case.ids


def score_case(case: Case, document: dict[str, Any]) -> Outcome:
    findings: list[dict[str, Any]] = list(document.get("findings", []))
    constraints = [str(c["requirement"]) for c in document.get("constraints", [])]
    out = Outcome(case=case, findings=findings, constraints=constraints)
    out.top1 = bool(findings) and _matches(case, findings[0])
    out.top3 = any(_matches(case, f) for f in findings[:3])
    if case.pins:
        out.missing_pins = [p for p in case.pins if not pin_agreed(p, constraints)]
        out.fix = not out.missing_pins
    if case.fatal:
        if not findings:
            out.fatal_left_silent = True
        elif findings[0].get("benign") or all(f.get("benign") for f in findings):
            out.fatal_called_harmless = True
    if case.benign and findings and not findings[0].get("benign"):
        out.benign_called_fatal = True
    return out


def _share(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def summarize(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    n = len(outcomes)
    with_pins = [o for o in outcomes if o.fix is not None]
    families: dict[str, list[Outcome]] = defaultdict(list)
    for o in outcomes:
        families[o.case.family].append(o)
    return {
        "n": n,
        "repos": len({o.case.repo.lower() for o in outcomes}),
        "old_share": _share(sum(o.case.old for o in outcomes), n),
        "fatal": sum(o.case.fatal for o in outcomes),
        "top1": _share(sum(o.top1 for o in outcomes), n),
        "top3": _share(sum(o.top3 for o in outcomes), n),
        "fix_cases": len(with_pins),
        "fix_agreement": _share(sum(bool(o.fix) for o in with_pins), len(with_pins)),
        "fatal_called_harmless": sum(o.fatal_called_harmless for o in outcomes),
        "fatal_left_silent": sum(o.fatal_left_silent for o in outcomes),
        "benign_called_fatal": sum(o.benign_called_fatal for o in outcomes),
        "families": {
            name: {
                "n": len(group),
                "top1": _share(sum(o.top1 for o in group), len(group)),
                "top3": _share(sum(o.top3 for o in group), len(group)),
            }
            for name, group in sorted(families.items())
        },
    }


def _said(o: Outcome) -> str:
    if not o.findings:
        return "nothing"
    return "; ".join(
        f"{f.get('id')} {f.get('category')}{' (benign)' if f.get('benign') else ''}" for f in o.findings[:3]
    )


def miss_records(outcomes: Sequence[Outcome]) -> list[dict[str, Any]]:
    out = []
    for o in outcomes:
        problems = []
        if not o.top1:
            problems.append("top1")
        if o.fix is False:
            problems.append("fix")
        if o.fatal_called_harmless:
            problems.append("fatal-called-harmless")
        if o.fatal_left_silent:
            problems.append("fatal-left-silent")
        if not problems:
            continue
        out.append(
            {
                "id": o.case.id,
                "url": o.case.url,
                "family": o.case.family,
                "problems": problems,
                "answer": o.case.category + (f" {list(o.case.ids)}" if o.case.ids else ""),
                "said": _said(o),
                "missing_pins": o.missing_pins,
                "pins_said": o.constraints,
            }
        )
    return out


def run(cases: Sequence[Case], *, cli: bool = False) -> list[Outcome]:
    triage = triage_cli if cli else triage_in_process
    return [score_case(case, triage(case.log)) for case in cases]


def _print_text(summary: dict[str, Any], misses: list[dict[str, Any]] | None) -> None:
    s = summary
    print(f"cases: {s['n']} from {s['repos']} repositories; old releases: {s['old_share']:.0%}; fatal: {s['fatal']}")
    print(f"top-1 category accuracy: {s['top1']:.3f}")
    print(f"top-3 category accuracy: {s['top3']:.3f}")
    print(f"fix agreement: {s['fix_agreement']:.3f} over {s['fix_cases']} cases with pins")
    print(f"fatal called harmless: {s['fatal_called_harmless']}")
    print(f"fatal left silent: {s['fatal_left_silent']}")
    print(f"benign called fatal: {s['benign_called_fatal']}")
    print("per family (n, top-1, top-3):")
    width = max((len(k) for k in s["families"]), default=10)
    for name, f in s["families"].items():
        print(f"  {name:<{width}}  {f['n']:>3}  {f['top1']:.2f}  {f['top3']:.2f}")
    if misses is not None:
        print(f"misses ({len(misses)}):")
        for m in misses:
            print(f"  {m['id']} [{', '.join(m['problems'])}] answer: {m['answer']}; said: {m['said']}")
            if m["missing_pins"]:
                print(f"      pins wanted: {', '.join(m['missing_pins'])}; said: {', '.join(m['pins_said']) or '-'}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--list-misses", action="store_true", help="list each miss with what envdoctor said")
    parser.add_argument("--prefix", default="", help="only cases whose id starts with this")
    parser.add_argument("--cli", action="store_true", help="run the real CLI in a subprocess per case (slower)")
    parser.add_argument("--cases", type=Path, default=CASES, help="the cases folder")
    args = parser.parse_args(argv)
    try:
        cases = load_cases(args.cases, args.prefix)
        outcomes = run(cases, cli=args.cli)
    except CaseError as exc:
        print(f"score_corpus: error: {exc}", file=sys.stderr)
        return 2
    summary = summarize(outcomes)
    misses = miss_records(outcomes) if args.list_misses else None
    if args.json:
        document = dict(summary)
        if misses is not None:
            document["misses"] = misses
        print(json.dumps(document, indent=2, ensure_ascii=False))
    else:
        _print_text(summary, misses)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
