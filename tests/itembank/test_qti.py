"""QTI 3.0: export of every item type, import of choice and text-entry items, round trip."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from defusedxml import ElementTree as SafeET

from itembank import QtiError, load_bank, publish_release, validate
from itembank.cli import main
from itembank.qti import CP_NS, QTI_NS, export_qti, import_qti
from itembank.sources import data_media, item_from_data, item_media
from tests.itembank.conftest import MakeBank, base_items

KEPT = ("id", "skill", "type", "theme", "topic", "target_level", "status", "non_reader",
        "enemies", "instruction", "stem", "choices", "key", "accepted", "typo_tolerance",
        "time_limit_s")  # fmt: skip
IMPORTABLE = ("CO-001", "CO-002", "CE-001", "CE-002")


def _kept(data: dict[str, Any]) -> dict[str, Any]:
    return {k: data[k] for k in KEPT if k in data and data[k] not in (None, False)}


@pytest.mark.parametrize("as_zip", [False, True], ids=["folder", "zip"])
def test_round_trip_keeps_content_keys_and_media(
    make_bank: MakeBank, tmp_path: Path, as_zip: bool
) -> None:
    bank = make_bank()
    package = export_qti(load_bank(bank), tmp_path / ("pkg.zip" if as_zip else "pkg"))
    out = tmp_path / "imported"
    result = import_qti(package, out)
    assert sorted(result.written) == sorted(IMPORTABLE)
    assert set(result.skipped) == {"EO-001", "EE-001", "EE-002"}
    assert "qti-upload-interaction: the engine scores only" in result.skipped["EO-001"]
    originals = base_items()
    for item_id in IMPORTABLE:
        back = yaml.safe_load(result.written[item_id].read_text())
        assert _kept(back) == _kept(originals[item_id]), item_id
        for rel in _media(originals[item_id]):
            assert (out / rel).read_bytes() == (bank / rel).read_bytes(), rel
    # the imported items are a valid bank again (with the bank settings)
    shutil.copyfile(bank / "bank.yaml", out / "bank.yaml")
    assert validate(out) == []


def _media(data: dict[str, Any]) -> list[str]:
    paths = [data["instruction"]["audio"]]
    stem = data.get("stem") or {}
    paths += [stem[k] for k in ("image", "audio") if stem.get(k)]
    for c in data.get("choices") or ():
        paths += [c[k] for k in ("image", "audio") if c.get(k)]
    return paths


def test_export_writes_qti3_items_and_a_manifest(make_bank: MakeBank, tmp_path: Path) -> None:
    release = publish_release(make_bank(), version="2026.11.0", root=tmp_path / "releases")
    package = export_qti(release, tmp_path / "pkg")
    manifest = SafeET.parse(package / "imsmanifest.xml").getroot()
    assert manifest.tag == f"{{{CP_NS}}}manifest"
    resources = manifest.findall(f".//{{{CP_NS}}}resource")
    assert sorted(r.get("identifier") for r in resources) == sorted(base_items())
    assert {r.get("type") for r in resources} == {"imsqti_item_xmlv3p0"}
    for res in resources:
        for f in res.findall(f"{{{CP_NS}}}file"):
            assert (package / f.get("href")).is_file()

    def item(item_id: str) -> Any:
        root = SafeET.parse(package / "items" / f"{item_id}.xml").getroot()
        assert root.tag == f"{{{QTI_NS}}}qti-assessment-item"
        assert root.get("identifier") == item_id
        return root

    q = f"{{{QTI_NS}}}"
    co = item("CO-001")
    assert co.find(f"{q}qti-response-declaration/{q}qti-correct-response/{q}qti-value").text == "a"
    choices = co.findall(f".//{q}qti-simple-choice")
    assert [c.get("identifier") for c in choices] == ["a", "b", "c"]
    assert choices[0].find(f"{q}img").get("alt") == "la pharmacie"
    ce = item("CE-002")
    entries = ce.findall(f".//{q}qti-map-entry")
    assert [e.get("map-key") for e in entries] == ["vendredi", "samedi"]
    assert ce.find(f".//{q}qti-text-entry-interaction") is not None
    ee = item("EE-001")
    assert ee.find(f".//{q}qti-extended-text-interaction") is not None
    rubric = ee.find(f".//{q}qti-rubric-block")
    assert rubric.get("view") == "scorer"  # the rubric is for scorers, never for candidates
    form = item("EE-002")
    assert len(form.findall(f".//{q}qti-text-entry-interaction")) == 2
    assert item("EO-001").find(f".//{q}qti-upload-interaction").get("type") == "audio/ogg"


FOREIGN_ITEM = """<?xml version="1.0" encoding="UTF-8"?>
<qti-assessment-item xmlns="http://www.imsglobal.org/xsd/imsqtiasi_v3p0" identifier="tao-1234"
    title="Horaires" adaptive="false" time-dependent="false">
  <qti-response-declaration identifier="RESPONSE" cardinality="single" base-type="identifier">
    <qti-correct-response><qti-value>choice_2</qti-value></qti-correct-response>
  </qti-response-declaration>
  <qti-item-body>
    <p>La poste ferme à 18 heures.</p>
    <qti-choice-interaction response-identifier="RESPONSE" max-choices="1">
      <qti-prompt>À quelle heure ferme la poste ?</qti-prompt>
      <qti-simple-choice identifier="choice_1">À 8 heures</qti-simple-choice>
      <qti-simple-choice identifier="choice_2">À 18 heures</qti-simple-choice>
    </qti-choice-interaction>
  </qti-item-body>
