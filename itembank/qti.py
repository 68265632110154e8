"""QTI 3.0 (1EdTech) export of the bank, and import of the QTI items the engine can score.

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

Import (:func:`import_qti`) takes every item the engine can score, with everything the candidate
and the scorer need, or refuses it with the reason: one-key choices, single gaps, items with
several choice questions (one item each); multiple response, partial credit, productions and
other interactions are refused, feedback never reaches the stem, unsafe packages are refused
whole, and nothing is written unless the import succeeds (see its docstring). A foreign item
gets the fields QTI does not carry from defaults (status ``draft``, so ``itembank validate`` and
a person review it before use), and its spoken instruction must then be generated.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hashlib
import os
import re
import shutil
import stat
import struct
import tempfile
import unicodedata
import zipfile
import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Protocol
from urllib.parse import unquote

# the standard library only builds and writes XML here; parsing goes through defusedxml
from xml.etree import ElementTree as ET

import yaml
from defusedxml import ElementTree as SafeET  # type: ignore[import-untyped]  # no stubs

from itembank.errors import QtiError
from itembank.model import CHOICE_TYPES, FORM_TYPES, SPEAKING_TYPES, TEXT_TYPES, Item
from itembank.sources import data_media, item_media
from itembank.validation import item_data_problems

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
    block = _sub(body, "qti-rubric-block", use="scoring", view="scorer", **{"class": "rubric"})
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
        block = _sub(
            body, "qti-rubric-block", use="scoring", view="scorer", **{"class": "transcript"}
        )
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

#: A zipped package larger than this once extracted, or with more members, is refused whole
#: (a zip bomb must not fill the disk); the sizes are counted while extracting, not trusted
#: from the archive's directory.
MAX_PACKAGE_BYTES = 100 * 2**20
MAX_PACKAGE_FILES = 5_000
#: Foreign items are numbered from here, above the highest number already in the folder.
FOREIGN_ID_START = 9001
DEFAULT_INSTRUCTION = "Répondez à la question."
CHOICE_INSTRUCTION = "Lisez et choisissez la bonne réponse."

#: Elements whose content the candidate never sees in our items: feedback gives the answer
#: away, rubric blocks are for scorers (a ``candidate`` rubric block is kept, see below).
_HIDDEN = frozenset(
    {"qti-feedback-block", "qti-feedback-inline", "qti-modal-feedback", "qti-rubric-block"}
)
_BLOCKS = frozenset(
    {
        "p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol", "dl", "dt", "dd",
        "blockquote", "pre", "section", "article", "header", "footer", "aside", "nav", "figure",
        "figcaption", "address", "details", "summary", "hr", "qti-content-body",
        "qti-stimulus-body", "qti-item-body", "qti-prompt", "qti-simple-choice",
    }
)  # fmt: skip
_INLINE = frozenset(
    {
        "span", "em", "strong", "b", "i", "u", "s", "small", "big", "sub", "sup", "q", "cite",
        "abbr", "acronym", "dfn", "code", "kbd", "samp", "var", "tt", "bdi", "bdo", "label", "a",
        "mark", "ins", "del", "time", "ruby", "rb", "rt", "rp", "wbr",
    }
)  # fmt: skip
#: Interactions the engine scores: one choice with one key, one text entry (a gap).
_SCORED = frozenset({"qti-choice-interaction", "qti-text-entry-interaction"})
_SPACES = re.compile(r"\s+")
_RASTER = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8": "image/jpeg", b"GIF8": "image/gif"}


@dataclass
class ImportResult:
    """What :func:`import_qti` did: items written (id -> YAML file) and items refused (why)."""

    written: dict[str, Path] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)


class _Refused(Exception):
    """One item cannot be imported faithfully; the message says why (the package goes on)."""


def _local(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _children(el: Any, name: str) -> Iterator[Any]:
    return (c for c in el if _local(c.tag) == name)


def _first(el: Any, name: str) -> Any:
    return next((c for c in el.iter() if _local(c.tag) == name), None)


def _text(el: Any) -> str:
    return "".join(el.itertext())


def _lines(div: Any) -> str | None:
    paragraphs = [_text(p) for p in _children(div, "p")]
    return "\n".join(paragraphs) if paragraphs else None


def _inside(root: Path, base: PurePosixPath, href: str) -> str:
    """``href`` (relative to ``base`` in the package) as a package path; _Refused if it leaves
    the package, is absolute, or is a URL."""
    if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", href) or href.startswith(("/", "\\")):
        raise _Refused(f"{href!r} is not a path inside the package")
    parts: list[str] = []
    path_part = unquote(href.split("#", maxsplit=1)[0].split("?", maxsplit=1)[0])
    for part in (base / path_part).parts:
        if part == "..":
            if not parts:
                raise _Refused(f"{href!r} leaves the package")
            parts.pop()
        elif part not in (".", ""):
            parts.append(part)
    rel = "/".join(parts)
    path = root / rel
    if path.is_symlink() or not path.resolve().is_relative_to(root.resolve()):
        raise _Refused(f"{href!r} leaves the package")
    return rel


def _src(el: Any, base: PurePosixPath, root: Path) -> str | None:
    """The media path of an ``img`` or ``audio`` element, relative to the package root."""
    if el is None:
        return None
    src = el.get("src") or el.get("data")
    if src is None:
        source = _first(el, "source")
        src = source.get("src") if source is not None else None
    if not src:
        return None
    try:
        return _inside(root, base, src)
    except _Refused as exc:
        raise QtiError(f"media path {exc}") from exc


@dataclass
class _Content:
    """What a stretch of QTI content shows: text lines, pictures, recordings; and what in it
    cannot be imported faithfully."""

    parts: list[str] = field(default_factory=list)
    images: list[tuple[str, str]] = field(default_factory=list)  # (package path, alt)
    audio: list[str] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)

    def text(self) -> str | None:
        lines = (" ".join(line.split()) for line in "".join(self.parts).split("\n"))
        kept = [line for line in lines if line]
        return "\n".join(kept) or None


def _candidate_only(el: Any) -> bool:
    return set((el.get("view") or "").split()) == {"candidate"}


def _walk(el: Any, root: Path, base: PurePosixPath, out: _Content) -> None:
    """Add what the candidate sees of ``el`` (its tail excluded) to ``out``."""
    name = _local(el.tag)
    if not name or name in ("qti-stylesheet", "script", "style"):
        return
    if name in _HIDDEN and not (name == "qti-rubric-block" and _candidate_only(el)):
        return
    if name.endswith("-interaction"):
        # the caller reads interactions; a text entry is the gap in the text around it
        out.parts.append("____" if name == "qti-text-entry-interaction" else "\n")
        return
    if name in ("img", "picture"):
        img = el if name == "img" else _first(el, "img")
        src = img.get("src") if img is not None else None
        if src:
            out.images.append((_media(root, base, src), img.get("alt") or ""))
        return
    if name in ("audio", "object", "video"):
        kind = (el.get("type") or "").split("/")[0]
        if name == "video" or (name == "object" and kind not in ("image", "audio")):
            out.refusals.append(f"a {name} ({el.get('type') or 'no type'}) cannot be shown")
            return
        src = el.get("src") or el.get("data")
        if src is None:
            source = _first(el, "source")
            src = source.get("src") if source is not None else None
        if not src:
            out.refusals.append(f"a {name} without a file")
        elif name == "object" and kind == "image":
            out.images.append((_media(root, base, src), _text(el).strip()))
        else:
            out.audio.append(_media(root, base, src))
        return
    if name == "br":
        out.parts.append("\n")
        return
    if name == "table":
        out.refusals.append("a table (a stem is plain text and one picture)")
        return
    if name == "math":
        out.refusals.append("a formula (MathML)")
        return
    if name in ("qti-template-inline", "qti-template-block", "qti-printed-variable", "include"):
        out.refusals.append(f"<{name}> (content computed at delivery)")
        return
    known = name in _BLOCKS or name in _INLINE or name == "qti-rubric-block"
    if not known and not el.tag.startswith("{http://www.w3.org/2010/10/synthesis}"):
        out.refusals.append(f"<{name}>")
        return
    block = name in _BLOCKS or name == "qti-rubric-block"
    if block:
        out.parts.append("\n")
    if name == "li":
        out.parts.append("- ")
    # line breaks in the XML source are spaces (as in HTML); lines come from blocks and <br>
    out.parts.append(_SPACES.sub(" ", el.text or ""))
    for child in el:
        _walk(child, root, base, out)
        out.parts.append(_SPACES.sub(" ", child.tail or ""))
    if block:
        out.parts.append("\n")


def _media(root: Path, base: PurePosixPath, src: str) -> str:
    try:
        rel = _inside(root, base, src)
    except _Refused as exc:
        raise _Refused(f"media {exc}") from exc
    if not (root / rel).is_file():
        raise _Refused(f"media {rel} is not in the package")
    return rel


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


def _check_folder(root: Path) -> None:
    """Refuse a folder package holding a symbolic link anywhere (it could point outside)."""
    if root.is_symlink():
        raise QtiError(f"{root}: the package is a symbolic link")

    def fail(exc: OSError) -> None:
        raise QtiError(f"{root}: cannot read {exc.filename}: {exc.strerror}")

    for dirpath, dirnames, filenames in os.walk(root, onerror=fail):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            if path.is_symlink():
                raise QtiError(f"{root}: symbolic link {path.relative_to(root)} in the package")


def _extract(pkg: Path, tmp: Path, max_bytes: int, max_files: int) -> Path:
    """Extract a zipped package into ``tmp``, refusing unsafe names, links and oversize."""
    try:
        zf = zipfile.ZipFile(pkg)
    except (zipfile.BadZipFile, OSError) as exc:
        raise QtiError(f"{pkg}: not a readable zip file ({exc})") from exc
    with zf:
        members = zf.infolist()
        if len(members) > max_files:
            raise QtiError(f"{pkg}: {len(members)} files in the archive (at most {max_files})")
        total = 0
        for info in members:
            name = info.filename
            if name.startswith(("/", "\\")) or ".." in PurePosixPath(name.replace("\\", "/")).parts:
                raise QtiError(f"{pkg}: unsafe path {name!r} in the package")
            if re.match(r"^[a-zA-Z]:", name):
                raise QtiError(f"{pkg}: unsafe path {name!r} in the package")
            if stat.S_ISLNK(info.external_attr >> 16):
                raise QtiError(f"{pkg}: symbolic link {name!r} in the package")
            total += info.file_size
        if total > max_bytes:
            raise QtiError(
                f"{pkg}: {total / 2**20:.0f} MB once extracted (at most {max_bytes / 2**20:.0f} MB)"
            )
        written = 0
        for info in members:
            target = tmp / info.filename
            try:
                if info.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as src, target.open("wb") as dst:
                    # the directory's sizes may lie: count what really comes out
                    while chunk := src.read(1 << 16):
                        written += len(chunk)
                        if written > max_bytes:
                            raise QtiError(
                                f"{pkg}: more than {max_bytes / 2**20:.0f} MB once extracted"
                            )
                        dst.write(chunk)
            except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as exc:
                raise QtiError(f"{pkg}: cannot extract {info.filename!r} ({exc})") from exc
    return tmp


def _package_root(
    pkg: Path, tmp: Path, max_bytes: int = MAX_PACKAGE_BYTES, max_files: int = MAX_PACKAGE_FILES
) -> Path:
    if pkg.is_dir():
        _check_folder(pkg)
        return pkg
    if pkg.is_file() and zipfile.is_zipfile(pkg):
        return _extract(pkg, tmp, max_bytes, max_files)
    if not pkg.exists():
        raise QtiError(f"{pkg}: no such file or folder")
    raise QtiError(f"{pkg} is neither a folder nor a zip file")


def _parse(path: Path) -> Any:
    try:
        return SafeET.parse(path, forbid_dtd=True).getroot()
    except (
        SafeET.DTDForbidden,
        SafeET.EntitiesForbidden,
        SafeET.ExternalReferenceForbidden,
    ) as exc:
        raise QtiError(
            f"{path.name}: refused XML: a DTD or entity declaration ({type(exc).__name__})"
        ) from exc
    except (SafeET.ParseError, OSError, ValueError) as exc:
        raise QtiError(f"{path.name}: cannot read XML: {exc}") from exc


def _choice_id(raw: str, taken: set[str]) -> str:
    """A QTI choice identifier as our choice id (``[a-z][a-z0-9_]*``), unique in the item."""
    base = re.sub(r"[^a-z0-9_]+", "_", raw.lower()).strip("_")[:26] or "choix"
    if not base[0].isalpha():
        base = f"c_{base}"[:26]
    out, n = base, 2
    while out in taken:
        out, n = f"{base}_{n}", n + 1
    taken.add(out)
    return out


def _values(decl: Any, container: str) -> list[str]:
    box = next(_children(decl, container), None)
    if box is None:
        return []
    return [(v.text or "").strip() for v in _children(box, "qti-value") if (v.text or "").strip()]


def _mapping(decl: Any) -> list[tuple[str, float]]:
    box = next(_children(decl, "qti-mapping"), None)
    if box is None:
        return []
    out = []
    for e in _children(box, "qti-map-entry"):
        try:
            out.append((e.get("map-key") or "", float(e.get("mapped-value") or "0")))
        except ValueError as exc:
            raise _Refused(f"mapped value {e.get('mapped-value')!r} is not a number") from exc
    return out


def _choice_key(decl: Any, inter: Any) -> str:
    """The one key of a single-response choice; _Refused for several keys or none."""
    cardinality = decl.get("cardinality") or "single"
    keys = _values(decl, "qti-correct-response")
    if not keys:
        positive = [k for k, v in _mapping(decl) if v > 0]
        keys = positive
    max_choices = inter.get("max-choices") or "1"
    if cardinality != "single" or len(keys) > 1 or max_choices != "1":
        shown = ", ".join(keys) or "none declared"
        raise _Refused(
            f"multiple response (cardinality {cardinality}, max-choices {max_choices}, "
            f"keys {shown}): the engine scores one key per choice item, and cutting the key "
            "to one value would score it wrongly"
        )
    if not keys:
        raise _Refused("the choice interaction has no correct response")
    credited = sorted({k for k, v in _mapping(decl) if v > 0} - {keys[0]})
    if credited:
        raise _Refused(
            f"partial credit (the mapping also credits {', '.join(credited)}): the engine "
            "scores a choice right or wrong on its one key"
        )
    return keys[0]


def _case_sensitive(decl: Any) -> bool:
    """Whether a text entry's mapping credits an answer only in its own case."""
    box = next(_children(decl, "qti-mapping"), None)
    return box is not None and any(
        (e.get("case-sensitive") or "false") == "true" for e in _children(box, "qti-map-entry")
    )


