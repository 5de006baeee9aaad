"""The WhatsApp operations layer of a trek and tour operator: domain, services and gateways."""