</qti-assessment-item>
"""
FOREIGN_MANIFEST = """<?xml version="1.0" encoding="UTF-8"?>
<manifest xmlns="http://www.imsglobal.org/xsd/qti/qtiv3p0/imscp_v1p1" identifier="m">
  <resources>
    <resource identifier="tao-1234" type="imsqti_item_xmlv3p0" href="tao-1234.xml">
      <file href="tao-1234.xml"/>
    </resource>
  </resources>
</manifest>
"""


def test_import_of_a_foreign_item_makes_a_draft_to_review(tmp_path: Path) -> None:
    pkg = tmp_path / "foreign"
    pkg.mkdir()
    (pkg / "imsmanifest.xml").write_text(FOREIGN_MANIFEST)
    (pkg / "tao-1234.xml").write_text(FOREIGN_ITEM)
    result = import_qti(pkg, tmp_path / "out", today="2026-11-23")
    assert list(result.written) == ["CE-9001"]
    data = yaml.safe_load(result.written["CE-9001"].read_text())
    assert data["status"] == "draft"
    assert data["type"] == "read_choose"
    assert data["instruction"]["text"] == "À quelle heure ferme la poste ?"
    assert data["choices"] == [
        {"id": "choice_1", "text": "À 8 heures"},
        {"id": "choice_2", "text": "À 18 heures"},
    ]
    assert data["key"] == "choice_2"
    assert "importé de QTI (tao-1234)" in data["history"][0]["change"]


def test_import_refuses_an_unsafe_zip(tmp_path: Path) -> None:
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(bad, "w") as zf:
        zf.writestr("imsmanifest.xml", FOREIGN_MANIFEST)
        zf.writestr("../evil.xml", FOREIGN_ITEM)
    with pytest.raises(QtiError, match=r"unsafe path '\.\./evil\.xml'"):
        import_qti(bad, tmp_path / "out")
    assert not (tmp_path / "evil.xml").exists()


def test_export_refuses_a_non_empty_target(make_bank: MakeBank, tmp_path: Path) -> None:
    target = tmp_path / "pkg"
    target.mkdir()
    (target / "keep.txt").write_text("x")
    with pytest.raises(QtiError, match="already exists and is not empty"):
        export_qti(load_bank(make_bank()), target)


def test_cli_export_and_import(
    make_bank: MakeBank, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bank = make_bank()
    assert main(["export-qti", str(tmp_path / "pkg.zip"), "--bank", str(bank)]) == 0
    assert "7 items written" in capsys.readouterr().out
    assert main(["import-qti", str(tmp_path / "pkg.zip"), str(tmp_path / "back")]) == 0
    out = capsys.readouterr()
    assert "4 imported, 3 skipped" in out.out
    assert "skipped EE-001:" in out.err


def test_media_of_raw_data_are_those_of_the_built_item() -> None:
    """The import lists an item's media from its data, the bank from the built item: the same."""
    for data in base_items().values():
        assert list(data_media(data)) == [rel for _, rel in item_media(item_from_data(data))]
