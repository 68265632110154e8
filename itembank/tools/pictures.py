"""Draw the bank's pictures: simple SVG line drawings on a 200 x 200 canvas.

Run it to (re)write every picture into ``itembank/bank/media/pictures/``::

    .venv/bin/python -m itembank.tools.pictures [--out DIR]

Every picture is black strokes about 4 px wide with a few flat colours, no text (except the few
signs that are themselves the thing to read), no external reference or font, so that it renders
the same on every tablet. The drawings are built from a handful of primitives (a person, a
building, a clock face) so that they share one style.
"""

from __future__ import annotations

# ruff: noqa: E501  (drawing data: one shape per line reads better than wrapped coordinates)
import argparse
import math
import sys
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path

from tqdm import tqdm

INK = "#1f1f1f"
RED = "#e4572e"
BLUE = "#2e86de"
LIGHT_BLUE = "#a9d6f5"
GREEN = "#2a9d55"
LIGHT_GREEN = "#b7e4a1"
YELLOW = "#f6c445"
ORANGE = "#f28c28"
BROWN = "#a0643c"
BEIGE = "#f3dfb4"
GREY = "#b8c2cc"
DARK_GREY = "#6b7785"
SKIN = "#f2c9a0"
WHITE = "#ffffff"
PINK = "#f4a6b7"
PURPLE = "#8e6cc9"


def svg(body: str) -> str:
    """Wrap drawing elements in the bank's SVG frame (viewBox 0 0 200 200, 4 px black strokes)."""
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 200 200" width="200" height="200">'
        f'<g fill="none" stroke="{INK}" stroke-width="4" stroke-linecap="round" '
        f'stroke-linejoin="round">{body}</g></svg>\n'
    )


def rect(x: float, y: float, w: float, h: float, fill: str = "none", r: float = 0) -> str:  # noqa: PLR0917 - drawing primitives take coordinates positionally
    """A rectangle (``r``: corner radius)."""
    return f'<rect x="{x}" y="{y}" width="{w}" height="{h}" rx="{r}" fill="{fill}"/>'


def circle(cx: float, cy: float, r: float, fill: str = "none") -> str:
    """A circle."""
    return f'<circle cx="{cx}" cy="{cy}" r="{r}" fill="{fill}"/>'


def ellipse(cx: float, cy: float, rx: float, ry: float, fill: str = "none") -> str:
    """An ellipse."""
    return f'<ellipse cx="{cx}" cy="{cy}" rx="{rx}" ry="{ry}" fill="{fill}"/>'


def line(x1: float, y1: float, x2: float, y2: float, width: float = 4) -> str:
    """A straight stroke."""
    return f'<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke-width="{width}"/>'


def poly(points: Sequence[tuple[float, float]], fill: str = "none", closed: bool = True) -> str:
    """A polygon (``closed``) or a polyline."""
    coords = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    tag = "polygon" if closed else "polyline"
    return f'<{tag} points="{coords}" fill="{fill}"/>'


def path(d: str, fill: str = "none", width: float = 4) -> str:
    """A free path in SVG path syntax."""
    return f'<path d="{d}" fill="{fill}" stroke-width="{width}"/>'


def text(x: float, y: float, words: str, size: int = 22, fill: str = INK) -> str:
    """Writing, only for signs that are themselves read (generic sans-serif, no web font)."""
    return (
        f'<text x="{x}" y="{y}" font-family="sans-serif" font-size="{size}" font-weight="bold" '
        f'text-anchor="middle" fill="{fill}" stroke="none">{words}</text>'
    )


def cross(cx: float, cy: float, size: float, fill: str) -> str:
    """A plus-shaped cross (pharmacy, hospital)."""
    a, b = size / 2, size / 6
    return poly(
        [
            (cx - b, cy - a), (cx + b, cy - a), (cx + b, cy - b), (cx + a, cy - b),
            (cx + a, cy + b), (cx + b, cy + b), (cx + b, cy + a), (cx - b, cy + a),
            (cx - b, cy + b), (cx - a, cy + b), (cx - a, cy - b), (cx - b, cy - b),
        ],
        fill,
    )  # fmt: skip


def clock(hours: int, minutes: int, cx: float = 100, cy: float = 100, r: float = 80) -> str:
    """A clock face showing ``hours:minutes``."""
    parts = [circle(cx, cy, r, WHITE), circle(cx, cy, r - 8, "none")]
    for tick in range(12):
        angle = math.radians(tick * 30)
        inner = r - (18 if tick % 3 == 0 else 12)
        parts.append(
            line(
                cx + inner * math.sin(angle),
                cy - inner * math.cos(angle),
                cx + (r - 6) * math.sin(angle),
                cy - (r - 6) * math.cos(angle),
                5 if tick % 3 == 0 else 3,
            )
        )
    hour_angle = math.radians((hours % 12) * 30 + minutes * 0.5)
    minute_angle = math.radians(minutes * 6)
    parts.append(line(cx, cy, cx + 40 * math.sin(hour_angle), cy - 40 * math.cos(hour_angle), 8))
    parts.append(
        line(cx, cy, cx + 62 * math.sin(minute_angle), cy - 62 * math.cos(minute_angle), 5)
    )
    parts.append(circle(cx, cy, 5, INK))
    return "".join(parts)


def person(  # noqa: PLR0917 - drawing primitives take coordinates positionally
    x: float,
    y: float,
    shirt: str = BLUE,
    scale: float = 1.0,
    hair: str = INK,
    long_hair: bool = False,
    legs: str = DARK_GREY,
) -> str:
    """A standing person; ``(x, y)`` is the top of the head; about 150 units tall at scale 1."""

    def s(v: float) -> float:
        return v * scale

    parts = []
    if long_hair:
        parts.append(rect(x - s(17), y + s(4), s(34), s(34), hair, s(10)))
    parts.append(circle(x, y + s(18), s(16), SKIN))
    parts.append(path(f"M{x - s(16)},{y + s(14)} Q{x},{y - s(6)} {x + s(16)},{y + s(14)}", hair))
    parts.append(
        path(
            f"M{x - s(26)},{y + s(90)} L{x - s(24)},{y + s(46)} Q{x},{y + s(36)} "
            f"{x + s(24)},{y + s(46)} L{x + s(26)},{y + s(90)} Z",
            shirt,
        )
    )
    parts.append(rect(x - s(20), y + s(90), s(17), s(56), legs, s(3)))
    parts.append(rect(x + s(3), y + s(90), s(17), s(56), legs, s(3)))
    return "".join(parts)


def arms_down(x: float, y: float, scale: float = 1.0) -> str:
    """Two arms hanging beside a :func:`person` drawn at the same place."""
    return line(x - 24 * scale, y + 48 * scale, x - 32 * scale, y + 88 * scale) + line(
        x + 24 * scale, y + 48 * scale, x + 32 * scale, y + 88 * scale
    )


