"""Immutable, versioned releases of the bank.

A release is a folder ``<root>/<version>/`` (``root`` is ``itembank/releases/`` unless given)::

    release.yaml        version, created_at, previous version, policy, notes, metadata, counts,
                        content hash, changelog summary (outside the content hash)
    settings.yaml       cut scores and skill correlation (each with its source), policy,
                        provisional-parameter rule
    items/<SKILL>/<id>.yaml   the items' YAML sources, byte for byte
    media.json          bank-relative media path -> sha256 of its content
    parameters.csv      the item parameters (see itembank.parameters)
    changelog.md        what changed against the previous release
    attachments/...     files published with the release (e.g. a calibration report)
    manifest.json       sha256 of every file above, and the content hash

Media files are not copied into each release: they live once in a content-addressed store shared
by all releases, ``<root>/media/<sha256><suffix>``, and ``media.json`` pins each path to its hash.

The **content hash** is the sha256 of the sorted ``path sha256`` lines of every file except
``release.yaml``, ``changelog.md`` and ``manifest.json``: it changes when any item, medium,
parameter, setting or attachment changes, and not when the same content is built again at
another time, under another version number or after other releases.

A published release is never edited: :func:`publish_release` refuses an existing version, writes
into a temporary folder renamed into place at the end, and leaves the files read-only;
:func:`load_release` checks every file against the manifest (``verify=True``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import shutil
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml
from tqdm import tqdm

from itembank.errors import (
    InvalidVersion,
    ItemBankError,
    ParametersInvalid,
    ReleaseCorrupt,
    ReleaseExists,
    ReleaseNotFound,
)
from itembank.media import sha256_file
from itembank.model import Item
from itembank.parameters import (
    ParameterRow,
    ParameterTable,
    build_parameters,
    check_against_items,
    read_parameters_csv,
    with_item_flags,
    write_parameters_csv,
)
from itembank.sources import (
    Bank,
    BankSettings,
    data_media,
    item_from_data,
    item_media,
    load_bank,
    load_yaml,
)

RELEASES_ROOT = Path(__file__).parent / "releases"
MEDIA_STORE = "media"
#: Item statuses that go into a release; drafts and retired items stay in the sources only.
RELEASED_STATUSES = frozenset({"pilot", "operational"})
VERSION_RE = re.compile(r"^(\d{4})\.(\d{1,2})\.(\d+)$")
#: Fields that do not change what an item asks or how it is scored: editing them keeps the
#: item's parameters from one release to the next.
METADATA_FIELDS = frozenset({"history", "author", "status", "enemies", "topic", "parameters"})
#: Files outside the content hash: when and how a release was published, not what it holds.
UNHASHED = frozenset({"release.yaml", "changelog.md", "manifest.json"})


def parse_version(version: str) -> tuple[int, int, int]:
    """``"2026.11.0"`` -> ``(2026, 11, 0)``; raises :class:`InvalidVersion`."""
    m = VERSION_RE.match(version)
    if m is None or not 1 <= int(m[2]) <= 12:
        raise InvalidVersion(f"release version {version!r} is not YYYY.MM.N (e.g. 2026.11.0)")
    return int(m[1]), int(m[2]), int(m[3])


def list_releases(root: Path | None = None) -> list[str]:
    """Published versions under ``root``, oldest first."""
    root = RELEASES_ROOT if root is None else Path(root)
    if not root.is_dir():
        return []
    versions = [
        p.name
        for p in root.iterdir()
        if p.is_dir() and VERSION_RE.match(p.name) and (p / "manifest.json").is_file()
    ]
    return sorted(versions, key=parse_version)


def _sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def item_fingerprint(
    data: Mapping[str, Any], media: Mapping[str, str], item: Item | None = None
) -> str:
    """The hash of what an item asks and how it is scored: its fields except metadata, and the
    content of its media. Two releases' items with the same fingerprint share parameters.

    ``item`` is the item built from ``data``, when the caller has it (else its media paths are
    read from ``data``).
    """
    content = {k: v for k, v in data.items() if k not in METADATA_FIELDS}
    paths = sorted(set(data_media(data)) if item is None else {rel for _, rel in item_media(item)})
    content["__media__"] = {p: media.get(p, "missing") for p in paths}
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, default=str)
    return _sha256_bytes(canonical.encode())


@dataclass(frozen=True, slots=True)
class ParameterChange:
    """An item whose parameters differ between two releases."""

    id: str
    old: ParameterRow
    new: ParameterRow

    def describe(self) -> str:
        """``CO-001: 3PL a 1 -> 1.2, b -0.39 -> -0.5``."""

        def show(r: ParameterRow) -> str:
            extra = f", c {r.c:g}" if r.model == "3PL" else ""
            thresholds = f", thresholds {', '.join(f'{t:g}' for t in r.thresholds)}"
            flag = (" (provisional)" if r.provisional else "") + (" (pretest)" if r.pretest else "")
            return (
                f"{r.model} a {r.a:g}, b {r.b:g}{extra}{thresholds if r.thresholds else ''}{flag}"
            )

        return f"{self.id}: {show(self.old)} -> {show(self.new)}"


@dataclass(frozen=True, slots=True)
class Changelog:
    """What changed against the previous release (all empty for the first release)."""

    previous: str | None
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    metadata_changed: tuple[str, ...] = ()
    parameters_changed: tuple[ParameterChange, ...] = ()
    settings_changed: tuple[str, ...] = ()

    def to_data(self) -> dict[str, Any]:
        """A plain-data summary (for ``release.yaml``)."""
        return {
            "previous": self.previous,
            "added": list(self.added),
            "removed": list(self.removed),
            "changed": list(self.changed),
            "metadata_changed": list(self.metadata_changed),
            "parameters_changed": [c.id for c in self.parameters_changed],
            "settings_changed": list(self.settings_changed),
        }

    def to_markdown(self, version: str) -> str:
        """The human changelog (``changelog.md``)."""
        lines = [f"# Release {version}", ""]
        if self.previous is None:
            lines += ["First release: every item is new.", ""]
        else:
            lines += [f"Changes since {self.previous}.", ""]
        sections = [
            ("Items added", self.added),
            ("Items removed", self.removed),
            ("Items changed (content or media; parameters not carried over)", self.changed),
            ("Items edited (status, history, enemies, topic only)", self.metadata_changed),
            ("Parameters changed", tuple(c.describe() for c in self.parameters_changed)),
            ("Bank settings changed", self.settings_changed),
        ]
        for title, entries in sections:
            if self.previous is None and title == "Items added":
                lines += [f"## {title} ({len(entries)})", "", ", ".join(entries) or "none", ""]
                continue
            lines += [f"## {title} ({len(entries)})", ""]
            lines += [f"- {e}" for e in entries] or ["none"]
            lines.append("")
        return "\n".join(lines)


@dataclass(frozen=True)
class Release:
    """A published, immutable bank release (see the module docstring for its files)."""

    version: str
    root: Path
    items: Mapping[str, Item]
    parameters: ParameterTable
    settings: BankSettings
    manifest: dict[str, str]
    content_hash: str
    media: dict[str, str]
    created_at: str
    changelog: Changelog
    notes: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)
    fingerprints: dict[str, str] = field(default_factory=dict)
    #: invalid item files of the sources that were left out (``skip_invalid``), bank-relative
    left_out: tuple[str, ...] = ()

    @property
    def parameters_path(self) -> Path:
        """The release's ``parameters.csv``."""
        return self.root / "parameters.csv"

    @property
    def cut_scores(self) -> dict[str, dict[str, float]]:
        """Skill -> level (A1.1, A1, A2, B1) -> θ cut."""
        return self.settings.cut_scores

    @property
    def skill_correlation(self) -> tuple[tuple[float, ...], ...]:
        """4×4 correlation of the skills' abilities, order CO, CE, EO, EE."""
        return self.settings.skill_correlation

    @property
    def policy(self) -> str:
        """The decision policy the release was published with (e.g. ``cir-2016``)."""
        return self.settings.policy

    @property
    def store(self) -> Path:
        """The content-addressed media store shared by the releases under the same root."""
        return self.root.parent / MEDIA_STORE

    @property
    def attachments(self) -> dict[str, Path]:
        """Files published with the release, by name."""
        folder = self.root / "attachments"
        if not folder.is_dir():
            return {}
        return {
            p.relative_to(folder).as_posix(): p for p in sorted(folder.rglob("*")) if p.is_file()
        }

    def media_path(self, rel: str) -> Path:
        """The stored file of a bank-relative media path (``media/pictures/bus.svg``).

        Raises :class:`KeyError` for a path no item of the release refers to.
        """
        return self.store / f"{self.media[rel]}{Path(rel).suffix}"

    def item_source(self, item_id: str) -> Path:
        """The item's YAML source as published."""
        item = self.items[item_id]
        return self.root / "items" / item.skill / f"{item.id}.yaml"


