"""The development kit: what runs the product without the outside world, never in production.

- `demo`, `demo_data`, `demo_history`, `demo_media/`: `make demo` and `tms demo load`, the
  workflows' world and its story;
- `fake_graph`: the WhatsApp Cloud API as Meta documents it (signed webhooks, limits, media);
- `fake_stripe`: Stripe Checkout and its signed webhooks;
- `local_smtp`: an SMTP server that keeps what it receives;
- `chat`: `tms chat`, a terminal WhatsApp through the fake Graph API.

The product (`backend/`, `actions/`) never imports it (`.importlinter`), except the `tms`
commands that run it; the production image does not contain it (`deploy/Dockerfile`)."""
