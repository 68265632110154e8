"""QTI 3.0 (1EdTech) export of the bank, and import of QTI choice and text-entry items.

Export writes a content package (a folder, or a ``.zip`` when the target ends with ``.zip``)::

    imsmanifest.xml                 one <resource type="imsqti_item_xmlv3p0"> per item, its files
    items/<id>.xml                  one qti-assessment-item per item
    <media paths>                   media/pictures/bus.svg, CO/CO-001.ogg, ... (the bank's paths)

How our items map to QTI 3.0:

- choice items: ``qti-choice-interaction`` (single cardinality, ``identifier`` response, the key
  as ``qti-correct-response``, the ``match_correct`` response-processing template); each choice
  a ``qti-simple-choice`` with its text, its picture (``img``, the label as ``alt``) and its
  spoken version (``audio``);
- gap fill: the stem's text, then a ``qti-text-entry-interaction`` (``string`` response, the
  first accepted answer as correct response, every accepted answer in a ``qti-mapping``, the
  ``map_response`` template);
- write a message: ``qti-extended-text-interaction``; form fill: one text entry per field;
  speaking items: ``qti-upload-interaction`` for an audio recording; the rubric of all three as a
  ``qti-rubric-block view="scorer"`` (scorers only, never the candidate);
- the instruction (text and spoken ``audio``) as ``<div class="instruction">``, the stem as
  ``<div class="stem">`` (text one ``<p>`` per line, ``img``, ``audio``), the listening
  transcript as ``qti-rubric-block view="scorer" class="transcript"``;
- what QTI has no place for (skill, theme, target level, type, status, topic, non-reader,
  typo tolerance, time limit, author, enemies) as LOM keywords ``placement:<field>=<value>`` in the
  manifest's metadata for the item.

Import reads choice and text-entry items (ours or another platform's) back into our YAML and
copies their media; other interactions are skipped with the reason. A foreign item gets the
fields QTI does not carry from defaults (status ``draft``, so ``itembank validate`` and a person
review it before use), and its spoken instruction must then be generated.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import tempfile
import unicodedata
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Protocol

# the standard library only builds and writes XML here; parsing goes through defusedxml
from xml.etree import ElementTree as ET

import yaml
from defusedxml import ElementTree as SafeET  # type: ignore[import-untyped]  # no stubs

from itembank.errors import QtiError
from itembank.model import CHOICE_TYPES, FORM_TYPES, SPEAKING_TYPES, TEXT_TYPES, Item
from itembank.sources import data_media, item_media

QTI_NS = "http://www.imsglobal.org/xsd/imsqtiasi_v3p0"
CP_NS = "http://www.imsglobal.org/xsd/qti/qtiv3p0/imscp_v1p1"
LOM_NS = "http://ltsc.ieee.org/xsd/LOM"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
XML_NS = "http://www.w3.org/XML/1998/namespace"
ITEM_RESOURCE = "imsqti_item_xmlv3p0"
RP_TEMPLATES = "https://purl.imsglobal.org/spec/qti/v3p0/rptemplates"
KEYWORD_PREFIX = "placement:"
GAP = re.compile(r"_{3,}")
MIME = {".ogg": "audio/ogg", ".opus": "audio/ogg", ".svg": "image/svg+xml"}

ET.register_namespace("", QTI_NS)
ET.register_namespace("xsi", XSI_NS)
ET.register_namespace("imsmd", LOM_NS)


class MediaSource(Protocol):
    """A bank or a release: items by id and where each medium's file is."""

    @property
    def items(self) -> Mapping[str, Item]: ...

    def media_path(self, rel: str) -> Path: ...


def _q(tag: str, ns: str = QTI_NS) -> str:
    return f"{{{ns}}}{tag}"


def _sub(parent: ET.Element, tag: str, ns: str = QTI_NS, **attrs: str) -> ET.Element:
    return ET.SubElement(parent, _q(tag, ns), {k.replace("_", "-"): v for k, v in attrs.items()})


def _text_el(parent: ET.Element, tag: str, text: str, **attrs: str) -> ET.Element:
    el = _sub(parent, tag, **attrs)
    el.text = text
    return el


