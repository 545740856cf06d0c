"""MPD radio against a real MPD (Debian's `mpd`, started here on a free loopback port with a null audio
output) over python-mpd2: the queue grows with the seed's radio in the radio's order, what the listener
queued stays as it was, and the radio survives MPD being killed and started again."""

from __future__ import annotations

import logging
import threading
import time

from app.mpd_radio import MpdAddress, MpdRadio, TrackMap
from indexer.commands.main import main as indexer_main
from storage.read.catalog import Catalog
from storage.search.radio import RadioStream
from storage.search.service import SearchService
from tests.app.conftest import queue_files
from tests.mpd_server import free_port, wait_until


def test_the_queue_never_runs_dry_and_survives_mpd_restarting(built_catalog, mpd_server, caplog):
    caplog.set_level(logging.INFO, logger="app.mpd_radio")
    _, data = built_catalog
    catalog = Catalog.open(data)
    morning, five = catalog.resolve("ana/first/01 morning.flac"), catalog.resolve("cy/solo/05 five.flac")
    mine = ["catalog/ana/first/01 morning.flac", "catalog/cy/solo/05 five.flac"]  # queued by the listener
    client = mpd_server.client()
    for uri in mine:
        client.add(uri)
    client.play(0)
    client.pause(1)  # the first song stays current while we look
    client.disconnect()

    radio = MpdRadio(catalog, MpdAddress("127.0.0.1", mpd_server.port), TrackMap(catalog), keep=3)
    runner = threading.Thread(target=radio.run, daemon=True)
    runner.start()
    try:
        wait_until(lambda: len(queue_files(mpd_server)) == 4)  # after the current song: 3
        # The radio's order: seeded by the song playing, never what is queued, as storage.search.radio picks.
        expected = RadioStream(SearchService(catalog), [morning])
        expected.exclude([morning, five])
        expected.heard(morning)
        first = expected.take(2)
        assert radio.tracks.music_dir == built_catalog[0].parent.resolve()  # learnt from MPD's names
        assert queue_files(mpd_server) == mine + [f"catalog/{t.path}" for t in first]

        client = mpd_server.client()
        client.next()  # the listener's own second song plays: it steers the radio too
        client.disconnect()
        wait_until(lambda: len(queue_files(mpd_server)) == 5)
        expected.heard(five)
        assert queue_files(mpd_server)[4] == f"catalog/{expected.take(1)[0].path}"

        mpd_server.stop()
        time.sleep(1.5)  # a few reconnection attempts, said once
        mpd_server.start()
        wait_until(lambda: any("is back" in r.message for r in caplog.records))
        before = queue_files(mpd_server)
        assert before[:5] == mine + [f"catalog/{t.path}" for t in first] + before[4:5]  # all restored
        own = next(f"catalog/{t.path}" for t in catalog.all_tracks() if f"catalog/{t.path}" not in before)
        client = mpd_server.client()
        client.add(own)  # the listener jumps to a song of their own, last in line
        client.play(len(before))
        client.pause(1)
        client.disconnect()
        wait_until(lambda: len(queue_files(mpd_server)) == len(before) + 1 + 3)
        after = queue_files(mpd_server)
        assert after[: len(before) + 1] == [*before, own]  # untouched, in order
        assert len(set(after)) == len(after)  # nothing twice
    finally:
        radio.stop.set()
        runner.join(10)
    lost = [r for r in caplog.records if "not answering" in r.message]
    assert len(lost) == 1 and not runner.is_alive()


