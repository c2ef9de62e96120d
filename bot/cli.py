"""`python -m bot` / `consult-bot`: run the bot, or check the content and the texts."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from bot.config import (
    PACKAGE_DIR,
    ContentSettings,
    SettingsError,
    load_content_settings,
    load_settings,
)
from bot.content import ContentError, check_content
from bot.i18n import check_locales
from bot.search import load_search_config

EXIT_CONFIG = 2


# Third-party loggers that would print message texts, ids or SQL parameters at DEBUG
# (aiosqlite logs every statement with its arguments): never below WARNING.
QUIET_LOGGERS = ("aiosqlite", "asyncio", "aiohttp.access", "aiohttp.client", "aiohttp.server")


def setup_logging(level: str) -> None:
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
        force=True,
    )
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLogger().level))


def check(content_dir: Path, locales_dir: Path) -> list[str]:
    """Every digest file (drafts too), topics, shipped issues, canned answers and texts."""
    lines, problems = check_content(content_dir)
    for line in lines:
        print(line)
    try:
        print(f"search: {len(load_search_config(content_dir).synonyms)} synonym groups")
    except ContentError as error:
        problems.extend(error.problems)
    problems.extend(check_locales(locales_dir, PACKAGE_DIR))
    return problems


def _sandbox(args: argparse.Namespace, paths: ContentSettings) -> int:
    from bot.sandbox.runner import Options, run_sandbox

    setup_logging(args.log_level.upper())
    options = Options(
        host=args.host, port=args.port, data=args.data, reset=args.reset, forum=args.forum,
        content=paths.content_dir, locales=paths.locales_dir,
    )  # fmt: skip
    try:
        asyncio.run(run_sandbox(options, announce=lambda line: print(line, flush=True)))
    except ContentError as error:
        print("consult-bot: the content does not load:", file=sys.stderr)
        for problem in error.problems:
            print(f"  {problem}", file=sys.stderr)
        return EXIT_CONFIG
    except OSError as error:
        print(f"consult-bot sandbox: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="consult-bot", description=__doc__)
    parser.add_argument("--log-level", default="INFO")
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("run", help="run the bot with long polling (the default)")
    check_parser = commands.add_parser("check", help="validate digest files and locales")
    check_parser.add_argument("--content-dir", type=Path, default=None)
    check_parser.add_argument("--locales-dir", type=Path, default=None)
    publish_parser = commands.add_parser(
        "publish",
        help="publish a digest issue (a file, or an issue id in digests/) and broadcast it",
    )
    publish_parser.add_argument("file", type=Path, help="e.g. data/digests/2023-10.yaml or 2023-10")
    publish_parser.add_argument(
        "--dry-run",
        action="store_true",
        help="show what would be sent, to how many; no token needed",
    )
    sandbox_parser = commands.add_parser(
        "sandbox", help="the bot against a local Telegram emulator, in your browser"
    )
    sandbox_parser.add_argument("--host", default="127.0.0.1", help="default: 127.0.0.1 only")
    sandbox_parser.add_argument("--port", type=int, default=8080)
    sandbox_parser.add_argument(
        "--data", type=Path, default=Path("sandbox-data"), help="its own folder (created)"
    )
    sandbox_parser.add_argument("--reset", action="store_true", help="start afresh")
    sandbox_parser.add_argument(
        "--forum", action="store_true", help="the moderators' group with one topic per ticket"
    )
    args = parser.parse_args(argv)

    # Every command takes its paths from the same settings as the bot (CONTENT_DIR,
    # LOCALES_DIR, DATABASE_PATH, `.env`); only those that talk to Telegram need a token.
    try:
        paths = load_content_settings()
        settings = load_settings() if _needs_token(args) else None
    except SettingsError as error:
        print(f"consult-bot: {error}", file=sys.stderr)
        return EXIT_CONFIG

    if args.command == "sandbox":
        # Needs no settings (it makes its own token, chats and database), but serves the
        # same content and texts as the bot would here.
        return _sandbox(args, paths)

    if args.command == "check":
        problems = check(
            args.content_dir or paths.content_dir, args.locales_dir or paths.locales_dir
        )
        for problem in problems:
            print(problem, file=sys.stderr)
        print("check: OK" if not problems else f"check: {len(problems)} problem(s)")
        return 1 if problems else 0

    setup_logging(args.log_level.upper())
    # Imported late: `check` must work without the bot's runtime.
    from bot.lock import AlreadyServed
    from bot.preflight import StartupError
    from bot.publish import preview, publish
    from bot.runner import run

    try:
        if args.command == "publish":
            setup_logging("WARNING")
            if settings is None:
                return preview(paths, args.file)
            return publish(settings, args.file)
        if settings is not None:
            asyncio.run(run(settings))
    except ContentError as error:
        print("consult-bot: the content does not load:", file=sys.stderr)
        for problem in error.problems:
            print(f"  {problem}", file=sys.stderr)
        return EXIT_CONFIG
    except (StartupError, AlreadyServed) as error:
        print(f"consult-bot: {error}", file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        pass
    return 0


def _needs_token(args: argparse.Namespace) -> bool:
    if args.command in ("check", "sandbox"):
        return False
    return not (args.command == "publish" and args.dry_run)