def _accepted(decl: Any) -> list[str]:
    """Every answer a text entry accepts as right; _Refused for partial credit or none."""
    if (decl.get("cardinality") or "single") != "single":
        raise _Refused(f"a text entry of cardinality {decl.get('cardinality')}")
    if (decl.get("base-type") or "string") not in ("string", "integer", "float"):
        raise _Refused(f"a text entry of base type {decl.get('base-type')}")
    mapping = _mapping(decl)
    positive = {v for _, v in mapping if v > 0}
    if len(positive) > 1:
        values = ", ".join(f"{v:g}" for v in sorted(positive))
        raise _Refused(
            f"partial credit (mapped values {values}): the engine scores a gap right or wrong"
        )
    accepted = _values(decl, "qti-correct-response") + [k for k, v in mapping if v > 0]
    accepted = [a for a in dict.fromkeys(accepted) if a]
    if not accepted:
        raise _Refused("the text entry has no correct response")
    return accepted


@dataclass
class _Draft:
    """One item read from a package, before it gets its id and its files."""

    data: dict[str, Any]
    source: str  # the QTI identifier (and the question, for an item split in several)
    own_id: bool  # the identifier is one of ours (a round trip): kept, never renumbered


def _stimulus(item_xml: Any, root: Path, base: PurePosixPath) -> _Content:
    """The shared stimuli an item refers to (``qti-assessment-stimulus-ref``)."""
    content = _Content()
    for ref in _children(item_xml, "qti-assessment-stimulus-ref"):
        href = ref.get("href")
        if not href:
            raise _Refused("a stimulus reference without href")
        rel = _inside(root, base, href)
        if not (root / rel).is_file():
            raise _Refused(f"stimulus {rel} is not in the package")
        try:
            stim = _parse(root / rel)
        except QtiError as exc:
            raise _Refused(f"stimulus {exc}") from exc
        body = _first(stim, "qti-stimulus-body")
        if body is None:
            raise _Refused(f"stimulus {rel} has no qti-stimulus-body")
        _walk(body, root, PurePosixPath(rel).parent, content)
    return content