def _read_release_items(root: Path) -> tuple[dict[str, Item], dict[str, dict[str, Any]]]:
    items: dict[str, Item] = {}
    data_by_id: dict[str, dict[str, Any]] = {}
    for path in sorted((root / "items").glob("*/*.yaml")):
        data = load_yaml(path.read_text(encoding="utf-8"))
        item = item_from_data(data, source=path)
        items[item.id] = item
        data_by_id[item.id] = data
    return items, data_by_id


def load_release(
    version: str | None = None, root: Path | None = None, *, verify: bool = True
) -> Release:
    """Load a published release (the newest when ``version`` is None).

    ``verify`` checks every file against the manifest and every medium against its hash
    (:class:`ReleaseCorrupt` lists the files that differ). Raises :class:`ReleaseNotFound`.
    """
    root = RELEASES_ROOT if root is None else Path(root)
    versions = list_releases(root)
    if version is None:
        if not versions:
            raise ReleaseNotFound(f"no release under {root}; build one with `itembank build`")
        version = versions[-1]
    parse_version(version)
    folder = root / version
    if version not in versions:
        raise ReleaseNotFound(
            f"no release {version} under {root} (known: {', '.join(versions) or 'none'})"
        )
    try:
        return _read_release(folder, version, verify=verify)
    except (OSError, ValueError, KeyError, TypeError, AttributeError, yaml.YAMLError) as exc:
        # json and csv errors are ValueErrors; a missing field is a KeyError
        raise ReleaseCorrupt(f"release {version} cannot be read: {exc!r}") from exc


