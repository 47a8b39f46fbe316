"""The OAuth M2M credentials provider the Databricks SQL connector takes, built with the SDK's
own service-principal flow (so the warehouse does not import databricks.sdk itself)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def service_principal(host: str, client_id: str, secret: str) -> Callable[[], Any]:
    """A zero-argument callable the connector calls when it connects. The SDK Config is built
    only then: building it already contacts the host (OIDC discovery)."""

    def provider() -> Any:
        from databricks.sdk.core import Config, oauth_service_principal

        cfg = Config(host=f"https://{host}", client_id=client_id, client_secret=secret)
        return oauth_service_principal(cfg)

    return provider
