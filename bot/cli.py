"""`python -m bot` / `consult-bot`: run the bot, or check the content and the texts."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from bot.config import PACKAGE_DIR, SettingsError, load_settings, resource_dir
from bot.content import ContentError, load_canned, load_library
from bot.i18n import check_locales

EXIT_CONFIG = 2


def _setup_logging(level: str) -> None:
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )


def check(content_dir: Path, locales_dir: Path) -> list[str]:
    problems: list[str] = []
    try:
        library = load_library(content_dir)
    except ContentError as error:
        problems.extend(error.problems)
    else:
        articles = sum(len(issue.articles) for issue in library.issues)
        topics, issues = len(library.topics), len(library.issues)
        print(f"content: {topics} topics, {issues} issues, {articles} articles")
    try:
        print(f"canned answers: {len(load_canned(content_dir))}")
    except ContentError as error:
        problems.extend(error.problems)
    problems.extend(check_locales(locales_dir, PACKAGE_DIR))
    return problems


def _sandbox(args: argparse.Namespace) -> int:
    from bot.sandbox.runner import Options, run_sandbox

    _setup_logging(args.log_level.upper())
    options = Options(
        host=args.host, port=args.port, data=args.data, reset=args.reset, forum=args.forum
    )
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
    publish_parser = commands.add_parser("publish", help="add a digest issue and broadcast it")
    publish_parser.add_argument("file", type=Path)
    publish_parser.add_argument("--dry-run", action="store_true")
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

    if args.command == "sandbox":
        # Needs no settings: the sandbox builds its own, and never reads the environment.
        return _sandbox(args)

    if args.command == "check":
        problems = check(
            args.content_dir or resource_dir("data"), args.locales_dir or resource_dir("locales")
        )
        for problem in problems:
            print(problem, file=sys.stderr)
        print("check: OK" if not problems else f"check: {len(problems)} problem(s)")
        return 1 if problems else 0

    try:
        settings = load_settings()
    except SettingsError as error:
        print(f"consult-bot: {error}", file=sys.stderr)
        return EXIT_CONFIG
    _setup_logging(args.log_level.upper())
    # Imported late: `check` must work without the bot's runtime.
    from bot.publish import publish
    from bot.runner import run

    try:
        if args.command == "publish":
            _setup_logging("WARNING")
            return publish(settings, args.file, dry_run=args.dry_run)
        asyncio.run(run(settings))
    except ContentError as error:
        print("consult-bot: the content does not load:", file=sys.stderr)
        for problem in error.problems:
            print(f"  {problem}", file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        pass
    return 0
