"""The ``placement`` command line: one sub-command per module that registers one.

Each module listed in ``_COMMAND_MODULES`` exposes ``register(subparsers)``, which adds its
sub-command(s) and sets ``func`` (``args -> int`` exit code) as the parser default.
"""

from __future__ import annotations

import argparse
import importlib

_COMMAND_MODULES = (
    "placement.simulation.cli",  # placement simulate
    "placement.exposure.cli",  # placement exposure
    "placement.scoring.cli",  # placement score
    "placement.workers.cli",  # placement worker
)


def build_parser() -> argparse.ArgumentParser:
    """The parser with every registered sub-command."""
    parser = argparse.ArgumentParser(
        prog="placement", description="Adaptive French placement test: engine tools."
    )
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name in _COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = build_parser().parse_args(argv)
    return int(args.func(args))
