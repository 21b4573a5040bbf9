"""Settings as data: every setting documented, sources layered, bad values refused clearly."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ddsnode.settings import SETTINGS, Settings, settings_table_markdown, write_settings_file

ROOT = Path(__file__).resolve().parent.parent


def test_every_setting_is_in_the_readme_table() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [s.name for s in SETTINGS if f"| `{s.name}` | `{s.env}` |" not in readme]
    assert not missing, f"README settings table lacks {missing}; paste settings_table_markdown()"


def test_readme_table_is_current() -> None:
    assert settings_table_markdown() in (ROOT / "README.md").read_text(encoding="utf-8")


def test_layering_default_file_env_override(tmp_path: Path) -> None:
    write_settings_file(tmp_path / "settings.toml", {"port": 9001, "name": "from file"})
    s = Settings.load(tmp_path, env={})
    assert (s.port, s.name, s.page_size) == (9001, "from file", 50)
    s = Settings.load(tmp_path, env={"DDS_PORT": "9002"})
    assert s.port == 9002
    s = Settings.load(tmp_path, env={"DDS_PORT": "9002"}, overrides={"port": 9003, "host": None})
    assert (s.port, s.host) == (9003, "127.0.0.1")


def test_base_url_gets_a_trailing_slash() -> None:
    assert Settings({"base_url": "https://node.example"}).base_url == "https://node.example/"


@pytest.mark.parametrize("env", [{"DDS_PORT": "eighty"}, {"DDS_SPARQL_TIMEOUT": "soon"}])
def test_bad_environment_values_are_refused_with_the_variable_name(env: dict[str, str]) -> None:
    with pytest.raises(ValueError, match=next(iter(env))):
        Settings.load(None, env=env)


def test_unknown_setting_in_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "settings.toml").write_text('colour = "blue"\n')
    with pytest.raises(ValueError, match="colour"):
        Settings.load(tmp_path, env={})


@pytest.mark.slow  # ddsnode commands as typed (tests/support/fastloop.py)
def test_cli_reports_a_broken_settings_file_in_one_line(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "ddsnode", "init", str(tmp_path / "n")], check=True,
                   capture_output=True)
    (tmp_path / "n" / "settings.toml").write_text("port = = 3\n")
    r = subprocess.run([sys.executable, "-m", "ddsnode", "token", "list", str(tmp_path / "n")],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "Traceback" not in r.stderr and "settings.toml" in r.stderr


def test_federation_tunables_come_from_the_settings(tmp_path: Path) -> None:
    from ddsnode.commands.node import init_node
    from ddsnode.federation.hub import Federation
    from ddsnode.ldp.node import Node
    init_node(tmp_path / "n", base_url="http://node.test/")
    env = {"DDS_PEER_POLL_SECONDS": "5", "DDS_PEER_SYNC_CONCURRENCY": "3"}
    node = Node.open(Settings.load(tmp_path / "n", env=env))
    try:
        fed = Federation(node)
        assert (fed.poll_interval, fed.sync_concurrency) == (5.0, 3)
        assert Federation(node, poll_interval=1).poll_interval == 1.0  # explicit wins
    finally:
        node.close()