def _href(rel: str) -> str:
    """A media path as seen from ``items/<id>.xml``."""
    return f"../{rel}"


def _audio(parent: ET.Element, rel: str) -> None:
    audio = _sub(parent, "audio", controls="controls")
    _sub(audio, "source", src=_href(rel), type=MIME.get(PurePosixPath(rel).suffix, "audio/ogg"))


def _paragraphs(parent: ET.Element, text: str) -> None:
    for line in text.split("\n"):
        _text_el(parent, "p", line)


def _keywords(item: Item) -> dict[str, str]:
    values: dict[str, Any] = {
        "skill": item.skill,
        "type": item.type,
        "theme": item.theme,
        "target_level": item.target_level,
        "status": item.status,
        "topic": item.topic,
        "non_reader": "true" if item.non_reader else "false",
        "author": item.author or None,
        "typo_tolerance": item.typo_tolerance,
        "time_limit_s": item.time_limit_s,
        "enemies": ",".join(item.enemies) or None,
    }
    return {k: str(v) for k, v in values.items() if v is not None}


def _rubric_block(body: ET.Element, item: Item) -> None:
    rubric = item.rubric
    if rubric is None:
        return
    block = _sub(body, "qti-rubric-block", view="scorer", **{"class": "rubric"})
    content = _sub(block, "qti-content-body")
    _text_el(content, "p", f"Score de 0 à {rubric.max_score}.")
    levels = _sub(content, "ul", **{"class": "levels"})
    for lv in rubric.levels:
        _text_el(levels, "li", f"{lv.score} : {lv.descriptor}")
    elements = _sub(content, "ul")
    for e in rubric.elements:
        found = ", ".join(e.variants) or (f"champ {e.field}" if e.field else ", ".join(e.patterns))
        _text_el(elements, "li", f"{e.label} : {found}")