def _foreign_items(
    item_xml: Any, root: Path, base: PurePosixPath, keywords: Mapping[str, str], today: str
) -> list[_Draft]:
    """Our YAML data for each question of a foreign (or our own) qti-assessment-item."""
    identifier = item_xml.get("identifier") or ""
    if (item_xml.get("adaptive") or "false") == "true":
        raise _Refused("an adaptive item (its content changes with the answers)")
    if next(_children(item_xml, "qti-template-declaration"), None) is not None:
        raise _Refused("a template item (values drawn at delivery)")
    body = next(_children(item_xml, "qti-item-body"), None)
    if body is None:
        raise _Refused("no qti-item-body")
    interactions = [e for e in body.iter() if _local(e.tag).endswith("-interaction")]
    names = sorted({_local(e.tag) for e in interactions})
    if not interactions:
        raise _Refused("no interaction: nothing to score")
    unscored = [n for n in names if n not in _SCORED]
    if unscored:
        raise _Refused(
            f"{', '.join(unscored)}: the engine scores only one-key choices and gaps "
            "(productions need a rubric the engine can apply, which QTI does not carry)"
        )
    entries = [e for e in interactions if _local(e.tag) == "qti-text-entry-interaction"]
    if entries and len(interactions) > 1:
        raise _Refused(
            f"{len(entries)} gap(s) among {len(interactions)} interactions: the engine scores "
            "one gap per item and cannot show a text with several"
        )
    responses = {d.get("identifier"): d for d in _children(item_xml, "qti-response-declaration")}
    # what the candidate sees around the interactions: stimulus, then the body
    shared = _stimulus(item_xml, root, base)
    _walk(body, root, base, shared)
    # our own export (its manifest carries our keywords) lays out instruction and stem in divs
    own_layout = next(
        (d for d in _children(body, "div") if "instruction" in (d.get("class") or "").split()),
        None,
    )
    if "skill" not in keywords:
        own_layout = None
    drafts = []
    for n, inter in enumerate(interactions, start=1):
        decl = responses.get(inter.get("response-identifier"))
        if decl is None:
            raise _Refused(f"interaction {n} has no response declaration")
        prompt = _Content()
        prompt_el = next(_children(inter, "qti-prompt"), None)
        if prompt_el is not None:
            _walk(prompt_el, root, base, prompt)
        stem = _Content(list(shared.parts), list(shared.images) + prompt.images, list(shared.audio))
        refusals = shared.refusals + prompt.refusals
        data: dict[str, Any] = {}
        notes: list[str] = []
        if _local(inter.tag) == "qti-choice-interaction":
            key = _choice_key(decl, inter)
            taken: set[str] = set()
            choices = []
            ids: dict[str, str] = {}
            for sc in _children(inter, "qti-simple-choice"):
                seen = _Content()
                _walk(sc, root, base, seen)
                refusals += seen.refusals
                if len(seen.images) > 1 or len(seen.audio) > 1:
                    refusals.append("a choice with several pictures or recordings")
                raw = sc.get("identifier") or ""
                ids[raw] = _choice_id(raw, taken)
                entry: dict[str, Any] = {"id": ids[raw]}
                if seen.text():
                    entry["text"] = seen.text()
                if seen.images:
                    entry["image"] = seen.images[0][0]
                    if seen.images[0][1]:
                        entry["label"] = seen.images[0][1]
                if seen.audio:
                    entry["audio"] = seen.audio[0]
                choices.append(entry)
            if key not in ids:
                raise _Refused(f"the key {key!r} is not one of the choices")
            data["choices"] = choices
            data["key"] = ids[key]
        else:
            data["accepted"] = _accepted(decl)
            if _case_sensitive(decl):
                notes.append("casse exigée en QTI, ignorée par le moteur comme les accents")
        if refusals:
            raise _Refused("; ".join(dict.fromkeys(refusals)))
        if own_layout is None and (len(stem.images) > 1 or len(stem.audio) > 1):
            raise _Refused(
                f"{len(stem.images)} pictures and {len(stem.audio)} recordings: "
                "an item shows one picture and one recording"
            )
        question = f", question {n} sur {len(interactions)}" if len(interactions) > 1 else ""
        skill = keywords.get("skill")
        ours = skill is not None and re.fullmatch(rf"{skill}-\d{{3,4}}", identifier) is not None
        data = _data(
            body,
            own_layout,
            keywords=keywords,
            stem=stem,
            prompt=prompt,
            data=data,
            root=root,
            base=base,
            today=today,
            source=f"{identifier}{question}",
            notes=notes,
        )
        drafts.append(_Draft(data, identifier, ours and len(interactions) == 1))
    return drafts


