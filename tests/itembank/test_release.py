"""Releases: publish, load, immutability, the content hash, the changelog, the media store and
the calibration path (publish a release's items again with new parameters and a report)."""

from __future__ import annotations

import csv
import datetime as dt
import json
import stat
from pathlib import Path

import pytest

from itembank import (
    BankInvalid,
    InvalidVersion,
    ParametersInvalid,
    ReleaseCorrupt,
    ReleaseExists,
    ReleaseNotFound,
    list_releases,
    load_release,
    publish_release,
    read_parameters_csv,
    write_parameters_csv,
)
from itembank.cli import main
from itembank.parameters import ParameterRow
from itembank.release import next_version
from tests.itembank.conftest import MakeBank, base_items, write_item


def test_publish_then_load(make_bank: MakeBank, tmp_path: Path) -> None:
    bank = make_bank()
    root = tmp_path / "releases"
    published = publish_release(bank, version="2026.11.0", notes="premier", root=root)
    release = load_release(root=root)  # newest
    assert release.version == published.version == "2026.11.0"
    assert list_releases(root) == ["2026.11.0"]
    assert sorted(release.items) == sorted(base_items())
    assert release.items["CE-002"].accepted == ("vendredi", "samedi")
    assert release.policy == "cir-2016"
    assert set(release.cut_scores) == {"CO", "CE", "EO", "EE"}
    assert list(release.cut_scores["EO"]) == ["A1.1", "A1", "A2", "B1"]
    assert len(release.skill_correlation) == 4
    assert all(len(row) == 4 for row in release.skill_correlation)
    assert release.notes == "premier"
    assert release.changelog.previous is None
    assert release.changelog.added == tuple(sorted(base_items()))

    with release.parameters_path.open() as f:
        header = next(csv.reader(f))
    assert header == ["id", "skill", "theme", "model", "a", "b", "c", "d", "b1", "b2", "b3",
                      "provisional", "pretest", "enemies", "non_reader"]  # fmt: skip
    assert len(release.parameters) == len(release.items)
    # the CSV alone says which items suit non-readers and which are enemies: the items' flags
    for item_id, item in release.items.items():
        row = release.parameters[item_id]
        assert (row.non_reader, row.enemies) == (item.non_reader, tuple(item.enemies))
    assert any(row.non_reader for row in release.parameters)
    assert all(row.provisional for row in release.parameters)

    # every file of the release is in the manifest, with its hash
    files = {p.relative_to(release.root).as_posix() for p in release.root.rglob("*") if p.is_file()}
    assert set(release.manifest) == files - {"manifest.json"}
    # media come from the shared store, byte for byte
    stored = release.media_path("CO/CO-001.ogg")
    assert stored.parent == root / "media"
    assert stored.read_bytes() == (bank / "CO" / "CO-001.ogg").read_bytes()
    assert (
        release.media_path("media/pictures/gare.svg").read_bytes()
        == (bank / "media" / "pictures" / "gare.svg").read_bytes()
    )
    # published files are read-only
    assert not (release.root / "parameters.csv").stat().st_mode & stat.S_IWUSR


def test_release_not_found(tmp_path: Path) -> None:
    with pytest.raises(ReleaseNotFound, match="no release under"):
        load_release(root=tmp_path)
    with pytest.raises(ReleaseNotFound, match=r"no release 2026\.1\.0"):
        load_release("2026.1.0", root=tmp_path)


def test_publish_refuses_to_overwrite(make_bank: MakeBank, tmp_path: Path) -> None:
    bank = make_bank()
    root = tmp_path / "releases"
    first = publish_release(bank, version="2026.11.0", root=root)
    before = first.manifest
    with pytest.raises(ReleaseExists, match="releases are immutable"):
        publish_release(bank, version="2026.11.0", root=root)
    with pytest.raises(InvalidVersion, match=r"not newer than the newest release 2026\.11\.0"):
        publish_release(bank, version="2026.10.3", root=root)
    with pytest.raises(InvalidVersion, match=r"is not YYYY\.MM\.N"):
        publish_release(bank, version="v1", root=root)
    assert load_release("2026.11.0", root=root).manifest == before
    assert list_releases(root) == ["2026.11.0"]


