"""What a customer reads when they ask for a private departure (their group alone)."""

from __future__ import annotations

from backend.i18n import _
from backend.models import Lead
from backend.texts.format import trek_label


def private_enquiry_received(lead: Lead) -> str:
    trek = trek_label(lead.product) if lead.product else _("your trek")
    details = []
    if lead.party_size:
        details.append(_("{count} people").format(count=lead.party_size))
    if lead.travel_date_text:
        details.append(lead.travel_date_text)
    about = f" ({', '.join(details)})" if details else ""
    return _(
        "A private {trek} for your group{about}: yes, we can arrange that! 🏔️\n\n"
        "I've noted it as a private departure request (Ref: {reference}). A sales expert "
        "will send you dates and a private-group price within 2 hours."
    ).format(trek=trek, about=about, reference=lead.reference)
