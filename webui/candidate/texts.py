"""Every sentence the tablet's own screens show; each one is also spoken (see ``speech.py``).

Short sentences, everyday words, one idea each: many candidates read little French. Each
sentence, refusal and label is also translated into the candidate's language (one file per
language in ``translations/``, listed in ``translations/languages.yaml``); the tablet shows and
says the translation first, then the French (see ``languages.py``).
"""

from __future__ import annotations

from audio.intake import MESSAGES as RECORDING_REFUSALS

#: Sentences by key; the templates show them and the speaker buttons say them.
TEXTS: dict[str, str] = {
    "code": "Bonjour. Tapez le code donné par l'agent, puis touchez la flèche.",
    "welcome": (
        "Bonjour et bienvenue. Ce test montre votre niveau de français. "
        "Écoutez bien, puis touchez ou parlez. Touchez la flèche pour commencer."
    ),
    "consent": (
        "Vos réponses et votre voix sont enregistrées. Elles servent seulement à connaître "
        "votre niveau de français. L'agent de l'OFII peut les écouter. "
        "Elles sont effacées après {days} jours. Touchez « J'accepte » pour continuer."
    ),
    "consent_refused": (
        "D'accord. Levez la main : l'agent va venir vous parler. "
        "Vous pouvez aussi toucher « J'accepte »."
    ),
    "sound_check": (
        "Écoutez. Vous entendez cette phrase ? Touchez le pouce en haut si vous entendez bien. "
        "Touchez le pouce en bas si vous n'entendez pas."
    ),
    "sound_check_no": (
        "Montez le son de la tablette avec le bouton sur le côté, puis touchez encore le "
        "haut-parleur. Si cela ne marche pas, levez la main : l'agent va vous aider."
    ),
    "mic_check": (
        "Maintenant, nous vérifions le micro. Touchez le micro rouge et dites : "
        "« Bonjour, je m'appelle » et votre prénom. Puis touchez le carré pour arrêter."
    ),
    "mic_ok": "Très bien, nous vous entendons. Touchez la flèche pour continuer.",
    "mic_sending": "Un instant, nous écoutons votre enregistrement.",
    "practice": (
        "Voici un exemple pour apprendre. Il ne compte pas. "
        "Touchez l'image de la maison, puis touchez le bouton vert."
    ),
    "item_choice": "Touchez votre réponse, puis touchez le bouton vert.",
    "item_text": "Écrivez votre réponse avec le clavier, puis touchez le bouton vert.",
    "item_speech": (
        "Touchez le micro rouge et parlez. Touchez le carré pour arrêter. "
        "Vous pouvez écouter, recommencer, puis touchez le bouton vert pour envoyer."
    ),
    "skip": "Je ne sais pas",
    "timeout": "Le temps est fini pour cette question. Nous passons à la suivante.",
    "offline": "La connexion est coupée. Ne fermez pas la page : nous réessayons.",
    "stale": "Cette réponse est déjà enregistrée. Voici la suite.",
    "finished": "C'est fini. Merci beaucoup ! Rendez la tablette à l'agent.",
    "no_mic": ("Le micro ne marche pas sur cette tablette. Levez la main : l'agent va vous aider."),
    "choose_first": "Touchez d'abord une réponse.",
    "write_first": "Écrivez d'abord votre réponse.",
    "record_first": "Enregistrez d'abord votre réponse : touchez le micro rouge.",
}

#: French refusals of a recording by code (from ``audio.intake``), spoken and shown.
REFUSALS: dict[str, str] = dict(RECORDING_REFUSALS)

#: Short words of the tablet's buttons and headings, shown with their translation.
LABELS: dict[str, str] = {
    "listen": "Écouter",
    "start": "Commencer",
    "continue": "Continuer",
    "accept": "J'accepte",
    "refuse": "Je refuse",
    "yes": "Oui",
    "no": "Non",
    "again": "Recommencer",
    "send": "Envoyer",
    "validate": "Valider",
    "example": "Exemple",
    "how": "Comment répondre ?",
    "listen_instruction": "Écouter la consigne",
    "listen_document": "Écouter le document",
    "time_left": "Temps restant",
}