def item_to_qti(item: Item) -> ET.Element:
    """The ``qti-assessment-item`` element of an item."""
    root = ET.Element(
        _q("qti-assessment-item"),
        {
            "identifier": item.id,
            "title": f"{item.id} {item.instruction.text[:80]}",
            "adaptive": "false",
            "time-dependent": "false",
            _q("lang", XML_NS): "fr",
            _q("schemaLocation", XSI_NS): (
                f"{QTI_NS} https://purl.imsglobal.org/spec/qti/v3p0/schema/xsd/imsqti_asiv3p0_v1p0.xsd"
            ),
        },
    )
    template = None
    if item.type in CHOICE_TYPES:
        decl = _sub(
            root,
            "qti-response-declaration",
            identifier="RESPONSE",
            cardinality="single",
            base_type="identifier",
        )
        if item.key is not None:
            _text_el(_sub(decl, "qti-correct-response"), "qti-value", item.key)
        template = "match_correct"
    elif item.type in TEXT_TYPES:
        decl = _sub(
            root,
            "qti-response-declaration",
            identifier="RESPONSE",
            cardinality="single",
            base_type="string",
        )
        _text_el(_sub(decl, "qti-correct-response"), "qti-value", item.accepted[0])
        mapping = _sub(decl, "qti-mapping", default_value="0")
        for answer in item.accepted:
            _sub(mapping, "qti-map-entry", map_key=answer, mapped_value="1", case_sensitive="false")
        template = "map_response"
    elif item.type in FORM_TYPES:
        for f in item.form:
            _sub(
                root,
                "qti-response-declaration",
                identifier=f"RESPONSE_{f.id}",
                cardinality="single",
                base_type="string",
            )
    elif item.type in SPEAKING_TYPES:
        _sub(
            root,
            "qti-response-declaration",
            identifier="RESPONSE",
            cardinality="single",
            base_type="file",
        )
    else:
        _sub(
            root,
            "qti-response-declaration",
            identifier="RESPONSE",
            cardinality="single",
            base_type="string",
        )
    _sub(
        root, "qti-outcome-declaration", identifier="SCORE", cardinality="single", base_type="float"
    )

    body = _sub(root, "qti-item-body")
    instruction = _sub(body, "div", **{"class": "instruction"})
    _paragraphs(instruction, item.instruction.text)
    _audio(instruction, item.instruction.audio)
    stem = item.stem
    if stem is not None and (stem.text or stem.image or stem.audio):
        div = _sub(body, "div", **{"class": "stem"})
        if stem.text:
            _paragraphs(div, stem.text)
        if stem.image:
            _sub(div, "img", src=_href(stem.image), alt="")
        if stem.audio:
            _audio(div, stem.audio)

    if item.type in CHOICE_TYPES:
        interaction = _sub(
            body,
            "qti-choice-interaction",
            response_identifier="RESPONSE",
            max_choices="1",
            min_choices="1",
            shuffle="false",
        )
        for c in item.choices:
            choice = _sub(interaction, "qti-simple-choice", identifier=c.id)
            if c.image:
                _sub(choice, "img", src=_href(c.image), alt=c.label or "")
            if c.text:
                _text_el(choice, "span", c.text, **{"class": "text"})
            if c.audio:
                _audio(choice, c.audio)
    elif item.type in TEXT_TYPES:
        p = _sub(body, "p", **{"class": "answer"})
        longest = max(len(a) for a in item.accepted)
        _sub(
            p,
            "qti-text-entry-interaction",
            response_identifier="RESPONSE",
            expected_length=str(max(10, longest + 5)),
        )
    elif item.type in FORM_TYPES:
        for f in item.form:
            p = _sub(body, "p", **{"class": f"field check-{f.check}"})
            label = _text_el(p, "span", f.label, **{"class": "label"})
            label.tail = " "
            _sub(
                p,
                "qti-text-entry-interaction",
                response_identifier=f"RESPONSE_{f.id}",
                expected_length="30",
            )
    elif item.type in SPEAKING_TYPES:
        _sub(body, "qti-upload-interaction", response_identifier="RESPONSE", type="audio/ogg")
    else:
        _sub(
            body,
            "qti-extended-text-interaction",
            response_identifier="RESPONSE",
            expected_lines="6",
            format="plain",
        )
    if stem is not None and stem.transcript:
        block = _sub(body, "qti-rubric-block", view="scorer", **{"class": "transcript"})
        _paragraphs(_sub(block, "qti-content-body"), stem.transcript)
    _rubric_block(body, item)
    if template is not None:
        _sub(root, "qti-response-processing", template=f"{RP_TEMPLATES}/{template}.xml")
    return root


def _manifest(items: list[Item], media: Mapping[str, list[str]]) -> ET.Element:
    ET.register_namespace("", CP_NS)
    manifest = ET.Element(_q("manifest", CP_NS), {"identifier": "placement-itembank"})
    meta = _sub(manifest, "metadata", CP_NS)
    _text_el_ns(meta, "schema", CP_NS, "QTI Package")
    _text_el_ns(meta, "schemaversion", CP_NS, "3.0.0")
    _sub(manifest, "organizations", CP_NS)
    resources = _sub(manifest, "resources", CP_NS)
    for item in items:
        href = f"items/{item.id}.xml"
        res = _sub(resources, "resource", CP_NS, identifier=item.id, type=ITEM_RESOURCE, href=href)
        lom = _sub(_sub(res, "metadata", CP_NS), "lom", LOM_NS)
        general = _sub(lom, "general", LOM_NS)
        ident = _sub(general, "identifier", LOM_NS)
        _text_el_ns(ident, "catalog", LOM_NS, "placement")
        _text_el_ns(ident, "entry", LOM_NS, item.id)
        for k, v in _keywords(item).items():
            kw = _sub(general, "keyword", LOM_NS)
            _text_el_ns(kw, "string", LOM_NS, f"{KEYWORD_PREFIX}{k}={v}", language="fr")
        _sub(res, "file", CP_NS, href=href)
        for rel in media[item.id]:
            _sub(res, "file", CP_NS, href=rel)
    return manifest


def _text_el_ns(parent: ET.Element, tag: str, ns: str, text: str, **attrs: str) -> ET.Element:
    el = _sub(parent, tag, ns, **attrs)
    el.text = text
    return el