def _read_release(folder: Path, version: str, *, verify: bool) -> Release:
    manifest = json.loads((folder / "manifest.json").read_text())
    files: dict[str, str] = manifest["files"]
    media: dict[str, str] = json.loads((folder / "media.json").read_text())
    if verify:
        _verify(folder, files, media)
    meta = load_yaml((folder / "release.yaml").read_text(encoding="utf-8"))
    settings = BankSettings.from_data(load_yaml((folder / "settings.yaml").read_text()))
    items, data_by_id = _read_release_items(folder)
    log = meta.get("changelog") or {}
    parameters = read_parameters_csv(folder / "parameters.csv")
    previous_params = _previous_parameter_changes(folder, log, parameters)
    return Release(
        version=version,
        root=folder,
        items=MappingProxyType(items),  # read-only: a release is never edited
        parameters=parameters,
        settings=settings,
        manifest=files,
        content_hash=manifest["content_hash"],
        media=media,
        created_at=str(meta["created_at"]),
        changelog=Changelog(
            previous=log.get("previous"),
            added=tuple(log.get("added") or ()),
            removed=tuple(log.get("removed") or ()),
            changed=tuple(log.get("changed") or ()),
            metadata_changed=tuple(log.get("metadata_changed") or ()),
            parameters_changed=previous_params,
            settings_changed=tuple(log.get("settings_changed") or ()),
        ),
        notes=meta.get("notes") or "",
        metadata=dict(meta.get("metadata") or {}),
        fingerprints={i: item_fingerprint(d, media, items[i]) for i, d in data_by_id.items()},
        left_out=tuple(meta.get("left_out_invalid") or ()),
    )