def _data(
    body: Any,
    own_layout: Any,
    *,
    keywords: Mapping[str, str],
    stem: _Content,
    prompt: _Content,
    data: dict[str, Any],
    root: Path,
    base: PurePosixPath,
    today: str,
    source: str,
    notes: Sequence[str] = (),
) -> dict[str, Any]:
    """The YAML data of one question; ``notes`` go into its history entry for the reviewer."""
    stem_out: dict[str, Any] = {}
    if own_layout is not None:
        # our own export: instruction and stem are in their own divs
        instruction_text = _lines(own_layout) or ""
        audio_el = _first(own_layout, "audio")
        instruction_audio = _src(audio_el, base, root) if audio_el is not None else None
        stem_div = next(
            (d for d in _children(body, "div") if "stem" in (d.get("class") or "").split()), None
        )
        if stem_div is not None:
            stem_out = {
                "text": _lines(stem_div),
                "image": _src(_first(stem_div, "img"), base, root),
                "audio": _src(_first(stem_div, "audio"), base, root),
            }
        elif "accepted" in data:
            stem_out = {"text": stem.text()}
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
            stem_out["transcript"] = _lines(content if content is not None else transcript)
    else:
        instruction_text = prompt.text() or ""
        instruction_audio = None
        stem_out = {
            "text": stem.text(),
            "image": stem.images[0][0] if stem.images else None,
            "audio": stem.audio[0] if stem.audio else None,
        }
        if not any(stem_out.values()) and instruction_text:
            # the question is the whole item: the candidate reads it, the instruction says how
            stem_out["text"], instruction_text = instruction_text, CHOICE_INSTRUCTION
    stem_out = {k: v for k, v in stem_out.items() if v is not None}
    if "choices" in data:
        has_audio = "audio" in stem_out
        pictures = all("image" in c for c in data["choices"])
        default_type = (
            ("listen_choose_picture" if pictures else "listen_choose_sentence")
            if has_audio
            else "read_choose"
        )
        default_skill = "CO" if has_audio else "CE"
    else:
        default_type, default_skill = "gap_fill", "CE"
        if "text" in stem_out and not GAP.search(stem_out["text"]):
            stem_out["text"] += "\n____"
    instruction_text = instruction_text.strip() or DEFAULT_INSTRUCTION
    skill = keywords.get("skill", default_skill)
    out: dict[str, Any] = {
        "id": "",
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
    change = f"importé de QTI ({source})"
    if "skill" not in keywords:
        change += ", thème, niveau et consigne à revoir"
    for note in notes:
        change += f", {note}"
    out["history"] = [{"date": today, "author": "import QTI", "change": change}]
    out["instruction"] = {
        "text": instruction_text,
        "audio": instruction_audio or f"media/instructions/{_slug(instruction_text)}.ogg",
    }
    if stem_out:
        out["stem"] = stem_out
    if "time_limit_s" in keywords:
        out["time_limit_s"] = int(keywords["time_limit_s"])
    if keywords.get("enemies"):
        out["enemies"] = keywords["enemies"].split(",")
    if "typo_tolerance" in keywords:
        data["typo_tolerance"] = int(keywords["typo_tolerance"])
    out.update(data)
    return out


def _raster_as_svg(data: bytes) -> bytes | None:
    """A PNG, JPEG or GIF picture wrapped, pixels unchanged, in an SVG (the bank's format)."""
    mime = next((m for magic, m in _RASTER.items() if data.startswith(magic)), None)
    if mime is None:
        return None
    size = _raster_size(data, mime)
    if size is None:
        return None
    w, h = size
    encoded = base64.b64encode(data).decode("ascii")
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" '
        f'height="{h}"><image width="{w}" height="{h}" href="data:{mime};base64,{encoded}"/>'
        "</svg>\n"
    ).encode()


