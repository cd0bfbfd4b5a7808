"""``dhuman config``: show, change and reset the settings file."""

from __future__ import annotations

import argparse
import os
from typing import Any, TextIO

import yaml

from app.config.settings import (
    ENV_PREFIX,
    Settings,
    env_overrides,
    load_file_settings,
    load_settings,
    save_settings,
    set_value,
    settings_path,
)
from app.config.yaml_source import ConfigError


def add_parser(sub: Any) -> None:
    p = sub.add_parser("config", help="show or change settings")
    actions = p.add_subparsers(dest="config_action", metavar="ACTION", required=True)
    actions.add_parser("show", help="print the settings in effect (file + environment)")
    actions.add_parser("path", help="print where the settings file lives")
    setter = actions.add_parser("set", help="set one value, e.g. `config set llm.model qwen2.5`")
    setter.add_argument("key", help="section.field")
    setter.add_argument("value", help="new value; `null` clears an optional field")
    actions.add_parser("reset", help="back to defaults (the old file is kept as .bak)")


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    path = settings_path()
    try:
        if args.config_action == "path":
            out.write(f"{path}\n")
        elif args.config_action == "show":
            settings = load_settings(path)
            out.write(f"# {path}{'' if path.exists() else ' (not written yet: defaults)'}\n")
            overridden = env_overrides(os.environ)
            if overridden:
                names = sorted(n for n in os.environ if n.startswith(ENV_PREFIX) and "__" in n)
                out.write(f"# overridden by the environment: {', '.join(names)}\n")
            out.write(
                yaml.safe_dump(
                    settings.model_dump(mode="json"), sort_keys=False, allow_unicode=True
                )
            )
        elif args.config_action == "set":
            updated = set_value(load_file_settings(path), args.key, args.value)
            save_settings(updated, path)
            section, field = args.key.split(".")
            out.write(f"{args.key} = {getattr(getattr(updated, section), field)!r} ({path})\n")
        elif args.config_action == "reset":
            if path.exists():
                backup = path.with_suffix(".yaml.bak")
                path.replace(backup)
                out.write(f"old settings kept in {backup}\n")
            save_settings(Settings(), path)
            out.write(f"defaults written to {path}\n")
    except ConfigError as exc:
        err.write(f"dhuman config: {exc}\n")
        return 2
    return 0
