"""The WhatsApp Cloud API edge: the only code that talks to Meta, in and out."""