def _write_xml(element: ET.Element, path: Path, default_ns: str) -> None:
    ET.register_namespace("", default_ns)
    ET.indent(element)
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(element).write(path, encoding="UTF-8", xml_declaration=True)


def export_qti(source: MediaSource, out: Path) -> Path:
    """Write every item of a bank or release as a QTI 3.0 content package at ``out``.

    ``out`` is a folder (created; must be empty or absent) or a ``.zip`` file. Returns ``out``.
    """
    out = Path(out)
    zipped = out.suffix == ".zip"
    if out.exists() and (zipped or any(out.iterdir())):
        raise QtiError(f"{out} already exists and is not empty")
    items = [source.items[i] for i in sorted(source.items)]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "package" if zipped else out
        folder.mkdir(parents=True, exist_ok=True)
        media: dict[str, list[str]] = {}
        for item in items:
            _write_xml(item_to_qti(item), folder / "items" / f"{item.id}.xml", QTI_NS)
            rels = sorted({rel for _, rel in item_media(item)})
            media[item.id] = rels
            for rel in rels:
                target = folder / rel
                if not target.exists():
                    target.parent.mkdir(parents=True, exist_ok=True)
                    try:
                        shutil.copyfile(source.media_path(rel), target)
                    except (OSError, KeyError) as exc:
                        raise QtiError(f"{item.id}: cannot copy media {rel}: {exc}") from exc
        _write_xml(_manifest(items, media), folder / "imsmanifest.xml", CP_NS)
        if zipped:
            out.parent.mkdir(parents=True, exist_ok=True)
            with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
                for p in sorted(folder.rglob("*")):
                    if p.is_file():
                        zf.write(p, p.relative_to(folder).as_posix())
    return out


# --------------------------------------------------------------------------------------- import


@dataclass
class ImportResult:
    """What :func:`import_qti` did: items written (id -> YAML file) and items skipped (why)."""

    written: dict[str, Path] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _children(el: Any, name: str) -> Iterator[Any]:
    return (c for c in el if _local(c.tag) == name)


def _first(el: Any, name: str) -> Any:
    return next((c for c in el.iter() if _local(c.tag) == name), None)


def _text(el: Any) -> str:
    return "".join(el.itertext())


def _lines(div: Any) -> str | None:
    paragraphs = [_text(p) for p in _children(div, "p")]
    return "\n".join(paragraphs) if paragraphs else None


def _src(el: Any, base: PurePosixPath) -> str | None:
    """The media path of an ``img`` or ``audio`` element, relative to the package root."""
    if el is None:
        return None
    src = el.get("src")
    if src is None:
        source = _first(el, "source")
        src = source.get("src") if source is not None else None
    if not src:
        return None
    parts: list[str] = []
    for part in (base / src).parts:
        if part == "..":
            if not parts:
                raise QtiError(f"media path {src!r} leaves the package")
            parts.pop()
        elif part != ".":
            parts.append(part)
    return "/".join(parts)


def _read_keywords(resource: Any) -> dict[str, str]:
    out = {}
    for el in resource.iter():
        if _local(el.tag) == "string" and (el.text or "").startswith(KEYWORD_PREFIX):
            key, _, value = el.text[len(KEYWORD_PREFIX) :].partition("=")
            out[key] = value
    return out


def _slug(text: str, limit: int = 60) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return (
        re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:limit].strip("-") or "consigne"
    )


def _package_root(pkg: Path, tmp: Path) -> Path:
    if pkg.is_dir():
        return pkg
    if zipfile.is_zipfile(pkg):
        with zipfile.ZipFile(pkg) as zf:
            for name in zf.namelist():
                if name.startswith("/") or ".." in PurePosixPath(name).parts:
                    raise QtiError(f"{pkg}: unsafe path {name!r} in the package")
            zf.extractall(tmp)  # every member path was checked above
        return tmp
    raise QtiError(f"{pkg} is neither a folder nor a zip file")


def _parse(path: Path) -> Any:
    try:
        return SafeET.parse(path).getroot()
    except (SafeET.ParseError, OSError) as exc:
        raise QtiError(f"{path}: cannot read XML: {exc}") from exc