def test_an_edited_release_is_detected(make_bank: MakeBank, tmp_path: Path) -> None:
    root = tmp_path / "releases"
    release = publish_release(make_bank(), version="2026.11.0", root=root)
    target = release.root / "items" / "CE" / "CE-001.yaml"
    target.chmod(0o644)
    target.write_text(target.read_text().replace("key: b", "key: a"))
    with pytest.raises(ReleaseCorrupt, match=r"items/CE/CE-001\.yaml \(edited\)"):
        load_release("2026.11.0", root=root)
    assert load_release("2026.11.0", root=root, verify=False).items["CE-001"].key == "a"
    manifest = release.root / "manifest.json"
    manifest.chmod(0o644)
    manifest.write_text("{not json")
    with pytest.raises(ReleaseCorrupt, match=r"release 2026\.11\.0 cannot be read"):
        load_release("2026.11.0", root=root)


def _hash(bank: Path, root: Path, version: str = "2026.11.0") -> str:
    return publish_release(bank, version=version, root=root).content_hash


def test_content_hash_is_stable_for_the_same_content(make_bank: MakeBank, tmp_path: Path) -> None:
    bank = make_bank()
    first = _hash(bank, tmp_path / "r1")
    assert _hash(bank, tmp_path / "r2") == first
    # another version number, another time, the same content: the same hash
    assert _hash(bank, tmp_path / "r3", version="2027.1.4") == first
    # published again after it in the same root (a changelog with nothing in it)
    assert _hash(bank, tmp_path / "r1", version="2026.11.1") == first


@pytest.mark.parametrize(
    "change",
    ["item text", "key", "media", "cut score", "correlation source", "explicit parameters",
     "new item", "status"],
)  # fmt: skip
def test_content_hash_changes_with_any_content(
    make_bank: MakeBank, tmp_path: Path, change: str
) -> None:
    baseline = _hash(make_bank(name="base"), tmp_path / "r0")
    items = base_items()
    if change == "item text":
        items["CE-001"]["stem"]["text"] += "Fermé le dimanche.\n"
    elif change == "key":
        items["CO-002"]["key"] = "faux"
    elif change == "explicit parameters":
        items["CO-002"]["parameters"] = {"model": "2PL", "a": 1.4, "b": 0.2}
    elif change == "new item":
        extra = dict(items["CE-001"], id="CE-003")
        items["CE-003"] = extra
    elif change == "status":
        items["CE-001"]["status"] = "pilot"
    bank = make_bank(items, name="changed")
    if change == "media":
        (bank / "media" / "pictures" / "gare.svg").write_text(
            '<svg xmlns="http://www.w3.org/2000/svg"><circle r="3"/></svg>'
        )
    elif change == "cut score":
        text = (bank / "bank.yaml").read_text()
        (bank / "bank.yaml").write_text(text.replace("EE: {A1.1: -1.04", "EE: {A1.1: -1.10"))
    elif change == "correlation source":
        text = (bank / "bank.yaml").read_text()
        (bank / "bank.yaml").write_text(text.replace("PROVISIONAL prior", "Provisional prior"))
    assert _hash(bank, tmp_path / "r1") != baseline