def test_one_shot_seed_and_path_append_after_what_is_queued(built_catalog, mpd_server, capsys):
    _, data = built_catalog
    catalog = Catalog.open(data)
    client = mpd_server.client()
    client.add("catalog/cy/solo/01 one.mp3")
    client.disconnect()
    address = ["--data-dir", str(data), "--host", "127.0.0.1", "--port", str(mpd_server.port)]
    assert indexer_main(["mpd", *address, "--seed", "ana/first/02 noon.mp3", "--count", "4"]) == 0
    assert "queued 4 track(s)" in capsys.readouterr().out
    queued = queue_files(mpd_server)
    noon = catalog.resolve("ana/first/02 noon.mp3")
    assert queued[:2] == ["catalog/cy/solo/01 one.mp3", f"catalog/{noon.path}"] and len(queued) == 5
    assert "catalog/cy/solo/01 one.mp3" not in queued[1:]  # what was queued is not queued again

    start, end = catalog.resolve("ana/first/01 morning.flac"), catalog.resolve("cy/solo/05 five.flac")
    path = [t for t, _ in SearchService(catalog).path(start, end, 4)]
    assert indexer_main(["mpd", *address, "--music-dir", str(built_catalog[0].parent), "--path",
                         str(start.id), str(end.id), "--count", "4"]) == 0  # fmt: skip
    assert queue_files(mpd_server)[5:] == [f"catalog/{t.path}" for t in path]


def test_an_unreachable_mpd_is_one_line_for_a_one_shot(built_catalog, capsys):
    _, data = built_catalog
    port = str(free_port())  # nothing listens there
    code = indexer_main(["mpd", "--data-dir", str(data), "--host", "127.0.0.1", "--port", port, "--seed", "1"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and len(err) == 1 and f"cannot reach MPD at 127.0.0.1:{port}" in err[0]


def test_mpd_addresses_as_mpd_clients_take_them(monkeypatch):
    monkeypatch.setenv("MPD_HOST", "s3cret@nas.local")
    monkeypatch.setenv("MPD_PORT", "6601")
    assert MpdAddress.resolve() == MpdAddress("nas.local", 6601, "s3cret")
    assert MpdAddress.resolve("other", 7000) == MpdAddress("other", 7000, None)
    monkeypatch.setenv("MPD_HOST", "@mpd-socket")  # an abstract socket, not a password
    assert MpdAddress.resolve() == MpdAddress("@mpd-socket", 6601, None)
    monkeypatch.delenv("MPD_HOST")
    monkeypatch.delenv("MPD_PORT")
    assert MpdAddress.resolve() == MpdAddress("localhost", 6600, None)


def test_files_map_by_music_dir_or_unique_suffix(built_catalog, caplog):
    root, data = built_catalog
    catalog = Catalog.open(data)
    swell = catalog.resolve("bo/tides/03 swell.flac")
    given = TrackMap(catalog, root)
    assert given.track("bo/tides/03 swell.flac") == swell and given.uri(swell) == "bo/tides/03 swell.flac"
    assert given.track("catalog/bo/tides/03 swell.flac") is None  # not under the music directory given
    learnt = TrackMap(catalog)
    assert learnt.uri(swell) is None  # not known until a file maps
    assert learnt.track("tides/03 swell.flac") == swell and learnt.uri(swell) == "tides/03 swell.flac"
    assert learnt.track("elsewhere/unknown.flac") is None
    assert learnt.track("elsewhere/unknown.flac") is None
    assert sum("elsewhere/unknown.flac" in r.message for r in caplog.records) == 1  # reported once


def test_a_library_of_symlinks_is_named_by_its_links(tmp_path):
    """MPD and the indexer name a linked file by its link: so does the mapping (its folders resolved)."""
    from storage.core.paths import file_place

    clip = tmp_path / "clip.flac"
    clip.write_bytes(b"")
    (tmp_path / "real").mkdir()
    (tmp_path / "linked").symlink_to(tmp_path / "real", target_is_directory=True)
    (tmp_path / "real" / "t1.flac").symlink_to(clip)
    assert file_place(tmp_path / "linked" / "t1.flac") == tmp_path.resolve() / "real" / "t1.flac"
    assert file_place(tmp_path / "real" / "t1.flac") != file_place(clip)