def _item_data(
    root: Any, keywords: Mapping[str, str], base: PurePosixPath, fallback_id: str, today: str
) -> dict[str, Any]:
    """Our YAML data for one qti-assessment-item (choice or text entry); QtiError otherwise."""
    body = _first(root, "qti-item-body")
    if body is None:
        raise QtiError("no qti-item-body")
    choice = _first(body, "qti-choice-interaction")
    entries = [e for e in body.iter() if _local(e.tag) == "qti-text-entry-interaction"]
    if choice is None and len(entries) != 1:
        other = sorted(
            {_local(e.tag) for e in body.iter() if _local(e.tag).endswith("-interaction")}
        )
        raise QtiError(f"only choice and single text-entry items are imported (found {other})")
    responses = {
        d.get("identifier"): d for d in root if _local(d.tag) == "qti-response-declaration"
    }

    instruction_div = next(
        (d for d in _children(body, "div") if "instruction" in (d.get("class") or "").split()), None
    )
    stem_div = next(
        (d for d in _children(body, "div") if "stem" in (d.get("class") or "").split()), None
    )
    prompt = _first(body, "qti-prompt")
    if instruction_div is not None:
        instruction_text = _lines(instruction_div) or ""
        instruction_audio = _src(_first(instruction_div, "audio"), base)
    else:
        instruction_text = _text(prompt).strip() if prompt is not None else ""
        instruction_audio = None
    if not instruction_text:
        instruction_text = "Répondez à la question."
    stem: dict[str, Any] = {}
    if stem_div is not None:
        stem = {
            "text": _lines(stem_div),
            "image": _src(_first(stem_div, "img"), base),
            "audio": _src(_first(stem_div, "audio"), base),
        }
    elif choice is None:
        # a foreign text-entry item: its text is the paragraphs around the gap
        paragraphs = []
        for p in _children(body, "p"):
            parts = [p.text or ""]
            for child in p:
                parts.append(
                    "____" if _local(child.tag) == "qti-text-entry-interaction" else _text(child)
                )
                parts.append(child.tail or "")
            paragraphs.append("".join(parts))
        stem = {"text": "\n".join(paragraphs)}
    transcript = next(
        (
            b
            for b in body.iter()
            if _local(b.tag) == "qti-rubric-block"
            and "transcript" in (b.get("class") or "").split()
        ),
        None,
    )
    if transcript is not None:
        content = _first(transcript, "qti-content-body")
        stem["transcript"] = _lines(content if content is not None else transcript)
    stem = {k: v for k, v in stem.items() if v is not None}

    data: dict[str, Any] = {}
    if choice is not None:
        choices = []
        for sc in _children(choice, "qti-simple-choice"):
            img = _first(sc, "img")
            span = next((c for c in sc if _local(c.tag) == "span"), None)
            text = _text(span) if span is not None else (sc.text or "").strip() or None
            entry: dict[str, Any] = {"id": sc.get("identifier")}
            if text:
                entry["text"] = text
            if img is not None:
                entry["image"] = _src(img, base)
                if img.get("alt"):
                    entry["label"] = img.get("alt")
            audio = _src(_first(sc, "audio"), base)
            if audio:
                entry["audio"] = audio
            choices.append(entry)
        decl = responses.get(choice.get("response-identifier"))
        value = _first(decl, "qti-value") if decl is not None else None
        if value is None:
            raise QtiError("the choice interaction has no correct response")
        data["choices"] = choices
        data["key"] = (value.text or "").strip()
        has_audio = "audio" in stem
        pictures = all("image" in c for c in choices)
        default_type = (
            ("listen_choose_picture" if pictures else "listen_choose_sentence")
            if has_audio
            else "read_choose"
        )
        default_skill = "CO" if has_audio else "CE"
    else:
        decl = responses.get(entries[0].get("response-identifier"))
        if decl is None:
            raise QtiError("the text entry has no response declaration")
        accepted = [e.get("map-key") for e in decl.iter() if _local(e.tag) == "qti-map-entry"]
        if not accepted:
            accepted = [v.text for v in decl.iter() if _local(v.tag) == "qti-value"]
        accepted = [a for a in dict.fromkeys(accepted) if a]
        if not accepted:
            raise QtiError("the text entry has no correct response")
        data["accepted"] = accepted
        default_type, default_skill = "gap_fill", "CE"

    skill = keywords.get("skill", default_skill)
    identifier = root.get("identifier") or ""
    item_id = identifier if re.fullmatch(rf"{skill}-\d{{3,4}}", identifier) else fallback_id
    out: dict[str, Any] = {
        "id": item_id,
        "skill": skill,
        "type": keywords.get("type", default_type),
        "theme": keywords.get("theme", "vie pratique"),
    }
    if "topic" in keywords:
        out["topic"] = keywords["topic"]
    out["target_level"] = keywords.get("target_level", "A1")
    out["status"] = keywords.get("status", "draft")
    if keywords.get("non_reader") == "true":
        out["non_reader"] = True
    out["author"] = keywords.get("author", "import QTI")
    change = f"importé de QTI ({identifier})"
    if "skill" not in keywords:
        change += ", thème, niveau et consigne à revoir"
    out["history"] = [{"date": today, "author": "import QTI", "change": change}]
    out["instruction"] = {
        "text": instruction_text,
        "audio": instruction_audio or f"media/instructions/{_slug(instruction_text)}.ogg",
    }
    if stem:
        out["stem"] = stem
    if "time_limit_s" in keywords:
        out["time_limit_s"] = int(keywords["time_limit_s"])
    if keywords.get("enemies"):
        out["enemies"] = keywords["enemies"].split(",")
    if "typo_tolerance" in keywords:
        data["typo_tolerance"] = int(keywords["typo_tolerance"])
    out.update(data)
    return out


