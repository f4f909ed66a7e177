"""The one Requires-Dist reader never raises: a bad line or marker loses no check."""

from __future__ import annotations

from envdoctor.kb.compat import load_compat
from envdoctor.kb.facts import build_facts
from envdoctor.kb.requires import applies, is_extra_only, parse_requirement
from envdoctor.model import Distribution, Environment, HostFacts, PythonFacts


def test_a_marker_packaging_cannot_compare_counts_as_applying() -> None:
    requirement = parse_requirement('tokenizers<0.14; os_name ~= "posix"')  # UndefinedComparison in packaging
    assert requirement is not None
    assert applies(requirement, {"os_name": "posix", "python_version": "3.11"}) is True


def test_unparsable_lines_are_skipped() -> None:
    assert parse_requirement("tokenizers (<0.14;") is None
    assert is_extra_only('pytest; extra == "test"')
    assert not is_extra_only('numpy; python_version < "3.13"')


SITE = "/venv/lib/python3.11/site-packages"


def test_one_bad_marker_does_not_lose_the_other_checks() -> None:
    env = Environment(
        python=PythonFacts(
            executable="/venv/bin/python",
            version="3.11.7",
            implementation="cpython",
            platform="linux-x86_64",
            machine="x86_64",
            prefix="/venv",
            base_prefix="/usr",
            in_venv=True,
            markers={"os_name": "posix", "python_version": "3.11", "sys_platform": "linux"},
            distributions=(
                Distribution(name="broken", version="1.0", location=SITE, requires=('numpy; os_name ~= "posix"',)),
                Distribution(
                    name="transformers",
                    version="4.29.1",
                    location=SITE,
                    requires=("tokenizers!=0.11.3,<0.14,>=0.11.1",),
                ),
                Distribution(name="tokenizers", version="0.15.2", location=SITE),
            ),
        ),
        host=HostFacts(),
    )
    view = build_facts(env, load_compat())
    problems = {(v["package"], v["dependency"], v["problem"]) for v in view.collections["requirement_violations"]}
    assert ("transformers", "tokenizers", "version") in problems
    assert ("broken", "numpy", "missing") in problems
