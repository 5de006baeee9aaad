"""Run in Rasa's environment (.venv-rasa) by test_action_calls.py; prints one JSON line.

Against a small HTTP/1.1 server that counts the connections it accepts and closes a connection
after it has been idle a while (as Sanic does), it calls the server through Rasa's
`EndpointConfig.request` with addons/action_calls.py installed and with Rasa's own behaviour,
and validates action responses both ways.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction
from rasa.utils.endpoints import EndpointConfig

from addons import action_calls

SERVER_IDLE_CLOSE = 0.3  # seconds; the pooled side keeps connections longer on purpose


class CountingServer:
    def __init__(self) -> None:
        self.connections = 0
        self.requests = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                try:
                    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), SERVER_IDLE_CLOSE)
                except (asyncio.TimeoutError, asyncio.IncompleteReadError):  # noqa: UP041 (3.10)
                    return  # idle too long, or the client left: close
                length = 0
                for line in head.decode("latin-1").split("\r\n"):
                    name, _, value = line.partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value)
                body = json.loads(await reader.readexactly(length)) if length else {}
                self.requests += 1
                answer = json.dumps({"echo": body.get("n"), "events": []}).encode()
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    + f"Content-Length: {len(answer)}\r\nConnection: keep-alive\r\n\r\n".encode()
                    + answer
                )
                await writer.drain()
        finally:
            writer.close()


async def calls(installed: bool) -> dict[str, Any]:
    if installed:
        action_calls.install()
    else:
        action_calls.uninstall()
    server = CountingServer()
    listener = await asyncio.start_server(server.handle, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    endpoint = EndpointConfig(f"http://127.0.0.1:{port}/webhook", headers={"X-Secret": "s"})
    echoes = [(await endpoint.request(method="post", json={"n": n}))["echo"] for n in range(6)]
    back_to_back = server.connections
    # Concurrent calls, as several conversations' actions are.
    together = await asyncio.gather(
        *(endpoint.request(method="post", json={"n": n}) for n in range(8))
    )
    echoes += [answer["echo"] for answer in together]
    # The server has closed the idle connection meanwhile: the next call must still work.
    await asyncio.sleep(SERVER_IDLE_CLOSE * 3)
    echoes.append((await endpoint.request(method="post", json={"n": 99}))["echo"])
    await action_calls.close_sessions()
    listener.close()
    await listener.wait_closed()
    return {
        "echoes": echoes,
        "connections_back_to_back": back_to_back,
        "connections": server.connections,
        "requests": server.requests,
    }


def validation(installed: bool) -> dict[str, Any]:
    if installed:
        action_calls.install()
    else:
        action_calls.uninstall()
    action = RemoteAction("action_probe", None)
    valid = {
        "events": [
            {"event": "slot", "name": "trek", "value": "EBC Trek", "timestamp": None},
            {"event": "followup", "name": "action_listen"},
        ],
        "responses": [{"text": "hello"}],
    }
    errors = []
    for invalid in (
        {"events": [{"event": "slot"}]},  # a slot event with no name
        {"events": "not a list"},
        {"responses": [42]},
    ):
        try:
            action._validate_action_result(invalid)
            errors.append(None)
        except ValidationError as e:
            errors.append(e.message)
    return {"valid": action._validate_action_result(valid), "errors": errors}


def main() -> int:
    result = {
        "pooled": asyncio.run(calls(installed=True)),
        "stock": asyncio.run(calls(installed=False)),
        "validation_pooled": validation(installed=True),
        "validation_stock": validation(installed=False),
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