def _raster_size(data: bytes, mime: str) -> tuple[int, int] | None:
    if mime == "image/png" and len(data) >= 24:
        w, h = struct.unpack(">II", data[16:24])
        return int(w), int(h)
    if mime == "image/gif" and len(data) >= 10:
        w, h = struct.unpack("<HH", data[6:10])
        return int(w), int(h)
    i = 2  # JPEG: walk the segments to a start-of-frame marker
    while i + 9 < len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        length = int.from_bytes(data[i + 2 : i + 4], "big")
        if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE):
            h, w = struct.unpack(">HH", data[i + 5 : i + 9])
            return int(w), int(h)
        i += 2 + length
    return None


class _Stage:
    """Files of the import, held until every item is read, then written in one go."""

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir
        self.files: dict[str, bytes] = {}  # package-independent output path -> content

    def exists(self, rel: str) -> bool:
        return rel in self.files or (self.out_dir / rel).exists()

    def content(self, rel: str) -> bytes | None:
        if rel in self.files:
            return self.files[rel]
        path = self.out_dir / rel
        return path.read_bytes() if path.is_file() else None


def _place_media(stage: _Stage, root: Path, rel: str, planned: dict[str, bytes]) -> str:
    """Where a medium of the package goes in the folder: its own path, or beside it under a
    name with its hash when another file already has that path (a second package)."""
    try:
        raw = (root / rel).read_bytes()
    except OSError as exc:
        raise _Refused(f"medium {rel} cannot be read ({exc.strerror})") from exc
    path = PurePosixPath(rel)
    content = raw
    suffix = path.suffix.lower()
    if suffix in (".png", ".jpg", ".jpeg", ".gif"):
        svg = _raster_as_svg(raw)
        if svg is None:
            raise _Refused(f"picture {rel} cannot be read as PNG, JPEG or GIF")
        content, path = svg, path.with_suffix(".svg")
    elif suffix not in (".svg", ".ogg", ".opus"):
        raise _Refused(
            f"medium {rel}: the bank takes SVG (or PNG, JPEG, GIF) pictures and Ogg audio"
        )
    target = _safe_name(str(path))
    existing = planned.get(target, stage.content(target))
    if existing is not None and existing != content:
        digest = hashlib.sha256(content).hexdigest()[:8]
        p = PurePosixPath(target)
        target = str(p.with_name(f"{p.stem}-{digest}{p.suffix}"))
    planned[target] = content
    return target


