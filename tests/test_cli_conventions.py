"""Command-line conventions of `indexer` and `python -m storage.query` (part of the CLI-edges work)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from indexer.commands.lookup import main as query
from indexer.commands.main import main as indexer
from tests.storage.conftest import clustered_vectors, fill_store

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def data_dir(tmp_path, monkeypatch, cli_database) -> Path:
    fill_store(tmp_path / "data", clustered_vectors(30, 16, seed=2))
    monkeypatch.setenv("SOUNDALIKE_DATA", str(tmp_path / "data"))
    return tmp_path / "data"


@pytest.mark.parametrize(
    "argv",
    [["--version"], ["--help"], *([c, "--help"] for c in ("build", "status", "tracks", "evaluate", "forget"))],
)
def test_indexer_help_and_version_exit_0(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        indexer(argv)
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip()


def test_query_help_names_track_id_and_version(capsys):
    for argv in (["--help"], ["--version"]):
        with pytest.raises(SystemExit) as exit_info:
            query(argv)
        assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "TRACK_ID" in out and "soundalike " in out


def test_closed_pipe_is_quiet(data_dir):
    # `true` exits at once, long before Python has started and written: the write meets a closed pipe.
    command = f"{sys.executable} -m storage.query 1 -k 30 | true"
    done = subprocess.run(["bash", "-o", "pipefail", "-c", command], cwd=ROOT, capture_output=True, text=True)
    assert done.stderr == "" and done.returncode == 141


def test_m3u_to_stdout_and_bad_targets(data_dir, tmp_path, capsys):
    assert query(["1", "-k", "2", "--m3u", "-"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("#EXTM3U\n") and out.count("#EXTINF") == 2 and "Nearest" not in out
    assert not Path("-").exists()
    assert query(["1", "--m3u", str(tmp_path / "no" / "dir" / "p.m3u")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: cannot write the playlist") and err.count("\n") == 1
    assert query(["1", "--m3u", "-", "--json"]) == 2


def test_missing_audio_file_is_bad_usage(data_dir, capsys):
    assert query(["--audio", "missing.wav"]) == 2
    assert capsys.readouterr().err == "error: no such audio file: missing.wav\n"


def test_indexer_tracks_lists_and_searches(data_dir, capsys):
    assert indexer(["tracks", "bob", "song", "13"]) == 0
    rows = capsys.readouterr().out.splitlines()
    assert len(rows) == 1 and rows[0].startswith("14\tBob – Song 13\t")
    assert indexer(["tracks", "--json", "-n", "5"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(lines) == 5 and {"id", "path", "title", "artist", "album", "duration", "folder"} <= set(lines[0])


BUILD_WITH_FAKE_MODEL = """
import sys
from tests.fake_embedder import install_loader
install_loader()
from indexer.commands.main import main
sys.exit(main(sys.argv[1:]))
"""


def test_decoder_chatter_stays_off_the_terminal(tmp_path):
    """libmpg123 writes its notes on a damaged MP3 straight to stderr; a build shows none of them (one
    line for the failed file instead), and --verbose hands them to the log."""
    from tests.audio_files import write_audio

    music = tmp_path / "music"
    good = write_audio(music / "fine.flac", 3.0, seed=1)
    damaged = write_audio(music / "damaged.mp3", 3.0, seed=2).read_bytes()
    middle = len(damaged) // 2
    (music / "damaged.mp3").write_bytes(damaged[:middle] + bytes(range(256)) * 12 + damaged[middle:])
    (tmp_path / "weights").mkdir()
    command = [sys.executable, "-c", BUILD_WITH_FAKE_MODEL, "build", str(music), "--workers", "1"]
    command += ["--weights", str(tmp_path / "weights"), "--data-dir", str(tmp_path / "data")]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    chatter = ("Note:", "mpg123", "Illegal", "resync", "Warning: Xing")
    assert not [line for line in done.stderr.splitlines() if any(c in line for c in chatter)], done.stderr
    assert good.exists()
    verbose = subprocess.run(
        [*command, "--verbose", "--rebuild"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert "indexer.decoder" in verbose.stderr and "Illegal Audio-MPEG-Header" in verbose.stderr


def test_a_build_that_fails_before_writing_leaves_no_new_files(tmp_path, monkeypatch, capsys):
    from tests.audio_files import write_audio

    monkeypatch.delenv("SOUNDALIKE_DB_URL", raising=False)
    write_audio(tmp_path / "music" / "a.flac", 2.0, seed=1)
    missing = ["--weights", str(tmp_path / "no-such-weights"), "--quiet"]
    assert indexer(["build", str(tmp_path / "music"), "--data-dir", str(tmp_path / "data"), *missing]) == 1
    assert "neither a folder nor a Hub repo id" in capsys.readouterr().err
    assert not (tmp_path / "data").exists()
    (tmp_path / "empty").mkdir()
    assert indexer(["build", str(tmp_path / "music"), "--data-dir", str(tmp_path / "empty"), *missing]) == 1
    assert list((tmp_path / "empty").iterdir()) == []


def test_every_command_has_a_description_examples_and_helped_options():
    import argparse

    from indexer.commands.lookup import build_parser as query_parser
    from indexer.commands.main import build_parser

    parsers = {"indexer": build_parser(), "storage.query": query_parser()}
    commands = parsers["indexer"]._subparsers._group_actions[0].choices
    parsers |= {f"indexer {name}": sub for name, sub in commands.items()}
    for name, parser in parsers.items():
        assert parser.description and "examples:" in (parser.epilog or ""), name
        for action in parser._actions:
            if isinstance(action, argparse._HelpAction | argparse._SubParsersAction):
                continue
            assert action.help, f"{name}: {action.option_strings or action.dest} has no help"
