"""Authentication of one workspace: bearer tokens (PATs and OAuth access tokens) and the
OAuth M2M endpoints the SDK's own flow calls.

databricks-sdk 0.162 `Config()` first GETs `{host}/.well-known/databricks-config` (host
metadata: `oidc_endpoint`, `workspace_id`), derives
`{oidc_endpoint}/.well-known/oauth-authorization-server` from it for auth_type "oauth-m2m",
then POSTs the client_credentials grant (HTTP Basic client auth, form body) to the
discovered `token_endpoint`. A host may not serve the host metadata
(`ws.serves_host_metadata`): then only a client given the discovery URL can use M2M.
Access tokens expire after `expires_in` by the world's clock; PATs do not.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from collections.abc import Mapping
from typing import Any

from sandbox.databricks.errors import ApiError
from sandbox.databricks.workspace import DatabricksWorkspace

# An OAuth access token lives an hour (`expires_in` 3600, as Databricks issues them), by the
# world's clock: past it the token is refused and the SDK must fetch a new one.
TOKEN_LIFETIME = 3600


def authenticate(ws: DatabricksWorkspace, header: str | None, now_ms: int) -> str:
    """The principal behind an Authorization header, or the refusal Databricks gives."""
    if not header or not header.lower().startswith("bearer "):
        raise ApiError(
            401,
            "UNAUTHENTICATED",
            "Credential was not sent or was of an unsupported type for this API.",
        )
    token = header[7:].strip()
    principal = ws.tokens.get(token)
    expiry = ws.token_expiry.get(token)
    if expiry is not None and now_ms >= expiry:
        del ws.tokens[token], ws.token_expiry[token]
        principal = None
    if principal is None:
        raise ApiError(403, "PERMISSION_DENIED", "Invalid access token.")
    return principal


def host_metadata(ws: DatabricksWorkspace, base_url: str) -> dict[str, Any]:
    return {"oidc_endpoint": f"{base_url}/oidc", "workspace_id": str(ws.workspace_id)}


def discovery(base_url: str) -> dict[str, Any]:
    oidc = f"{base_url}/oidc"
    return {
        "issuer": oidc,
        "authorization_endpoint": f"{oidc}/v1/authorize",
        "token_endpoint": f"{oidc}/v1/token",
        "jwks_uri": f"{oidc}/jwks.json",
        "grant_types_supported": ["client_credentials", "authorization_code", "refresh_token"],
        "response_types_supported": ["code"],
        "scopes_supported": ["all-apis", "offline_access", "openid", "profile", "email"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
    }


def _client(form: Mapping[str, str], header: str | None) -> tuple[str | None, str | None]:
    if header and header.lower().startswith("basic "):
        try:
            pair = base64.b64decode(header[6:].strip()).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None, None
        client_id, _, secret = pair.partition(":")
        return client_id, secret
    return form.get("client_id"), form.get("client_secret")


def issue_token(
    ws: DatabricksWorkspace, form: Mapping[str, str], header: str | None, now_ms: int
) -> tuple[int, dict[str, Any]]:
    """The token endpoint: (status, body) in OAuth's own error spelling, which the SDK reads."""
    if form.get("grant_type") != "client_credentials":
        return 400, {
            "error": "unsupported_grant_type",
            "error_description": "Only client_credentials.",
        }
    client_id, secret = _client(form, header)
    if client_id != ws.sp.application_id or secret != ws.sp.client_secret:
        return 401, {"error": "invalid_client", "error_description": "Client authentication failed"}
    token = secrets.token_urlsafe(32)
    ws.tokens[token] = ws.sp.application_id
    ws.token_expiry[token] = now_ms + TOKEN_LIFETIME * 1000
    return 200, {
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": TOKEN_LIFETIME,
        "scope": form.get("scope", "all-apis"),
    }