def _safe_name(rel: str) -> str:
    """A package path as a bank media path (``[A-Za-z0-9_][A-Za-z0-9_./-]*``)."""
    ascii_rel = unicodedata.normalize("NFKD", rel).encode("ascii", "ignore").decode()
    parts = [
        re.sub(r"[^A-Za-z0-9_.-]+", "-", p).lstrip(".-") or "media" for p in ascii_rel.split("/")
    ]
    return "/".join(parts)


def _existing_ids(out_dir: Path) -> set[str]:
    return {p.stem for p in out_dir.glob("*/*.yaml")} if out_dir.is_dir() else set()


def _imported_sources(out_dir: Path) -> dict[str, str]:
    """QTI identifiers already imported into the folder (from the history), -> our id."""
    found: dict[str, str] = {}
    if not out_dir.is_dir():
        return found
    for path in out_dir.glob("*/*.yaml"):
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError):
            continue
        for h in data.get("history") or ():
            source = _source_of(str((h or {}).get("change", "")))
            if source is not None:
                found[source] = str(data.get("id"))
    return found


def _source_of(change: str) -> str | None:
    """The QTI identifier in an import's history entry (``importé de QTI (id…)``)."""
    m = re.match(r"importé de QTI \((.+?)\)", change)
    return m.group(1) if m else None


