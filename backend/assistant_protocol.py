"""What the backend and the assistant's processes agree on over HTTP (one place, so they
cannot drift): Rasa's channel and its secret header, the action server's secret header, and
the marker an action answers with when it could not finish and wants the message retried.

(Rasa's side, `addons/secure_channel.py`, runs on another Python and keeps its own copy of the
channel header; `tests/assistant` checks the two meet.)"""

from __future__ import annotations

RASA_CHANNEL_PATH = "/webhooks/tms/webhook"
RASA_CHANNEL_SECRET_HEADER = "X-TMS-Channel-Secret"
ACTION_SECRET_HEADER = "X-TMS-Action-Secret"
RETRY_MARKER = "tms_retry"
