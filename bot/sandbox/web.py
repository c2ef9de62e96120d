"""The sandbox page's server: static files, a JSON API over the emulator's control side,
and a WebSocket of what changes in the chats.

The page acts as people do: a user writes or taps in their private chat, a moderator
writes or replies in the group, the editor previews a digest file and publishes it the
way an administrator does in the group (/publish, then the bot's Send button). Each
action goes to the emulator, which queues the update the bot then takes by long polling;
what the bot sends comes back here as the emulator's events.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import socket
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from aiohttp import WSMsgType, web

from bot.callbacks import PublishAction
from bot.content import ContentError, Issue, load_issue, load_topics
from bot.emulator import Event, FakeTelegram, StoredFile
from bot.emulator.text import EntityError, format_text
from bot.factory import App
from bot.i18n import SUPPORTED_LOCALES
from bot.sandbox.runner import GROUP_ID, GROUP_TITLE, MODERATORS, USERS
from bot.screens import digest_message

log = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent / "static"
STATIC_FILES = {
    "index.html": "text/html",
    "sandbox.css": "text/css",
    "sandbox.js": "text/javascript",
    "favicon.svg": "image/svg+xml",
}
MAX_UPLOAD = 25 * 2**20
ALBUM_LIMIT = 10
PUBLISH_WAIT = 30.0
PROGRESS_EVERY = 0.5
PROGRESS_FOR = 300.0


class BadRequest(Exception):
    """What the page asked for cannot be done; the text is shown to the person."""


def _kind_of(mime: str, file_name: str) -> str:
    """How a client would send a picked file: pictures as photos, the rest as files."""
    if mime in {"image/jpeg", "image/png", "image/webp"}:
        return "photo"
    if mime.startswith("video/"):
        return "video"
    if mime.startswith("audio/"):
        return "audio"
    return "document"


@web.middleware
async def same_origin(request: web.Request, handler: Any) -> web.StreamResponse:
    """Another site open in the same browser must not drive the sandbox or read it:
    requests that change something, and the event stream, must come from this page."""
    origin = request.headers.get("Origin")
    changes = request.method != "GET" or request.path == "/api/events"
    if changes and origin is not None and urlsplit(origin).netloc != request.host:
        return web.json_response({"error": "cross-origin request refused"}, status=403)
    response: web.StreamResponse = await handler(request)
    return response


class SandboxWeb:
    def __init__(self, emulator: FakeTelegram, app: App, *, forum: bool) -> None:
        self.emulator = emulator
        self.app = app
        self.forum = forum
        self.admin = next(m for m in MODERATORS if m.role == "administrator")
        self._clients: set[asyncio.Queue[dict[str, Any]]] = set()
        self._queries: dict[str, int] = {}  # callback query id -> the chat it was pressed in
        self._tasks: set[asyncio.Task[None]] = set()
        self._albums = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self._unsubscribe = emulator.subscribe(self._on_event)

    # ----------------------------------------------------------------- lifecycle

    def application(self) -> web.Application:
        application = web.Application(client_max_size=MAX_UPLOAD, middlewares=[same_origin])
        application.router.add_get("/", self.index)
        application.router.add_get("/static/{name}", self.static)
        application.router.add_get("/api/state", self.state)
        application.router.add_post("/api/send", self.send)
        application.router.add_post("/api/press", self.press)
        application.router.add_get("/api/file/{file_id}", self.file)
        application.router.add_get("/api/digests", self.digests)
        application.router.add_post("/api/digests", self.upload_digest)
        application.router.add_get("/api/digests/{issue}/preview", self.preview)
        application.router.add_post("/api/digests/{issue}/publish", self.publish)
        application.router.add_get("/api/events", self.events)
        return application

    async def start(self, host: str, port: int) -> str:
        """Listen on host:port (0: any free port); returns the page's URL."""
        self._runner = web.AppRunner(self.application(), access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        await web.SockSite(self._runner, sock).start()
        bound = sock.getsockname()[1]
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{bound}/"

    async def stop(self) -> None:
        self._unsubscribe()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for queue in list(self._clients):
            queue.put_nowait({"type": "bye"})
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    def _spawn(self, coroutine: Any) -> None:
        task: asyncio.Task[None] = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ----------------------------------------------------------------- page

    async def index(self, request: web.Request) -> web.StreamResponse:
        return self._static_file("index.html")

    async def static(self, request: web.Request) -> web.StreamResponse:
        return self._static_file(request.match_info["name"])

    @staticmethod
    def _static_file(name: str) -> web.StreamResponse:
        if name not in STATIC_FILES:
            raise web.HTTPNotFound()
        return web.Response(
            body=(STATIC / name).read_bytes(),
            content_type=STATIC_FILES[name],
            charset="utf-8" if not name.endswith(".svg") else None,
            headers={"Cache-Control": "no-store"},
        )

    async def state(self, request: web.Request) -> web.StreamResponse:
        chats = {str(user.id): self.emulator.history(user.id) for user in USERS}
        chats[str(GROUP_ID)] = self.emulator.history(GROUP_ID)
        return web.json_response(
            {
                "bot": {
                    "id": self.emulator.bot_id,
                    "username": self.emulator.bot_username,
                    "name": self.emulator.bot_name,
                },
                "group": {"id": GROUP_ID, "title": GROUP_TITLE, "forum": self.forum},
                "users": [self._person(user) for user in USERS],
                "moderators": [self._person(moderator) for moderator in MODERATORS],
                "chats": chats,
                "topics": self.emulator.topics(GROUP_ID),
            }
        )

    @staticmethod
    def _person(person: Any) -> dict[str, Any]:
        return {
            "id": person.id,
            "first_name": person.first_name,
            "language_code": person.language_code,
            "username": person.username,
            "role": person.role,
        }

    # ----------------------------------------------------------------- people act

    async def send(self, request: web.Request) -> web.StreamResponse:
        """A user writes to the bot, or a moderator in the group: text, files, a reply."""
        form = await request.post()
        try:
            chat_id = int(str(form.get("chat_id", "")))
            from_id = int(str(form.get("from_id", "")))
            text = str(form.get("text", "")).strip("\r\n") or None
            reply_to = int(str(form["reply_to"])) if form.get("reply_to") else None
            thread = int(str(form["thread_id"])) if form.get("thread_id") else None
        except ValueError:
            return web.json_response({"error": "bad numbers in the request"}, status=400)
        uploads = [f for f in form.getall("file", []) if isinstance(f, web.FileField)]
        try:
            sent = self._deliver(chat_id, from_id, text, uploads, reply_to, thread)
        except (BadRequest, ValueError) as error:
            return web.json_response({"error": str(error)}, status=400)
        return web.json_response({"messages": sent})

    def _deliver(
        self,
        chat_id: int,
        from_id: int,
        text: str | None,
        uploads: list[web.FileField],
        reply_to: int | None,
        thread: int | None,
    ) -> list[dict[str, Any]]:
        in_group = chat_id == GROUP_ID
        if in_group and from_id not in {m.id for m in MODERATORS}:
            raise BadRequest("only the sandbox's moderators write in the group")
        if not in_group and (chat_id != from_id or from_id not in {u.id for u in USERS}):
            raise BadRequest("a sandbox user writes in their own chat")
        if not text and not uploads:
            raise BadRequest("nothing to send")
        if len(uploads) > ALBUM_LIMIT:
            raise BadRequest(f"at most {ALBUM_LIMIT} files at once")
        files: list[StoredFile] = []
        for upload in uploads:
            content = upload.file.read()
            mime = upload.content_type or "application/octet-stream"
            kind = _kind_of(mime, upload.filename)
            files.append(
                self.emulator.upload(kind, content, file_name=upload.filename, mime_type=mime)
            )
        album = f"sandbox-album-{next(self._albums)}-{time.time_ns()}" if len(files) > 1 else None
        pieces: list[tuple[str | None, StoredFile | None]]
        pieces = [(None, None)] if not files else [(None, f) for f in files]
        if files:
            pieces[0] = (text, files[0])  # the caption goes on the first file
        else:
            pieces = [(text, None)]
        sent = []
        for index, (body, attachment) in enumerate(pieces):
            reply = reply_to if index == 0 else None
            if in_group:
                message = self.emulator.group_post(
                    chat_id, from_id, body if attachment is None else None,
                    attachment=attachment, caption=body if attachment else None,
                    reply_to_message_id=reply, message_thread_id=thread if reply is None else None,
                    media_group_id=album,
                )  # fmt: skip
            else:
                message = self.emulator.user_message(
                    from_id, body if attachment is None else None,
                    attachment=attachment, caption=body if attachment else None,
                    reply_to_message_id=reply, media_group_id=album,
                )  # fmt: skip
            sent.append(message)
        return sent

    async def press(self, request: web.Request) -> web.StreamResponse:
        """A tap on an inline button (only one the message really has)."""
        try:
            body = await request.json()
            chat_id, message_id = int(body["chat_id"]), int(body["message_id"])
            from_id, data = int(body["from_id"]), str(body["data"])
            query = self.emulator.press_button(from_id, chat_id, message_id, data)
        except (KeyError, TypeError, ValueError) as error:
            return web.json_response({"error": str(error)}, status=400)
        self._queries[str(query["id"])] = chat_id
        return web.json_response({"query_id": query["id"]})

    async def file(self, request: web.Request) -> web.StreamResponse:
        stored = self.emulator.file(request.match_info["file_id"])
        if stored is None:
            raise web.HTTPNotFound()
        headers = {"Cache-Control": "private, max-age=3600"}
        if stored.kind not in {"photo", "video", "audio", "voice"} and stored.file_name:
            headers["Content-Disposition"] = "attachment"
        return web.Response(
            body=stored.data(),
            content_type=stored.mime_type or "application/octet-stream",
            headers=headers,
        )

    # ----------------------------------------------------------------- the editor

    @property
    def _digest_dir(self) -> Path:
        return self.app.settings.content_dir / "digests"

    def _topics(self) -> set[str]:
        return {t.slug for t in load_topics(self.app.settings.content_dir / "topics.yaml")}

    async def digests(self, request: web.Request) -> web.StreamResponse:
        published = {record.issue for record in await self.app.broadcasts.recent(100)}
        topics = self._topics()
        found = []
        for path in sorted(self._digest_dir.glob("*.yaml"), reverse=True):
            entry: dict[str, Any] = {"file": path.name, "issue": path.stem}
            try:
                issue = load_issue(path, topics)
            except ContentError as error:
                entry["problems"] = error.problems
            else:
                entry |= {
                    "title": issue.title.model_dump(),
                    "articles": len(issue.articles),
                    "published": issue.issue in published,
                }
            found.append(entry)
        return web.json_response({"digests": found})

    async def upload_digest(self, request: web.Request) -> web.StreamResponse:
        """A digest file from the editor's computer: checked like `python -m bot check`
        does, then put among the sandbox's digests (never the checkout's data/)."""
        form = await request.post()
        upload = form.get("file")
        if not isinstance(upload, web.FileField):
            return web.json_response({"problems": ["no file was sent"]}, status=400)
        name = Path(upload.filename or "digest.yaml").name
        if not name.endswith(".yaml"):
            return web.json_response(
                {"problems": [f"{name}: a digest is a .yaml file"]}, status=400
            )
        content = upload.file.read()
        with tempfile.TemporaryDirectory() as folder:
            candidate = Path(folder) / name
            candidate.write_bytes(content)
            try:
                issue = load_issue(candidate, self._topics())
            except ContentError as error:
                problems = [p.replace(str(candidate), name) for p in error.problems]
                return web.json_response({"problems": problems}, status=400)
        target = self._digest_dir / f"{issue.issue}.yaml"
        target.write_bytes(content)
        return web.json_response({"file": target.name, "issue": issue.issue})

    def _issue(self, name: str) -> Issue:
        if not name or "/" in name or "\\" in name or name.startswith("."):
            raise BadRequest(f"{name!r}: not an issue id")
        path = self._digest_dir / f"{name}.yaml"
        if not path.exists():
            raise BadRequest(f"{path.name}: no such file")
        try:
            return load_issue(path, self._topics())
        except ContentError as error:
            raise BadRequest("\n".join(error.problems)) from None

    async def preview(self, request: web.Request) -> web.StreamResponse:
        """Exactly what each language's subscribers would get: the bot's own rendering,
        parsed the way Telegram parses it."""
        try:
            issue = self._issue(request.match_info["issue"])
        except BadRequest as error:
            return web.json_response({"error": str(error)}, status=400)
        counts = await self.app.broadcasts.subscribers_by_locale()
        languages = []
        for locale in SUPPORTED_LOCALES:
            parts, markup = digest_message(self.app.localizations.get(locale), issue)
            messages = []
            for index, part in enumerate(parts):
                try:
                    parsed = format_text(part, "HTML", allow_empty=False)
                except EntityError as error:
                    messages.append({"error": f"Telegram would refuse this message: {error}"})
                    continue
                message: dict[str, Any] = {"text": parsed.text, "entities": parsed.entity_list()}
                if index == len(parts) - 1:
                    message["reply_markup"] = markup.model_dump(mode="json", exclude_none=True)
                messages.append(message)
            languages.append(
                {"locale": locale, "subscribers": counts.get(locale, 0), "messages": messages}
            )
        return web.json_response({"issue": issue.issue, "languages": languages})

    async def publish(self, request: web.Request) -> web.StreamResponse:
        """Publish as the group's administrator would: /publish <issue>, then Send."""
        try:
            issue = self._issue(request.match_info["issue"])
        except BadRequest as error:
            return web.json_response({"error": str(error)}, status=400)
        command = self.emulator.group_post(GROUP_ID, self.admin.id, f"/publish {issue.issue}")
        self._spawn(self._confirm_and_follow(issue.issue, int(command["message_id"])))
        return web.json_response({"started": True, "command_message_id": command["message_id"]})

    async def _confirm_and_follow(self, issue: str, after: int) -> None:
        confirm = PublishAction(action="confirm", issue=issue).pack()

        def offer() -> int | None:
            for sender, message in self.emulator.messages_in(GROUP_ID):
                if sender != self.emulator.bot_id or message["message_id"] <= after:
                    continue
                rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
                if any(b.get("callback_data") == confirm for row in rows for b in row):
                    return int(message["message_id"])
            return None

        try:
            await self.emulator.wait_until(lambda: offer() is not None, PUBLISH_WAIT)
        except AssertionError:
            self._broadcast({"type": "broadcast", "issue": issue, "error": "no-offer"})
            return
        message_id = offer()
        assert message_id is not None
        query = self.emulator.press_button(self.admin.id, GROUP_ID, message_id, confirm)
        self._queries[str(query["id"])] = GROUP_ID
        deadline = time.monotonic() + PROGRESS_FOR
        while time.monotonic() < deadline:
            await asyncio.sleep(PROGRESS_EVERY)
            record = await self.app.broadcasts.get(issue)
            if record is None:
                continue
            counts = await self.app.broadcasts.counts(issue)
            finished = record.finished_at is not None or counts.get("pending", 0) == 0
            self._broadcast(
                {
                    "type": "broadcast",
                    "issue": issue,
                    "total": record.total,
                    "counts": counts,
                    "finished": finished,
                }
            )
            if finished:
                return

    # ----------------------------------------------------------------- live events

    async def events(self, request: web.Request) -> web.StreamResponse:
        socket_response = web.WebSocketResponse(heartbeat=20)
        await socket_response.prepare(request)
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._clients.add(queue)
        reader = asyncio.create_task(self._read_until_closed(socket_response))
        try:
            while not reader.done():
                getter = asyncio.create_task(queue.get())
                done, _ = await asyncio.wait({getter, reader}, return_when=asyncio.FIRST_COMPLETED)
                if getter not in done:
                    getter.cancel()
                    break
                event = getter.result()
                if event.get("type") == "bye":
                    break
                await socket_response.send_json(event)
        except (ConnectionResetError, RuntimeError):
            pass
        finally:
            self._clients.discard(queue)
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
            await socket_response.close()
        return socket_response

    @staticmethod
    async def _read_until_closed(ws: web.WebSocketResponse) -> None:
        async for message in ws:
            if message.type in {WSMsgType.CLOSE, WSMsgType.ERROR}:
                break

    def _broadcast(self, event: dict[str, Any]) -> None:
        for queue in list(self._clients):
            queue.put_nowait(event)

    def _on_event(self, event: Event) -> None:
        data = event.data
        if event.kind in {"message", "edited"}:
            self._broadcast(
                {"type": event.kind, "chat_id": event.chat_id, "message": data["message"]}
            )
        elif event.kind == "deleted":
            self._broadcast(
                {"type": "deleted", "chat_id": event.chat_id, "message_id": data["message_id"]}
            )
        elif event.kind == "callback_answer":
            query_id = str(data["query_id"])
            self._broadcast(
                {
                    "type": "answer",
                    "chat_id": self._queries.pop(query_id, None),
                    "query_id": query_id,
                    "text": data.get("text") or "",
                    "show_alert": bool(data.get("show_alert")),
                }
            )
        elif event.kind == "topic":
            self._broadcast(
                {
                    "type": "topic",
                    "chat_id": event.chat_id,
                    "action": data["action"],
                    "topic": data["topic"],
                }
            )
        elif event.kind == "rejected":
            self._broadcast({"type": "rejected", "chat_id": event.chat_id, **data})
        elif event.kind == "chat_action":
            self._broadcast(
                {"type": "chat_action", "chat_id": event.chat_id, "action": data["action"]}
            )