def building(  # noqa: PLR0917 - drawing primitives take coordinates positionally
    x: float,
    y: float,
    w: float,
    h: float,
    wall: str = BEIGE,
    roof: str | None = RED,
    door: str = BROWN,
    windows: int = 2,
) -> str:
    """A building front with a door, windows and an optional pitched roof."""
    parts = []
    if roof:
        parts.append(poly([(x - 8, y), (x + w / 2, y - h * 0.35), (x + w + 8, y)], roof))
    parts.append(rect(x, y, w, h, wall))
    parts.append(rect(x + w / 2 - 14, y + h - 44, 28, 44, door))
    for i in range(windows):
        wx = x + (i + 1) * w / (windows + 1) - 11
        if abs(wx + 11 - (x + w / 2)) < 20:
            continue
        parts.append(rect(wx, y + 16, 22, 22, LIGHT_BLUE))
    return "".join(parts)


def ground() -> str:
    """The ground line."""
    return line(10, 186, 190, 186)


def bus(x: float = 20, y: float = 70, color: str = YELLOW) -> str:
    """A bus seen from the side."""
    return "".join(
        [
            rect(x, y, 160, 80, color, 12),
            *(rect(x + 12 + i * 36, y + 12, 26, 26, LIGHT_BLUE, 3) for i in range(4)),
            rect(x + 132, y + 44, 20, 34, LIGHT_BLUE, 2),
            circle(x + 34, y + 82, 14, DARK_GREY),
            circle(x + 126, y + 82, 14, DARK_GREY),
        ]
    )


def banknote(x: float, y: float, fill: str = LIGHT_GREEN) -> str:
    """A banknote (no figures)."""
    return rect(x, y, 90, 46, fill, 4) + circle(x + 45, y + 23, 12) + rect(x + 8, y + 8, 74, 30)


def coin(x: float, y: float, r: float = 14) -> str:
    """A coin."""
    return circle(x, y, r, YELLOW) + circle(x, y, r * 0.55)


def bed(x: float = 25, y: float = 95, cover: str = BLUE) -> str:
    """A bed seen from the side."""
    return "".join(
        [
            rect(x, y - 35, 14, 95, BROWN, 3),
            rect(x + 136, y + 5, 14, 55, BROWN, 3),
            rect(x + 10, y + 10, 132, 30, WHITE, 4),
            ellipse(x + 38, y + 2, 22, 11, WHITE),
            rect(x + 58, y - 2, 84, 22, cover, 6),
        ]
    )


