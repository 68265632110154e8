"""Write the non-reader items from two tables: listening ``CO-301`` on, speaking ``EO-301`` on.

A candidate who cannot read takes the listening and speaking parts on pictures and sound. This
table holds the listening items of that path (issue 16: the pool at full depth): who, where,
what, how many, what time, short dialogues, signs and pictograms heard rather than read, spread
over pré-A1 (the A1.1 items) to A2 and the three themes. Each row is one item: its level, theme,
topic, the question (a spoken instruction shared by every item that asks it), the listening text
(``A:``/``B:`` lines make a dialogue), the pictures offered and the right one.

Run it after changing the table, then make the sound and check::

    .venv/bin/python -m itembank.tools.nonreader          # writes CO/CO-3xx.yaml, EO/EO-3xx.yaml
    .venv/bin/python -m itembank.tools.synth --jobs 1     # the spoken instructions and texts
    .venv/bin/itembank validate itembank/bank

The writing rules the table follows: A1.1 texts say the answer in one or two short sentences; A1
texts are two or three sentences or a two-turn dialogue and name a second picture as a
distractor; A2 texts are longer, name several pictures and change or correct one (the answer is
the one that holds at the end). The right picture's place among the choices is spread evenly
(from the row's position), and items whose right picture is the same are enemies of each other
and of the bank's earlier items with that right picture, so that one never gives the other away.
"""

from __future__ import annotations

# ruff: noqa: E501  (the table: one item per line reads better than wrapped rows)
import argparse
import re
import sys
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from itembank.tools.synth import VoiceRecord

BANK = Path(__file__).resolve().parents[1] / "bank"
FIRST_NUMBER = 301
AUTHOR = "équipe placement"
DATE = "2026-12-07"

#: The spoken question of each kind of item (the file is shared by every item that asks it).
ASK: dict[str, str] = {
    "qui": "Écoutez. Qui parle ? Touchez la bonne image.",
    "ou": "Écoutez. Où va la personne ? Touchez la bonne image.",
    "ou_est": "Écoutez. Où est la personne ? Touchez la bonne image.",
    "quoi": "Écoutez. Qu'est-ce que la personne veut ? Touchez la bonne image.",
    "achete": "Écoutez. Qu'est-ce que la personne achète ? Touchez la bonne image.",
    "apporter": "Écoutez. Qu'est-ce que la personne doit apporter ? Touchez la bonne image.",
    "combien": "Écoutez. Combien ? Touchez la bonne image.",
    "heure": "Écoutez. À quelle heure ? Touchez la bonne image.",
    "probleme": "Écoutez. Quel est le problème ? Touchez la bonne image.",
    "temps": "Écoutez. Quel temps fait-il ? Touchez la bonne image.",
    "transport": "Écoutez. Comment la personne y va ? Touchez la bonne image.",
    "panneau": "Écoutez l'annonce. Quel panneau ? Touchez la bonne image.",
    "dlg_ou": "Écoutez le dialogue. Où va la personne ? Touchez la bonne image.",
    "dlg_achete": "Écoutez le dialogue. Qu'est-ce que la personne achète ? Touchez la bonne image.",
    "dlg_heure": "Écoutez le dialogue. À quelle heure est le rendez-vous ? Touchez la bonne image.",
    "dlg_qui": "Écoutez le dialogue. Quel est le métier de la personne ? Touchez la bonne image.",
    "dlg_combien": "Écoutez le dialogue. Combien ? Touchez la bonne image.",
    "dlg_probleme": "Écoutez le dialogue. Quel est le problème ? Touchez la bonne image.",
    "dlg_transport": "Écoutez le dialogue. Comment la personne y va ? Touchez la bonne image.",
}