def import_qti(
    pkg: Path,
    out_dir: Path,
    *,
    today: str | None = None,
    max_bytes: int = MAX_PACKAGE_BYTES,
    max_files: int = MAX_PACKAGE_FILES,
) -> ImportResult:
    """Import the items of a QTI 3.0 package that the engine can score into ``out_dir``.

    Each item is either imported with everything the candidate and the scorer need, or refused
    with the reason (``ImportResult.skipped``):

    - a single-response choice (its one key) or one text entry (every accepted answer; partial
      credit refused); an item with several choice interactions becomes one item per question,
      sharing the text around them; several gaps, or a gap beside other interactions, and every
      other interaction (productions need a rubric QTI does not carry) are refused;
    - multiple response (several keys) is refused, never cut to the first key;
    - the stem is what the candidate sees outside the interactions: the stimuli it refers to,
      every text of the body (paragraphs, headings, lists), one picture and one recording; the
      ``qti-prompt`` is the instruction. Feedback (modal, inline, block) and rubric blocks for
      scorers are never copied; tables, formulas, videos and template content are refused;
    - PNG, JPEG and GIF pictures are wrapped, pixels unchanged, in an SVG (the bank's format).

    Ids: an item carrying one of our ids (our own export) keeps it and is refused if that id is
    already in ``out_dir``; a foreign item gets the next free number from ``SKILL-9001`` on, so
    a second package into the same folder never clashes, and an item whose QTI identifier was
    already imported there is refused (``already imported as …``). A medium whose path is taken
    by a different file is written beside it under a name with its hash.

    Safety: a folder package holding a symbolic link, a zip member with an absolute or ``..``
    path or a link, an archive over ``max_bytes`` once extracted (counted while extracting) or
    ``max_files`` members, and an XML file with a DTD or entities (XXE) are refused whole with a
    :class:`QtiError`; an href or media path outside the package refuses its item.

    Nothing is written unless the import succeeds: files are prepared in a staging folder and
    moved in at the end; on a :class:`QtiError` ``out_dir`` is left as it was.
    """
    result = ImportResult()
    out_dir = Path(out_dir)
    date = today or dt.datetime.now(dt.UTC).date().isoformat()
    with tempfile.TemporaryDirectory() as tmp:
        root = _package_root(Path(pkg), Path(tmp) / "package", max_bytes, max_files).resolve()
        manifest_path = root / "imsmanifest.xml"
        if not manifest_path.is_file():
            raise QtiError(f"{pkg}: no imsmanifest.xml")
        manifest = _parse(manifest_path)
        resources = [
            r
            for r in manifest.iter()
            if _local(r.tag) == "resource" and (r.get("type") or "").startswith("imsqti_item")
        ]
        stage = _Stage(out_dir)
        taken = _existing_ids(out_dir)
        imported = _imported_sources(out_dir)
        numbers: dict[str, int] = {}
        for n, res in enumerate(resources, start=1):
            href = res.get("href") or next(
                (f.get("href") for f in res.iter() if _local(f.tag) == "file"), None
            )
            name = res.get("identifier") or href or f"resource {n}"
            try:
                if not href:
                    raise _Refused("the resource names no item file")
                rel = _inside(root, PurePosixPath(""), href)
                if not (root / rel).is_file():
                    raise _Refused(f"{rel} is not in the package")
                try:
                    item_xml = _parse(root / rel)
                except QtiError as exc:
                    raise _Refused(str(exc)) from exc
                if _local(item_xml.tag) != "qti-assessment-item":
                    raise _Refused(f"not a qti-assessment-item (<{_local(item_xml.tag)}>)")
                drafts = _foreign_items(
                    item_xml, root, PurePosixPath(rel).parent, _read_keywords(res), date
                )
                prepared = [
                    _prepare(
                        d, stage=stage, root=root, taken=taken, imported=imported, numbers=numbers
                    )
                    for d in drafts
                ]
            except _Refused as exc:
                result.skipped[name] = str(exc)
                continue
            except QtiError as exc:
                result.skipped[name] = str(exc)
                continue
            for item_id, target, data, media in prepared:
                stage.files.update(media)
                stage.files[target] = yaml.safe_dump(
                    data, allow_unicode=True, sort_keys=False, width=100
                ).encode("utf-8")
                taken.add(item_id)
                source = _source_of(data["history"][0]["change"])
                if source is not None:
                    imported[source] = item_id
                result.written[item_id] = out_dir / target
        _commit(stage)
    return result


