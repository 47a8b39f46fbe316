"""The deployment files, checked without a container engine or a Databricks account: the
commands they run are the ones the README documents and `jobs-bot` accepts, the image installs
no extra, compose runs two bots on one PostgreSQL, app.yaml sets only what the bot reads."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.cli import _parser
from bot.config.secrets import ENV_NAMES

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def dockerfile_stages() -> list[list[tuple[str, str]]]:
    """The Dockerfile as stages of (INSTRUCTION, arguments), continuation lines joined."""
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    joined = re.sub(r"\\\n", " ", "\n".join(
        line for line in text.splitlines() if not line.lstrip().startswith("#")
    ))  # fmt: skip
    stages: list[list[tuple[str, str]]] = []
    for line in joined.splitlines():
        if not line.strip():
            continue
        instruction, _, rest = line.strip().partition(" ")
        if instruction.upper() == "FROM":
            stages.append([])
        if stages:
            stages[-1].append((instruction.upper(), rest.strip()))
    return stages


def exec_form(value: str) -> list[str]:
    parsed = json.loads(value)
    assert isinstance(parsed, list), f"use the exec form (a JSON list): {value}"
    return [str(v) for v in parsed]


def image_command() -> list[str]:
    final = dockerfile_stages()[-1]
    entry = [exec_form(v) for k, v in final if k == "ENTRYPOINT"][-1]
    cmd = [exec_form(v) for k, v in final if k == "CMD"][-1]
    return entry + cmd


def accepts(argv: list[str]) -> Any:
    """What `jobs-bot` makes of the command line (SystemExit if it refuses it)."""
    assert argv[0] == "jobs-bot"
    return _parser().parse_args(argv[1:])


def compose() -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def bot_services() -> dict[str, dict[str, Any]]:
    return {
        name: svc
        for name, svc in compose()["services"].items()
        if svc.get("build") or "jobs-bot" in str(svc.get("image", ""))
    }


# --- Dockerfile ----------------------------------------------------------------------------


def test_image_is_multi_stage_on_slim_python() -> None:
    stages = dockerfile_stages()
    assert len(stages) >= 2
    bases = [args for stage in stages for k, args in stage if k == "FROM"]
    assert all("python:" in b and "-slim" in b for b in bases), bases
    final = stages[-1]
    # The final stage only copies the built virtualenv: nothing is built or installed there.
    runs = " ".join(args for k, args in final if k == "RUN")
    assert "pip install" not in runs and "apt-get" not in runs
    assert any(k == "COPY" and args.startswith("--from=") for k, args in final)


def test_image_runs_as_a_non_root_user() -> None:
    users = [args for k, args in dockerfile_stages()[-1] if k == "USER"]
    assert users, "the final stage must set USER"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0")


def test_image_installs_no_extra() -> None:
    installs = [
        args for stage in dockerfile_stages() for k, args in stage
        if k == "RUN" and "pip install" in args
    ]  # fmt: skip
    assert installs
    for command in installs:
        for part in command.split("&&"):
            if "pip install" not in part:
                continue
            words = shlex.split(part)
            targets = [w for w in words[words.index("install") + 1 :] if not w.startswith("-")]
            assert targets == ["."], f"install only jobs-bot itself, no extras: {part}"
            assert "[" not in part and "-r" not in words


def test_image_entry_point_is_jobs_bot_run_as_documented() -> None:
    argv = image_command()
    args = accepts(argv)
    assert args.command == "run"
    assert " ".join(argv) in README


def test_image_copies_what_the_build_needs_and_the_ignore_file_keeps_secrets_out() -> None:
    copied = " ".join(args for stage in dockerfile_stages() for k, args in stage if k == "COPY")
    for needed in ("pyproject.toml", "bot", "queries", "templates", "manifest.yml"):
        assert needed in copied
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    for kept_out in (".env", ".git", ".venv", "*.duckdb", "jobs-bot.yml"):
        assert kept_out in ignored
    for needed in ("bot", "queries", "templates", "sandbox", "pyproject.toml", "manifest.yml"):
        assert needed not in ignored


# --- compose.yaml --------------------------------------------------------------------------


def test_compose_runs_two_bots_on_one_postgres() -> None:
    services = compose()["services"]
    bots = bot_services()
    assert len(bots) == 2
    databases = [n for n, s in services.items() if str(s.get("image", "")).startswith("postgres")]
    assert len(databases) == 1
    (db,) = databases
    for svc in bots.values():
        assert db in svc["depends_on"]
        url = svc["environment"]["JOBS_BOT_STATE_URL"]
        # From the operator's environment (.env), required: never a default with a password.
        assert re.fullmatch(r"\$\{JOBS_BOT_STATE_URL:\?[^}]*\}", url), url


def test_compose_commands_are_the_documented_ones() -> None:
    entry = exec_form([v for k, v in dockerfile_stages()[-1] if k == "ENTRYPOINT"][-1])
    for svc in bot_services().values():
        argv = entry + [str(c) for c in svc["command"]]
        assert accepts(argv).command == "run"
        assert " ".join(argv) in README
    # The documented doctor run goes through the same entry point.
    for line in README.splitlines():
        if line.strip().startswith("docker compose run"):
            words = shlex.split(line)
            service = words[words.index("--rm") + 1]
            assert service in bot_services()
            assert accepts(entry + words[words.index(service) + 1 :]).command == "doctor"


def test_compose_keeps_secrets_out_of_the_file() -> None:
    text = (ROOT / "compose.yaml").read_text(encoding="utf-8")
    assert not re.search(r"xox[bp]-|xapp-|dapi[0-9a-f]", text)
    password = compose()["services"]["postgres"]["environment"]["POSTGRES_PASSWORD"]
    assert password.startswith("${POSTGRES_PASSWORD:?")


# --- app.yaml ------------------------------------------------------------------------------


def app_yaml() -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "app.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_app_command_is_jobs_bot_run_as_documented() -> None:
    argv = [str(a) for a in app_yaml()["command"]]
    args = accepts(argv)
    assert args.command == "run" and args.http is None  # Socket Mode: no public endpoint
    assert " ".join(argv) in README


def test_app_env_sets_only_what_the_bot_reads_and_takes_secrets_from_resources() -> None:
    env = app_yaml()["env"]
    names = [e["name"] for e in env]
    read_by_bot = set(ENV_NAMES.values())
    assert set(names) <= read_by_bot, set(names) - read_by_bot
    assert {"SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "JOBS_BOT_STATE_URL"} <= set(names)
    for entry in env:
        assert "value" not in entry, f"{entry['name']}: a secret must come via valueFrom"
        assert re.fullmatch(r"[a-z][a-z0-9-]*", entry["valueFrom"])
        assert f"`{entry['valueFrom']}`" in README  # the resource key the README tells to make
    # The runtime injects the app principal's credentials; setting them here would override it.
    for injected in ("DATABRICKS_HOST", "DATABRICKS_CLIENT_ID", "DATABRICKS_CLIENT_SECRET",
                     "DATABRICKS_TOKEN"):  # fmt: skip
        assert injected not in names


def test_app_installs_jobs_bot_without_extras() -> None:
    lines = [
        line.strip()
        for line in (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert lines == ["."]


@pytest.mark.parametrize("grant", [
    "GRANT USE CATALOG ON CATALOG system",
    "GRANT USE SCHEMA, SELECT ON SCHEMA system.lakeflow",
    "GRANT USE SCHEMA, SELECT ON SCHEMA system.billing",
    "GRANT USE SCHEMA, SELECT ON SCHEMA system.compute",
    "GRANT USE SCHEMA, SELECT ON SCHEMA system.access",
    "CAN_MANAGE_RUN",
    "jobs-bot doctor --config jobs-bot.yml",
])  # fmt: skip
def test_readme_walks_through_the_grants_and_the_doctor(grant: str) -> None:
    section = README.split("## Deploy as a Databricks App", 1)[1].split("\n## ", 1)[0]
    assert grant in section


def test_every_system_schema_the_doctor_probes_has_a_documented_grant() -> None:
    from bot.doctor import SYSTEM_TABLES

    for table in SYSTEM_TABLES:
        schema = ".".join(table.split(".")[:2])
        assert f"ON SCHEMA {schema} " in README


def test_the_readme_says_no_engine_tested_the_image() -> None:
    section = README.split("## Deploy with containers", 1)[1]
    assert "No container engine was available" in section