def import_qti(pkg: Path, out_dir: Path, *, today: str | None = None) -> ImportResult:
    """Import the choice and text-entry items of a QTI 3.0 package into ``out_dir`` as our YAML
    (``<out_dir>/<skill>/<id>.yaml``, media at their package paths). Existing files are never
    overwritten: an item whose file exists is skipped.
    """
    result = ImportResult()
    out_dir = Path(out_dir)
    with tempfile.TemporaryDirectory() as tmp:
        root = _package_root(Path(pkg), Path(tmp))
        manifest_path = root / "imsmanifest.xml"
        if not manifest_path.is_file():
            raise QtiError(f"{pkg}: no imsmanifest.xml")
        manifest = _parse(manifest_path)
        resources = [
            r
            for r in manifest.iter()
            if _local(r.tag) == "resource" and (r.get("type") or "").startswith("imsqti_item")
        ]
        counters: dict[str, int] = {}
        for n, res in enumerate(resources, start=1):
            href = res.get("href") or next(
                (f.get("href") for f in res.iter() if _local(f.tag) == "file"), None
            )
            name = res.get("identifier") or href or f"resource {n}"
            if not href:
                result.skipped[name] = "the resource names no item file"
                continue
            item_xml = _parse(root / href)
            if _local(item_xml.tag) != "qti-assessment-item":
                result.skipped[name] = f"not a qti-assessment-item (<{_local(item_xml.tag)}>)"
                continue
            keywords = _read_keywords(res)
            try:
                skill_guess = keywords.get("skill", "CE")
                counters[skill_guess] = counters.get(skill_guess, 9000) + 1
                data = _item_data(
                    item_xml,
                    keywords,
                    PurePosixPath(href).parent,
                    f"{skill_guess}-{counters[skill_guess]}",
                    today or dt.datetime.now(dt.UTC).date().isoformat(),
                )
            except QtiError as exc:
                result.skipped[name] = str(exc)
                continue
            target = out_dir / data["skill"] / f"{data['id']}.yaml"
            if target.exists():
                result.skipped[name] = f"{target} already exists"
                continue
            for rel in data_media(data):
                src = root / rel
                dest = out_dir / rel
                if src.is_file() and not dest.exists():
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(src, dest)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(
                yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100),
                encoding="utf-8",
            )
            result.written[data["id"]] = target
    return result