def _drawings() -> dict[str, Callable[[], str]]:
    """Every picture of the bank by file stem."""
    d: dict[str, Callable[[], str]] = {}

    # --- time, calendar, weather -------------------------------------------------------------
    for h, m in ((8, 30), (7, 0), (12, 0), (9, 45), (3, 0), (6, 15), (10, 0), (2, 30)):
        d[f"horloge-{h}h{m:02d}"] = partial(clock, h, m)
    d["calendrier"] = lambda: "".join(
        [
            rect(30, 40, 140, 130, WHITE, 8),
            rect(30, 40, 140, 32, RED, 8),
            line(65, 28, 65, 52),
            line(135, 28, 135, 52),
            *(
                rect(42 + c * 30, 84 + r * 27, 20, 18, YELLOW if (r, c) == (1, 2) else GREY, 3)
                for r in range(3)
                for c in range(4)
            ),
        ]
    )
    d["soleil"] = lambda: (
        circle(100, 100, 38, YELLOW)
        + "".join(
            line(
                100 + 50 * math.cos(a),
                100 + 50 * math.sin(a),
                100 + 78 * math.cos(a),
                100 + 78 * math.sin(a),
            )
            for a in (math.radians(k * 45) for k in range(8))
        )
    )
    cloud = "M45,110 Q30,110 30,92 Q30,72 52,74 Q58,48 88,50 Q112,38 128,60 Q160,56 162,84 Q175,92 168,106 Q162,112 150,112 Z"
    d["pluie"] = lambda: (
        path(cloud, GREY)
        + "".join(
            line(x, 128, x - 8, 150) + line(x + 4, 160, x - 4, 180) for x in (60, 90, 120, 150)
        )
    )
    d["neige"] = lambda: path(cloud, WHITE) + "".join(
        line(x - 7, y, x + 7, y, 3) + line(x, y - 7, x, y + 7, 3) + line(x - 5, y - 5, x + 5, y + 5, 3)
        for x, y in ((60, 140), (95, 165), (130, 140), (155, 170), (75, 178))
    )  # fmt: skip
    d["vent-froid"] = lambda: "".join(
        [
            path("M20,70 H120 Q145,70 145,50 Q145,32 128,34", width=5),
            path("M20,105 H160 Q182,105 182,125 Q182,145 162,142", width=5),
            path("M40,140 H100 Q118,140 118,158", width=5),
        ]
    )

    # --- shops and services ------------------------------------------------------------------
    d["pharmacie"] = lambda: (
        building(30, 80, 140, 105, WHITE, None, GREEN, 2)
        + rect(70, 30, 60, 50, WHITE, 6)
        + cross(100, 55, 40, GREEN)
        + ground()
    )
    d["boulangerie"] = lambda: "".join(
        [
            building(25, 70, 150, 115, BEIGE, None, BROWN, 0),
            rect(25, 50, 150, 22, ORANGE),
            rect(38, 92, 50, 50, LIGHT_BLUE, 4),
            path("M44,128 Q62,100 84,108 Q72,132 44,128 Z", YELLOW),
            path("M50,120 L56,113 M60,124 L66,116 M70,124 L75,117", width=3),
            ground(),
        ]
    )
    d["supermarche"] = lambda: "".join(
        [
            rect(15, 60, 170, 125, WHITE),
            rect(15, 45, 170, 22, RED),
            rect(80, 120, 40, 65, LIGHT_BLUE),
            line(100, 120, 100, 185),
            path("M28,90 H40 L48,120 H70 L76,98 H43", width=4),
            circle(52, 128, 5, INK),
            circle(68, 128, 5, INK),
            rect(130, 90, 44, 26, LIGHT_BLUE),
            ground(),
        ]
    )
    d["caddie"] = lambda: "".join(
        [
            path("M20,50 H45 L68,130 H160 L175,70 H52", width=6),
            line(62, 100, 168, 100),
            circle(80, 155, 12, DARK_GREY),
            circle(150, 155, 12, DARK_GREY),
            rect(80, 52, 30, 22, ORANGE, 3),
            circle(135, 62, 12, RED),
        ]
    )
    d["poste"] = lambda: "".join(
        [
            building(25, 75, 150, 110, WHITE, None, BLUE, 2),
            rect(65, 35, 70, 38, YELLOW, 4),
            poly([(72, 42), (100, 62), (128, 42)], closed=False),
            ground(),
        ]
    )
    d["boite-aux-lettres"] = lambda: "".join(
        [
            rect(55, 40, 90, 100, YELLOW, 16),
            rect(70, 62, 60, 10, INK, 3),
            rect(92, 140, 16, 46, DARK_GREY),
            ground(),
        ]
    )
    d["banque"] = lambda: "".join(
        [
            poly([(20, 70), (100, 25), (180, 70)], GREY),
            rect(25, 70, 150, 14, WHITE),
            *(rect(38 + i * 34, 88, 18, 80, WHITE) for i in range(5)),
            rect(20, 168, 160, 16, GREY),
            coin(100, 52, 11),
        ]
    )
    d["distributeur"] = lambda: "".join(
        [
            rect(40, 25, 120, 160, GREY, 8),
            rect(58, 42, 84, 54, LIGHT_BLUE, 4),
            *(
                rect(60 + c * 22, 108 + r * 16, 16, 11, WHITE, 2)
                for r in range(3)
                for c in range(3)
            ),
            rect(126, 108, 18, 42, WHITE, 2),
            rect(70, 162, 60, 8, INK),
            banknote(55, 168).replace('width="90"', 'width="90" opacity="0.9"'),
        ]
    )

    # --- public buildings ----------------------------------------------------------------------
    def flag(x: float, y: float, w: float = 36) -> str:
        return (
            line(x, y, x, y + 60)
            + rect(x, y, w / 3, w * 0.66, BLUE)
            + rect(x + w / 3, y, w / 3, w * 0.66, WHITE)
            + rect(x + 2 * w / 3, y, w / 3, w * 0.66, RED)
        )

    d["mairie"] = lambda: "".join(
        [
            poly([(20, 80), (100, 45), (180, 80)], GREY),
            rect(25, 80, 150, 105, WHITE),
            *(rect(40 + i * 30, 95, 14, 70, BEIGE) for i in (0, 1, 3, 4)),
            rect(86, 130, 28, 55, BROWN),
            flag(100, 5, 30),
            ground(),
        ]
    )
    d["drapeau-france"] = lambda: "".join(
        [
            line(40, 20, 40, 186, 6),
            rect(40, 30, 44, 90, BLUE),
            rect(84, 30, 44, 90, WHITE),
            rect(128, 30, 44, 90, RED),
        ]
    )
    d["ecole"] = lambda: "".join(
        [
            building(20, 85, 160, 100, BEIGE, RED, BROWN, 4),
            circle(100, 62, 14, WHITE),
            line(100, 62, 100, 54, 3),
            line(100, 62, 106, 62, 3),
            flag(160, 10, 24),
            ground(),
        ]
    )
    d["hopital"] = lambda: "".join(
        [
            rect(25, 50, 150, 135, WHITE),
            *(
                rect(40 + c * 40, 64 + r * 34, 22, 20, LIGHT_BLUE)
                for r in range(2)
                for c in (0, 2, 3)
            ),
            rect(80, 56, 40, 40, RED, 4),
            cross(100, 76, 28, WHITE),
            rect(84, 140, 32, 45, LIGHT_BLUE),
            ground(),
        ]
    )
    d["commissariat"] = lambda: "".join(
        [
            building(25, 80, 150, 105, WHITE, None, BLUE, 2),
            rect(25, 60, 150, 22, BLUE),
            path("M100,110 L120,118 Q120,140 100,150 Q80,140 80,118 Z", YELLOW),
            ground(),
        ]
    )
    d["voiture-police"] = lambda: "".join(
        [
            path("M20,130 V105 L45,100 L65,72 H135 L155,100 L182,105 V130 Z", WHITE),
            rect(20, 112, 162, 12, BLUE),
            rect(90, 58, 22, 14, BLUE, 3),
            rect(75, 80, 30, 20, LIGHT_BLUE),
            rect(112, 80, 30, 20, LIGHT_BLUE),
            circle(55, 135, 16, DARK_GREY),
            circle(148, 135, 16, DARK_GREY),
        ]
    )
    d["camion-pompiers"] = lambda: "".join(
        [
            rect(15, 75, 120, 65, RED, 6),
            path("M135,140 V85 H160 L182,110 V140 Z", RED),
            rect(145, 92, 22, 20, LIGHT_BLUE),
            line(25, 65, 125, 50, 5),
            line(25, 72, 125, 57, 5),
            circle(48, 145, 16, DARK_GREY),
            circle(155, 145, 16, DARK_GREY),
        ]
    )
    d["ambulance"] = lambda: "".join(
        [
            rect(15, 70, 125, 72, WHITE, 6),
            path("M140,142 V88 H162 L184,112 V142 Z", WHITE),
            rect(148, 94, 20, 20, LIGHT_BLUE),
            cross(75, 104, 40, RED),
            rect(60, 58, 26, 12, BLUE, 3),
            circle(48, 146, 15, DARK_GREY),
            circle(158, 146, 15, DARK_GREY),
        ]
    )
    d["urne-vote"] = lambda: "".join(
        [
            rect(45, 80, 110, 100, LIGHT_BLUE, 4),
            rect(70, 72, 60, 10, INK),
            rect(82, 30, 36, 48, WHITE, 2),
            line(90, 44, 110, 44, 3),
            line(90, 54, 110, 54, 3),
        ]
    )
    d["balance-justice"] = lambda: "".join(
        [
            line(100, 30, 100, 170, 6),
            line(50, 55, 150, 55, 6),
            line(60, 160, 140, 175),
            line(50, 55, 35, 110, 3),
            line(50, 55, 65, 110, 3),
            line(150, 55, 135, 110, 3),
            line(150, 55, 165, 110, 3),
            path("M30,110 Q50,130 70,110 Z", YELLOW),
            path("M130,110 Q150,130 170,110 Z", YELLOW),
            rect(75, 168, 50, 12, BROWN),
        ]
    )
    d["bibliotheque"] = lambda: "".join(
        [
            rect(25, 30, 150, 150, BEIGE),
            line(25, 80, 175, 80),
            line(25, 130, 175, 130),
            *(
                rect(
                    35 + i * 20,
                    42 + row * 50,
                    14,
                    36,
                    (RED, BLUE, GREEN, YELLOW, PURPLE)[(i + row) % 5],
                )
                for row in range(3)
                for i in range(6)
            ),
        ]
    )

    # --- transport ---------------------------------------------------------------------------
    d["bus"] = lambda: bus() + ground()
    d["arret-bus"] = lambda: "".join(
        [
            line(150, 40, 150, 186, 6),
            rect(128, 20, 44, 36, BLUE, 6),
            rect(136, 30, 28, 16, WHITE, 3),
            rect(20, 70, 100, 90, "none"),
            rect(20, 60, 100, 12, GREY),
            rect(28, 130, 84, 10, BROWN),
            person(70, 78, GREEN, 0.6),
            ground(),
        ]
    )
    d["train"] = lambda: "".join(
        [
            path("M20,140 V70 Q20,50 45,50 H150 Q185,55 185,110 V140 Z", BLUE),
            *(rect(35 + i * 38, 65, 26, 28, LIGHT_BLUE, 3) for i in range(3)),
            rect(150, 65, 24, 30, LIGHT_BLUE, 3),
            circle(50, 145, 12, DARK_GREY),
            circle(90, 145, 12, DARK_GREY),
            circle(150, 145, 12, DARK_GREY),
            line(10, 162, 190, 162),
        ]
    )
    d["metro"] = lambda: "".join(
        [
            rect(20, 70, 160, 90, GREEN, 10),
            *(rect(32 + i * 40, 82, 28, 36, LIGHT_BLUE, 3) for i in range(4)),
            circle(100, 40, 24, YELLOW),
            path("M88,52 V30 L100,44 L112,30 V52", width=4),
            line(10, 172, 190, 172),
        ]
    )
    d["voiture"] = lambda: "".join(
        [
            path("M20,135 V110 L45,104 L68,74 H130 L155,104 L182,110 V135 Z", RED),
            rect(76, 82, 28, 20, LIGHT_BLUE),
            rect(110, 82, 30, 20, LIGHT_BLUE),
            circle(55, 138, 16, DARK_GREY),
            circle(148, 138, 16, DARK_GREY),
        ]
    )
    d["velo"] = lambda: "".join(
        [
            circle(50, 130, 32),
            circle(150, 130, 32),
            poly([(50, 130), (85, 80), (135, 80), (150, 130)], closed=False),
            poly([(85, 80), (100, 130), (135, 80)], closed=False),
            line(50, 130, 100, 130),
            line(80, 68, 95, 68),
            line(135, 80, 130, 60),
            line(122, 58, 142, 58),
        ]
    )
    d["avion"] = lambda: "".join(
        [
            path(
                "M20,110 Q20,92 45,92 H160 Q185,96 185,110 Q185,120 160,122 H45 Q20,122 20,110 Z",
                WHITE,
            ),
            path("M80,95 L110,40 H128 L115,95 Z", BLUE),
            path("M85,120 L110,165 H128 L112,120 Z", BLUE),
            path("M35,95 L25,65 H40 L58,95 Z", BLUE),
            *(circle(70 + i * 18, 106, 4, LIGHT_BLUE) for i in range(5)),
        ]
    )
    d["ticket"] = lambda: "".join(
        [
            path("M30,60 H170 V88 Q160,100 170,112 V140 H30 V112 Q40,100 30,88 Z", LIGHT_BLUE),
            line(60, 60, 60, 140, 3),
            rect(75, 80, 80, 10, WHITE, 3),
            rect(75, 100, 60, 10, WHITE, 3),
            rect(36, 82, 14, 36, INK),
        ]
    )
    d["taxi"] = lambda: d["voiture"]().replace(RED, YELLOW) + rect(88, 56, 28, 16, WHITE, 3)
    d["feu-rouge"] = lambda: "".join(
        [
            rect(70, 20, 60, 130, DARK_GREY, 10),
            circle(100, 45, 16, RED),
            circle(100, 85, 16, GREY),
            circle(100, 125, 16, GREY),
            line(100, 150, 100, 186, 6),
            ground(),
        ]
    )

    # --- home ----------------------------------------------------------------------------------
    d["maison"] = lambda: building(45, 95, 110, 90, BEIGE, RED, BROWN, 2) + ground()
    d["immeuble"] = lambda: "".join(
        [
            rect(45, 20, 110, 165, BEIGE),
            *(
                rect(58 + c * 30, 32 + r * 30, 22, 20, LIGHT_BLUE)
                for r in range(4)
                for c in range(3)
            ),
            rect(86, 150, 28, 35, BROWN),
            ground(),
        ]
    )
    d["cle"] = lambda: "".join(
        [
            circle(60, 100, 30, YELLOW),
            circle(60, 100, 10, WHITE),
            path("M90,92 H170 V108 H158 V124 H146 V108 H132 V120 H120 V108 H90 Z", YELLOW),
        ]
    )
    d["lit"] = lambda: bed() + ground()
    d["cuisine"] = lambda: "".join(
        [
            rect(25, 80, 150, 100, WHITE),
            line(25, 110, 175, 110),
            circle(60, 95, 10),
            circle(95, 95, 10),
            rect(40, 122, 70, 46, GREY, 3),
            rect(125, 122, 40, 46, BEIGE, 3),
            path("M50,78 V55 H100 V78", width=4),
            path("M55,50 Q60,40 55,30 M75,50 Q80,40 75,30 M95,50 Q100,40 95,30", width=3),
        ]
    )
    d["salle-de-bain"] = lambda: "".join(
        [
            path("M20,100 H180 V120 Q180,160 140,160 H60 Q20,160 20,120 Z", WHITE),
            line(50, 160, 45, 178),
            line(150, 160, 155, 178),
            path("M40,100 V40 Q40,28 55,28 Q68,28 68,42", width=5),
            path("M62,48 Q68,40 74,48 Z", DARK_GREY),
            *(line(x, 60, x - 2, 80, 3) for x in (62, 68, 74)),
            ellipse(120, 95, 40, 8, LIGHT_BLUE),
        ]
    )
    d["salon"] = lambda: "".join(
        [
            rect(35, 70, 130, 50, GREEN, 10),
            rect(20, 95, 160, 45, GREEN, 10),
            line(100, 100, 100, 140),
            line(35, 140, 35, 160, 6),
            line(165, 140, 165, 160, 6),
            rect(135, 30, 40, 30, LIGHT_BLUE, 3),
        ]
    )
    d["robinet-fuite"] = lambda: "".join(
        [
            path("M30,60 H110 Q130,60 130,80 V95", width=10),
            rect(55, 40, 30, 12, RED, 4),
            line(70, 52, 70, 60, 6),
            path("M130,115 Q120,130 130,138 Q140,130 130,115 Z", LIGHT_BLUE),
            path("M130,150 Q122,162 130,168 Q138,162 130,150 Z", LIGHT_BLUE),
            ellipse(130, 182, 40, 6, LIGHT_BLUE),
        ]
    )
    d["ampoule"] = lambda: "".join(
        [
            path(
                "M100,25 Q145,25 145,72 Q145,95 122,115 V135 H78 V115 Q55,95 55,72 Q55,25 100,25 Z",
                YELLOW,
            ),
            rect(78, 135, 44, 12, GREY),
            rect(82, 147, 36, 12, GREY),
            path("M90,115 V90 L100,80 L110,90 V115", width=3),
        ]
    )
    d["poubelle"] = lambda: "".join(
        [
            path("M50,60 H150 L140,180 H60 Z", GREEN),
            rect(42, 45, 116, 16, DARK_GREY, 4),
            rect(85, 35, 30, 12, DARK_GREY, 4),
            line(80, 80, 84, 165),
            line(100, 80, 100, 165),
            line(120, 80, 116, 165),
        ]
    )
    d["porte-fermee"] = lambda: "".join(
        [
            rect(50, 20, 100, 166, BROWN),
            circle(130, 105, 7, YELLOW),
            rect(80, 90, 40, 34, GREY, 4),
            path("M88,90 V78 Q100,62 112,78 V90", width=5),
        ]
    )
    d["ascenseur"] = lambda: "".join(
        [
            rect(40, 30, 100, 156, GREY),
            line(90, 30, 90, 186),
            rect(150, 80, 26, 60, WHITE, 4),
            poly([(163, 88), (171, 100), (155, 100)], INK),
            poly([(163, 132), (171, 120), (155, 120)], INK),
        ]
    )
    d["escalier"] = lambda: (
        path("M20,186 V150 H60 V115 H100 V80 H140 V45 H180 V186 Z", BEIGE)
        + person(60, 35, ORANGE, 0.5)
    )
    d["demenagement"] = lambda: "".join(
        [
            rect(20, 100, 70, 70, BEIGE),
            line(20, 120, 90, 120, 3),
            rect(100, 80, 80, 90, BEIGE),
            line(100, 100, 180, 100, 3),
            rect(55, 50, 55, 50, BEIGE),
            line(55, 65, 110, 65, 3),
            ground(),
        ]
    )

    # --- food ----------------------------------------------------------------------------------
    def apple(x: float, y: float, fill: str = RED) -> str:
        return (
            path(f"M{x},{y - 22} Q{x + 30},{y - 38} {x + 30},{y} Q{x + 26},{y + 30} {x},{y + 28} "
                 f"Q{x - 26},{y + 30} {x - 30},{y} Q{x - 30},{y - 38} {x},{y - 22} Z", fill)
            + line(x, y - 22, x + 4, y - 36)
            + path(f"M{x + 4},{y - 30} Q{x + 20},{y - 42} {x + 24},{y - 30} Q{x + 12},{y - 24} {x + 4},{y - 30} Z", GREEN, 3)
        )  # fmt: skip

    d["pommes"] = lambda: apple(65, 110) + apple(135, 110) + apple(100, 150, RED)
    d["bananes"] = lambda: (
        "".join(
            path(f"M40,{y} Q100,{y + 50} 165,{y - 10} Q110,{y + 25} 40,{y} Z", YELLOW)
            for y in (70, 100, 130)
        )
        + line(40, 70, 35, 140, 6)
    )
    d["baguette"] = lambda: (
        path(
            "M25,140 Q20,120 45,110 L150,55 Q178,45 178,65 Q180,82 160,92 L55,147 Q30,158 25,140 Z",
            ORANGE,
        )
        + "".join(
            path(f"M{x},{y} Q{x + 10},{y - 14} {x + 22},{y - 14}", width=3)
            for x, y in ((60, 125), (95, 107), (130, 89))
        )
    )
    d["lait"] = lambda: "".join(
        [
            path("M65,60 L80,30 H120 L135,60 V180 H65 Z", WHITE),
            rect(80, 18, 40, 14, BLUE, 3),
            rect(65, 90, 70, 40, BLUE),
            path("M80,115 Q90,100 100,115 Q110,100 120,115", width=3),
        ]
    )
    d["oeufs"] = lambda: "".join(
        [
            path("M20,120 H180 L170,160 H30 Z", GREY),
            *(ellipse(45 + i * 37, 108, 16, 22, BEIGE) for i in range(4)),
        ]
    )
    d["poisson"] = lambda: "".join(
        [
            path("M30,100 Q90,40 150,100 Q90,160 30,100 Z", LIGHT_BLUE),
            path("M150,100 L185,70 V130 Z", LIGHT_BLUE),
            circle(60, 92, 6, INK),
            path("M80,80 Q95,100 80,120", width=3),
        ]
    )
    d["fromage"] = lambda: path("M25,140 L160,60 L175,75 V145 H25 Z", YELLOW) + "".join(
        circle(x, y, r, WHITE) for x, y, r in ((80, 120, 9), (120, 105, 7), (150, 128, 10), (55, 135, 5))
    ) + line(25, 140, 175, 75)  # fmt: skip
    d["tomates"] = lambda: "".join(
        circle(x, y, 30, RED)
        + path(
            f"M{x - 12},{y - 26} L{x},{y - 34} L{x + 12},{y - 26} M{x},{y - 34} V{y - 42}", GREEN, 3
        )
        for x, y in ((65, 115), (135, 115), (100, 150))
    )
    d["cafe"] = lambda: "".join(
        [
            path("M45,80 H140 V125 Q140,165 92,165 Q45,165 45,125 Z", WHITE),
            path("M140,95 Q170,95 170,115 Q170,135 140,132", width=5),
            ellipse(92, 80, 47, 8, BROWN),
            ellipse(95, 172, 70, 8),
            path("M75,60 Q85,45 75,30 M100,60 Q110,45 100,30", width=3),
        ]
    )
    d["gateau"] = lambda: "".join(
        [
            rect(40, 100, 120, 70, PINK, 6),
            path("M40,120 Q55,132 70,120 Q85,132 100,120 Q115,132 130,120 Q145,132 160,120", width=3),
            *(rect(x, 70, 8, 30, YELLOW, 2) for x in (66, 96, 126)),
            *(path(f"M{x + 4},52 Q{x + 12},62 {x + 4},68 Q{x - 4},62 {x + 4},52 Z", ORANGE, 3) for x in (66, 96, 126)),
            ellipse(100, 172, 78, 8, WHITE),
        ]
    )  # fmt: skip

    # --- money and papers --------------------------------------------------------------------
    d["billets"] = lambda: (
        banknote(20, 60) + banknote(50, 85, "#9fd2c0") + banknote(80, 110, LIGHT_GREEN)
    )
    d["pieces"] = lambda: coin(60, 80, 28) + coin(130, 90, 24) + coin(95, 140, 30)
    d["carte-bancaire"] = lambda: "".join(
        [
            rect(25, 50, 150, 100, BLUE, 12),
            rect(45, 80, 34, 26, YELLOW, 4),
            rect(45, 120, 110, 8, WHITE, 3),
        ]
    )
    d["lettre"] = lambda: "".join(
        [
            rect(25, 50, 150, 100, WHITE, 4),
            poly([(25, 50), (100, 110), (175, 50)], closed=False),
            rect(140, 60, 24, 28, RED, 2),
        ]
    )
    d["formulaire"] = lambda: "".join(
        [
            rect(40, 20, 110, 160, WHITE, 4),
            *(rect(55, 40 + i * 26, 80, 14, GREY, 3) for i in range(5)),
            path("M130,180 L175,95 L188,102 L143,186 L128,190 Z", YELLOW),
        ]
    )
    d["carte-identite"] = lambda: "".join(
        [
            rect(20, 50, 160, 105, LIGHT_BLUE, 10),
            rect(34, 68, 50, 62, WHITE, 4),
            circle(59, 88, 11, SKIN),
            path("M42,128 Q59,100 76,128", SKIN),
            *(rect(96, 72 + i * 18, 70, 8, WHITE, 3) for i in range(4)),
        ]
    )
    d["enveloppe-argent"] = lambda: d["lettre"]() + coin(150, 140, 22)
    d["telephone"] = lambda: "".join(
        [
            rect(60, 20, 80, 160, DARK_GREY, 14),
            rect(68, 40, 64, 110, LIGHT_BLUE, 3),
            circle(100, 164, 7, WHITE),
        ]
    )
    d["sms"] = lambda: (
        d["telephone"]()
        + path(
            "M76,60 H124 Q128,60 128,64 V86 Q128,90 124,90 H90 L80,100 V90 H76 Q72,90 72,86 V64 Q72,60 76,60 Z",
            WHITE,
            3,
        )
        + path(
            "M76,104 H124 Q128,104 128,108 V126 Q128,130 124,130 H120 V140 L110,130 H76 Q72,130 72,126 V108 Q72,104 76,104 Z",
            YELLOW,
            3,
        )
    )
    d["ordinateur"] = lambda: "".join(
        [
            rect(35, 40, 130, 90, DARK_GREY, 6),
            rect(45, 50, 110, 70, LIGHT_BLUE, 2),
            path("M20,150 L35,130 H165 L180,150 Z", GREY),
        ]
    )
    d["valise"] = lambda: "".join(
        [
            rect(40, 70, 120, 100, BROWN, 10),
            path("M80,70 V50 H120 V70", width=6),
            line(40, 100, 160, 100),
            circle(60, 176, 6, INK),
            circle(140, 176, 6, INK),
        ]
    )
    d["livre"] = lambda: "".join(
        [
            path("M100,50 Q70,35 25,45 V160 Q70,150 100,165 Z", WHITE),
            path("M100,50 Q130,35 175,45 V160 Q130,150 100,165 Z", WHITE),
            *(line(40, 70 + i * 18, 85, 72 + i * 18, 3) for i in range(4)),
            *(line(115, 72 + i * 18, 160, 70 + i * 18, 3) for i in range(4)),
        ]
    )
    d["cartable"] = lambda: "".join(
        [
            rect(45, 60, 110, 110, RED, 12),
            rect(45, 60, 110, 45, ORANGE, 12),
            rect(90, 95, 20, 16, YELLOW, 3),
            path("M80,60 V42 Q100,28 120,42 V60", width=6),
        ]
    )

    # --- health --------------------------------------------------------------------------------
    d["thermometre"] = lambda: "".join(
        [
            rect(88, 25, 24, 120, WHITE, 12),
            circle(100, 155, 22, RED),
            rect(96, 70, 8, 85, RED),
            *(line(112, 40 + i * 15, 124, 40 + i * 15, 3) for i in range(6)),
        ]
    )
    d["medicaments"] = lambda: "".join(
        [
            rect(30, 80, 80, 90, WHITE, 6),
            rect(30, 105, 80, 40, GREEN),
            rect(38, 60, 64, 22, DARK_GREY, 4),
            *(
                rect(130, 60 + i * 36, 44, 22, (YELLOW, PINK, LIGHT_BLUE)[i], 11)
                + line(152, 60 + i * 36, 152, 82 + i * 36, 3)
                for i in range(3)
            ),
        ]
    )
    d["dent"] = lambda: (
        path(
            "M60,40 Q100,25 140,40 Q165,55 150,100 Q140,130 138,165 Q130,180 122,165 L112,120 "
            "Q100,110 88,120 L78,165 Q70,180 62,165 Q60,130 50,100 Q35,55 60,40 Z",
            WHITE,
        )
        + path("M150,40 Q170,30 175,45", width=3)
    )
    d["mal-de-tete"] = lambda: "".join(
        [
            circle(100, 110, 55, SKIN),
            path("M45,100 Q50,50 100,50 Q150,50 155,100 Q130,70 100,72 Q70,70 45,100 Z", INK),
            path("M75,118 Q82,110 89,118 M111,118 Q118,110 125,118", width=3),
            path("M80,145 Q100,132 120,145", width=3),
            poly([(150, 20), (165, 45), (152, 45), (170, 75), (140, 40), (153, 40)], YELLOW),
            poly([(40, 25), (52, 48), (42, 48), (55, 72), (30, 44), (40, 44)], YELLOW),
        ]
    )
    d["mal-au-ventre"] = lambda: (
        person(100, 20, LIGHT_GREEN)
        + "".join(
            [
                path("M76,70 Q90,100 100,92", width=4),
                path("M124,70 Q110,100 100,92", width=4),
                circle(100, 95, 10, RED),
                path("M92,44 Q100,38 108,44", width=3),
            ]
        )
    )
    d["medecin"] = lambda: (
        person(100, 15, WHITE)
        + arms_down(100, 15)
        + "".join(
            [
                path("M86,62 Q84,90 100,92 Q116,90 114,62", width=3),
                circle(100, 96, 6, GREY),
                cross(118, 80, 14, RED),
            ]
        )
    )
    d["infirmiere"] = lambda: person(100, 20, LIGHT_BLUE, long_hair=True, hair=BROWN) + arms_down(100, 20) + rect(
        84, 10, 32, 14, WHITE, 4
    ) + cross(100, 17, 10, RED) + cross(116, 84, 14, RED)  # fmt: skip
    d["lit-hopital"] = lambda: bed(25, 100, LIGHT_BLUE) + rect(150, 30, 30, 40, WHITE, 4) + cross(
        165, 50, 22, RED
    ) + line(165, 70, 165, 100, 3) + ground()  # fmt: skip
    d["bebe"] = lambda: "".join(
        [
            circle(100, 70, 32, SKIN),
            path("M88,72 Q92,68 96,72 M104,72 Q108,68 112,72", width=3),
            path("M92,86 Q100,92 108,86", width=3),
            path("M60,120 Q60,100 100,100 Q140,100 140,120 V170 H60 Z", PINK),
            path("M100,38 Q108,30 104,24", width=3),
        ]
    )
    d["enceinte"] = lambda: person(100, 15, PURPLE, long_hair=True, hair=BROWN) + ellipse(
        112, 85, 20, 24, PURPLE
    )  # fmt: skip

    # --- clothes -----------------------------------------------------------------------------------
    d["manteau"] = lambda: (
        path("M70,30 L100,45 L130,30 L170,60 L160,100 L145,92 V180 H55 V92 L40,100 L30,60 Z", BROWN)
        + line(100, 45, 100, 180)
        + "".join(circle(108, y, 4, INK) for y in (70, 100, 130, 160))
    )
    d["chaussures"] = lambda: "".join(
        path(f"M{x},80 V140 H{x + 80} Q{x + 80},118 {x + 50},112 L{x + 30},80 Z", c)
        + line(x, 140, x + 80, 140, 6)
        for x, c in ((15, BROWN), (105, INK))
    )
    d["pantalon"] = lambda: (
        path("M55,25 H145 L160,180 H112 L100,80 L88,180 H40 Z", BLUE) + line(55, 40, 145, 40)
    )
    d["robe"] = lambda: (
        path("M78,25 L100,40 L122,25 L132,75 L170,180 H30 L68,75 Z", RED) + line(68, 75, 132, 75)
    )
    d["pull"] = lambda: (
        path("M70,35 Q100,50 130,35 L175,65 L160,105 L145,95 V175 H55 V95 L40,105 L25,65 Z", GREEN)
        + line(55, 160, 145, 160)
    )

    # --- work ------------------------------------------------------------------------------------
    d["ouvrier-chantier"] = lambda: (
        person(100, 30, ORANGE)
        + arms_down(100, 30)
        + path("M78,42 Q78,15 100,15 Q122,15 122,42 Z", YELLOW)
        + line(72, 42, 128, 42)
        + line(132, 115, 150, 60, 6)
        + rect(140, 40, 26, 20, GREY, 2)
    )
    d["cuisinier"] = lambda: (
        person(100, 40, WHITE)
        + arms_down(100, 40)
        + path("M80,45 V22 Q72,5 90,8 Q100,-4 110,8 Q128,5 120,22 V45 Z", WHITE)
        + path("M132,128 H175", width=5)
        + ellipse(175, 128, 16, 6, DARK_GREY)
    )
    d["agent-entretien"] = lambda: (
        person(80, 25, GREEN)
        + arms_down(80, 25)
        + line(125, 40, 140, 170, 5)
        + rect(122, 165, 40, 12, BLUE, 3)
        + path("M150,130 H185 L180,180 H155 Z", YELLOW)
    )
    d["aide-soignante"] = lambda: person(70, 30, LIGHT_BLUE, long_hair=True) + arms_down(70, 30) + bed(
        95, 120, PINK
    ).replace('width="132"', 'width="90"').replace('width="84"', 'width="50"')  # fmt: skip
    d["chauffeur"] = lambda: bus() + circle(160, 90, 12, SKIN) + path(
        "M148,86 Q160,72 172,86", INK
    ) + ground()  # fmt: skip
    d["vendeuse"] = lambda: rect(20, 120, 160, 66, BROWN) + person(100, 25, RED, long_hair=True) + rect(
        20, 120, 160, 66, BROWN
    ) + rect(130, 100, 40, 22, GREY, 3)  # fmt: skip
    d["entretien-embauche"] = lambda: "".join(
        [
            person(50, 40, BLUE, 0.8),
            person(150, 40, GREY, 0.8, long_hair=True),
            rect(70, 110, 60, 10, BROWN),
            line(78, 120, 78, 180),
            line(122, 120, 122, 180),
            rect(88, 98, 24, 14, WHITE),
        ]
    )
    d["bureau"] = lambda: "".join(
        [
            person(100, 25, PURPLE, 0.8, long_hair=True),
            rect(20, 115, 160, 12, BROWN),
            line(35, 127, 35, 185),
            line(165, 127, 165, 185),
            rect(120, 78, 46, 34, DARK_GREY, 3),
            rect(40, 100, 40, 15, WHITE),
        ]
    )
    d["jardinier"] = lambda: (
        person(80, 30, GREEN)
        + arms_down(80, 30)
        + "".join(
            [
                line(120, 100, 150, 180, 5),
                path("M140,170 L165,165 L170,186 L148,190 Z", GREY),
                circle(40, 170, 14, RED),
                line(40, 184, 40, 186),
            ]
        )
    )
    d["caissiere"] = lambda: person(80, 30, ORANGE, long_hair=True) + rect(20, 125, 170, 62, GREY) + rect(
        130, 95, 50, 30, DARK_GREY, 4
    ) + rect(140, 102, 30, 14, LIGHT_GREEN)  # fmt: skip
    d["garde-enfant"] = lambda: person(70, 25, PINK, long_hair=True, hair=BROWN) + person(
        140, 85, YELLOW, 0.55
    ) + line(94, 75, 122, 112)  # fmt: skip
    d["casque-gants"] = lambda: "".join(
        [
            path("M15,100 Q15,40 70,40 Q125,40 125,100 Z", YELLOW),
            line(5, 100, 135, 100, 6),
            line(70, 40, 70, 100, 3),
            # a work glove: four fingers, a thumb, a cuff
            *(
                rect(112 + i * 17, 98 - (6 if i in {1, 2} else 0), 15, 46, ORANGE, 7)
                for i in range(4)
            ),
            path("M112,135 H180 V170 Q180,182 168,182 H124 Q112,182 112,170 Z", ORANGE),
            path("M112,150 Q92,140 90,120 Q92,110 102,114 L114,135", ORANGE),
            rect(116, 172, 60, 16, GREY, 3),
        ]
    )

    # --- people and family ---------------------------------------------------------------------
    d["famille"] = lambda: "".join(
        [
            person(45, 25, BLUE, 0.9) + arms_down(45, 25, 0.9),
            person(100, 32, RED, 0.85, long_hair=True, hair=BROWN),
            person(150, 85, YELLOW, 0.55),
            person(125, 100, GREEN, 0.45),
        ]
    )
    d["enfants-ecole"] = lambda: person(70, 60, RED, 0.8) + person(135, 70, GREEN, 0.75, long_hair=True) + rect(
        40, 80, 16, 40, BLUE, 4
    ) + rect(155, 88, 14, 36, ORANGE, 4)  # fmt: skip
    d["femme-homme"] = lambda: person(60, 25, PURPLE, 0.9, long_hair=True) + person(140, 25, BLUE, 0.9) + "".join(
        [line(82, 70, 118, 70, 5), arms_down(60, 25, 0.9).split("/>")[0] + "/>"]
    )  # fmt: skip
    d["mains-serrees"] = lambda: "".join(
        [
            path("M10,90 H70 L95,80 Q110,78 112,90 L90,100", SKIN),
            path("M190,90 H130 L110,105 Q100,118 112,122 L140,110", SKIN),
            rect(0, 80, 20, 30, BLUE),
            rect(180, 80, 20, 30, RED),
            path("M85,100 Q100,118 125,112", width=4),
        ]
    )
    d["sport-ballon"] = lambda: (
        circle(100, 100, 60, WHITE)
        + poly([(100, 75), (122, 92), (114, 118), (86, 118), (78, 92)], INK)
        + "".join(
            line(a, b, c, e)
            for a, b, c, e in (
                (100, 75, 100, 40),
                (122, 92, 155, 82),
                (114, 118, 135, 148),
                (86, 118, 65, 148),
                (78, 92, 45, 82),
            )
        )
    )
    d["piscine"] = lambda: (
        rect(15, 90, 170, 80, LIGHT_BLUE)
        + "".join(
            path(f"M15,{y} Q35,{y - 10} 55,{y} T95,{y} T135,{y} T175,{y}", width=3)
            for y in (115, 145)
        )
        + circle(90, 100, 14, SKIN)
        + path("M110,98 Q130,80 150,95", width=5)
    )

    # --- signs read as signs (the text is what the item asks about) --------------------------------
    def sign(words: str, fill: str, ink: str = WHITE, size: int = 26) -> str:
        return rect(15, 60, 170, 80, fill, 8) + text(100, 110, words, size, ink)

    d["panneau-sortie"] = lambda: sign("SORTIE", GREEN)
    d["panneau-entree"] = lambda: sign("ENTRÉE", BLUE)
    d["panneau-ferme"] = lambda: sign("FERMÉ", RED)
    d["panneau-ouvert"] = lambda: sign("OUVERT", GREEN)
    d["panneau-toilettes"] = lambda: sign("TOILETTES", BLUE, size=24)
    d["panneau-interdit-fumer"] = lambda: "".join(
        [
            circle(100, 100, 75, WHITE),
            rect(50, 92, 90, 16, GREY),
            rect(140, 92, 14, 16, ORANGE),
            f'<circle cx="100" cy="100" r="75" fill="none" stroke="{RED}" stroke-width="14"/>',
            f'<line x1="47" y1="47" x2="153" y2="153" stroke="{RED}" stroke-width="14"/>',
        ]
    )

    # --- the non-reader pool: more times, quantities, pictograms heard rather than read ---------
    for h, m in (
        (11, 0),
        (4, 30),
        (1, 15),
        (5, 45),
        (8, 0),
        (7, 30),
        (9, 0),
        (6, 0),
        (11, 30),
        (4, 0),
    ):
        d[f"horloge-{h}h{m:02d}"] = partial(clock, h, m)

    def spread(n: int, draw: Callable[[float, float, int], str], *, rows: int = 2) -> str:
        """``n`` copies of a drawing centred on a grid (the "how many?" pictures)."""
        per_row = math.ceil(n / rows) if n > 2 else n
        lines = math.ceil(n / per_row)
        parts = []
        for k in range(n):
            r, c = divmod(k, per_row)
            in_row = min(per_row, n - r * per_row)
            x = 100 + (c - (in_row - 1) / 2) * (180 / max(per_row, 2))
            y = 100 + (r - (lines - 1) / 2) * 80
            parts.append(draw(x, y, k))
        return "".join(parts)

    def small_apple(x: float, y: float, _k: int) -> str:
        return (
            circle(x, y + 6, 22, RED)
            + line(x, y - 16, x + 4, y - 28, 4)
            + ellipse(x + 14, y - 22, 10, 5, GREEN)
        )

    def child(x: float, y: float, k: int) -> str:
        return person(x, y - 42, (BLUE, ORANGE, GREEN, PURPLE)[k % 4], 0.55)

    def note(x: float, y: float, _k: int) -> str:
        return rect(x - 36, y - 18, 72, 36, LIGHT_GREEN, 4) + circle(x, y, 9)

    for n in range(1, 6):
        d[f"nombre-pommes-{n}"] = partial(spread, n, small_apple)
    for n in range(1, 5):
        d[f"nombre-enfants-{n}"] = partial(spread, n, child, rows=1)
        d[f"nombre-billets-{n}"] = partial(spread, n, note)

    def forbidden(inner: str) -> str:
        return "".join(
            [
                circle(100, 100, 75, WHITE),
                inner,
                f'<circle cx="100" cy="100" r="75" fill="none" stroke="{RED}" stroke-width="14"/>',
                f'<line x1="47" y1="47" x2="153" y2="153" stroke="{RED}" stroke-width="14"/>',
            ]
        )

    d["picto-interdit-telephone"] = lambda: forbidden(
        rect(78, 50, 44, 100, DARK_GREY, 8) + rect(84, 62, 32, 60, LIGHT_BLUE, 2)
    )
    d["picto-interdit-chiens"] = lambda: forbidden(
        ellipse(100, 105, 38, 18, BROWN)
        + circle(140, 88, 14, BROWN)
        + line(72, 118, 70, 140, 6)
        + line(128, 118, 130, 140, 6)
        + line(62, 100, 50, 88, 5)
    )
    d["picto-sortie-secours"] = lambda: "".join(
        [
            rect(15, 40, 170, 120, GREEN, 10),
            rect(125, 55, 45, 90, WHITE, 2),
            circle(80, 65, 11, WHITE),
            # a running figure in white strokes, towards the door
            (
                f'<path d="M80,78 L70,110 L50,130 M70,110 L92,128 L96,150 M76,88 L58,96 M78,88 '
                f'L100,96 L112,84" fill="none" stroke="{WHITE}" stroke-width="8" stroke-linecap="round"/>'
            ),
        ]
    )
    return d


def pictures() -> dict[str, str]:
    """Every picture of the bank as ``{file stem: SVG text}``."""
    return {name: svg(draw()) for name, draw in sorted(_drawings().items())}


def write(out: Path) -> int:
    """Write every picture into ``out`` as ``<name>.svg``; return how many were written."""
    out.mkdir(parents=True, exist_ok=True)
    drawn = pictures()
    for name, content in tqdm(drawn.items(), unit="picture", desc="pictures"):
        (out / f"{name}.svg").write_text(content, encoding="utf-8")
    return len(drawn)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m itembank.tools.pictures [--out DIR]``."""
    parser = argparse.ArgumentParser(prog="python -m itembank.tools.pictures", description=__doc__)
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).parents[1] / "bank" / "media" / "pictures"
    )
    args = parser.parse_args(argv)
    count = write(args.out)
    sys.stdout.write(f"{count} pictures written to {args.out}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
