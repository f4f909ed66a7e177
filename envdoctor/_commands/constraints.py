"""``envdoctor constraints``: a pinned, explained constraints file that pip and uv accept.

Wires the probe (installed packages, import-time bounds), diagnose and triage findings,
and the user's targets into :func:`envdoctor.resolve.solve`, writes the file atomically,
prints the installed -> proposed table and the command that would apply it (never runs
it), and with ``--verify`` asks pip's own resolver for a dry run.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from envdoctor import __version__
from envdoctor.errors import EXIT_FINDINGS, EXIT_OK, BadInputError, UsageError
from envdoctor.render.console import UI

if TYPE_CHECKING:
    from envdoctor.model import Environment, Finding, ImportBound
    from envdoctor.resolve.provider import Installed


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--log", metavar="FILE", help="also fix what `envdoctor triage` finds in this log ('-' = stdin)"
    )
    parser.add_argument(
        "--target",
        metavar="REQ",
        action="append",
        default=[],
        help="a requirement you want, e.g. 'mmdet==3.3.0' or 'transformers<4.31' (repeatable)",
    )
    parser.add_argument(
        "--keep", metavar="PKG", action="append", default=[], help="keep this package at its installed version"
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--python", metavar="PATH", help="make constraints for this interpreter's environment")
    where.add_argument(
        "--python-version",
        metavar="X.Y",
        help="make constraints for a fresh environment of this Python (no installed packages are kept)",
    )
    parser.add_argument(
        "--platform",
        metavar="TAG",
        help="platform of a fresh environment, e.g. manylinux_2_28_x86_64, macosx_11_0_arm64, win_amd64",
    )
    parser.add_argument("-o", "--output", metavar="FILE", help="write the constraints here (default: print them)")
    parser.add_argument("--force", action="store_true", help="replace an existing output file")
    parser.add_argument(
        "--verify", action="store_true", help="dry-run pip's resolver against the file (needs the package index)"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="also list packages kept as installed")


def _findings(env: Environment | None, log: str | None, ui: UI) -> tuple[list[Finding], list[str]]:
    findings: list[Finding] = []
    notes: list[str] = []
    if env is not None:
        from envdoctor.diagnosis import check_environment

        try:
            findings.extend(check_environment(env).findings)
        except Exception as exc:  # one failing check must not block the constraints
            notes.append(f"diagnose checks failed ({type(exc).__name__}: {exc}); their pins are missing")
    if log is not None:
        if log == "-":
            text = ui.stdin.read()
        else:
            try:
                text = Path(log).read_text(encoding="utf-8", errors="replace")
            except OSError as exc:
                raise BadInputError(f"--log {log}: cannot read: {exc.strerror or exc}") from exc
        from envdoctor.triage import triage_text

        findings.extend(triage_text(text, source=log, environment=env).findings)
    return findings, notes


def run(args: argparse.Namespace, ui: UI) -> int:
    from envdoctor.kb.compat import load_compat
    from envdoctor.resolve.environment import installed_from, target_from, target_from_flags
    from envdoctor.resolve.index import load_index
    from envdoctor.resolve.output import apply_command, check_output_path, render_constraints, write_atomic
    from envdoctor.resolve.solve import ResolveRequest, parse_target, solve
    from envdoctor.resolve.view import ConstraintsView, VerificationView

    if args.platform and args.python:
        raise UsageError("--platform describes a fresh environment; it cannot be combined with --python")
    for text in args.target:
        parse_target(text)
    output = Path(args.output) if args.output else None
    if output is not None:
        check_output_path(output, force=args.force)

    fresh = args.python_version is not None or args.platform is not None
    env: Environment | None = None
    installed: tuple[Installed, ...] = ()
    bounds: tuple[ImportBound, ...] = ()
    if fresh:
        target = target_from_flags(args.python_version, args.platform)
        source = "fresh environment"
    else:
        from envdoctor.probe import collect

        env = collect(args.python)
        target = target_from(env)
        installed, bounds = installed_from(env)
        source = env.python.executable
    findings, notes = _findings(env, args.log, ui)

    index = load_index()
    request = ResolveRequest(
        target=target,
        targets=tuple(args.target),
        findings=tuple(findings),
        keep=tuple(args.keep),
        installed=installed,
        import_bounds=bounds,
        driver_version=env.host.driver_version if env is not None else None,
    )
    solution = solve(request, index, load_compat())
    if notes:
        from dataclasses import replace

        solution = replace(solution, advisories=(*notes, *solution.advisories))
    text = render_constraints(
        solution,
        envdoctor_version=__version__,
        source=source,
        index_refreshed=str(index.refreshed.get("refreshed", "")) or None,
    )
    if output is not None:
        write_atomic(output, text, force=args.force)
        command = apply_command(solution, str(output), None if fresh else (args.python or None))
        ui.out.print(ConstraintsView(solution, command=command, written=str(output), verbose=args.verbose))
    else:
        ui.write(text)
        command = apply_command(solution, "constraints.txt", None if fresh else (args.python or None))
        ui.err.print(ConstraintsView(solution, command=command, verbose=args.verbose))
    if not args.verify:
        return EXIT_OK
    from envdoctor.resolve.verify import verify

    if output is None:
        import tempfile

        with tempfile.TemporaryDirectory(prefix="envdoctor-") as tmp:
            path = Path(tmp) / "constraints.txt"
            path.write_text(text, encoding="utf-8")
            result = verify(solution, str(path), python=args.python, cross=fresh)
    else:
        result = verify(solution, str(output), python=args.python, cross=fresh)
    (ui.out if output is not None else ui.err).print(VerificationView(result))
    return EXIT_OK if result.ok else EXIT_FINDINGS
