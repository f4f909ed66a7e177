"""``envdoctor constraints``: a pinned, explained constraints file that pip and uv accept.

Wires the probe (installed packages, import-time bounds), diagnose and triage findings,
and the user's targets into :func:`envdoctor.resolve.solve`, which drives a real resolver
(uv, else pip) and checks its answer against envdoctor's knowledge; writes the file
atomically, prints the installed -> proposed table and the command that would apply it
(never runs it), and with ``--verify`` asks an installer for a dry run.
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from envdoctor._version import __version__
from envdoctor.errors import EXIT_FINDINGS, EXIT_OK, BadInputError, EnvdoctorError, UsageError
from envdoctor.render.console import UI

if TYPE_CHECKING:
    from envdoctor.model import Environment, Finding


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
    parser.add_argument("--json", action="store_true", help="print one JSON object (envdoctor.constraints/1)")
    parser.add_argument(
        "--resolver",
        choices=("auto", "uv", "pip"),
        default="auto",
        help="resolver to drive (default: uv if installed)",
    )
    parser.add_argument(
        "--index-url", metavar="URL", help="resolve against this index instead of pip's/uv's configuration"
    )
    parser.add_argument(
        "--extra-index-url", metavar="URL", action="append", default=[], help="an additional index (repeatable)"
    )
    parser.add_argument(
        "--find-links", metavar="PATH", action="append", default=[], help="a folder or page of wheels (repeatable)"
    )


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


@contextlib.contextmanager
def _progress(ui: UI) -> Iterator[Callable[[str], None]]:
    """A rich status line on stderr when it is a terminal; a no-op otherwise."""
    if not ui.stderr.isatty():
        yield lambda _text: None
        return
    with ui.err.status("resolving") as status:

        def say(text: str) -> None:
            status.update(text)

        yield say


def run(args: argparse.Namespace, ui: UI) -> int:
    from envdoctor.render.jsonout import dumps
    from envdoctor.resolve.engine import EngineFailure, pick_engine
    from envdoctor.resolve.indexes import read_index_config
    from envdoctor.resolve.output import apply_command, check_output_path, render_constraints, write_atomic
    from envdoctor.resolve.report import solution_document
    from envdoctor.resolve.rules import load_knowledge
    from envdoctor.resolve.solve import ResolveRequest, parse_target, solve
    from envdoctor.resolve.target import TargetPlatform
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
    source: str | None
    installed: dict[str, str] = {}
    requires: dict[str, tuple[str, ...]] = {}
    python: str | None = None
    if fresh:
        target = TargetPlatform.fresh(args.python_version, args.platform)
        source = "fresh environment"
    else:
        from envdoctor.probe import collect
        from envdoctor.probe.interpreter import resolve_interpreter

        python = resolve_interpreter(args.python)
        env = collect(args.python)
        parts = env.python.version.split(".")
        target = TargetPlatform((int(parts[0]), int(parts[1])), None, python, env.python.version)
        for dist in env.python.distributions:
            if dist.key not in installed and dist.parsed_version is not None:
                installed[dist.key] = dist.version
                if not dist.metadata_error:
                    requires[dist.key] = tuple(dist.requires)
        source = None
    findings, notes = _findings(env, args.log, ui)
    indexes = read_index_config(
        index_url=args.index_url,
        extra_index_urls=args.extra_index_url,
        find_links=args.find_links,
        prefix=env.python.prefix if env is not None else None,
    )
    request = ResolveRequest(
        target=target,
        indexes=indexes,
        targets=tuple(args.target),
        findings=tuple(findings),
        keep=tuple(args.keep),
        installed=installed,
        installed_requires=requires,
        import_bounds=tuple(env.python.import_bounds) if env is not None else (),
        environment=env,
    )
    try:
        engine = pick_engine(python=python, prefer=args.resolver)
        with _progress(ui) as say:
            solution = solve(request, engine, load_knowledge(), progress=say)
    except EngineFailure as failure:
        raise _ToolError(failure.message) from failure
    if notes:
        from dataclasses import replace

        solution = replace(solution, advisories=(*notes, *solution.advisories))
    text = render_constraints(solution, envdoctor_version=__version__, source=source)
    shown = str(output) if output is not None else "constraints.txt"
    command = apply_command(solution, shown, python)
    if output is not None:
        write_atomic(output, text, force=args.force)
    verification = None
    if args.verify:
        from envdoctor.resolve.verify import verify

        with _progress(ui) as say:
            say("verifying with the installer (dry run)")
            if output is None:
                import tempfile

                with tempfile.TemporaryDirectory(prefix="envdoctor-") as tmp:
                    path = Path(tmp) / "constraints.txt"
                    path.write_text(text, encoding="utf-8")
                    verification = verify(solution, str(path), indexes)
            else:
                verification = verify(solution, str(output), indexes)
    if args.json:
        document = solution_document(
            solution,
            envdoctor_version=__version__,
            file_text=text,
            output=str(output) if output is not None else None,
            commands=[command] if command else [],
            verification=verification,
        )
        ui.write(dumps(document) + "\n")
    elif output is not None:
        ui.out.print(ConstraintsView(solution, command=command, written=str(output), verbose=args.verbose))
    else:
        ui.write(text)
        ui.err.print(ConstraintsView(solution, command=command, verbose=args.verbose))
    if verification is None:
        return EXIT_OK
    if not args.json:
        (ui.out if output is not None else ui.err).print(VerificationView(verification))
    return EXIT_OK if verification.ok else EXIT_FINDINGS


class _ToolError(EnvdoctorError):
    """The resolver could not run (not installed, too old, index unreachable)."""

    exit_code = 2
