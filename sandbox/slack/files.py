"""Slack's current file upload, three steps, as slack_sdk's `files_upload_v2` drives it:

1. `files.getUploadURLExternal` (filename, length) → `upload_url` and `file_id`;
2. an HTTP POST of the bytes to `upload_url` — raw bytes or a multipart form, no token (the
   URL is the credential); Slack answers 200 with a short text body;
3. `files.completeUploadExternal` (files = JSON list of {id, title}, channel_id, thread_ts,
   initial_comment) → `{ok, files: [...]}`; with a channel the file is shared there as a
   message by the bot (in the thread when thread_ts names one), without one it stays private.

The bytes are served back at the file's `url_private` so the sandbox page can show an image.
Error codes for an unknown or not yet uploaded file id, and for completing one twice, are not
in reference/slack.md; the names here are inferred.
"""

from __future__ import annotations

import json
import mimetypes
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web

from sandbox.slack.apierror import ApiError, Ctx, invalid_arguments
from sandbox.slack.chat import bot_message, thread_root, writable_channel

if TYPE_CHECKING:
    from sandbox.slack.state import State

MAX_FILE_BYTES = 1024 * 1024 * 1024  # Slack's documented cap is 1 GB per file


@dataclass
class StoredFile:
    id: str
    name: str
    length: int  # what step 1 declared
    alt_txt: str | None
    secret: str  # the upload URL's credential
    user: str
    created: int
    title: str | None = None
    data: bytes | None = None  # set by step 2
    completed: bool = False
    shares: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    @property
    def mimetype(self) -> str:
        return mimetypes.guess_type(self.name)[0] or "application/octet-stream"

    def to_api(self, base_url: str, domain: str) -> dict[str, Any]:
        """The file object as Slack's Web API returns it (the fields a client reads)."""
        url = f"{base_url}/files/{self.id}/{self.name}"
        return {
            "id": self.id,
            "created": self.created,
            "timestamp": self.created,
            "name": self.name,
            "title": self.title or self.name,
            "mimetype": self.mimetype,
            "filetype": self.name.rsplit(".", 1)[-1].lower() if "." in self.name else "",
            "user": self.user,
            "size": len(self.data or b""),
            "alt_txt": self.alt_txt,
            "is_public": bool(self.shares),
            "url_private": url,
            "url_private_download": url + "?download=1",
            "permalink": f"https://{domain}.slack.com/files/{self.user}/{self.id}/{self.name}",
            "shares": {"public": dict(self.shares)} if self.shares else {},
        }


def get_upload_url(ctx: Ctx) -> dict[str, Any]:
    name = ctx.get("filename")
    if not name:
        raise invalid_arguments("missing required field: filename")
    length = ctx.int("length", 0)
    if length <= 0:
        # Slack's documented answer for a missing or zero length.
        raise ApiError("missing_argument")
    if length > MAX_FILE_BYTES:
        raise ApiError("file_upload_size_restricted")
    alt = ctx.get("alt_txt")
    if alt is not None and len(str(alt)) > 1000:
        raise ApiError("alt_txt_too_large")
    state = ctx.state
    file = StoredFile(
        id="F" + secrets.token_hex(5).upper(),
        name=str(name),
        length=length,
        alt_txt=None if alt is None else str(alt),
        secret=secrets.token_urlsafe(12),
        user=state.ws.bot.user_id,
        created=int(state.now()),
    )
    with state.lock:
        state.files[file.id] = file
    url = f"{ctx.base_url}/upload/v1/{file.id}/{file.secret}"
    return {"ok": True, "upload_url": url, "file_id": file.id}


def complete_upload(ctx: Ctx) -> dict[str, Any]:
    raw = ctx.require("files")
    try:
        items = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        raise invalid_arguments("files must be a JSON array") from None
    if not isinstance(items, list) or not items or not all(isinstance(i, dict) for i in items):
        raise invalid_arguments("files must be a non-empty array of {id, title}")
    state = ctx.state
    with state.lock:
        found = [state.files.get(str(i.get("id"))) for i in items]
    if any(f is None or f.data is None for f in found):
        raise ApiError("file_not_found")  # (inferred) unknown id, or step 2 never happened
    files: list[StoredFile] = [f for f in found if f is not None]
    if any(f.completed for f in files):
        raise ApiError("file_already_completed")  # (inferred)
    channel_ref = ctx.get("channel_id") or ctx.get("channels")
    if channel_ref is not None and "," in str(channel_ref) and ctx.get("thread_ts"):
        raise invalid_arguments("thread_ts needs exactly one channel")
    for f, item in zip(files, items, strict=True):
        f.title = str(item.get("title") or f.name)
    base, domain = ctx.base_url, state.ws.domain
    if channel_ref is None:
        for f in files:
            f.completed = True
        return {"ok": True, "files": [f.to_api(base, domain) for f in files]}
    ch = writable_channel(ctx, str(channel_ref).split(",")[0])
    root = thread_root(ctx, ch.id)
    comment = ctx.get("initial_comment", "")
    msg = bot_message(ctx, ch.id, str(comment), None, thread_ts=root, subtype=None)
    for f in files:
        f.completed = True
        share: dict[str, Any] = {"ts": msg.ts, "channel_name": ch.name, "team_id": state.ws.team_id}
        if root is not None:
            share["thread_ts"] = root
        f.shares.setdefault(ch.id, []).append(share)
    msg.files = [f.to_api(base, domain) for f in files]
    state.add_message(msg)
    return {"ok": True, "files": msg.files}


METHODS = {
    "files.getUploadURLExternal": get_upload_url,
    "files.completeUploadExternal": complete_upload,
}


def routes(state: State) -> list[web.RouteDef]:
    """Step 2's upload URL and the files' download URL (url_private)."""

    async def upload(request: web.Request) -> web.StreamResponse:
        file_id, secret = request.match_info["file_id"], request.match_info["secret"]
        with state.lock:
            file = state.files.get(file_id)
        if file is None or not secrets.compare_digest(file.secret, secret) or file.completed:
            raise web.HTTPNotFound()
        if request.content_type == "multipart/form-data":
            form = await request.post()
            part = next((v for v in form.values() if isinstance(v, web.FileField)), None)
            if part is None:
                raise web.HTTPBadRequest(text="no file in the form")
            data = part.file.read()
        else:
            data = await request.read()
        if not data:
            raise web.HTTPBadRequest(text="empty upload")
        with state.lock:
            file.data = data
        state.touch()
        return web.Response(text=f"OK - {len(data)}")

    async def download(request: web.Request) -> web.StreamResponse:
        with state.lock:
            file = state.files.get(request.match_info["file_id"])
        if file is None or file.data is None or file.name != request.match_info["name"]:
            raise web.HTTPNotFound()
        return web.Response(body=file.data, content_type=file.mimetype)

    return [
        web.post("/upload/v1/{file_id}/{secret}", upload),
        web.get("/files/{file_id}/{name}", download),
    ]
