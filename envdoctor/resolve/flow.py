"""The ``constraints`` flow in one place: the environment, its findings, the request, the resolution, the check.

:func:`make_constraints` is what ``envdoctor constraints`` and :func:`envdoctor.constraints`
run: probe the interpreter (or describe a fresh target), gather the findings that ask for
pins (diagnose's checks and, with a log, triage's, over one set of facts), build the
:class:`~envdoctor.resolve.solve.ResolveRequest`, let :func:`~envdoctor.resolve.solve.solve`
drive the resolver, render the file and the apply command, and optionally ask an installer
for a dry run. The command only parses arguments, writes files and picks a view.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from envdoctor._version import __version__
from envdoctor.errors import EnvdoctorError, UsageError

if TYPE_CHECKING:
    from envdoctor.model import Environment, Finding
    from envdoctor.resolve.solve import Solution
    from envdoctor.resolve.verify import Verification
    from envdoctor.triage.logs import LogText

__all__ = ["ConstraintsOptions", "ConstraintsOutcome", "ResolverUnavailable", "make_constraints"]


class ResolverUnavailable(EnvdoctorError):
    """The resolver could not run (not installed, too old, index unreachable)."""

    exit_code = 2


@dataclass(frozen=True)
class ConstraintsOptions:
    """What to make constraints for (``envdoctor constraints --help`` documents each)."""

    targets: tuple[str, ...] = ()
    keep: tuple[str, ...] = ()
    python: str | None = None
    python_version: str | None = None
    platform: str | None = None
    log_text: str | None = None
    log_source: str = "<log>"
    log: LogText | None = None
    """A log already read (``--log``: bounded and streamed as ``triage`` reads it); wins over ``log_text``."""
    resolver: str = "auto"
    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    verify: bool = False
    file_name: str = "constraints.txt"
    """The name the apply command and the verification use for the file."""


@dataclass(frozen=True)
class ConstraintsOutcome:
    """The resolution, the file's text, the command that applies it, and the dry run's verdict."""

    solution: Solution
    text: str
    command: str
    verification: Verification | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)


def _findings(env: Environment | None, options: ConstraintsOptions) -> tuple[list[Finding], list[str]]:
    """Diagnose's and (with a log) triage's findings over one set of facts, built once."""
    findings: list[Finding] = []
    notes: list[str] = []
    facts = None
    if env is not None:
        from envdoctor.diagnosis import check_environment

        try:
            diagnosis = check_environment(env)
            findings.extend(diagnosis.findings)
            facts = dict(diagnosis.facts.scalars)
        except Exception as exc:  # one failing check must not block the constraints
            notes.append(f"diagnose checks failed ({type(exc).__name__}: {exc}); their pins are missing")
    if options.log is not None:
        from envdoctor.triage.engine import triage_log

        findings.extend(triage_log(options.log, facts=facts or {}).findings)
    elif options.log_text is not None:
        from envdoctor.triage import triage_text

        findings.extend(triage_text(options.log_text, source=options.log_source, facts=facts or {}).findings)
    return findings, notes


def make_constraints(
    options: ConstraintsOptions, *, progress: Callable[[str], None] | None = None
) -> ConstraintsOutcome:
    """Resolve, check against the knowledge, render; see the module docstring."""
    from envdoctor.resolve.engine import EngineFailure, pick_engine
    from envdoctor.resolve.indexes import read_index_config
    from envdoctor.resolve.output import apply_command, render_constraints
    from envdoctor.resolve.rules import load_knowledge
    from envdoctor.resolve.solve import ResolveRequest, parse_target, solve
    from envdoctor.resolve.target import TargetPlatform

    say = progress or (lambda _text: None)
    if options.platform and options.python:
        raise UsageError("--platform describes a fresh environment; it cannot be combined with --python")
    for text in options.targets:
        parse_target(text)
    fresh = options.python_version is not None or options.platform is not None
    env: Environment | None = None
    installed: dict[str, str] = {}
    requires: dict[str, tuple[str, ...]] = {}
    python: str | None = None
    source: str | None
    if fresh:
        target = TargetPlatform.fresh(options.python_version, options.platform)
        source = "fresh environment"
    else:
        from envdoctor.probe import collect
        from envdoctor.probe.interpreter import resolve_interpreter

        python = resolve_interpreter(options.python)
        env = collect(options.python)
        parts = env.python.version.split(".")
        target = TargetPlatform((int(parts[0]), int(parts[1])), None, python, env.python.version)
        for dist in env.python.distributions:
            if dist.key not in installed and dist.parsed_version is not None:
                installed[dist.key] = dist.version
                if not dist.metadata_error:
                    requires[dist.key] = tuple(dist.requires)
        source = None
    findings, notes = _findings(env, options)
    indexes = read_index_config(
        index_url=options.index_url,
        extra_index_urls=list(options.extra_index_urls),
        find_links=list(options.find_links),
        prefix=env.python.prefix if env is not None else None,
    )
    request = ResolveRequest(
        target=target,
        indexes=indexes,
        targets=options.targets,
        findings=tuple(findings),
        keep=options.keep,
        installed=installed,
        installed_requires=requires,
        import_bounds=tuple(env.python.import_bounds) if env is not None else (),
        environment=env,
    )
    try:
        engine = pick_engine(python=python, prefer=options.resolver)
        solution = solve(request, engine, load_knowledge(), progress=say)
    except EngineFailure as failure:
        raise ResolverUnavailable(failure.message) from failure
    if notes:
        solution = replace(solution, advisories=(*notes, *solution.advisories))
    text = render_constraints(solution, envdoctor_version=__version__, source=source)
    command = apply_command(solution, options.file_name, python)
    verification = None
    if options.verify:
        from envdoctor.resolve.verify import verify

        say("verifying with the installer (dry run)")
        with tempfile.TemporaryDirectory(prefix="envdoctor-") as folder:
            path = Path(folder) / Path(options.file_name).name
            path.write_text(text, encoding="utf-8")
            verification = verify(solution, str(path), indexes)
    return ConstraintsOutcome(solution, text, command, verification, tuple(notes))
