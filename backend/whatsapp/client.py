"""The Graph API client: POST {base}/{phone_number_id}/messages with the Bearer token."""

from __future__ import annotations

from typing import Any

import httpx

from backend.whatsapp import errors
from backend.whatsapp.messages import Buttons, Template, Text, request_body


class GraphClient:
    def __init__(
        self,
        base_url: str,
        phone_number_id: str,
        access_token: str,
        *,
        timeout: float = 15.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.phone_number_id = phone_number_id
        self._client = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            headers={"Authorization": f"Bearer {access_token}"},
            timeout=timeout,
            transport=transport,
            limits=httpx.Limits(max_connections=32, max_keepalive_connections=32),
        )

    async def send(self, to_wa_id: str, message: Text | Buttons | Template) -> str:
        """Send one message; returns Meta's wamid or raises a GraphError subclass."""
        body = request_body(to_wa_id, message)
        try:
            response = await self._client.post(f"/{self.phone_number_id}/messages", json=body)
        except httpx.HTTPError as exc:
            raise errors.TransportError(f"{type(exc).__name__}: {exc}") from exc
        data: Any
        try:
            data = response.json()
        except ValueError:
            data = {}
        if response.status_code >= 400:
            raise errors.from_response(response.status_code, data)
        try:
            return str(data["messages"][0]["id"])
        except (KeyError, IndexError, TypeError) as exc:
            raise errors.ServerError(f"unexpected answer: {str(data)[:200]}") from exc

    async def aclose(self) -> None:
        await self._client.aclose()
