"""The ``itembank`` command line: validate, build, stats, list, show, export-qti, import-qti.

Exit status: 0 on success, 1 when the bank has problems or a command fails (the reason on stderr),
2 for a usage error (argparse).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from itembank.errors import BankInvalid, ItemBankError
from itembank.qti import export_qti, import_qti
from itembank.release import RELEASES_ROOT, Release, list_releases, load_release, publish_release
from itembank.sources import load_bank
from itembank.stats import coverage, format_coverage
from itembank.validation import scan_bank, validate

BANK_ROOT = RELEASES_ROOT.parent / "bank"


def _progress() -> bool:
    return sys.stderr.isatty()


def cmd_validate(args: argparse.Namespace) -> int:
    """Print every problem of a bank (or one item file) with its file and field."""
    problems = validate(args.path, decode_media=not args.no_decode, progress=_progress())
    for p in problems:
        print(p)
    if problems:
        files = len({p.file for p in problems})
        print(f"{len(problems)} problem(s) in {files} file(s)", file=sys.stderr)
        return 1
    print(f"{args.path}: valid")
    return 0


def _print_release(release: Release) -> None:
    counts = ", ".join(
        f"{s} {sum(it.skill == s for it in release.items.values())}"
        for s in ("CO", "CE", "EO", "EE")
    )
    provisional = sum(r.provisional for r in release.parameters)
    log = release.changelog
    print(f"release {release.version} at {release.root}")
    print(f"  created {release.created_at}, policy {release.policy}")
    print(f"  content hash {release.content_hash}")
    print(f"  {len(release.items)} items ({counts}); {provisional} with provisional parameters")
    if log.previous is None:
        print("  first release")
    else:
        print(
            f"  since {log.previous}: {len(log.added)} added, {len(log.removed)} removed, "
            f"{len(log.changed)} changed, {len(log.metadata_changed)} edited, "
            f"{len(log.parameters_changed)} parameter changes"
            + (f", settings: {', '.join(log.settings_changed)}" if log.settings_changed else "")
        )
    if release.attachments:
        print(f"  attachments: {', '.join(release.attachments)}")


def cmd_build(args: argparse.Namespace) -> int:
    """Publish a new immutable release from the bank's sources."""
    try:
        release = publish_release(
            args.bank,
            version=args.version,
            notes=args.notes,
            root=args.root,
            skip_invalid=args.skip_invalid,
            progress=_progress(),
        )
    except BankInvalid as exc:
        for p in exc.problems:
            print(p, file=sys.stderr)
        print(
            f"not built: {len(exc.problems)} problem(s); fix them, or leave the invalid items "
            "out with --skip-invalid",
            file=sys.stderr,
        )
        return 1
    _print_release(release)
    if release.left_out:
        print(f"  left out {len(release.left_out)} invalid item file(s) (see `itembank validate`):")
        for rel in release.left_out:
            print(f"    {rel}")
    return 0


def cmd_stats(args: argparse.Namespace) -> int:
    """Print the coverage of a bank's sources or of a release."""
    if args.release is not None:
        items = list(load_release(args.release or None, args.root, verify=False).items.values())
    else:
        items = scan_bank(Path(args.path), decode_media=False).parsed_items
    cov = coverage(items)
    if args.json:
        print(json.dumps(cov.to_data(), ensure_ascii=False, indent=1))
    else:
        print(format_coverage(cov))
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    """Print the published versions, oldest first."""
    for version in list_releases(args.root):
        print(version)
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    """Print a release's summary, after checking it against its manifest."""
    _print_release(load_release(args.version, args.root))
    return 0


def cmd_export_qti(args: argparse.Namespace) -> int:
    """Write the bank (or a release) as a QTI 3.0 content package."""
    source = (
        load_release(args.release or None, args.root)
        if args.release is not None
        else load_bank(args.bank, decode_media=False, skip_invalid=args.skip_invalid)
    )
    out = export_qti(source, Path(args.out))
    print(f"{len(source.items)} items written to {out}")
    return 0


def cmd_import_qti(args: argparse.Namespace) -> int:
    """Import the items of a QTI package the engine can score as YAML sources; 1 if none."""
    result = import_qti(Path(args.package), Path(args.out_dir))
    for item_id, path in result.written.items():
        print(f"imported {item_id} -> {path}")
    for name, reason in result.skipped.items():
        print(f"skipped {name}: {reason}", file=sys.stderr)
    print(f"{len(result.written)} imported, {len(result.skipped)} skipped")
    if not result.written:
        print(f"itembank: nothing imported from {args.package}", file=sys.stderr)
        return 1
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``itembank``."""
    parser = argparse.ArgumentParser(
        prog="itembank",
        description="The item bank: validate the sources, build releases, stats, QTI 3.0.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    def root_arg(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--root", type=Path, default=None, help=f"releases folder (default {RELEASES_ROOT})"
        )

    p = sub.add_parser("validate", help="report every problem of a bank with file and field")
    p.add_argument("path", type=Path, nargs="?", default=BANK_ROOT, help="bank folder or item file")
    p.add_argument("--no-decode", action="store_true", help="skip decoding audio (faster)")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("build", help="publish a new immutable release from the sources")
    p.add_argument("--bank", type=Path, default=BANK_ROOT, help="bank folder")
    p.add_argument("--version", default=None, help="YYYY.MM.N (default: next for this month)")
    p.add_argument("--notes", default="", help="release notes")
    p.add_argument(
        "--skip-invalid", action="store_true", help="leave invalid items out instead of failing"
    )
    root_arg(p)
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("stats", help="coverage: skill x level x theme, types, blueprint gaps")
    p.add_argument("path", type=Path, nargs="?", default=BANK_ROOT, help="bank folder")
    p.add_argument(
        "--release", nargs="?", const="", default=None, help="a release instead (newest if bare)"
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    root_arg(p)
    p.set_defaults(func=cmd_stats)

    p = sub.add_parser("list", help="list published releases")
    root_arg(p)
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("show", help="summary of a release (checked against its manifest)")
    p.add_argument("version", nargs="?", default=None)
    root_arg(p)
    p.set_defaults(func=cmd_show)

    p = sub.add_parser("export-qti", help="export as a QTI 3.0 content package (folder or .zip)")
    p.add_argument("out", type=Path)
    p.add_argument("--bank", type=Path, default=BANK_ROOT, help="bank folder")
    p.add_argument("--skip-invalid", action="store_true", help="leave invalid items out")
    p.add_argument(
        "--release", nargs="?", const="", default=None, help="a release instead (newest if bare)"
    )
    root_arg(p)
    p.set_defaults(func=cmd_export_qti)

    p = sub.add_parser("import-qti", help="import the QTI items the engine can score, as YAML")
    p.add_argument("package", type=Path, help="QTI package (folder or .zip)")
    p.add_argument("out_dir", type=Path, help="folder to write <skill>/<id>.yaml and media into")
    p.set_defaults(func=cmd_import_qti)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except BankInvalid as exc:
        for p in exc.problems:
            print(p, file=sys.stderr)
        print(f"{len(exc.problems)} problem(s)", file=sys.stderr)
        return 1
    except ItemBankError as exc:
        print(f"itembank: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # the reader went away (`itembank stats | head`): stop quietly, as Unix tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
