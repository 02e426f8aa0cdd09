"""extras/: the shipped lavinmq.ini documents every option, the unit is hardened."""

from __future__ import annotations

import configparser
import re
from pathlib import Path

import pytest

from lavinmq import config

EXTRAS = Path(__file__).resolve().parents[2] / "extras"
CONFIG_INI = EXTRAS / "config.ini"
SERVICE = EXTRAS / "lavinmq.service"

# `;key = value` (a documented, commented-out setting) or `key = value`.
SETTING = re.compile(r"^;?(?P<key>[a-z_]+) =(?: (?P<value>.*))?$")


def ini_settings() -> dict[tuple[str, str], tuple[str, bool]]:
    """(section, key) -> (value, commented out) for every setting line in config.ini."""
    settings: dict[tuple[str, str], tuple[str, bool]] = {}
    section = ""
    for line in CONFIG_INI.read_text().splitlines():
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
        elif match := SETTING.match(line):
            settings[(section, match["key"])] = (match["value"] or "", line.startswith(";"))
    return settings


def test_every_ini_key_is_documented() -> None:
    missing = sorted(set(config.INI_KEYS) - set(ini_settings()))
    assert not missing, f"extras/config.ini lacks these [section] keys: {missing}"


def test_no_unknown_ini_keys() -> None:
    unknown = sorted(set(ini_settings()) - set(config.INI_KEYS))
    assert not unknown, f"extras/config.ini has keys lavinmq does not read: {unknown}"


def test_every_cli_option_is_documented() -> None:
    text = CONFIG_INI.read_text()
    options = [opt for action in config.build_parser()._actions for opt in action.option_strings]
    assert "--data-dir" in options
    missing = [
        opt for opt in options if not re.search(rf"(?<![\w-]){re.escape(opt)}(?![\w-])", text)
    ]
    assert not missing, f"extras/config.ini does not mention these `lavinmq -h` options: {missing}"


def test_shipped_ini_loads_without_unknown_keys() -> None:
    cfg = config.Config()
    config.apply_ini(cfg, CONFIG_INI)
    assert cfg.extra == {}
    assert cfg.data_dir == "/var/lib/lavinmq"
    assert cfg.log_level == "info"


def test_commented_values_are_the_defaults(tmp_path: Path) -> None:
    """Uncommenting any documented value that has a default changes nothing."""
    defaults = config.Config()
    for (section, key), (value, commented) in ini_settings().items():
        attr = config.INI_KEYS[(section, key)]
        if not commented or getattr(defaults, attr) == "":  # "" : off; the value is an example
            continue
        ini = tmp_path / "one.ini"
        ini.write_text(f"[{section}]\n{key} = {value}\n")
        cfg = config.Config()
        config.apply_ini(cfg, ini)
        assert getattr(cfg, attr) == getattr(defaults, attr), f"[{section}] {key} = {value}"


def _unit() -> configparser.ConfigParser:
    unit = configparser.ConfigParser(interpolation=None, strict=False)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read_string(SERVICE.read_text())
    return unit


def test_unit_runs_the_broker_as_lavinmq_with_the_shipped_config() -> None:
    service = _unit()["Service"]
    assert service["ExecStart"] == "/usr/bin/lavinmq -c /etc/lavinmq/lavinmq.ini"
    assert service["User"] == service["Group"] == "lavinmq"
    assert service["StateDirectory"] == "lavinmq"
    assert _unit()["Install"]["WantedBy"] == "multi-user.target"


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("NoNewPrivileges", "yes"),
        ("ProtectSystem", "strict"),
        ("ProtectHome", "yes"),
        ("PrivateTmp", "yes"),
        ("LimitNOFILE", "1048576"),
        ("ReadWritePaths", "/var/lib/lavinmq"),
    ],
)
def test_unit_hardening(key: str, value: str) -> None:
    assert _unit()["Service"][key] == value
