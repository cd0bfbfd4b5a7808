"""The ``dhuman`` command: the GUI by default, and tools for the terminal."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from typing import TextIO

from app.config.settings import Settings, load_settings
from app.config.yaml_source import ConfigError
from dialog.persona import Persona, load_persona


def build_parser() -> argparse.ArgumentParser:
    from app.cli import (
        avatar_cmd,
        chat_cmd,
        config_cmd,
        doctor_cmd,
        listen_cmd,
        look_cmd,
        models_cmd,
        say_cmd,
        transcribe_cmd,
    )

    parser = argparse.ArgumentParser(
        prog="dhuman",
        description="dhuman, a digital human you can talk to. Without a command, opens the app.",
    )
    parser.add_argument("--persona", help="bundled persona name or a persona .yaml file")
    parser.add_argument("--language", choices=["en", "ko"], help="conversation and UI language")
    parser.add_argument("-v", "--verbose", action="store_true", help="log details to stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    avatar_cmd.add_parser(sub)
    chat_cmd.add_parser(sub)
    config_cmd.add_parser(sub)
    doctor_cmd.add_parser(sub)
    listen_cmd.add_parser(sub)
    look_cmd.add_parser(sub)
    models_cmd.add_parser(sub)
    say_cmd.add_parser(sub)
    transcribe_cmd.add_parser(sub)
    return parser


def load_settings_or_explain(err: TextIO) -> Settings | None:
    try:
        return load_settings()
    except ConfigError as exc:
        err.write(f"dhuman: the settings are not valid:\n{exc}\n")
        err.write("Fix the file, or start over with: dhuman config reset\n")
        return None


def choose_persona(name: str, err: TextIO) -> tuple[Persona, str | None]:
    """The requested persona, or the bundled default with a warning if it is broken."""
    try:
        return load_persona(name), None
    except ConfigError as exc:
        warning = f"The persona {name!r} could not be loaded, using the default guide:\n{exc}"
        err.write(f"dhuman: {warning}\n")
        return load_persona("default"), warning


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if args.command == "config":
        from app.cli import config_cmd

        return config_cmd.run(args, sys.stdout, sys.stderr)
    if args.command == "models":
        from app.cli import models_cmd

        return models_cmd.run(args, sys.stdout)
    settings = load_settings_or_explain(sys.stderr)
    if settings is None:
        return 2
    if args.language:
        settings.general.language = args.language
    if args.persona:
        settings.general.persona = args.persona
    if args.command == "doctor":
        from app.cli import doctor_cmd

        return doctor_cmd.run(settings, sys.stdout)
    if args.command == "listen":
        from app.cli import listen_cmd

        return listen_cmd.run(args, settings, sys.stdout, sys.stderr)
    if args.command in ("say", "transcribe"):
        from app.cli import say_cmd, transcribe_cmd

        if args.command == "say":
            return say_cmd.run(args, settings, sys.stdout, sys.stderr)
        return transcribe_cmd.run(args, settings, sys.stdout, sys.stderr)
    if args.command == "avatar":
        from app.cli import avatar_cmd

        return avatar_cmd.run(args, settings, sys.stdout, sys.stderr)
    if args.command == "look":
        from app.cli import look_cmd

        return look_cmd.run(args, settings, sys.stdout, sys.stderr)
    if args.command == "chat":
        from app.cli import chat_cmd

        persona, _ = choose_persona(settings.general.persona, sys.stderr)
        return chat_cmd.run(args, settings, persona, sys.stdin, sys.stdout, sys.stderr)
    from app.gui.launch import run_gui  # Qt is loaded only when the window is wanted

    # a broken persona is reported in the window's notice bar and the default is used
    return run_gui(settings)


if __name__ == "__main__":
    raise SystemExit(main())
