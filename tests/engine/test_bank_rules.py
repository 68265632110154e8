"""Parameter CSVs, releases (duck-typed), and rules files."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from placement.bank import load_bank, pool_from_csv, pool_from_release
from placement.errors import InvalidBank, InvalidPool, InvalidRules
from placement.rules import DEFAULT_RULES, default_rules, load_rules

CSV = """id,skill,theme,model,a,b,c,d,b1,b2,b3,pretest,enemies,non_reader
CO-001,CO,vie pratique,3PL,1.2,-0.5,0.2,,,,,0,CO-002,1
CO-002,CO,vie publique,2PL,0.9,0.3,,,,,,0,,1
CE-001,CE,vie pratique,1PL,1.0,0.0,0,1,,,,1,,0
EO-001,EO,vie professionnelle,GRM,1.1,,,,-1.0,0.0,1.2,0,,1
EE-001,EE,vie pratique,GPCM,0.8,,,,-0.5,0.4,,0,,0
"""


def test_a_parameter_csv_becomes_a_pool(write_csv) -> None:
    pool = pool_from_csv(write_csv("p.csv", CSV))
    assert pool.ids == ("CO-001", "CO-002", "CE-001", "EO-001", "EE-001")
    assert pool.models == ("3PL", "2PL", "1PL", "GRM", "GPCM")
    assert pool.c.tolist() == [0.2, 0.0, 0.0, 0.0, 0.0]
    assert pool.d.tolist() == [1.0] * 5
    assert pool.n_categories.tolist() == [2, 2, 2, 4, 3]
    assert pool.b[3] == pytest.approx(np.mean([-1.0, 0.0, 1.2]))
    assert np.isnan(pool.thresholds[4, 2])
    assert pool.enemies[0] == frozenset({1})
    assert pool.enemies[1] == frozenset({0})
    assert pool.pretest.tolist() == [False, False, True, False, False]
    assert pool.non_reader.tolist() == [True, True, False, True, False]


@pytest.mark.parametrize(
    ("edit", "error", "message"),
    [
        (
            lambda t: t.replace(",1.2,-0.5,", ",abc,-0.5,"),
            InvalidBank,
            "ligne 2 : a='abc' n'est pas",
        ),
        (
            lambda t: t.replace("id,skill,theme,", "ident,skill,theme,"),
            InvalidBank,
            "colonne\\(s\\) manquante",
        ),
        (lambda t: t.replace(",0.9,0.3,", ",-0.9,0.3,"), InvalidBank, "ligne 3 : a=-0.9 doit être"),
        (lambda t: t.replace("GPCM,0.8,,,,-0.5,0.4", "GPCM,0.8,,,,,"), InvalidBank, "seuils"),
        (lambda t: t.replace("2PL,0.9", "9PL,0.9"), InvalidBank, "ligne 3 : modèle inconnu '9PL'"),
        (
            lambda t: t.replace(",0,CO-002,1", ",maybe,CO-002,1"),
            InvalidBank,
            "'maybe' ne vaut ni 0 ni 1",
        ),
        (lambda t: t.splitlines()[0] + "\n", InvalidPool, "aucun item"),
        (
            lambda t: t.replace(",0.9,0.3,", ",nan,0.3,"),
            InvalidBank,
            "a='nan' n'est pas un nombre fini",
        ),
    ],
)
def test_bad_csv_is_refused_with_line_and_column(write_csv, edit, error, message) -> None:
    with pytest.raises(error, match=message):
        pool_from_csv(write_csv("bad.csv", edit(CSV)))


def test_missing_file_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(InvalidBank, match="lecture impossible"):
        pool_from_csv(tmp_path / "none.csv")


@dataclass
class FakeItem:
    status: str = "operational"
    enemies: tuple[str, ...] = ()
    non_reader: bool = False


@dataclass
class FakeRelease:
    parameters_path: Path
    items: dict[str, FakeItem] = field(default_factory=dict)
    version: str = "test"


def test_release_items_give_status_enemies_and_non_reader(write_csv) -> None:
    path = write_csv("parameters.csv", CSV)
    release = FakeRelease(
        path,
        {
            "CO-001": FakeItem(non_reader=False),
            "CO-002": FakeItem(status="retired"),
            "CE-001": FakeItem(enemies=("EE-001",)),
            "EO-001": FakeItem(status="pilot", non_reader=True),
            "EE-001": FakeItem(),
        },
    )
    pool = pool_from_release(release)
    assert pool.ids == ("CO-001", "CE-001", "EO-001", "EE-001")  # retired item left out
    assert pool.non_reader.tolist() == [False, False, True, False]  # the item wins over the CSV
    assert pool.pretest.tolist() == [False, True, True, False]  # pilot -> pretest
    assert pool.enemies[pool.index("CE-001")] == frozenset({pool.index("EE-001")})
    del release.items["EE-001"]
    with pytest.raises(InvalidBank, match="n'est pas dans la version"):
        pool_from_release(release)


def test_load_bank_reads_a_csv(write_csv) -> None:
    bank = load_bank(write_csv("mine.csv", CSV))
    assert bank.version == "mine"
    assert bank.cut_scores is None
    assert len(bank.pool) == 5


def test_default_rules_are_the_cir_blueprint() -> None:
    rules = default_rules()
    assert rules == load_rules(DEFAULT_RULES)
    assert [(s.skill, s.min_items, s.max_items) for s in rules.sections] == [
        ("CO", 8, 12), ("CE", 8, 12), ("EO", 3, 6), ("EE", 2, 4),
    ]  # fmt: skip
    assert rules.non_reader_skills == ("CO", "EO")
    assert rules.cut_scores["CO"]["A1"] == -0.5
    assert load_rules("cir") == rules


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        ("sections: []\n", "aucune section"),
        ("sections: [{skill: CO, min_items: 5, max_items: 2}]\n", "min_items ≤ max_items"),
        ("sections: [{skill: CO, max_items: 2}]\nselection: {method: best}\n", "selection.method"),
        ("sections: [{skill: CO, max_items: 2}]\nstopping: {se_target: -1}\n", "se_target"),
        ("sections: [{skill: CO, max_items: 2}]\nexposure: {randomesque_k: 0}\n", "randomesque_k"),
        (
            "sections: [{skill: CO, max_items: 2}]\nbogus: 1\n",
            "clé\\(s\\) inconnue\\(s\\) \\['bogus'\\]",
        ),
        ("sections: [{skill: CO, max_items: two}]\n", "doit être un nombre, reçu 'two'"),
        ("sections: [{skill: CO, max_items: 2}]\nskill_correlation: [[1, 2], [2, 1]]\n", "4x4"),
        ("sections: [{skill: CO, max_items: 2}]\ncut_scores: {CO: {A1: 1, A2: 0}}\n", "croître"),
        ("sections: [{skill: CO, max_items: 2}, {skill: CO, max_items: 2}]\n", "deux sections"),
        ("- not a mapping\n", "table de clés"),
        ("sections: [unclosed\n", "YAML invalide, ligne 2"),
        (
            (
                "sections: [{skill: CO, max_items: 2}, {skill: CE, max_items: 2}]\n"
                "non_reader_sections: [{skill: CE, max_items: 4}]\n"
            ),
            "n'est pas une section du parcours des non-lecteurs",
        ),
        (
            "sections: [{skill: CO, max_items: 2}]\nnon_reader_sections: [{skill: EO}]\n",
            "pas de section 'EO'",
        ),
        (
            (
                "sections: [{skill: CO, max_items: 2}]\n"
                "non_reader_sections: [{skill: CO, min_items: 5, max_items: 4}]\n"
            ),
            "min_items ≤ max_items",
        ),
        (
            (
                "sections: [{skill: CO, max_items: 2}]\n"
                "non_reader_sections: [{skill: CO, max_items: 4}, {skill: CO, max_items: 5}]\n"
            ),
            "non_reader_sections : la compétence 'CO' a deux sections",
        ),
        (
            "sections: [{skill: CO, max_items: 2}]\nnon_reader_sections: {CO: 4}\n",
            "doit être une liste",
        ),
    ],
)
def test_bad_rules_files_are_refused_with_the_key_named(tmp_path, yaml_text, message) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(yaml_text)
    with pytest.raises(InvalidRules, match=message):
        load_rules(path)


def test_non_readers_have_their_own_section_lengths(tmp_path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(
        "sections:\n"
        "  - {skill: CO, min_items: 8, max_items: 12, item_seconds: 45, se_target: 0.4}\n"
        "  - {skill: CE, min_items: 8, max_items: 12}\n"
        "  - {skill: EO, min_items: 3, max_items: 6, item_seconds: 90}\n"
        "non_reader_skills: [CO, EO]\n"
        "non_reader_sections:\n"
        "  - {skill: EO, max_items: 8}\n"
        "  - {skill: CO, min_items: 20, max_items: 24}\n"
    )
    rules = load_rules(path)
    assert rules.path_sections() == rules.sections
    co, eo = rules.path_sections(non_reader=True)  # the test's order, not the override list's
    # what an override leaves out is its section's
    assert (co.skill, co.min_items, co.max_items, co.item_seconds, co.se_target) == (
        "CO", 20, 24, 45.0, 0.4,
    )  # fmt: skip
    assert (eo.skill, eo.min_items, eo.max_items, eo.item_seconds) == ("EO", 3, 8, 90.0)
    # without overrides the non-readers take the readers' sections of their skills
    plain = rules.with_changes(non_reader_sections=())
    assert plain.path_sections(non_reader=True) == (rules.sections[0], rules.sections[2])
    # rules narrowed to fewer sections keep the overrides of the skills they still have
    narrowed = rules.with_changes(sections=rules.sections[:2])
    assert narrowed.path_sections(non_reader=True) == (co,)
    assert narrowed.with_changes(non_reader_skills=()).path_sections(non_reader=True) == ()


def test_the_cir_rules_give_non_readers_the_time_of_reading_and_writing() -> None:
    rules = default_rules()
    path = rules.path_sections(non_reader=True)
    assert [s.skill for s in path] == ["CO", "EO"]
    for own in path:
        reader = rules.section(own.skill)
        assert own.max_items >= reader.max_items

    # the non-readers' longest test takes no more time than the readers' longest
    def longest(sections) -> float:
        return sum(s.max_items * (s.item_seconds or 0) for s in sections)

    assert longest(path) <= longest(rules.sections)
    assert sum(s.max_items for s in path) <= rules.stopping.max_items
    assert longest(path) <= rules.stopping.time_limit_s


def test_missing_rules_file(tmp_path) -> None:
    with pytest.raises(InvalidRules, match="fichier de règles introuvable"):
        load_rules(tmp_path / "nope.yaml")


def test_load_bank_reads_the_newest_bundled_release_as_latest() -> None:
    import itembank

    bank = load_bank("latest")
    assert bank.version == itembank.list_releases()[-1]
    assert len(bank.pool) > 0
    assert bank.cut_scores is not None
    assert "A1" in bank.cut_scores["CO"]


def test_load_bank_refuses_an_unknown_version_clearly() -> None:
    with pytest.raises(
        InvalidBank,
        match=r"version de banque '1999\.01\.0' illisible : pas de version 1999\.01\.0 sous .* "
        r"\(versions publiées : 2026\.11\.0, ",
    ):
        load_bank("1999.01.0")