def _previous_parameter_changes(
    folder: Path, log: Mapping[str, Any], new: ParameterTable
) -> tuple[ParameterChange, ...]:
    """The parameter changes the changelog lists, against the previous release's table when it
    is at hand; ``new`` is this release's table."""
    changed = list(log.get("parameters_changed") or ())
    previous = log.get("previous")
    if not changed or previous is None:
        return ()
    prev_csv = folder.parent / previous / "parameters.csv"
    if not prev_csv.is_file():
        return ()
    old = read_parameters_csv(prev_csv)
    return tuple(ParameterChange(i, old[i], new[i]) for i in changed if i in old and i in new)


def _verify(folder: Path, files: Mapping[str, str], media: Mapping[str, str]) -> None:
    bad = []
    present = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()} - {
        "manifest.json"
    }
    bad += [f"{name} (not in the manifest)" for name in sorted(present - set(files))]
    for name, digest in sorted(files.items()):
        path = folder / name
        if not path.is_file():
            bad.append(f"{name} (missing)")
        elif sha256_file(path) != digest:
            bad.append(f"{name} (edited)")
    store = folder.parent / MEDIA_STORE
    for rel, digest in sorted(media.items()):
        path = store / f"{digest}{Path(rel).suffix}"
        if not path.is_file():
            bad.append(f"media {rel} (missing from the store)")
        elif sha256_file(path) != digest:
            bad.append(f"media {rel} (store file edited)")
    if bad:
        raise ReleaseCorrupt(f"release {folder.name} differs from its manifest: {'; '.join(bad)}")


def next_version(root: Path | None = None, today: dt.date | None = None) -> str:
    """The next free version for this month: ``YYYY.MM.N`` with N one above the month's last."""
    today = today or dt.datetime.now(dt.UTC).date()
    prefix = (today.year, today.month)
    numbers = [parse_version(v)[2] for v in list_releases(root) if parse_version(v)[:2] == prefix]
    return f"{today.year}.{today.month}.{max(numbers) + 1 if numbers else 0}"


@dataclass(frozen=True, slots=True)
class _Content:
    """What a release is made of, gathered from a bank or from an earlier release."""

    items: dict[str, Item]
    sources: dict[str, bytes]  # item id -> YAML bytes
    data: dict[str, dict[str, Any]]  # item id -> parsed YAML
    media_files: dict[str, Path]  # bank-relative path -> file to read
    settings: BankSettings
    left_out: tuple[str, ...] = ()  # invalid item files skipped on purpose (skip_invalid)


def _from_bank(bank: Bank) -> _Content:
    items = {i: it for i, it in bank.items.items() if it.status in RELEASED_STATUSES}
    sources, data, media_files = {}, {}, {}
    for item_id, item in items.items():
        assert item.source is not None
        raw = item.source.read_bytes()
        sources[item_id] = raw
        data[item_id] = load_yaml(raw.decode("utf-8"))
        for _, rel in item_media(item):
            media_files[rel] = bank.media_path(rel)
    left_out = tuple(p.relative_to(bank.root).as_posix() for p in bank.skipped)
    return _Content(items, sources, data, media_files, bank.settings, left_out)


def _from_release(release: Release) -> _Content:
    sources, data, media_files = {}, {}, {}
    for item_id, item in release.items.items():
        raw = release.item_source(item_id).read_bytes()
        sources[item_id] = raw
        data[item_id] = load_yaml(raw.decode("utf-8"))
        for _, rel in item_media(item):
            media_files[rel] = release.media_path(rel)
    return _Content(dict(release.items), sources, data, media_files, release.settings)


def _dump_yaml(data: Any) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)


def _settings_changes(old: BankSettings, new: BankSettings) -> tuple[str, ...]:
    out = []
    if old.policy != new.policy:
        out.append(f"policy {old.policy} -> {new.policy}")
    if old.cut_scores != new.cut_scores:
        out.append("cut scores")
    if old.cut_scores_source != new.cut_scores_source:
        out.append("cut scores' source")
    if old.skill_correlation != new.skill_correlation:
        out.append("skill correlation")
    if old.skill_correlation_source != new.skill_correlation_source:
        out.append("skill correlation's source")
    if old.provisional_parameters != new.provisional_parameters:
        out.append("provisional-parameter rule")
    return tuple(out)