#: What each picture shows, for the auditeur (never sent to the tablet).
LABELS: dict[str, str] = {
    "agent-entretien": "un agent d'entretien", "aide-soignante": "une aide-soignante",
    "ambulance": "une ambulance", "ampoule": "une ampoule", "arret-bus": "l'arrêt de bus",
    "ascenseur": "l'ascenseur", "avion": "l'avion", "baguette": "une baguette",
    "balance-justice": "le tribunal (la justice)", "bananes": "des bananes",
    "banque": "la banque", "bebe": "un bébé", "bibliotheque": "la bibliothèque",
    "billets": "des billets", "boite-aux-lettres": "la boîte aux lettres",
    "boulangerie": "la boulangerie", "bureau": "un bureau", "bus": "le bus",
    "caddie": "un caddie", "cafe": "un café", "caissiere": "une caissière",
    "calendrier": "un calendrier", "camion-pompiers": "les pompiers",
    "cartable": "un cartable", "carte-bancaire": "une carte bancaire",
    "carte-identite": "une carte d'identité", "casque-gants": "un casque et des gants",
    "chauffeur": "un chauffeur", "chaussures": "des chaussures", "cle": "une clé",
    "commissariat": "le commissariat", "cuisine": "la cuisine", "cuisinier": "un cuisinier",
    "demenagement": "un déménagement", "dent": "une dent (le dentiste)",
    "distributeur": "un distributeur de billets", "ecole": "l'école",
    "enfants-ecole": "des enfants à l'école", "escalier": "l'escalier", "entretien-embauche": "un entretien d'embauche",
    "famille": "une famille", "feu-rouge": "un feu rouge", "formulaire": "un formulaire",
    "fromage": "du fromage", "garde-enfant": "une garde d'enfants", "gateau": "un gâteau",
    "hopital": "l'hôpital", "immeuble": "un immeuble", "infirmiere": "une infirmière",
    "jardinier": "un jardinier", "lait": "du lait", "lettre": "une lettre", "lit": "un lit",
    "lit-hopital": "un lit d'hôpital", "livre": "un livre", "mairie": "la mairie",
    "maison": "une maison", "mal-au-ventre": "mal au ventre", "mal-de-tete": "mal à la tête",
    "manteau": "un manteau", "medecin": "un médecin", "medicaments": "des médicaments",
    "metro": "le métro", "neige": "la neige", "oeufs": "des œufs",
    "ordinateur": "un ordinateur", "ouvrier-chantier": "un ouvrier du bâtiment",
    "pantalon": "un pantalon", "pharmacie": "la pharmacie", "pieces": "des pièces",
    "piscine": "la piscine", "pluie": "la pluie", "poisson": "du poisson",
    "pommes": "des pommes", "porte-fermee": "une porte fermée", "poste": "la poste", "poubelle": "la poubelle", "pull": "un pull",
    "robe": "une robe", "robinet-fuite": "une fuite d'eau", "salle-de-bain": "la salle de bains",
    "soleil": "le soleil", "sport-ballon": "un ballon (le sport)",
    "supermarche": "le supermarché", "taxi": "un taxi", "telephone": "un téléphone",
    "thermometre": "un thermomètre (la fièvre)", "ticket": "un ticket", "tomates": "des tomates",
    "train": "le train", "valise": "une valise", "velo": "un vélo", "vendeuse": "une vendeuse",
    "vent-froid": "le vent et le froid", "voiture": "une voiture",
    "voiture-police": "une voiture de police",
    "picto-interdit-telephone": "pictogramme : téléphone interdit",
    "picto-interdit-chiens": "pictogramme : chiens interdits",
    "picto-sortie-secours": "pictogramme : sortie de secours",
    "panneau-interdit-fumer": "pictogramme : interdit de fumer",
    **{f"nombre-pommes-{n}": f"{n} pomme{'s' * (n > 1)}" for n in range(1, 6)},
    **{f"nombre-enfants-{n}": f"{n} enfant{'s' * (n > 1)}" for n in range(1, 5)},
    **{f"nombre-billets-{n}": f"{n} billet{'s' * (n > 1)}" for n in range(1, 5)},
    **{
        f"horloge-{h}h{m:02d}": f"une horloge : {h} h {m:02d}"
        for h, m in ((8, 30), (7, 0), (12, 0), (9, 45), (3, 0), (6, 15), (10, 0), (2, 30),
                     (11, 0), (4, 30), (1, 15), (5, 45), (8, 0), (7, 30), (9, 0), (6, 0),
                     (11, 30), (4, 0))
    },
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Row:
    """One item of the table."""

    level: str  # A1.1 (pré-A1 and A1.1) | A1 | A2
    theme: str  # pratique | publique | pro
    topic: str
    ask: str  # a key of ASK
    text: str  # the listening text; "A: ... / B: ..." lines for a dialogue
    choices: tuple[str, ...]  # pictures (file stems)
    key: str  # the right picture, one of choices
    voices: str = ""  # "f", "m" (speaker A), or "fm", "mf" (A then B) when the text implies it


THEMES = {"pratique": "vie pratique", "publique": "vie publique", "pro": "vie professionnelle"}
P, U, W = "pratique", "publique", "pro"


def r(level: str, theme: str, topic: str, ask: str, text: str, choices: str, key: str,  # noqa: PLR0917 - one table row, positional for a compact table
      voices: str = "") -> Row:  # fmt: skip
    """A row, with the choices written as one space-separated string."""
    return Row(level, theme, topic, ask, text, tuple(choices.split()), key, voices)


# fmt: off
TABLE: tuple[Row, ...] = (
    # ---------------------------------------------------------------- A1.1 (pré-A1 and A1.1)
    r("A1.1", P, "santé", "ou", "J'ai mal aux dents. Je vais chez le dentiste.", "dent pharmacie boulangerie poste", "dent"),
    r("A1.1", P, "courses", "achete", "Je voudrais du pain, s'il vous plaît. Une baguette.", "baguette lait fromage pommes", "baguette"),
    r("A1.1", P, "courses", "achete", "Bonjour. Un litre de lait, s'il vous plaît.", "lait oeufs poisson tomates", "lait"),
    r("A1.1", P, "courses", "combien", "Je prends trois pommes.", "nombre-pommes-1 nombre-pommes-3 nombre-pommes-5", "nombre-pommes-3"),
    r("A1.1", P, "famille", "combien", "J'ai deux enfants.", "nombre-enfants-1 nombre-enfants-2 nombre-enfants-4", "nombre-enfants-2"),
    r("A1.1", P, "météo", "temps", "Aujourd'hui, il pleut. Prenez un parapluie.", "pluie soleil neige", "pluie"),
    r("A1.1", P, "météo", "temps", "Il fait beau et chaud aujourd'hui.", "soleil pluie vent-froid", "soleil"),
    r("A1.1", P, "transport", "transport", "Je vais au travail en vélo.", "velo bus voiture metro", "velo"),
    r("A1.1", P, "santé", "probleme", "J'ai mal à la tête.", "mal-de-tete mal-au-ventre dent", "mal-de-tete"),
    r("A1.1", P, "temps", "heure", "Il est sept heures.", "horloge-7h00 horloge-11h00 horloge-4h30", "horloge-7h00"),
    r("A1.1", U, "école", "ou", "Je vais à l'école avec mon fils.", "ecole hopital banque mairie", "ecole"),
    r("A1.1", U, "services", "ou", "Je vais à la poste. J'envoie une lettre.", "poste piscine boulangerie", "poste"),
    r("A1.1", U, "sécurité", "qui", "Police ! Ne bougez pas !", "voiture-police ambulance taxi", "voiture-police"),
    r("A1.1", U, "services", "ou", "Je vais à la mairie.", "mairie supermarche piscine ecole", "mairie"),
    r("A1.1", U, "temps", "heure", "La mairie ouvre à neuf heures.", "horloge-9h00 horloge-6h00 horloge-12h00", "horloge-9h00"),
    r("A1.1", U, "loisirs", "ou", "J'aime nager. Je vais à la piscine.", "piscine bibliotheque commissariat", "piscine"),
    r("A1.1", U, "santé", "qui", "Au secours ! Appelez une ambulance !", "ambulance bus voiture-police", "ambulance"),
    r("A1.1", U, "papiers", "apporter", "Apportez votre carte d'identité.", "carte-identite cle telephone livre", "carte-identite"),
    r("A1.1", W, "travail", "qui", "Je suis chauffeur. Je conduis un bus.", "chauffeur cuisinier jardinier", "chauffeur", "m"),
    r("A1.1", W, "travail", "qui", "Je suis infirmière. Je travaille à l'hôpital.", "infirmiere caissiere vendeuse", "infirmiere", "f"),
    r("A1.1", W, "travail", "qui", "Je fais la cuisine au restaurant.", "cuisinier chauffeur ouvrier-chantier agent-entretien", "cuisinier"),
    r("A1.1", W, "travail", "apporter", "Pour le chantier, prenez le casque et les gants.", "casque-gants valise cartable", "casque-gants"),
    r("A1.1", W, "travail", "heure", "Je commence le travail à six heures.", "horloge-6h00 horloge-9h00 horloge-1h15", "horloge-6h00"),
    r("A1.1", W, "travail", "combien", "Je travaille avec quatre collègues. Quatre.", "nombre-enfants-2 nombre-enfants-4 nombre-enfants-1", "nombre-enfants-4"),
    r("A1.1", W, "travail", "ou_est", "Je suis au bureau. Je travaille sur l'ordinateur.", "bureau cuisine salle-de-bain", "bureau"),
    r("A1.1", W, "argent", "combien", "Voilà deux billets.", "nombre-billets-2 nombre-billets-4 nombre-billets-1", "nombre-billets-2"),
    # ---------------------------------------------------------------- A1
    r("A1", P, "courses", "dlg_achete", "A: Bonjour, vous désirez ?\nB: Je voudrais des tomates, s'il vous plaît. Pas de pommes aujourd'hui.", "tomates pommes bananes oeufs", "tomates", "mf"),
    r("A1", P, "courses", "dlg_combien", "A: Combien de pommes ?\nB: Cinq, s'il vous plaît.\nA: Voilà, cinq pommes.", "nombre-pommes-2 nombre-pommes-5 nombre-pommes-4", "nombre-pommes-5"),
    r("A1", P, "logement", "probleme", "Allô, bonjour. Il y a de l'eau partout dans ma cuisine. Le robinet fuit.", "robinet-fuite ampoule porte-fermee poubelle", "robinet-fuite"),
    r("A1", P, "logement", "probleme", "Bonjour monsieur. La lumière ne marche plus dans le salon. Il faut changer l'ampoule.", "ampoule robinet-fuite cle", "ampoule"),
    r("A1", P, "logement", "probleme", "J'ai perdu ma clé. Je ne peux pas entrer chez moi.", "cle carte-bancaire telephone", "cle"),
    r("A1", P, "santé", "dlg_probleme", "A: Qu'est-ce qui ne va pas ?\nB: J'ai mal au ventre depuis hier soir.", "mal-au-ventre mal-de-tete dent thermometre", "mal-au-ventre"),
    r("A1", P, "santé", "probleme", "Mon fils est malade. Il a de la fièvre, trente-neuf.", "thermometre dent mal-de-tete", "thermometre"),
    r("A1", P, "transport", "dlg_transport", "A: Tu viens comment ? En bus ?\nB: Non, le bus est trop lent. Je prends le métro.", "metro bus taxi velo", "metro"),
    r("A1", P, "transport", "transport", "Mon avion part demain matin. Je vais voir ma famille.", "avion train bus", "avion"),
    r("A1", P, "vêtements", "achete", "Il fait froid. J'achète un manteau pour l'hiver.", "manteau robe chaussures pantalon", "manteau"),
    r("A1", P, "vêtements", "dlg_achete", "A: Bonjour madame, je peux vous aider ?\nB: Oui, je cherche des chaussures pour mon fils.", "chaussures pull pantalon", "chaussures", "mf"),
    r("A1", P, "temps", "heure", "Le magasin ferme à midi, puis il ouvre à deux heures et demie.", "horloge-2h30 horloge-12h00 horloge-8h00 horloge-4h00", "horloge-2h30"),
    r("A1", P, "courses", "ou", "Je n'ai plus d'argent. Je vais au distributeur, à côté de la banque.", "distributeur boulangerie pharmacie", "distributeur"),
    r("A1", U, "santé", "dlg_heure", "A: Cabinet médical, bonjour.\nB: Bonjour, je voudrais un rendez-vous.\nA: Demain à dix heures, ça va ?\nB: Oui, dix heures, merci.", "horloge-10h00 horloge-9h45 horloge-12h00 horloge-4h00", "horloge-10h00", "fm"),
    r("A1", U, "école", "heure", "L'école commence à huit heures et demie. Les enfants sortent à quatre heures et demie.", "horloge-8h30 horloge-7h30 horloge-9h00", "horloge-8h30"),
    r("A1", U, "école", "apporter", "Pour demain, les enfants apportent un livre de la bibliothèque.", "livre cartable ordinateur", "livre"),
    r("A1", U, "services", "dlg_ou", "A: Je dois envoyer un colis. Où est-ce que je vais ?\nB: À la poste, à côté de la mairie.", "poste mairie banque", "poste"),
    r("A1", U, "services", "ou", "Je voudrais ouvrir un compte. Je vais à la banque ce matin.", "banque poste mairie hopital", "banque"),
    r("A1", U, "sécurité", "ou", "On m'a volé mon sac. Je vais au commissariat de police.", "commissariat hopital ecole", "commissariat"),
    r("A1", U, "sécurité", "qui", "Il y a le feu dans l'immeuble ! Appelez les pompiers, le dix-huit !", "camion-pompiers voiture-police ambulance", "camion-pompiers"),
    r("A1", U, "loisirs", "ou", "Le samedi, j'emprunte des livres pour mes enfants. C'est gratuit.", "bibliotheque supermarche piscine", "bibliotheque"),
    r("A1", U, "papiers", "apporter", "Pour le dossier, apportez le formulaire rempli et une photo.", "formulaire cle valise", "formulaire"),
    r("A1", U, "civique", "ou_est", "Aujourd'hui, on vote. Je mets mon bulletin dans l'urne, à la mairie.", "mairie ecole hopital", "mairie"),
    r("A1", U, "transport", "panneau", "Attention : dans le train, il est interdit de fumer.", "panneau-interdit-fumer picto-interdit-telephone picto-interdit-chiens", "panneau-interdit-fumer"),
    r("A1", U, "sécurité", "panneau", "En cas d'incendie, sortez par la sortie de secours.", "picto-sortie-secours ascenseur escalier", "picto-sortie-secours"),
    r("A1", U, "transport", "heure", "Le bus numéro douze passe à sept heures et demie.", "horloge-7h30 horloge-7h00 horloge-12h00", "horloge-7h30"),
    r("A1", W, "travail", "dlg_qui", "A: Qu'est-ce que vous faites comme travail ?\nB: Je m'occupe des jardins de la ville. Je coupe l'herbe et les arbres.", "jardinier chauffeur cuisinier agent-entretien", "jardinier"),
    r("A1", W, "travail", "dlg_qui", "A: Vous travaillez où ?\nB: Au supermarché. Je suis à la caisse.", "caissiere infirmiere garde-enfant", "caissiere", "mf"),
    r("A1", W, "travail", "qui", "Je nettoie les bureaux le soir, après le travail des employés.", "agent-entretien ouvrier-chantier jardinier", "agent-entretien"),
    r("A1", W, "travail", "qui", "Je garde les enfants de deux familles pendant la journée.", "garde-enfant infirmiere vendeuse caissiere", "garde-enfant", "f"),
    r("A1", W, "recherche d'emploi", "dlg_heure", "A: Vous avez un entretien d'embauche jeudi.\nB: À quelle heure ?\nA: À onze heures.", "horloge-11h00 horloge-1h15 horloge-7h00", "horloge-11h00"),
    r("A1", W, "travail", "transport", "Pour aller au travail, je prends le train de six heures.", "train avion taxi", "train"),
    r("A1", W, "travail", "ou_est", "Je travaille dans un hôpital. J'aide les malades à manger et à se laver.", "hopital ecole banque", "hopital"),
    r("A1", W, "argent", "dlg_combien", "A: Le repas fait quarante euros.\nB: Voilà deux billets de vingt.", "nombre-billets-2 nombre-billets-3 nombre-billets-4", "nombre-billets-2"),
    r("A1", W, "travail", "apporter", "Lundi, vous commencez. Apportez votre carte bancaire pour le salaire.", "carte-bancaire carte-identite cle", "carte-bancaire"),
    r("A1", W, "recherche d'emploi", "ou", "Demain, j'ai un entretien d'embauche pour un poste de vendeur.", "entretien-embauche hopital piscine", "entretien-embauche"),
    r("A1", W, "travail", "heure", "La pause du midi finit à une heure et quart.", "horloge-1h15 horloge-12h00 horloge-3h00", "horloge-1h15"),
    # ---------------------------------------------------------------- A2
    r("A2", P, "courses", "dlg_achete", "A: Je prends des œufs et du fromage ?\nB: Non, il reste des œufs dans le frigo. Prends seulement du poisson pour ce soir.", "poisson oeufs fromage lait", "poisson"),
    r("A2", P, "courses", "dlg_combien", "A: Je voudrais quatre pommes.\nB: Quatre ? Elles sont grosses aujourd'hui.\nA: Ah bon ? Alors deux, ça suffit.", "nombre-pommes-4 nombre-pommes-2 nombre-pommes-1", "nombre-pommes-2"),
    r("A2", P, "logement", "dlg_probleme", "A: Bonjour, c'est pour la salle de bains ?\nB: Non, la salle de bains va bien. C'est l'eau qui coule sous l'évier, dans la cuisine.", "robinet-fuite salle-de-bain ampoule", "robinet-fuite"),
    r("A2", P, "logement", "probleme", "Nous avons trouvé un appartement plus grand. Samedi, on met tout dans des cartons et on change d'adresse.", "demenagement valise poubelle cle", "demenagement"),
    r("A2", P, "santé", "ou", "J'ai appelé le médecin, mais il n'est pas là avant lundi. Comme j'ai encore mal, je vais demander conseil au pharmacien.", "pharmacie medecin hopital", "pharmacie"),
    r("A2", P, "santé", "dlg_probleme", "A: Vous avez de la fièvre ?\nB: Non, je n'ai pas de fièvre, mais je tousse et j'ai très mal à la tête.", "mal-de-tete thermometre mal-au-ventre", "mal-de-tete"),
    r("A2", P, "temps", "heure", "Normalement, le marché commence à sept heures, mais cette semaine il commence plus tard, à huit heures.", "horloge-8h00 horloge-7h00 horloge-10h00 horloge-6h00", "horloge-8h00"),
    r("A2", P, "transport", "dlg_transport", "A: Tu prends ta voiture pour aller à Lyon ?\nB: J'aimerais bien, mais elle est au garage. Je vais prendre le train.", "train voiture bus", "train"),
    r("A2", P, "transport", "transport", "Le métro est en grève aujourd'hui et les bus sont pleins. Avec mes valises, je vais prendre un taxi.", "taxi metro bus velo", "taxi"),
    r("A2", P, "météo", "temps", "Ce matin il faisait beau, mais cet après-midi le vent souffle fort et il fait très froid. Mettez un manteau.", "vent-froid soleil pluie", "vent-froid"),
    r("A2", P, "vêtements", "dlg_achete", "A: Cette robe vous plaît ?\nB: Elle est jolie, mais trop chère. Je vais plutôt prendre un pull.", "pull robe manteau", "pull", "mf"),
    r("A2", P, "courses", "ou", "Le samedi, le supermarché est plein. Je préfère y aller le dimanche matin, pour faire toutes mes courses de la semaine.", "supermarche boulangerie banque", "supermarche"),
    r("A2", P, "famille", "combien", "Nous étions trois enfants à la maison. Depuis la naissance du bébé, ils sont quatre.", "nombre-enfants-3 nombre-enfants-4 nombre-enfants-2", "nombre-enfants-4"),
    r("A2", U, "école", "dlg_heure", "A: La réunion avec la maîtresse, c'est à quatre heures ?\nB: Non, elle a changé : c'est à cinq heures quarante-cinq, après la classe.", "horloge-5h45 horloge-4h00 horloge-4h30", "horloge-5h45"),
    r("A2", U, "école", "apporter", "Le cartable est prêt. Mais pour la sortie de jeudi, n'oubliez pas : chaque enfant apporte une autorisation signée, c'est-à-dire ce formulaire.", "formulaire cartable livre", "formulaire"),
    r("A2", U, "santé", "dlg_ou", "A: Votre fils s'est cassé le bras ? Allez chez le médecin.\nB: Le cabinet est fermé le dimanche.\nA: Alors allez aux urgences de l'hôpital.", "hopital medecin pharmacie", "hopital"),
    r("A2", U, "services", "ou", "Pour refaire mes papiers, je suis allée à la poste, mais on m'a dit que c'était à la mairie. J'y vais demain.", "mairie poste banque commissariat", "mairie", "f"),
    r("A2", U, "services", "apporter", "Pour le rendez-vous à la préfecture, il ne faut pas de photo cette fois. Apportez seulement votre carte d'identité.", "carte-identite formulaire carte-bancaire", "carte-identite"),
    r("A2", U, "transport", "panneau", "Chers voyageurs, dans ce wagon, merci de ne pas téléphoner. Le wagon calme est réservé au repos.", "picto-interdit-telephone panneau-interdit-fumer picto-sortie-secours", "picto-interdit-telephone"),
    r("A2", U, "loisirs", "panneau", "Le parc est ouvert à tous, mais les animaux ne peuvent pas entrer : laissez vos chiens à la maison.", "picto-interdit-chiens picto-interdit-telephone panneau-interdit-fumer", "picto-interdit-chiens"),
    r("A2", U, "sécurité", "panneau", "Exercice d'évacuation : ne prenez pas l'ascenseur. Suivez les panneaux verts de la sortie de secours.", "picto-sortie-secours ascenseur escalier", "picto-sortie-secours"),
    r("A2", U, "droits", "ou", "Mon propriétaire ne me rend pas ma caution. Une association m'a conseillé d'aller au tribunal.", "balance-justice commissariat banque", "balance-justice"),
    r("A2", U, "loisirs", "dlg_ou", "A: On va à la piscine cet après-midi ?\nB: Elle est fermée pour travaux. Allons plutôt emprunter des livres.", "bibliotheque piscine ecole", "bibliotheque"),
    r("A2", U, "transport", "heure", "Le bus de neuf heures est supprimé. Le prochain bus passe à neuf heures quarante-cinq.", "horloge-9h45 horloge-9h00 horloge-10h00", "horloge-9h45"),
    r("A2", U, "courrier", "ou", "J'ai reçu un avis de passage : le facteur n'a pas pu me donner mon colis. Je dois aller le chercher au bureau de poste.", "poste boite-aux-lettres banque", "poste"),
    r("A2", U, "santé", "dlg_heure", "A: Le dentiste peut vous voir à onze heures et demie.\nB: Je travaille le matin. Vous n'avez rien l'après-midi ?\nA: Si, à quatre heures.", "horloge-4h00 horloge-11h30 horloge-12h00 horloge-2h30", "horloge-4h00"),
    r("A2", W, "recherche d'emploi", "dlg_qui", "A: Vous avez déjà travaillé dans un restaurant ?\nB: Oui, pendant trois ans. Je préparais les plats en cuisine, pas le service en salle.", "cuisinier vendeuse caissiere", "cuisinier"),
    r("A2", W, "recherche d'emploi", "dlg_qui", "A: Le poste est dans une maison de retraite ?\nB: Oui. J'aide les personnes âgées à se lever, à manger et à se laver.", "aide-soignante infirmiere garde-enfant", "aide-soignante", "mf"),
    r("A2", W, "travail", "qui", "Sur le chantier, je monte les murs des maisons. C'est dur quand il fait froid.", "ouvrier-chantier jardinier agent-entretien chauffeur", "ouvrier-chantier", "m"),
    r("A2", W, "travail", "dlg_heure", "A: Demain, tu commences à six heures ?\nB: Non, je suis de l'équipe de l'après-midi cette semaine. Je commence à une heure et quart.", "horloge-1h15 horloge-6h00 horloge-6h15", "horloge-1h15"),
    r("A2", W, "travail", "probleme", "Je ne peux pas venir travailler aujourd'hui : ma fille est malade et elle a beaucoup de fièvre.", "thermometre mal-de-tete dent", "thermometre"),
    r("A2", W, "travail", "transport", "D'habitude, je viens en voiture. Mais ma voiture est en panne, alors ce matin je suis venu à vélo.", "velo voiture bus", "velo", "m"),
    r("A2", W, "argent", "dlg_combien", "A: Je vous dois combien ?\nB: Soixante euros.\nA: Voilà trois billets de vingt.\nB: C'est parfait.", "nombre-billets-3 nombre-billets-2 nombre-billets-4", "nombre-billets-3"),
    r("A2", W, "travail", "apporter", "Pour votre premier jour à l'usine, vous n'avez pas besoin de papiers. Apportez seulement des chaussures de sécurité.", "chaussures carte-identite casque-gants", "chaussures"),
    r("A2", W, "recherche d'emploi", "ou", "J'ai rendez-vous pour un travail de vendeuse. L'entretien a lieu dans un magasin de vêtements, à dix heures.", "entretien-embauche supermarche mairie", "entretien-embauche", "f"),
    r("A2", W, "travail", "ou_est", "Je travaille dans la cuisine d'une cantine. Je prépare les repas des enfants de l'école.", "cuisine ecole bureau", "cuisine"),
    r("A2", W, "travail", "dlg_qui", "A: Vous conduisez quoi ?\nB: Avant, je conduisais un taxi. Maintenant, je conduis un bus en ville.", "chauffeur ouvrier-chantier jardinier", "chauffeur"),
    r("A2", W, "travail", "heure", "La réunion était prévue à trois heures. Elle commence finalement une heure plus tard, à quatre heures.", "horloge-4h00 horloge-3h00 horloge-5h45", "horloge-4h00"),
    r("A2", W, "travail", "combien", "Dans l'équipe, nous étions quatre. Un collègue est parti. Maintenant, nous sommes trois.", "nombre-enfants-3 nombre-enfants-4 nombre-enfants-2", "nombre-enfants-3"),
    r("A2", W, "recherche d'emploi", "apporter", "Pour l'inscription à France Travail, apportez votre CV. Vous pouvez aussi l'envoyer par ordinateur.", "ordinateur formulaire cle", "ordinateur"),
    r("A2", W, "travail", "probleme", "Au bureau, l'ordinateur marche bien. Le problème, c'est la lumière : elle ne s'allume plus.", "ampoule ordinateur telephone", "ampoule"),
    r("A2", P, "logement", "dlg_probleme", "A: Les poubelles ne sont pas sorties ?\nB: Si, mais le camion n'est pas passé. Elles sont encore devant l'immeuble.", "poubelle camion-pompiers immeuble", "poubelle"),
    r("A2", P, "transport", "heure", "Le train de onze heures est en retard. Il part à onze heures trente.", "horloge-11h30 horloge-11h00 horloge-12h00", "horloge-11h30"),
)
# fmt: on


#: The speaking items of the path (``EO-301`` onwards): a scene to look at and a person to hear
#: (the stem's recording: what the person says to the candidate), then the candidate answers.
FIRST_SPEAKING = 301
OFF_TOPIC = ["je ne sais pas", "je sais pas", "je ne comprends pas", "je comprends pas",
             "je ne parle pas français"]  # fmt: skip
GREET = ["bonjour", "bonsoir", "salut"]
ASKING = ["je voudrais", "je veux", "j'ai besoin", "il me faut", "vous avez", "donnez moi",
          "je viens pour", "c'est pour"]  # fmt: skip


@dataclass(frozen=True, slots=True)
class Speak:
    """One speaking item: the scene, who speaks and what they say, the rubric's content."""

    level: str
    theme: str
    topic: str
    scene: str  # media/scenes/<scene>.svg
    instruction: str
    heard: str  # what the person in the scene says (spoken; never shown to the tablet)
    voice: str  # "f" or "m": the person heard
    elements: tuple[tuple[str, str, tuple[str, ...]], ...]  # (id, label, variants)
    levels: tuple[tuple[str, int, tuple[str, ...]], ...]  # (descriptor, min, requires), 1..max
    answers: tuple[tuple[str, int], ...]  # model answers and the score each must get


def e(element_id: str, label: str, *variants: str) -> tuple[str, str, tuple[str, ...]]:
    """A rubric element."""
    return (element_id, label, variants)


def lv(descriptor: str, min_elements: int, *requires: str) -> tuple[str, int, tuple[str, ...]]:
    """A rubric level above 0."""
    return (descriptor, min_elements, requires)


LOOK = "Regardez l'image. Écoutez "
# fmt: off
SPEAKING: tuple[Speak, ...] = (
    Speak("A1.1", P, "santé", "pharmacie-comptoir", LOOK + "la pharmacienne, puis demandez un médicament pour le mal de tête.",
          "Bonjour madame, bonjour monsieur. Qu'est-ce que vous voulez ?", "f",
          (e("salutation", "salue", *GREET), e("demande", "formule une demande", *ASKING),
           e("besoin", "dit ce qu'il lui faut", "médicament", "médicaments", "doliprane", "paracétamol", "aspirine", "cachet", "mal à la tête", "mal de tête", "la tête")),
          (lv("Un mot utile (« doliprane ») ou seulement une formule.", 1), lv("Demande le médicament avec une formule (« Bonjour, je voudrais un médicament pour la tête »).", 2, "besoin")),
          (("Bonjour, je voudrais un médicament pour le mal de tête.", 2), ("Doliprane.", 1), ("", 0))),
    Speak("A1.1", P, "courses", "supermarche-caisse", LOOK + "la caissière, puis répondez-lui.",
          "Bonjour ! Vous payez comment ? Par carte ou en espèces ?", "f",
          (e("moyen", "dit comment il paie", "carte", "par carte", "carte bancaire", "espèces", "en espèces", "liquide", "billet", "billets", "cash", "chèque"),
           e("salutation", "salue", *GREET), e("politesse", "formule de politesse", "merci", "s'il vous plaît")),
          (lv("Un seul élément (« carte ») ou seulement une formule.", 1), lv("Dit comment il paie avec une formule (« Par carte, s'il vous plaît »).", 2, "moyen")),
          (("Par carte, s'il vous plaît.", 2), ("Bonjour, en espèces.", 2), ("Carte.", 1), ("", 0))),
    Speak("A1.1", U, "services", "mairie", LOOK + "l'agent de la mairie, puis répondez-lui.",
          "Bonjour. Vous vous appelez comment ?", "m",
          (e("nom", "dit son nom", "je m'appelle {word}", "mon nom est {word}", "moi c'est {word}", "mon nom c'est {word}"),
           e("salutation", "salue", *GREET)),
          (lv("Salue seulement, ou dit son nom sans salutation.", 1), lv("Salue et dit son nom (« Bonjour, je m'appelle Amina »).", 2, "nom")),
          (("Bonjour, je m'appelle Fatima.", 2), ("Je m'appelle Karim.", 1), ("Bonjour.", 1), ("", 0))),
    Speak("A1.1", W, "travail", "chantier", LOOK + "votre collègue, puis répondez-lui.",
          "Salut ! Demain, tu commences à quelle heure ?", "m",
          (e("heure", "dit une heure", "heure", "heures", "midi", "le matin", "l'après-midi"),
           e("verbe", "fait une phrase", "je commence", "je travaille", "j'arrive", "je viens", "je suis là")),
          (lv("Dit l'heure seule (« huit heures ») ou une phrase sans heure.", 1), lv("Dit à quelle heure il commence (« Je commence à huit heures »).", 2, "heure")),
          (("Je commence à huit heures.", 2), ("Huit heures.", 1), ("", 0))),
    Speak("A1", P, "logement", "cuisine-fuite", LOOK + "le gardien de l'immeuble, puis expliquez le problème.",
          "Allô, ici le gardien. Qu'est-ce qui se passe chez vous ?", "m",
          (e("probleme", "dit le problème", "fuite", "de l'eau", "l'eau coule", "ça coule", "inondé", "robinet", "évier", "tuyau"),
           e("lieu", "dit où", "cuisine", "dans la cuisine"),
           e("demande", "demande de l'aide", "venez", "vous pouvez venir", "pouvez vous venir", "aidez moi", "aider", "réparer", "plombier")),
          (lv("Un mot ou une idée (« fuite », « cuisine »).", 1), lv("Explique le problème avec un autre élément : où, ou une demande d'aide.", 2, "probleme")),
          (("Il y a de l'eau dans la cuisine, vous pouvez venir ?", 2), ("Fuite.", 1), ("", 0))),
    Speak("A1", U, "école", "ecole-sortie", LOOK + "la maîtresse de votre fils, puis répondez-lui.",
          "Bonjour. Votre fils n'est pas venu à l'école ce matin. Il est malade ?", "f",
          (e("malade", "dit ce qu'a l'enfant", "malade", "fièvre", "il a mal", "mal au ventre", "mal à la tête", "il tousse", "rhume", "grippe"),
           e("absent", "dit qu'il reste à la maison", "il ne vient pas", "à la maison", "absent", "il reste", "il va revenir", "demain"),
           e("reponse", "répond oui ou non", "oui", "non")),
          (lv("Répond « oui » ou « non » seulement, ou un mot.", 1), lv("Dit ce qu'a l'enfant avec un autre élément (« Oui, il a de la fièvre »).", 2, "malade")),
          (("Oui, il a de la fièvre, il reste à la maison.", 2), ("Oui, malade.", 2), ("Oui.", 1), ("", 0))),
    Speak("A1", U, "transport", "gare-guichet", LOOK + "l'employé de la gare, puis demandez un billet pour Lyon.",
          "Bonjour, c'est pour aller où ?", "m",
          (e("destination", "dit la destination", "lyon"),
           e("billet", "demande un billet", "billet", "un aller", "aller simple", "aller retour", "ticket"),
           e("demande", "formule une demande", *ASKING, "s'il vous plaît")),
          (lv("Dit la ville seule, ou une formule sans la ville.", 1), lv("Demande un billet pour Lyon avec une formule (« Un billet pour Lyon, s'il vous plaît »).", 2, "destination")),
          (("Je voudrais un billet pour Lyon, s'il vous plaît.", 2), ("Lyon.", 1), ("", 0))),
    Speak("A1", W, "recherche d'emploi", "entretien-embauche", LOOK + "la conseillère, puis dites quel travail vous cherchez.",
          "Bonjour. Quel travail est-ce que vous cherchez ?", "f",
          (e("metier", "nomme un travail", "cuisinier", "cuisine", "ménage", "nettoyage", "chauffeur", "jardinier", "bâtiment", "chantier", "maçon", "vendeur", "vendeuse", "magasin", "garde d'enfants", "aide soignant", "aide soignante", "coiffeur", "coiffeuse", "couture", "restaurant", "usine", "informatique", "caissier", "caissière"),
           e("verbe", "fait une phrase", "je cherche", "je veux", "je voudrais", "je sais", "je peux", "j'ai travaillé", "je travaille", "je suis")),
          (lv("Nomme un travail sans phrase, ou une phrase sans travail.", 1), lv("Dit quel travail il cherche dans une phrase (« Je cherche un travail dans le nettoyage »).", 2, "metier")),
          (("Je cherche un travail dans la cuisine.", 2), ("Chauffeur.", 1), ("", 0))),
    Speak("A2", P, "santé", "medecin", LOOK + "le médecin, puis expliquez ce que vous avez et depuis quand.",
          "Bonjour, asseyez-vous. Qu'est-ce qui ne va pas ? Et depuis quand ?", "m",
          (e("symptome", "dit ce qu'il a", "j'ai mal", "mal à", "mal au", "fièvre", "je tousse", "toux", "je suis malade", "fatigué", "fatiguée", "rhume", "grippe"),
           e("duree", "dit depuis quand", "depuis", "hier", "ce matin", "{number} jours", "{number} semaines", "une semaine", "avant hier"),
           e("partie", "dit où il a mal", "tête", "ventre", "dos", "gorge", "dents", "jambe", "bras", "oreille")),
          (lv("Un élément seul (« depuis hier », « la gorge »).", 1), lv("Dit ce qu'il a, avec où ou depuis quand.", 2, "symptome"), lv("Dit ce qu'il a, où et depuis quand.", 3, "symptome", "duree")),
          (("J'ai mal à la gorge et j'ai de la fièvre depuis deux jours.", 3), ("J'ai mal au ventre.", 2), ("Depuis hier.", 1), ("", 0))),
    Speak("A2", U, "démarches", "mairie", LOOK + "l'agent d'accueil de la mairie, puis expliquez pourquoi vous venez.",
          "Bonjour. Je peux vous aider ? Pourquoi est-ce que vous venez aujourd'hui ?", "f",
          (e("demarche", "dit la démarche", "inscrire", "inscription", "école", "cantine", "logement", "papiers", "carte d'identité", "acte de naissance", "mariage", "rendez vous", "dossier", "attestation", "formulaire", "certificat"),
           e("demande", "formule une demande", *ASKING, "je dois"),
           e("qui", "dit pour qui", "mon fils", "ma fille", "mes enfants", "mon mari", "ma femme", "pour moi")),
          (lv("Un mot utile seul (« papiers »).", 1), lv("Dit la démarche avec un autre élément.", 2, "demarche"), lv("Explique la démarche, pour qui, avec une formule (« Je viens pour inscrire mon fils à l'école »).", 3, "demarche", "demande")),
          (("Je viens pour inscrire mon fils à l'école.", 3), ("Je voudrais un formulaire.", 2), ("Papiers.", 1), ("", 0))),
    Speak("A2", W, "travail", "nettoyage-bureau", LOOK + "votre chef, puis répondez-lui.",
          "Bonsoir. Vous avez fini le bureau du premier étage ? Qu'est-ce qu'il reste à faire ?", "m",
          (e("reponse", "répond à la question", "oui", "non", "pas encore", "j'ai fini", "c'est fini", "c'est fait", "presque"),
           e("tache", "nomme une tâche", "nettoyer", "le sol", "les poubelles", "poubelle", "les vitres", "aspirateur", "les toilettes", "ranger", "le ménage", "les bureaux"),
           e("temps", "dit quand", "encore", "après", "dans {number} minutes", "bientôt", "ce soir", "tout à l'heure")),
          (lv("Répond seulement (« oui », « pas encore »).", 1), lv("Répond et nomme une tâche.", 2, "tache"), lv("Répond, dit ce qu'il reste et quand ce sera fait.", 3, "tache")),
          (("Non, pas encore, il reste les poubelles, je les fais dans dix minutes.", 3), ("Oui, j'ai fini le sol.", 2), ("Oui.", 1), ("", 0))),
    Speak("A2", W, "recherche d'emploi", "salle-formation", LOOK + "la responsable, puis répondez à ses deux questions.",
          "Vous pouvez commencer quand ? Et vous êtes disponible le week-end ?", "f",
          (e("quand", "dit quand il peut commencer", "demain", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "tout de suite", "maintenant", "la semaine prochaine", "le mois prochain", "quand vous voulez"),
           e("weekend", "répond pour le week-end", "le week end", "week end", "samedi", "dimanche"),
           e("verbe", "fait une phrase", "je peux", "je suis disponible", "disponible", "je commence")),
          (lv("Un élément seul (« lundi »).", 1), lv("Dit quand il peut commencer, dans une phrase ou avec le week-end.", 2, "quand"), lv("Répond aux deux questions (quand, et le week-end) dans une phrase.", 3, "quand", "weekend")),
          (("Je peux commencer lundi, et je suis disponible le week-end.", 3), ("Demain, je peux.", 2), ("Lundi.", 1), ("", 0))),
)
# fmt: on


def _others(
    bank: Path, skill: str, ours: set[str], pictures: Callable[[dict[str, Any]], list[str]]
) -> dict[str, list[str]]:
    """The bank's other items of ``skill`` by the pictures ``pictures(data)`` names: stem -> ids."""
    found: dict[str, list[str]] = {}
    for path in sorted((bank / skill).glob(f"{skill}-*.yaml")):
        if path.stem in ours:
            continue
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for picture in pictures(data):
            found.setdefault(Path(picture).stem, []).append(path.stem)
    return found


def _scene(data: dict[str, Any]) -> list[str]:
    """The scene of a speaking item, if it has one."""
    image = (data.get("stem") or {}).get("image")
    return [image] if image else []


def _key_picture(data: dict[str, Any]) -> list[str]:
    """The right picture of a choice item, if it has one."""
    key = data.get("key")
    return [c["image"] for c in data.get("choices") or () if c.get("id") == key and c.get("image")]


def _enemies(
    ids: list[str], shared: Sequence[str], others: dict[str, list[str]]
) -> dict[str, list[str]]:
    """Each item's enemies: the table's items and the bank's ``others`` that share its picture
    (``shared[i]``, the scene or the right picture of ``ids[i]``)."""
    by_picture: dict[str, list[str]] = {}
    for item_id, picture in zip(ids, shared, strict=True):
        by_picture.setdefault(picture, []).append(item_id)
    return {
        item_id: sorted(
            {*(i for i in by_picture[picture] if i != item_id), *others.get(picture, ())}
        )
        for item_id, picture in zip(ids, shared, strict=True)
    }


#: The history entry of every item the table writes.
CREATED = {
    "date": DATE,
    "author": AUTHOR,
    "change": "création (parcours non-lecteur, itembank/tools/nonreader.py)",
}


def speaking_items(bank: Path = BANK) -> dict[str, dict[str, Any]]:
    """Every speaking item of the table as the data of its YAML file, by id."""
    ids = [f"EO-{FIRST_SPEAKING + n}" for n in range(len(SPEAKING))]
    others = _others(bank, "EO", set(ids), _scene)
    enemies_of = _enemies(ids, [row.scene for row in SPEAKING], others)
    out: dict[str, dict[str, Any]] = {}
    for item_id, row in zip(ids, SPEAKING, strict=True):
        enemies = enemies_of[item_id]
        data: dict[str, Any] = {
            "id": item_id, "skill": "EO", "type": "speak_role_play", "theme": THEMES[row.theme],
            "topic": row.topic, "target_level": row.level, "status": "operational",
            "non_reader": True, "author": AUTHOR,
            "history": [dict(CREATED)],
            "enemies": enemies,
            "instruction": {"text": row.instruction},
            "stem": {"image": f"media/scenes/{row.scene}.svg", "audio": f"EO/{item_id}.ogg",
                     "transcript": row.heard},
            "time_limit_s": 90 if row.level == "A2" else 60,
            "rubric": {
                "max_score": len(row.levels),
                "elements": [{"id": i, "label": label, "variants": list(variants)}
                             for i, label, variants in row.elements],
                "levels": [{"score": 0, "descriptor": "Pas de réponse, hors sujet ou pas en français."}]
                + [{"score": n, "descriptor": d, "min_elements": m, **({"requires": list(r)} if r else {})}
                   for n, (d, m, r) in enumerate(row.levels, start=1)],
                "min_words": 1,
                "off_topic": OFF_TOPIC,
                "model_answers": [{"text": t, "score": sc} for t, sc in row.answers],
            },
        }  # fmt: skip
        if not enemies:
            del data["enemies"]
        out[item_id] = data
    return out


def _arranged(row: Row, n: int) -> list[str]:
    """The choices with the key moved to place ``n % len`` (keys spread over a, b, c, d)."""
    others = [c for c in row.choices if c != row.key]
    place = n % len(row.choices)
    return [*others[:place], row.key, *others[place:]]


def items(bank: Path = BANK) -> dict[str, dict[str, Any]]:
    """Every item of the table as the data of its YAML file, by id."""
    ids = [f"CO-{FIRST_NUMBER + n}" for n in range(len(TABLE))]
    enemies_of = _enemies(
        ids, [row.key for row in TABLE], _others(bank, "CO", set(ids), _key_picture)
    )
    out: dict[str, dict[str, Any]] = {}
    for n, (item_id, row) in enumerate(zip(ids, TABLE, strict=True)):
        problems = [c for c in (*row.choices, row.key) if c not in LABELS]
        if problems or row.key not in row.choices or row.ask not in ASK:
            raise ValueError(f"{item_id}: bad row ({problems or row.key or row.ask})")
        choices = _arranged(row, n)
        letters = "abcd"
        enemies = enemies_of[item_id]
        data: dict[str, Any] = {
            "id": item_id,
            "skill": "CO",
            "type": "listen_choose_picture",
            "theme": THEMES[row.theme],
            "topic": row.topic,
            "target_level": row.level,
            "status": "operational",
            "non_reader": True,
            "author": AUTHOR,
            "history": [dict(CREATED)],
            "enemies": enemies,
            "instruction": {"text": ASK[row.ask]},
            "stem": {"audio": f"CO/{item_id}.ogg", "transcript": row.text},
            "choices": [
                {"id": letters[i], "image": f"media/pictures/{pic}.svg", "label": LABELS[pic]}
                for i, pic in enumerate(choices)
            ],
            "key": letters[choices.index(row.key)],
        }
        if not enemies:
            del data["enemies"]
        out[item_id] = data
    return out


def speakers() -> dict[str, dict[str, str]]:
    """The gender of the speakers the texts imply, for ``voices.yaml``'s ``speakers``."""
    genders = {"f": "female", "m": "male"}
    listening = {
        f"CO-{FIRST_NUMBER + n}": {s: genders[g] for s, g in zip("AB", row.voices, strict=False)}
        for n, row in enumerate(TABLE)
        if row.voices
    }
    heard = {
        f"EO-{FIRST_SPEAKING + n}": {"A": genders[row.voice]} for n, row in enumerate(SPEAKING)
    }
    return {**listening, **heard}


class _Dumper(yaml.SafeDumper):
    """Safe YAML with dialogues written as literal blocks, one turn a line."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def instruction_path(text: str, limit: int = 60) -> str:
    """Where the spoken instruction goes: ``media/instructions/<slug of the text>.ogg``."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-")[:limit].strip("-")
    return f"media/instructions/{slug}.ogg"


def write(bank: Path = BANK) -> int:
    """Write the items with their instruction audio paths; returns how many."""
    made = {**items(bank), **speaking_items(bank)}
    for item_id, data in made.items():
        data["instruction"]["audio"] = instruction_path(data["instruction"]["text"])
        text = yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100)
        (bank / str(data["skill"]) / f"{item_id}.yaml").write_text(text, encoding="utf-8")
    VoiceRecord(bank / "voices.yaml").declare_speakers(speakers())
    return len(made)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m itembank.tools.nonreader [--bank DIR]``."""
    parser = argparse.ArgumentParser(prog="python -m itembank.tools.nonreader", description=__doc__)
    parser.add_argument("--bank", type=Path, default=BANK)
    args = parser.parse_args(argv)
    count = write(args.bank)
    sys.stdout.write(f"{count} non-reader items (listening and speaking) written to {args.bank}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
