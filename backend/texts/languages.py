"""What is said about languages themselves: the reply to "English please" (in the language
chosen, so it is written here for each), and the answer to a message in a language the
assistant does not speak (in English, with a person told)."""

from __future__ import annotations

from backend.domain import languages

_CHOSEN = {
    "en": "Of course! I'll write to you in English from now on.",
    "de": "Gern! Ich schreibe Ihnen ab jetzt auf Deutsch.",
    "fr": "Bien sûr ! Je vous écris désormais en français.",
    "es": "¡Claro! A partir de ahora le escribo en español.",
}


def language_chosen(code: str) -> str:
    return _CHOSEN.get(code, _CHOSEN[languages.ENGLISH])


def foreign_language_received(code: str) -> str:
    spoken = ", ".join(languages.NAMES[c] for c in languages.SPOKEN[:-1])
    return (
        f"Thank you for your message! I can write in {spoken} or "
        f"{languages.NAMES[languages.SPOKEN[-1]]}, so I've passed it to our team, who will "
        "answer you as soon as they can 🙏"
    )


def rep_foreign_language(contact_name: str, phone: str, code: str, text: str) -> str:
    return (
        f"🌐 {contact_name} ({phone}) wrote in {languages.name_of(code)}, which the assistant "
        f'does not speak. Please answer them yourself:\n"{text[:500]}"'
    )