def _changelog(
    previous: Release | None,
    content: _Content,
    fingerprints: Mapping[str, str],
    sources: Mapping[str, bytes],
    parameters: ParameterTable,
) -> Changelog:
    if previous is None:
        return Changelog(previous=None, added=tuple(sorted(content.items)))
    old_ids, new_ids = set(previous.items), set(content.items)
    common = sorted(old_ids & new_ids)
    changed = tuple(i for i in common if previous.fingerprints.get(i) != fingerprints[i])
    metadata_changed = tuple(
        i for i in common if i not in changed and previous.item_source(i).read_bytes() != sources[i]
    )
    param_changes = tuple(
        ParameterChange(i, previous.parameters[i], parameters[i])
        for i in common
        if i in previous.parameters
        and (
            not previous.parameters[i].same_values(parameters[i])
            or previous.parameters[i].provisional != parameters[i].provisional
            or previous.parameters[i].pretest != parameters[i].pretest
        )
    )
    return Changelog(
        previous=previous.version,
        added=tuple(sorted(new_ids - old_ids)),
        removed=tuple(sorted(old_ids - new_ids)),
        changed=changed,
        metadata_changed=metadata_changed,
        parameters_changed=param_changes,
        settings_changed=_settings_changes(previous.settings, content.settings),
    )


def _hash_media(media_files: Mapping[str, Path], progress: bool) -> dict[str, str]:
    """Bank-relative path -> sha256 of the file's content."""
    files = sorted(media_files.items())
    bar = tqdm(files, desc="hashing media", unit="file", disable=not progress)
    return {rel: sha256_file(path) for rel, path in bar}


def _store_media(store: Path, media_files: Mapping[str, Path], index: Mapping[str, str]) -> None:
    """Copy media into the content-addressed store, once per content."""
    store.mkdir(parents=True, exist_ok=True)
    for rel, path in sorted(media_files.items()):
        target = store / f"{index[rel]}{Path(rel).suffix}"
        if not target.exists():
            tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
            shutil.copyfile(path, tmp)
            tmp.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
            tmp.replace(target)


def publish_release(
    sources: Path | str | Release,
    *,
    version: str | None = None,
    parameters_csv: Path | None = None,
    notes: str = "",
    attachments: Mapping[str, Path] | None = None,
    metadata: Mapping[str, Any] | None = None,
    root: Path | None = None,
    skip_invalid: bool = False,
    progress: bool = False,
) -> Release:
    """Publish a new immutable release and return it (loaded back from disk).

    ``sources`` is a bank folder (validated: :class:`~itembank.errors.BankInvalid` unless
    ``skip_invalid`` leaves the invalid items out) or an earlier :class:`Release` (same items,
    typically with new ``parameters_csv`` from calibration). Without ``parameters_csv`` the
    parameters come from each item's own block, else the previous release's row for an
    unchanged item, else the provisional rule. ``attachments`` (name -> file) are copied into
    ``attachments/``; ``metadata`` (plain data) goes into ``release.yaml``. Only pilot and
    operational items are released.

    Raises :class:`ReleaseExists` for a published version, :class:`InvalidVersion` for a
    malformed one or one not newer than the newest release, :class:`ParametersInvalid` when the
    parameter CSV does not fit the items.
    """
    root = RELEASES_ROOT if root is None else Path(root)
    existing = list_releases(root)
    version = version or next_version(root)
    parse_version(version)
    if (root / version).exists():
        raise ReleaseExists(
            f"release {version} already exists under {root}; releases are immutable"
        )
    if existing and parse_version(version) <= parse_version(existing[-1]):
        raise InvalidVersion(
            f"version {version} is not newer than the newest release {existing[-1]}"
        )
    for name in attachments or {}:
        if not name or ".." in Path(name).parts or Path(name).is_absolute():
            raise ItemBankError(
                f"attachment name {name!r} must be a relative path inside the release"
            )

    if isinstance(sources, Release):
        content = _from_release(sources)
    else:
        content = _from_bank(load_bank(Path(sources), skip_invalid=skip_invalid))
    if not content.items:
        raise ItemBankError("nothing to release: no pilot or operational item")
    previous = load_release(existing[-1], root) if existing else None

    media = _hash_media(content.media_files, progress)
    fingerprints = {
        i: item_fingerprint(d, media, content.items[i]) for i, d in content.data.items()
    }
    if parameters_csv is not None:
        parameters = read_parameters_csv(Path(parameters_csv))
        check_against_items(parameters, content.items)
        parameters = with_item_flags(parameters, content.items)
    else:
        unchanged = frozenset(
            i for i, fp in fingerprints.items() if previous and previous.fingerprints.get(i) == fp
        )
        parameters = build_parameters(
            content.items,
            content.settings.cut_scores,
            content.settings.provisional_parameters,
            previous.parameters if previous else None,
            unchanged,
        )
        check_against_items(parameters, content.items)
        parameters = with_item_flags(parameters, content.items)
    changelog = _changelog(previous, content, fingerprints, content.sources, parameters)

    root.mkdir(parents=True, exist_ok=True)
    tmp = root / f".tmp-{version}-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    try:
        _write_release(
            tmp,
            version,
            content=content,
            media=media,
            parameters=parameters,
            changelog=changelog,
            notes=notes,
            attachments=attachments,
            metadata=metadata,
        )
        if (root / version).exists():  # published meanwhile by another process
            raise ReleaseExists(f"release {version} already exists under {root}")
        # media go to the store only once the release is written, before it becomes visible
        _store_media(root / MEDIA_STORE, content.media_files, media)
        tmp.rename(root / version)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return load_release(version, root)


