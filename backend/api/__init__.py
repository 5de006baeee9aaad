"""The staff admin API (Sanic blueprint): bearer-token auth, roles, JSON, OpenAPI."""
