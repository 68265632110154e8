"""QTI 3.0 import on foreign packages of the shapes of 1EdTech's public examples (choice with
one or several keys, text entry, extended text, shared stimulus, several interactions,
feedback), written by the tests: every item is imported whole or refused with the reason,
feedback never reaches the candidate, and unsafe packages are refused before anything is
written."""

from __future__ import annotations

import base64
import re
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Any

import pytest
import yaml

from itembank import QtiError, load_bank
from itembank.cli import main
from itembank.qti import QTI_NS, export_qti, import_qti
from itembank.sources import item_from_data
from tests.itembank.conftest import MakeBank

RP = "https://purl.imsglobal.org/spec/qti/v3p0/rptemplates"


def _png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A real PNG picture of one colour."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    rows = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def _item(identifier: str, declarations: str, body: str, after: str = "") -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<qti-assessment-item xmlns="{QTI_NS}" identifier="{identifier}" title="{identifier}"
    adaptive="false" time-dependent="false" xml:lang="fr">
{declarations}
  <qti-outcome-declaration identifier="SCORE" cardinality="single" base-type="float"/>
  <qti-outcome-declaration identifier="FEEDBACK" cardinality="single" base-type="identifier"/>
  <qti-item-body>
{body}
  </qti-item-body>
{after}
</qti-assessment-item>
"""


def _choice_decl(*keys: str, cardinality: str = "single", rid: str = "RESPONSE") -> str:
    values = "".join(f"<qti-value>{k}</qti-value>" for k in keys)
    return (
        f'<qti-response-declaration identifier="{rid}" cardinality="{cardinality}" '
        f'base-type="identifier"><qti-correct-response>{values}</qti-correct-response>'
        "</qti-response-declaration>"
    )


def _package(root: Path, files: dict[str, str | bytes], items: list[str] | None = None) -> Path:
    """A folder package: ``files`` by path, and a manifest listing ``items`` (or every
    ``items/*.xml`` file)."""
    root.mkdir(parents=True)
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    hrefs = items if items is not None else sorted(f for f in files if f.startswith("items/"))
    resources = "".join(
        f'<resource identifier="{Path(h).stem}" type="imsqti_item_xmlv3p0" href="{h}">'
        f'<file href="{h}"/></resource>'
        for h in hrefs
    )
    (root / "imsmanifest.xml").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<manifest xmlns="http://www.imsglobal.org/xsd/qti/qtiv3p0/imscp_v1p1" identifier="m">'
        f"<resources>{resources}</resources></manifest>\n",
        encoding="utf-8",
    )
    return root


def _zip(folder: Path, target: Path) -> Path:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                zf.write(path, path.relative_to(folder).as_posix())
    return target


def _yaml(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


SIGN = _item(
    "choice-sign",
    _choice_decl("ChoiceB"),
    """    <p>Regardez le panneau à l'entrée de la <em>mairie</em>.</p>
    <p><img src="../images/panneau.png" alt="Fermé le lundi"/></p>
    <qti-rubric-block use="scoring" view="scorer"><qti-content-body>
      <p>SECRET-RUBRIC : la bonne réponse est B.</p></qti-content-body></qti-rubric-block>
    <qti-choice-interaction response-identifier="RESPONSE" max-choices="1" shuffle="true">
      <qti-prompt>Quand la mairie est-elle fermée ?</qti-prompt>
      <qti-simple-choice identifier="ChoiceA">Le dimanche<qti-feedback-inline
          outcome-identifier="FEEDBACK" identifier="ChoiceA" show-hide="show">SECRET-INLINE
          non, c'est le lundi</qti-feedback-inline></qti-simple-choice>
      <qti-simple-choice identifier="ChoiceB">Le lundi</qti-simple-choice>
      <qti-simple-choice identifier="ChoiceC">Le mardi</qti-simple-choice>
    </qti-choice-interaction>
    <qti-feedback-block outcome-identifier="FEEDBACK" identifier="ChoiceB" show-hide="show">
      <qti-content-body><p>SECRET-BLOCK : oui, le lundi.</p></qti-content-body>
    </qti-feedback-block>""",
    f"""  <qti-response-processing template="{RP}/match_correct.xml"/>
  <qti-modal-feedback outcome-identifier="FEEDBACK" identifier="ChoiceB" show-hide="show">
    <qti-content-body><p>SECRET-MODAL : la réponse est le lundi.</p></qti-content-body>
  </qti-modal-feedback>""",
)


def test_choice_keeps_the_text_outside_the_prompt_and_the_picture_never_the_feedback(
    tmp_path: Path,
) -> None:
    png = _png(3, 2, (200, 30, 30))
    pkg = _package(tmp_path / "pkg", {"items/sign.xml": SIGN, "images/panneau.png": png})
    out = tmp_path / "out"
    result = import_qti(pkg, out, today="2026-12-07")
    assert result.skipped == {}
    assert list(result.written) == ["CE-9001"]
    text = result.written["CE-9001"].read_text(encoding="utf-8")
    assert "SECRET" not in text  # feedback and the scorers' rubric never reach the item
    data = _yaml(result.written["CE-9001"])
    assert data["type"] == "read_choose"
    assert data["instruction"]["text"] == "Quand la mairie est-elle fermée ?"
    assert data["stem"]["text"] == "Regardez le panneau à l'entrée de la mairie."
    assert [c["text"] for c in data["choices"]] == ["Le dimanche", "Le lundi", "Le mardi"]
    assert data["key"] == data["choices"][1]["id"]
    # the PNG is wrapped, pixels unchanged, in an SVG the bank takes
    svg = (out / data["stem"]["image"]).read_text()
    assert data["stem"]["image"] == "images/panneau.svg"
    assert 'viewBox="0 0 3 2"' in svg
    embedded = re.search(r"data:image/png;base64,([A-Za-z0-9+/=]+)", svg)
    assert embedded is not None
    assert base64.b64decode(embedded.group(1)) == png
    public = item_from_data(data).public_view()
    assert "SECRET" not in repr(public)
    assert "key" not in public


def test_multiple_response_is_refused_not_cut_and_nothing_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    item = _item(
        "choice-multiple",
        _choice_decl("ChoiceA", "ChoiceC", cardinality="multiple"),
        """    <p>Quels jours la piscine est-elle ouverte ?</p>
    <qti-choice-interaction response-identifier="RESPONSE" max-choices="0">
      <qti-simple-choice identifier="ChoiceA">Lundi</qti-simple-choice>
      <qti-simple-choice identifier="ChoiceB">Mardi</qti-simple-choice>
      <qti-simple-choice identifier="ChoiceC">Jeudi</qti-simple-choice>
    </qti-choice-interaction>""",
    )
    pkg = _package(tmp_path / "pkg", {"items/multi.xml": item})
    result = import_qti(pkg, tmp_path / "out")
    assert result.written == {}
    assert "multiple response" in result.skipped["multi"]
    assert "keys ChoiceA, ChoiceC" in result.skipped["multi"]
    assert main(["import-qti", str(pkg), str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert "skipped multi: multiple response" in err
    assert "nothing imported" in err
    assert not (tmp_path / "out").exists()


def _text_entry(mapping: str) -> str:
    return _item(
        "text-entry",
        f"""<qti-response-declaration identifier="RESPONSE" cardinality="single"
      base-type="string"><qti-correct-response><qti-value>lundi</qti-value>
      </qti-correct-response><qti-mapping default-value="0">{mapping}</qti-mapping>
    </qti-response-declaration>""",
        """    <p>Lisez le message de Paul.</p>
    <blockquote><p>Le magasin ouvre le
      <qti-text-entry-interaction response-identifier="RESPONSE" expected-length="10"/>
      matin.</p></blockquote>""",
        f'  <qti-response-processing template="{RP}/map_response.xml"/>',
    )


def test_text_entry_keeps_its_text_with_the_gap_and_every_accepted_answer(
    tmp_path: Path,
) -> None:
    mapping = (
        '<qti-map-entry map-key="lundi" mapped-value="1" case-sensitive="true"/>'
        '<qti-map-entry map-key="le lundi" mapped-value="1" case-sensitive="false"/>'
        '<qti-map-entry map-key="mardi" mapped-value="0" case-sensitive="false"/>'
    )
    pkg = _package(tmp_path / "pkg", {"items/gap.xml": _text_entry(mapping)})
    result = import_qti(pkg, tmp_path / "out")
    data = _yaml(result.written["CE-9001"])
    assert data["type"] == "gap_fill"
    assert data["stem"]["text"] == "Lisez le message de Paul.\nLe magasin ouvre le ____ matin."
    assert data["accepted"] == ["lundi", "le lundi"]
    # the engine folds case and accents: the reviewer is told QTI did not
    assert "casse exigée en QTI" in data["history"][0]["change"]


def test_partial_credit_and_productions_are_refused_with_the_reason(tmp_path: Path) -> None:
    partial = _text_entry(
        '<qti-map-entry map-key="lundi" mapped-value="1"/>'
        '<qti-map-entry map-key="lundy" mapped-value="0.5"/>'
    )
    extended = _item(
        "extended-text",
        '<qti-response-declaration identifier="RESPONSE" cardinality="single" base-type="string"/>',
        """    <p>Écrivez un message à votre voisin.</p>
    <qti-extended-text-interaction response-identifier="RESPONSE" expected-lines="5"/>""",
    )
    weighted = SIGN.replace(
        "</qti-correct-response>",
        '</qti-correct-response><qti-mapping default-value="0">'
        '<qti-map-entry map-key="ChoiceB" mapped-value="1"/>'
        '<qti-map-entry map-key="ChoiceC" mapped-value="0.5"/></qti-mapping>',
    )
    pkg = _package(
        tmp_path / "pkg",
        {
            "items/partial.xml": partial,
            "items/essay.xml": extended,
            "items/weighted.xml": weighted,
            "images/panneau.png": _png(1, 1, (0, 0, 0)),
        },
    )
    result = import_qti(pkg, tmp_path / "out")
    assert result.written == {}
    assert "partial credit (the mapping also credits ChoiceC)" in result.skipped["weighted"]
    assert "partial credit (mapped values 0.5, 1)" in result.skipped["partial"]
    assert result.skipped["essay"].startswith("qti-extended-text-interaction: the engine scores")


def test_shared_stimulus_text_and_picture_are_kept(tmp_path: Path) -> None:
    stimulus = f"""<?xml version="1.0" encoding="UTF-8"?>
<qti-assessment-stimulus xmlns="{QTI_NS}" identifier="affiche" title="Affiche" xml:lang="fr">
  <qti-stimulus-body>
    <h2>Fête du quartier</h2>
    <p>Samedi 12 juin, place de la République, de 14 h à 20 h.</p>
    <ul><li>musique</li><li>repas partagé</li></ul>
    <p><img src="../images/affiche.png" alt="affiche"/></p>
  </qti-stimulus-body>
</qti-assessment-stimulus>
"""
    item = _item(
        "stimulus-item",
        _choice_decl("B"),
        """    <qti-choice-interaction response-identifier="RESPONSE" max-choices="1">
      <qti-prompt>Où a lieu la fête ?</qti-prompt>
      <qti-simple-choice identifier="A">À la mairie</qti-simple-choice>
      <qti-simple-choice identifier="B">Place de la République</qti-simple-choice>
    </qti-choice-interaction>""",
    ).replace(
        "  <qti-item-body>",
        '  <qti-assessment-stimulus-ref identifier="affiche" href="../stimuli/affiche.xml"/>\n'
        "  <qti-item-body>",
    )
    pkg = _package(
        tmp_path / "pkg",
        {
            "items/fete.xml": item,
            "stimuli/affiche.xml": stimulus,
            "images/affiche.png": _png(4, 4, (0, 90, 200)),
        },
    )
    result = import_qti(pkg, tmp_path / "out")
    data = _yaml(result.written["CE-9001"])
    assert data["stem"]["text"] == (
        "Fête du quartier\nSamedi 12 juin, place de la République, de 14 h à 20 h.\n"
        "- musique\n- repas partagé"
    )
    assert data["stem"]["image"] == "images/affiche.svg"
    assert data["instruction"]["text"] == "Où a lieu la fête ?"


def test_several_choice_questions_become_items_several_gaps_are_refused(
    tmp_path: Path,
) -> None:
    two = _item(
        "two-questions",
        _choice_decl("A", rid="R1") + _choice_decl("D", rid="R2"),
        """    <p>Marie habite à Lyon. Elle travaille dans une boulangerie.</p>
    <qti-choice-interaction response-identifier="R1" max-choices="1">
      <qti-prompt>Où habite Marie ?</qti-prompt>
      <qti-simple-choice identifier="A">À Lyon</qti-simple-choice>
      <qti-simple-choice identifier="B">À Paris</qti-simple-choice>
    </qti-choice-interaction>
    <qti-choice-interaction response-identifier="R2" max-choices="1">
      <qti-prompt>Où travaille-t-elle ?</qti-prompt>
      <qti-simple-choice identifier="C">Dans une école</qti-simple-choice>
      <qti-simple-choice identifier="D">Dans une boulangerie</qti-simple-choice>
    </qti-choice-interaction>""",
    )
    cloze = _item(
        "cloze",
        '<qti-response-declaration identifier="G1" cardinality="single" base-type="string">'
        "<qti-correct-response><qti-value>suis</qti-value></qti-correct-response>"
        "</qti-response-declaration>"
        '<qti-response-declaration identifier="G2" cardinality="single" base-type="string">'
        "<qti-correct-response><qti-value>habite</qti-value></qti-correct-response>"
        "</qti-response-declaration>",
        """    <p>Je <qti-text-entry-interaction response-identifier="G1"/> Marie et
      j'<qti-text-entry-interaction response-identifier="G2"/> à Lyon.</p>""",
    )
    pkg = _package(tmp_path / "pkg", {"items/two.xml": two, "items/cloze.xml": cloze})
    result = import_qti(pkg, tmp_path / "out")
    assert sorted(result.written) == ["CE-9001", "CE-9002"]
    first, second = (_yaml(result.written[i]) for i in ("CE-9001", "CE-9002"))
    for data in (first, second):
        assert data["stem"]["text"] == "Marie habite à Lyon. Elle travaille dans une boulangerie."
    assert first["instruction"]["text"] == "Où habite Marie ?"
    assert [c["text"] for c in first["choices"]] == ["À Lyon", "À Paris"]
    assert first["key"] == "a"
    assert second["instruction"]["text"] == "Où travaille-t-elle ?"
    assert second["key"] == "d"
    assert "question 2 sur 2" in second["history"][0]["change"]
    assert "2 gap(s) among 2 interactions" in result.skipped["cloze"]


def test_a_second_package_into_the_same_folder_gets_new_ids_and_keeps_both_pictures(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    red, blue = _png(2, 2, (255, 0, 0)), _png(2, 2, (0, 0, 255))
    first = _package(tmp_path / "a", {"items/sign.xml": SIGN, "images/panneau.png": red})
    second = _package(
        tmp_path / "b",
        {"items/sign.xml": SIGN.replace("choice-sign", "other-sign"), "images/panneau.png": blue},
    )
    a = import_qti(first, out)
    b = import_qti(second, out)
    assert list(a.written) == ["CE-9001"]
    assert list(b.written) == ["CE-9002"]
    image_a = _yaml(a.written["CE-9001"])["stem"]["image"]
    image_b = _yaml(b.written["CE-9002"])["stem"]["image"]
    assert image_a == "images/panneau.svg"
    assert image_b != image_a
    assert (out / image_a).read_text() != (out / image_b).read_text()
    # the same package again: refused, never a duplicate
    again = import_qti(first, out)
    assert again.written == {}
    assert again.skipped["sign"] == "already imported as CE-9001"


def test_our_own_ids_are_kept_and_never_overwritten(make_bank: MakeBank, tmp_path: Path) -> None:
    package = export_qti(load_bank(make_bank()), tmp_path / "pkg")
    out = tmp_path / "out"
    assert "CE-001" in import_qti(package, out).written
    before = (out / "CE" / "CE-001.yaml").read_bytes()
    again = import_qti(package, out)
    assert again.written == {}
    assert again.skipped["CE-001"] == "already imported as CE-001"
    assert (out / "CE" / "CE-001.yaml").read_bytes() == before


def test_a_symbolic_link_in_a_folder_package_refuses_it_whole(tmp_path: Path) -> None:
    pkg = _package(
        tmp_path / "pkg", {"items/sign.xml": SIGN, "images/other.png": _png(1, 1, (0, 0, 0))}
    )
    (pkg / "images" / "panneau.png").symlink_to("/etc/passwd")
    with pytest.raises(QtiError, match=r"symbolic link images/panneau\.png in the package"):
        import_qti(pkg, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_hrefs_outside_the_package_refuse_their_item(tmp_path: Path) -> None:
    (tmp_path / "outside.xml").write_text(SIGN)
    peek = SIGN.replace("../images/panneau.png", "../../../../../../etc/hosts.png")
    absolute = SIGN.replace("../images/panneau.png", "file:///etc/passwd")
    pkg = _package(
        tmp_path / "pkg",
        {"items/peek.xml": peek, "items/abs.xml": absolute},
        items=["../outside.xml", "items/peek.xml", "items/abs.xml"],
    )
    result = import_qti(pkg, tmp_path / "out")
    assert result.written == {}
    assert result.skipped["outside"] == "'../outside.xml' leaves the package"
    assert "leaves the package" in result.skipped["peek"]
    assert "'file:///etc/passwd' is not a path inside the package" in result.skipped["abs"]


def test_archive_limits_refuse_a_zip_bomb_before_it_is_extracted(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("imsmanifest.xml", "<manifest/>")
        zf.writestr("zeros.bin", bytes(101 * 2**20))  # 101 MB of zeros, ~100 kB zipped
    assert bomb.stat().st_size < 2**20
    with pytest.raises(QtiError, match=r"101 MB once extracted \(at most 100 MB\)"):
        import_qti(bomb, tmp_path / "out")
    many = tmp_path / "many.zip"
    with zipfile.ZipFile(many, "w") as zf:
        for i in range(6):
            zf.writestr(f"f{i}.txt", "x")
    with pytest.raises(QtiError, match=r"6 files in the archive \(at most 5\)"):
        import_qti(many, tmp_path / "out", max_files=5)
    assert not (tmp_path / "out").exists()


VIEWS = {"author", "candidate", "proctor", "scorer", "testConstructor", "tutor"}
XXE = """<?xml version="1.0"?>
<!DOCTYPE m [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<manifest xmlns="http://www.imsglobal.org/xsd/qti/qtiv3p0/imscp_v1p1">&secret;</manifest>
"""


def test_xxe_is_a_one_line_error_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pkg = _package(
        tmp_path / "pkg",
        {
            "items/sign.xml": SIGN.replace(
                '<?xml version="1.0" encoding="UTF-8"?>',
                '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>',
            ),
            "images/panneau.png": _png(1, 1, (0, 0, 0)),
        },
    )
    result = import_qti(pkg, tmp_path / "out")
    assert "refused XML: a DTD or entity declaration" in result.skipped["sign"]
    (pkg / "imsmanifest.xml").write_text(XXE)
    assert main(["import-qti", str(_zip(pkg, tmp_path / "xxe.zip")), str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "itembank: imsmanifest.xml: refused XML: a DTD or entity declaration (DTDForbidden)"
    ]
    assert not (tmp_path / "out").exists()


def test_export_rubric_blocks_have_the_attributes_the_qti_3_0_1_schema_requires(
    make_bank: MakeBank, tmp_path: Path
) -> None:
    """Structural check of what the QTI 3.0.1 XSD requires of these elements (no package on
    PyPI ships the XSD, so it cannot be validated against here): ``qti-rubric-block`` needs
    ``use`` and ``view`` and one ``qti-content-body``; ``qti-assessment-item`` needs
    ``identifier``, ``title`` and ``time-dependent``."""
    from defusedxml import ElementTree as SafeET

    package = export_qti(load_bank(make_bank()), tmp_path / "pkg")
    q = f"{{{QTI_NS}}}"
    blocks = 0
    for path in sorted((package / "items").glob("*.xml")):
        root = SafeET.parse(path).getroot()
        assert all(root.get(a) for a in ("identifier", "title", "time-dependent")), path
        for block in root.iter(f"{q}qti-rubric-block"):
            blocks += 1
            assert block.get("use") in ("instructions", "scoring", "navigation"), path
            assert block.get("view"), path
            assert set(block.get("view", "").split()) <= VIEWS, path
            assert [c.tag for c in block] == [f"{q}qti-content-body"], path
    assert blocks >= 3  # the bank has rubrics and a listening transcript


def test_an_item_listed_twice_in_a_manifest_is_imported_once(tmp_path: Path) -> None:
    pkg = _package(
        tmp_path / "pkg",
        {"items/sign.xml": SIGN, "images/panneau.png": _png(1, 1, (9, 9, 9))},
        items=["items/sign.xml", "./items/sign.xml"],
    )
    result = import_qti(pkg, tmp_path / "out")
    assert list(result.written) == ["CE-9001"]
    assert result.skipped == {"sign": "already imported as CE-9001"}


def test_a_question_only_in_its_prompt_is_the_text_to_read(tmp_path: Path) -> None:
    item = _item(
        "prompt-only",
        _choice_decl("B"),
        """    <qti-choice-interaction response-identifier="RESPONSE" max-choices="1">
      <qti-prompt>Quelle est la capitale de la France ?</qti-prompt>
      <qti-simple-choice identifier="A">Lyon</qti-simple-choice>
      <qti-simple-choice identifier="B">Paris</qti-simple-choice>
    </qti-choice-interaction>""",
    )
    result = import_qti(_package(tmp_path / "pkg", {"items/q.xml": item}), tmp_path / "out")
    data = _yaml(result.written["CE-9001"])
    assert data["stem"] == {"text": "Quelle est la capitale de la France ?"}
    assert data["instruction"]["text"] == "Lisez et choisissez la bonne réponse."


def test_percent_encoded_hrefs_are_paths_of_the_package(tmp_path: Path) -> None:
    item = SIGN.replace("../images/panneau.png", "../images/panneau%20ferm%C3%A9.png")
    pkg = _package(
        tmp_path / "pkg",
        {"items/Item 1.xml": item, "images/panneau fermé.png": _png(2, 2, (1, 2, 3))},
        items=["items/Item%201.xml"],
    )
    result = import_qti(pkg, tmp_path / "out")
    data = _yaml(result.written["CE-9001"])
    assert data["stem"]["image"] == "images/panneau-ferme.svg"