def _write_release(
    folder: Path,
    version: str,
    *,
    content: _Content,
    media: Mapping[str, str],
    parameters: ParameterTable,
    changelog: Changelog,
    notes: str,
    attachments: Mapping[str, Path] | None,
    metadata: Mapping[str, Any] | None,
) -> None:
    folder.mkdir(parents=True)
    for item_id, item in content.items.items():
        target = folder / "items" / item.skill / f"{item_id}.yaml"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content.sources[item_id])
    (folder / "settings.yaml").write_text(_dump_yaml(content.settings.to_data()), encoding="utf-8")
    (folder / "media.json").write_text(json.dumps(dict(sorted(media.items())), indent=1) + "\n")
    write_parameters_csv(parameters, folder / "parameters.csv")
    (folder / "changelog.md").write_text(changelog.to_markdown(version), encoding="utf-8")
    for name, src in sorted((attachments or {}).items()):
        target = folder / "attachments" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            shutil.copyfile(src, target)
        except OSError as exc:
            raise ItemBankError(f"cannot attach {src}: {exc}") from exc

    files = {
        p.relative_to(folder).as_posix(): sha256_file(p)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }
    content_hash = _sha256_bytes(
        "".join(
            f"{name} {digest}\n" for name, digest in sorted(files.items()) if name not in UNHASHED
        ).encode()
    )
    counts: dict[str, int] = {}
    for item in content.items.values():
        counts[item.skill] = counts.get(item.skill, 0) + 1
    try:
        meta_data = json.loads(json.dumps(dict(metadata or {}), default=str))
    except (TypeError, ValueError) as exc:
        raise ItemBankError(f"release metadata must be plain data: {exc}") from exc
    meta = {
        "version": version,
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "previous": changelog.previous,
        "policy": content.settings.policy,
        "content_hash": content_hash,
        "items": len(content.items),
        "items_per_skill": counts,
        "provisional_parameters": sum(r.provisional for r in parameters),
        "left_out_invalid": list(content.left_out),
        "notes": notes,
        "metadata": meta_data,
        "changelog": changelog.to_data(),
    }
    (folder / "release.yaml").write_text(_dump_yaml(meta), encoding="utf-8")
    files["release.yaml"] = sha256_file(folder / "release.yaml")
    manifest = {
        "version": version,
        "content_hash": content_hash,
        "files": dict(sorted(files.items())),
    }
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    for p in folder.rglob("*"):
        if p.is_file():
            p.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)


__all__ = [
    "RELEASES_ROOT",
    "Changelog",
    "ParameterChange",
    "ParametersInvalid",
    "Release",
    "item_fingerprint",
    "list_releases",
    "load_release",
    "next_version",
    "parse_version",
    "publish_release",
]