def _prepare(
    draft: _Draft,
    *,
    stage: _Stage,
    root: Path,
    taken: set[str],
    imported: Mapping[str, str],
    numbers: dict[str, int],
) -> tuple[str, str, dict[str, Any], dict[str, bytes]]:
    """Give a draft its id and its media paths, and check it as the bank would."""
    data = draft.data
    skill = data["skill"]
    source = _source_of(data["history"][0]["change"])
    if source is not None and source in imported:
        raise _Refused(f"already imported as {imported[source]}")
    if draft.own_id:
        item_id = draft.source
        if item_id in taken:
            raise _Refused(f"{item_id} already exists in the folder (an item is never overwritten)")
    else:
        start = max(
            [FOREIGN_ID_START - 1, numbers.get(skill, 0)]
            + [int(t.split("-")[1]) for t in taken if t.startswith(f"{skill}-") and t[3:].isdigit()]
        )
        item_id = f"{skill}-{start + 1}"
        numbers[skill] = start + 1
    data["id"] = item_id
    planned: dict[str, bytes] = {}
    rename: dict[str, str] = {}
    for rel in data_media(data):
        if rel in rename or not (root / rel).is_file():
            continue  # an instruction recording still to be made
        rename[rel] = _place_media(stage, root, rel, planned)
    _rename_media(data, rename)
    problems = _item_problems(data, f"{skill}/{item_id}.yaml")
    if problems:
        raise _Refused("; ".join(problems))
    return item_id, f"{skill}/{item_id}.yaml", data, planned


def _rename_media(data: dict[str, Any], rename: Mapping[str, str]) -> None:
    def swap(holder: dict[str, Any], key: str) -> None:
        if holder.get(key) in rename:
            holder[key] = rename[holder[key]]

    swap(data["instruction"], "audio")
    for key in ("image", "audio"):
        swap(data.get("stem") or {}, key)
        for c in data.get("choices") or ():
            swap(c, key)


def _item_problems(data: Mapping[str, Any], file: str) -> list[str]:
    """What the bank's validation would say of the item (schema and item rules)."""
    problems = item_data_problems(data, file)
    return [f"{p.field}: {p.message}" if p.field else p.message for p in problems]


def _commit(stage: _Stage) -> None:
    """Move the staged files into the folder; on a failure remove what was moved."""
    moved: list[Path] = []
    made: list[Path] = []
    try:
        for rel, content in stage.files.items():
            dest = stage.out_dir / rel
            if dest.exists() and dest.read_bytes() == content:
                continue  # the same medium, already there
            if dest.exists():
                raise QtiError(f"{dest} appeared during the import")
            for parent in reversed(dest.parents):
                if not parent.exists():
                    parent.mkdir()
                    made.append(parent)
            part = dest.with_name(f".{dest.name}.part")
            part.write_bytes(content)
            part.replace(dest)
            moved.append(dest)
    except (OSError, QtiError) as exc:
        for path in moved:
            path.unlink(missing_ok=True)
        for folder in reversed(made):
            with contextlib.suppress(OSError):
                folder.rmdir()
        if isinstance(exc, QtiError):
            raise
        raise QtiError(f"cannot write into {stage.out_dir}: {exc}") from exc
