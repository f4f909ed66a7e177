"""``envdoctor fleet --ray ADDRESS``: probe every node of a Ray cluster and compare them."""

from __future__ import annotations

import argparse

from envdoctor.errors import EXIT_FINDINGS, EXIT_OK
from envdoctor.render.console import UI
from envdoctor.render.output import add_output_arguments


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--ray",
        metavar="ADDRESS",
        required=True,
        help="the Ray cluster to probe: 'auto', 'ray://HOST:10001' or HOST:PORT (needs envdoctor[ray])",
    )
    parser.add_argument(
        "--python",
        metavar="PATH",
        help="interpreter to inspect on every node (default: $ENVDOCTOR_PYTHON on the node, else Ray's worker python)",
    )
    parser.add_argument("--deep", action="store_true", help="also import each ML package on every node")
    parser.add_argument("--timeout", type=float, default=60.0, metavar="SECONDS", help="per-node probe limit (60)")
    add_output_arguments(parser, schema="envdoctor.compare/1")
    parser.add_argument("-v", "--verbose", action="store_true", help="list every harmless difference")


def run(args: argparse.Namespace, ui: UI) -> int:
    from envdoctor._commands.compare import compare_and_emit
    from envdoctor.compare.fleet import probe_ray_cluster

    environments, failures = probe_ray_cluster(args.ray, python=args.python, deep=args.deep, timeout=args.timeout)
    for failure in failures:
        ui.err.print(f"note: {failure}", markup=False)
    matters = compare_and_emit(args, ui, environments)
    return EXIT_FINDINGS if matters or failures else EXIT_OK