def test_changelog_and_parameters_carried_over(make_bank: MakeBank, tmp_path: Path) -> None:
    root = tmp_path / "releases"
    items = base_items()
    items["CE-002"]["status"] = "draft"  # not released
    first = publish_release(make_bank(items, name="v0"), version="2026.11.0", root=root)
    assert "CE-002" not in first.items

    # calibration: the same items, new parameters for CO-002, a report, a reason kept
    rows = [
        ParameterRow(**{**_row_dict(r), "a": 1.7, "b": 0.3, "c": 0.2, "provisional": False})
        if r.id == "CO-002"
        else r
        for r in first.parameters
    ]
    new_csv = tmp_path / "calibrated.csv"
    write_parameters_csv(rows, new_csv)
    report = tmp_path / "report.md"
    report.write_text("# Rapport de calibration\n")
    calibrated = publish_release(
        first,
        version="2026.11.1",
        parameters_csv=new_csv,
        attachments={"calibration-report.md": report},
        metadata={"override": {"item": "CO-002", "reason": "drift accepted after review"}},
        root=root,
    )
    assert calibrated.parameters["CO-002"].a == pytest.approx(1.7)
    assert not calibrated.parameters["CO-002"].provisional
    assert calibrated.metadata["override"]["reason"] == "drift accepted after review"
    assert (
        calibrated.attachments["calibration-report.md"].read_text() == "# Rapport de calibration\n"
    )
    log = calibrated.changelog
    assert (log.previous, log.added, log.removed, log.changed) == ("2026.11.0", (), (), ())
    assert [c.id for c in log.parameters_changed] == ["CO-002"]
    assert (
        "CO-002: 3PL a 0.8, b 0.25, c 0.2667 (provisional) -> 3PL a 1.7, b 0.3, c 0.2"
        in (calibrated.root / "changelog.md").read_text()
    )
    assert calibrated.items == first.items
    assert calibrated.media == first.media

    # new sources: CO-002 unchanged keeps its calibrated row; CE-001's text changed, so it goes
    # back to the provisional rule; EO-001 only changed status; CE-002 is now released; EE-001 gone
    items = base_items()
    items["CE-001"]["stem"]["text"] = "Magasin fermé le dimanche.\n"
    items["EO-001"]["status"] = "pilot"
    del items["EE-001"]
    third = publish_release(make_bank(items, name="v2"), version="2026.12.0", root=root)
    log = third.changelog
    assert log.previous == "2026.11.1"
    assert log.added == ("CE-002",)
    assert log.removed == ("EE-001",)
    assert log.changed == ("CE-001",)
    assert log.metadata_changed == ("EO-001",)
    assert third.parameters["CO-002"] == calibrated.parameters["CO-002"]
    assert third.parameters["CE-001"].provisional
    assert third.parameters["EO-001"].pretest  # pilot items are pretest items
    # CE-001 was already provisional with the same values; EO-001's pretest flag moved
    assert [c.describe() for c in log.parameters_changed] == [
        (
            "EO-001: GRM a 1.2, b -1.04, thresholds -1.39, -0.69 (provisional) -> "
            "GRM a 1.2, b -1.04, thresholds -1.39, -0.69 (provisional) (pretest)"
        )
    ]
    assert list_releases(root) == ["2026.11.0", "2026.11.1", "2026.12.0"]


def _row_dict(row: ParameterRow) -> dict[str, object]:
    return {f: getattr(row, f) for f in ParameterRow.__slots__}


def test_calibration_csv_must_fit_the_items(make_bank: MakeBank, tmp_path: Path) -> None:
    root = tmp_path / "releases"
    first = publish_release(make_bank(), version="2026.11.0", root=root)
    rows = [r for r in first.parameters if r.id != "EO-001"]
    bad = tmp_path / "bad.csv"
    write_parameters_csv(rows, bad)
    with pytest.raises(ParametersInvalid, match="no parameters for EO-001"):
        publish_release(first, version="2026.11.1", parameters_csv=bad, root=root)
    assert list_releases(root) == ["2026.11.0"]
    assert not any(p.name.startswith(".tmp") for p in root.iterdir())
    # a refused release adds nothing to the media store either
    changed = make_bank(name="changed")
    (changed / "media" / "pictures" / "gare.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg"><circle r="4"/></svg>'
    )
    with pytest.raises(ParametersInvalid):
        publish_release(changed, version="2026.11.1", parameters_csv=bad, root=root)
    assert len(list((root / "media").iterdir())) == len(set(first.media.values()))


