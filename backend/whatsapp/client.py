"""The Graph API client: POST {base}/{phone_number_id}/messages with the Bearer token."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import httpx

from backend.domain.whatsapp_messages import WireMessage, request_body
from backend.whatsapp import errors


class MediaUrlRefused(errors.GraphError):
    """Meta's answer named a media URL the access token must not be sent to."""


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

    async def send(self, to_wa_id: str, message: WireMessage) -> str:
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

    async def messaging_limit(self) -> str:
        """The business portfolio's messaging limit as the phone number reports it:
        GET /{phone-number-id}?fields=whatsapp_business_manager_messaging_limit,
        messaging_limit_tier (the portfolio's field; the per-number one is deprecated)."""
        fields = "whatsapp_business_manager_messaging_limit,messaging_limit_tier"
        try:
            answer = await self._client.get(f"/{self.phone_number_id}", params={"fields": fields})
            data: Any = answer.json() if answer.content else {}
        except (httpx.HTTPError, ValueError) as exc:
            raise errors.TransportError(f"{type(exc).__name__}: {exc}") from exc
        if answer.status_code >= 400:
            raise errors.from_response(answer.status_code, data)
        if not isinstance(data, dict):
            raise errors.ServerError(f"unexpected answer: {str(data)[:200]}")
        return str(
            data.get("whatsapp_business_manager_messaging_limit")
            or data.get("messaging_limit_tier")
            or ""
        )

    async def list_templates(self, waba_id: str, *, page_size: int = 100) -> list[dict[str, Any]]:
        """Every message template of the business account: GET /{WABA-ID}/message_templates,
        page after page (`paging.next`, which must stay on this API's host)."""
        fields = "id,name,language,status,category,quality_score,components"
        url: str = f"/{waba_id}/message_templates"
        params: dict[str, Any] | None = {"fields": fields, "limit": page_size}
        found: list[dict[str, Any]] = []
        for _ in range(1000):  # a bound, not a limit anyone meets
            try:
                answer = await self._client.get(url, params=params)
                data: Any = answer.json() if answer.content else {}
            except (httpx.HTTPError, ValueError) as exc:
                raise errors.TransportError(f"{type(exc).__name__}: {exc}") from exc
            if answer.status_code >= 400:
                raise errors.from_response(answer.status_code, data)
            if not isinstance(data, dict) or not isinstance(data.get("data"), list):
                raise errors.ServerError(f"unexpected answer: {str(data)[:200]}")
            found += [t for t in data["data"] if isinstance(t, dict)]
            following = (data.get("paging") or {}).get("next")
            if not isinstance(following, str) or not following:
                return found
            if httpx.URL(following).host != self._client.base_url.host:
                raise errors.ServerError(f"paging.next leaves the API: {following[:200]}")
            url, params = following, None
        raise errors.ServerError("message_templates: too many pages")

    async def download_media(
        self,
        media_id: str,
        max_bytes: int,
        *,
        url_refusal: Callable[[str], str | None] | None = None,
    ) -> tuple[bytes, str | None]:
        """The media's bytes and type: GET /{media-id} for a short-lived URL, then GET that
        URL, both with the access token (Meta's two steps). Raises a GraphError, and
        MediaUrlRefused (nothing sent there) when `url_refusal(url)` gives a reason."""
        try:
            answer = await self._client.get(f"/{media_id}")
            data: Any = answer.json() if answer.content else {}
        except (httpx.HTTPError, ValueError) as exc:
            raise errors.TransportError(f"{type(exc).__name__}: {exc}") from exc
        if answer.status_code >= 400:
            raise errors.from_response(answer.status_code, data)
        url = data.get("url") if isinstance(data, dict) else None
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            raise errors.ServerError(f"no media URL in {str(data)[:200]}")
        reason = url_refusal(url) if url_refusal is not None else None
        if reason is not None:
            raise MediaUrlRefused(reason)
        size = data.get("file_size")
        if isinstance(size, int) and size > max_bytes:
            raise errors.GraphError(f"media of {size} bytes is over the {max_bytes} limit")
        try:
            async with self._client.stream("GET", url) as body:
                if body.status_code >= 400:
                    await body.aread()
                    raise errors.from_response(body.status_code, _json_or_empty(body))
                chunks, total = [], 0
                async for chunk in body.aiter_bytes():
                    total += len(chunk)
                    if total > max_bytes:
                        raise errors.GraphError(f"media is over the {max_bytes}-byte limit")
                    chunks.append(chunk)
        except httpx.HTTPError as exc:
            raise errors.TransportError(f"{type(exc).__name__}: {exc}") from exc
        content = b"".join(chunks)
        expected = data.get("sha256")
        if (
            isinstance(expected, str)
            and expected
            and hashlib.sha256(content).hexdigest() != expected
        ):
            raise errors.TransportError("the media's bytes do not match Meta's sha256")
        mime = data.get("mime_type") if isinstance(data.get("mime_type"), str) else None
        return content, mime

    async def aclose(self) -> None:
        await self._client.aclose()


def _json_or_empty(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return {}
