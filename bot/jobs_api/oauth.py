"""OAuth M2M (a service principal's client id and secret) through the SDK's own flow, set up the
same way for the Jobs API clients and for the SQL connector's credentials provider (so the
warehouse does not import databricks.sdk itself).

databricks-sdk 0.162 finds the OIDC endpoints through `{host}/.well-known/databricks-config`,
which not every host serves; without it, M2M fails outright ("Invalid URL 'None'"). So the
discovery URL is always given explicitly, and the auth type pinned to oauth-m2m."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def base_url(host: str) -> str:
    """A workspace host as the SDK wants it: `https://` unless a scheme is given (the local
    Databricks of the tests and the demo serves http://)."""
    host = host.strip().rstrip("/")
    return host if "://" in host else f"https://{host}"


def m2m_settings(host: str, client_id: str, secret: str) -> dict[str, Any]:
    """Keyword arguments of the SDK's `Config` for OAuth M2M against this workspace host."""
    url = base_url(host)
    return {
        "host": url,
        "client_id": client_id,
        "client_secret": secret,
        "discovery_url": f"{url}/oidc/.well-known/oauth-authorization-server",
        "auth_type": "oauth-m2m",
    }


def service_principal(host: str, client_id: str, secret: str) -> Callable[[], Any]:
    """A zero-argument callable the SQL connector calls when it connects. The SDK Config is
    built only then: building it already contacts the host (OIDC discovery)."""

    def provider() -> Any:
        from databricks.sdk.core import Config, oauth_service_principal

        return oauth_service_principal(Config(**m2m_settings(host, client_id, secret)))

    return provider