def test_media_store_keeps_one_copy_per_content(make_bank: MakeBank, tmp_path: Path) -> None:
    root = tmp_path / "releases"
    bank = make_bank()
    first = publish_release(bank, version="2026.11.0", root=root)
    publish_release(bank, version="2026.11.1", root=root)
    stored = sorted(p.name for p in (root / "media").iterdir())
    assert len(stored) == len(set(first.media.values()))
    assert not list((root / "2026.11.1").rglob("*.ogg"))  # no media inside a release folder


def test_build_refuses_an_invalid_bank_unless_told(make_bank: MakeBank, tmp_path: Path) -> None:
    items = base_items()
    items["CE-001"]["key"] = "z"
    bank = make_bank(items)
    root = tmp_path / "releases"
    with pytest.raises(BankInvalid, match="key 'z' is not one of the choices"):
        publish_release(bank, version="2026.11.0", root=root)
    assert not root.exists() or not any(root.iterdir())  # a refused build leaves nothing
    release = publish_release(bank, version="2026.11.0", root=root, skip_invalid=True)
    assert "CE-001" not in release.items
    assert release.left_out == ("CE/CE-001.yaml",)
    assert len(release.items) == len(items) - 1


def test_explicit_parameters_block_wins(make_bank: MakeBank, tmp_path: Path) -> None:
    items = base_items()
    items["CO-002"]["parameters"] = {"model": "2PL", "a": 1.4, "b": 0.2}
    items["EO-001"]["parameters"] = {"model": "GPCM", "a": 0.9, "thresholds": [-1.0, 0.5]}
    release = publish_release(make_bank(items), version="2026.11.0", root=tmp_path / "r")
    co, eo = release.parameters["CO-002"], release.parameters["EO-001"]
    assert (co.model, co.a, co.b, co.c, co.provisional) == ("2PL", 1.4, 0.2, 0.0, False)
    assert (eo.model, eo.thresholds, eo.b) == ("GPCM", (-1.0, 0.5), pytest.approx(-0.25))
    assert read_parameters_csv(release.parameters_path)["EO-001"] == eo


def test_cli_build_list_show(
    make_bank: MakeBank, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bank = make_bank()
    root = tmp_path / "releases"
    args = ["--bank", str(bank), "--root", str(root)]
    assert main(["build", *args, "--version", "2026.11.0", "--notes", "essai"]) == 0
    out = capsys.readouterr().out
    assert "release 2026.11.0" in out
    assert "7 items (CO 2, CE 2, EO 1, EE 2); 7 with provisional parameters" in out
    assert main(["build", *args, "--version", "2026.11.0"]) == 1
    assert "already exists" in capsys.readouterr().err
    assert main(["list", "--root", str(root)]) == 0
    assert capsys.readouterr().out.split() == ["2026.11.0"]
    assert main(["show", "--root", str(root)]) == 0
    manifest = json.loads((root / "2026.11.0" / "manifest.json").read_text())
    assert manifest["content_hash"] in capsys.readouterr().out
    write_item(bank, {**base_items()["CE-001"], "theme": "ailleurs"})
    assert main(["build", *args, "--version", "2026.11.1"]) == 1
    assert "unknown theme 'ailleurs'" in capsys.readouterr().err


def test_default_version_is_the_next_of_the_month(make_bank: MakeBank, tmp_path: Path) -> None:
    root = tmp_path / "releases"
    bank = make_bank()
    today = dt.datetime.now(dt.UTC).date()
    first = publish_release(bank, root=root)
    assert first.version == f"{today.year}.{today.month}.0"
    assert publish_release(bank, root=root).version == f"{today.year}.{today.month}.1"
    assert next_version(root, today=dt.date(2031, 2, 1)) == "2031.2.0"
