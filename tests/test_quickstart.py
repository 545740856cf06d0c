"""The README's quickstart, run: its commands are the ones tested here and run by CI (no drift).

The main-job command's steps (index a folder, serve the page) run on a generated folder,
offline, with a local random-weight MULE checkpoint; the page must answer and
`storage.query` must return neighbours.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

from tests.app.server_process import http_get, serve_page
from tests.audio_files import write_audio

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = ".venv/bin/"


def quickstart_commands() -> list[list[list[str]]]:
    """Each sh block of the README's Quickstart section, as a list of `&&`-joined argv steps."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", section, flags=re.S)
    return [[shlex.split(step) for step in block.replace("\\\n", " ").split("&&")] for block in blocks]


def test_quickstart_is_two_commands_and_ci_runs_the_test_one():
    main_job, tests = quickstart_commands()  # exactly two
    assert main_job[-1][:3] == [f"{VENV_BIN}streamlit", "run", "app/server.py"]
    assert [f"{VENV_BIN}indexer", "build"] == main_job[-2][:2]
    assert tests[-1] == [f"{VENV_BIN}python", "-m", "pytest", "-q"]
    ci_lines = [
        shlex.split(line, comments=True)
        for line in (ROOT / ".ci" / "run").read_text().replace("\\\n", " ").splitlines()
        if line.strip()
    ]
    for step in tests:
        assert step in ci_lines, f"CI does not run the README's `{shlex.join(step)}`"
    assert main_job[0] == tests[0]  # the same venv
    assert main_job[1][:-1] == tests[1][:-1] and (main_job[1][-1], tests[1][-1]) == (".", ".[dev]")


def local(step: list[str]) -> list[str]:
    """A README step run with this test run's interpreter (which in CI is .venv's)."""
    head = step[0]
    if head.startswith(VENV_BIN):
        head = str(Path(sys.executable).parent / head.removeprefix(VENV_BIN))
    return [head, *step[1:]]


def test_quickstart_main_job_indexes_a_folder_and_serves_the_page(tmp_path, mule_checkpoint):
    main_job, _ = quickstart_commands()
    build, serve = local(main_job[-2]), local(main_job[-1])
    music = tmp_path / "Music"
    for i in range(3):
        write_audio(music / f"album/track {i}.flac", 4.0 + i, seed=20 + i)
    write_audio(music / "album/bonus.aiff", 4.0, seed=30)
    env = {
        **os.environ,
        "SOUNDALIKE_DATA": str(tmp_path / "data"),
        "SOUNDALIKE_WEIGHTS": str(mule_checkpoint),
        "HF_HUB_OFFLINE": "1",
        "SOUNDALIKE_DB_URL": "",
    }
    build = [str(music) if arg == "~/Music" else arg for arg in build]
    done = subprocess.run(build, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "indexed 4 " in done.stdout + done.stderr

    with serve_page(serve, env, tmp_path / "page.log") as url:
        status, kind, body = http_get(url + "/")
        assert status == 200 and "text/html" in kind and b'<div id="root"' in body
        status, kind, body = http_get(url + "/soundalike/audio/1")
        assert status == 200 and kind.startswith("audio/") and len(body) > 10_000

    lookup = subprocess.run(
        [sys.executable, "-m", "storage.query", "album/track 0.flac", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert lookup.returncode == 0, lookup.stderr
    neighbours = json.loads(lookup.stdout)["neighbours"]
    assert len(neighbours) == 3 and {n["path"] for n in neighbours} == {
        "album/track 1.flac",
        "album/track 2.flac",
        "album/bonus.aiff",
    }
