"""The "Find similar tracks" page, driven with Streamlit's AppTest against a really indexed catalog."""

from __future__ import annotations

import io
import re

import numpy as np
import pytest
import soundfile as sf

from app.display import track_label
from storage.core.passages import describe
from storage.read.catalog import Catalog
from storage.write.store import Store
from tests.app.catalog_builder import TRACKS
from tests.conftest import tone_mix
from tests.fake_embedder import FakeEmbedder
from tests.search_helpers import passages, similar


@pytest.fixture
def fake_model(monkeypatch) -> FakeEmbedder:
    """Uploads embedded by the fake model the catalog was built with (same revision)."""
    import indexer.models

    fake = FakeEmbedder()
    monkeypatch.setattr(indexer.models, "load_embedder", lambda *args, **kwargs: fake)
    return fake


def neighbour_ids(at) -> list[int]:
    """Track ids of the neighbour rows, in rank order (each row's "Find similar" button is keyed by id)."""
    return [int(b.key.removeprefix("use-")) for b in at.button if b.key and b.key.startswith("use-")]


def audio_sources(at, passages: bool = False) -> list[str]:
    """The tracks' own players (or, with `passages`, those that start at a matched passage: `#t=`)."""
    found = [m for h in at.html for m in re.findall(r'<audio[^>]*\ssrc="([^"]*)"', h.proto.body)]
    return [src for src in found if ("#t=" in src) == passages]


def messages(at) -> str:
    return " | ".join(e.value for kind in (at.error, at.warning, at.info) for e in kind)


def pick(at, text: str, index: int = 0):
    """Search for `text` and choose the index-th match."""
    at.text_input(key="search").set_value(text).run()
    return at.selectbox(key="pick").select_index(index).run()


def build_beside(catalog_dir, data, model: str, weights, **model_options: str) -> None:
    """Index the page's catalog with another model too (one worker, quiet)."""
    from indexer.build import BuildOptions, build_catalog

    options = BuildOptions(model=model, weights=str(weights), model_options=model_options)
    options.workers, options.progress = 1, False
    build_catalog(catalog_dir, data, options)


def wav_bytes(seconds: float, seed: int) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, tone_mix(seconds, seed=seed, sr=44100), 44100, format="WAV")
    return buffer.getvalue()


def test_pick_a_track_and_hear_its_neighbours(page, built_catalog):
    _, data = built_catalog
    at = page(data)
    assert not at.exception
    assert any(c.value.startswith("Search, browse, pick from the map") for c in at.caption)
    assert "CC BY-NC 4.0: non-commercial" in " ".join(c.value for c in at.sidebar.caption)  # the weights' licence
    at = pick(at, "ana first")  # words of artist and album
    assert at.selectbox(key="pick").options == [
        "Ana Lune – Morning · First Light · 0:04",
        "Ana Lune – Noon · First Light · 0:05",
    ]
    catalog = Catalog.open(data)
    morning = catalog.resolve("ana/first/01 morning.flac")
    expected = [n.track.id for n in similar(catalog, morning, 10)]
    assert neighbour_ids(at) == expected and len(expected) == 10
    assert morning.id not in neighbour_ids(at)
    # The query's player first, then one per neighbour, each from the audio route by id.
    assert audio_sources(at) == [f"/soundalike/audio/{i}" for i in [morning.id, *expected]]
    assert at.query_params["track"] == str(morning.id)
    # Scores a person reads: the share of the catalog's pairs further apart (the cosine in the tooltip).
    said_close = [c for c in at.caption if c.value.startswith("closer than")]
    shares = [float(c.value.split()[2].rstrip("%")) for c in said_close]
    assert len(shares) == 10 and shares == sorted(shares, reverse=True) and 0 <= shares[-1] <= shares[0] <= 100
    assert said_close[0].help.startswith("cosine similarity 0.")
    # Each result: its matched passage in words, a similarity strip, and a player at each side of it.
    first = similar(catalog, morning, 1)[0]
    said = [c.value for c in at.caption if c.value.startswith("matched passage")]
    assert len(said) == 10 and describe(first.passage) in said[0]
    assert sum('class="similarity-strip"' in h.proto.body for h in at.html) == 10
    at_passage = audio_sources(at, passages=True)
    assert len(at_passage) == 20
    assert at_passage[:2] == [
        f"/soundalike/audio/{first.track.id}#t={first.passage.start:.1f}",
        f"/soundalike/audio/{morning.id}#t={first.passage.query_start:.1f}",
    ]


def test_caps_are_on_by_default_and_shown(page, built_catalog):
    """The page starts with at most 3 results per artist and 2 per album, and says so; 0 lifts a cap."""
    from app.settings import DEFAULT_PER_ALBUM, DEFAULT_PER_ARTIST
    from storage.search.caps import Caps

    _, data = built_catalog
    at = pick(page(data, capped=True), "ana first")
    caps = {w.key: w.value for w in at.number_input}
    assert (DEFAULT_PER_ARTIST, DEFAULT_PER_ALBUM) == (3, 2)
    assert caps == {"max_per_artist": 3, "max_per_album": 2}
    catalog = Catalog.open(data)
    morning = catalog.resolve("ana/first/01 morning.flac")
    expected = similar(catalog, morning, 10, caps=Caps(3, 2))
    assert neighbour_ids(at) == [n.track.id for n in expected] and len(expected) == 7  # 3 artists, 4 albums
    at = at.number_input(key="max_per_album").set_value(0).run()
    assert neighbour_ids(at) == [n.track.id for n in similar(catalog, morning, 10, caps=Caps(3, None))]


def test_fewer_hubs_reranks(page, tmp_path):
    """On a catalog with planted hubs (tracks at the middle of everything), "Fewer ever-present tracks"
    gives the CSLS list, and the hubs drop out of it."""
    from tests.storage.conftest import fill_store
    from tests.storage.test_hubs import planted

    vectors, _ = planted(seed=2)
    data = tmp_path / "data"
    fill_store(data, vectors)
    hubs = set(range(len(vectors) - 11, len(vectors) + 1))  # the 12 planted last (ids start at 1)
    catalog = Catalog.open(data)

    def hubs_in(ids: list[int]) -> int:
        return len(hubs & set(ids))

    query = next(i for i in range(1, len(vectors) - 12) if hubs_in([n.track.id for n in similar(catalog, i, 10)]) >= 2)
    at = page(data)
    at.session_state["query_track"], at.session_state["query_source"] = query, "track"
    plain = neighbour_ids(at.run())
    assert plain == [n.track.id for n in similar(catalog, query, 10)]
    reranked = neighbour_ids(at.toggle(key="rerank").set_value(True).run())
    assert reranked == [n.track.id for n in similar(catalog, query, 10, rerank="csls")]
    assert hubs_in(reranked) < hubs_in(plain) and reranked != plain


def test_search_by_passage(page, built_catalog):
    """A region of the query (a range slider over its duration) finds the nearest catalog passages."""
    _, data = built_catalog
    at = pick(page(data), "ana first")
    catalog = Catalog.open(data)
    morning = catalog.resolve("ana/first/01 morning.flac")
    at = at.toggle(key="by_passage").set_value(True).run()
    region = at.slider(key=f"region-track-{morning.id}")
    assert (region.min, region.max, region.value) == (0, 4, (0, 4))  # a 4-s track: all of it
    at = region.set_value((2, 4)).run()
    assert not at.exception
    expected = passages(catalog, morning, 2.0, 4.0, 10)
    assert neighbour_ids(at) == [n.track.id for n in expected] and len(expected) == 10
    assert "10 nearest passages to 0:02–0:04" in [h.value for h in at.subheader]
    said = [c.value for c in at.caption if c.value.startswith("matched passage")]
    assert describe(expected[0].passage) in said[0] and "0:02–0:04 in the query" in said[0]
    at = at.toggle(key="by_passage").set_value(False).run()  # back to whole tracks
    assert neighbour_ids(at) == [n.track.id for n in similar(catalog, morning, 10)]


def test_k_and_exclusions(page, built_catalog):
    _, data = built_catalog
    at = pick(page(data), "cy one")
    catalog = Catalog.open(data)
    one = catalog.resolve("cy/solo/01 one.mp3")
    at.slider(key="k").set_value(3).run()
    assert neighbour_ids(at) == [n.track.id for n in similar(catalog, one, 3)]
    at.slider(key="k").set_value(20).run()
    assert len(neighbour_ids(at)) == len(TRACKS) - 1  # everything but the query
    at.checkbox(key="exclude_artist").check().run()
    artists = {catalog.track(i).artist for i in neighbour_ids(at)}
    assert artists == {"Ana Lune", "Bo Marsh"}
    at.checkbox(key="exclude_artist").uncheck().run()
    at.checkbox(key="exclude_album").check().run()
    assert {catalog.track(i).album for i in neighbour_ids(at)}.isdisjoint({"Solo"})


def test_a_neighbour_becomes_the_query(page, built_catalog):
    _, data = built_catalog
    at = pick(page(data), "dusk")
    first = neighbour_ids(at)[0]
    at.button(key=f"use-{first}").click().run()
    assert at.session_state["query_track"] == first
    assert at.query_params["track"] == str(first)
    assert first not in neighbour_ids(at)
    assert neighbour_ids(at) == [n.track.id for n in similar(Catalog.open(data), first, 10)]


def test_the_address_names_the_query(page, built_catalog):
    _, data = built_catalog
    at = page(data)
    at.query_params["track"] = "5"
    at.run()
    assert audio_sources(at)[0] == "/soundalike/audio/5"
    assert len(neighbour_ids(at)) == 10


def test_upload_is_queried_without_joining_the_catalog(page, built_catalog, fake_model, tmp_path):
    """A re-encode of a catalog track (other bytes, the same recording) is said to be in the catalog and
    left out of its own results; the upload itself is never added."""
    import soundfile as sf

    catalog_dir, data = built_catalog
    at = page(data)
    from tests.audio_files import tag

    wave, rate = sf.read(catalog_dir / "ana/second/02 night.wav")
    sf.write(tmp_path / "take.flac", wave, rate, format="FLAC")
    tag(tmp_path / "take.flac", artist="Ana Lune", title="Mystery take")
    upload = (tmp_path / "take.flac").read_bytes()
    at.file_uploader(key="upload_file").upload("mystery take.flac", upload, "audio/flac").run()
    assert not at.exception, at.exception
    assert fake_model.embedded, "the upload was embedded"
    catalog = Catalog.open(data)
    night_id = catalog.resolve("ana/second/02 night.wav").id
    assert "This is “Ana Lune – Night” in your catalog" in messages(at)
    ids = neighbour_ids(at)
    assert night_id not in ids and len(ids) == 10
    # The upload plays from memory (itself, and at each matched passage), the rest from the route.
    assert len(at.get("audio")) == 1 + 10 and len(audio_sources(at)) == 10
    said = [c.value for c in at.caption if c.value.startswith("matched passage")]
    assert len(said) == 10
    assert catalog.count_tracks() == {"indexed": len(TRACKS)}  # nothing was added
    at.checkbox(key="exclude_artist").check().run()  # the upload's tags say Ana Lune
    assert all(catalog.track(i).artist != "Ana Lune" for i in neighbour_ids(at))


@pytest.mark.parametrize(
    ("name", "data", "limits", "expected"),
    [
        ("notes.txt", b"these are not sounds" * 20, {}, "notes.txt can't be used"),
        ("long.wav", None, {"MAX_UPLOAD_MINUTES": 0.05}, "the limit for a query file is"),
        ("big.wav", None, {"MAX_UPLOAD_MB": 0.01}, "uploads are limited to"),
    ],
)
def test_unusable_uploads_get_one_clear_message(
    page, built_catalog, fake_model, monkeypatch, name, data, limits, expected
):
    import app.views

    for setting, value in limits.items():
        monkeypatch.setattr(app.views, setting, value)
    at = page(built_catalog[1])
    at.file_uploader(key="upload_file").upload(name, data or wav_bytes(6.0, seed=3), "audio/wav").run()
    assert not at.exception
    assert len(at.error) == 1 and expected in at.error[0].value
    assert "\n" not in at.error[0].value
    assert neighbour_ids(at) == []


def test_missing_weights_stop_uploads_not_picks(page, built_catalog, monkeypatch, tmp_path):
    monkeypatch.setenv("SOUNDALIKE_WEIGHTS", str(tmp_path / "no-weights-here"))
    at = page(built_catalog[1])
    at.file_uploader(key="upload_file").upload("q.wav", wav_bytes(5.0, seed=1), "audio/wav").run()
    assert not at.exception
    assert "Uploads need the mule weights" in at.warning[0].value
    assert "SOUNDALIKE_WEIGHTS" in at.warning[0].value  # says how to provide them
    at = pick(at, "swell")
    assert len(neighbour_ids(at)) == 10


def test_no_data_directory_says_what_to_run(page, tmp_path):
    at = page(tmp_path / "nowhere")
    assert not at.exception
    assert "indexer build" in messages(at) + " ".join(c.value for c in at.caption)
    assert not at.text_input


def test_empty_index_says_what_to_run(page, tmp_path):
    (tmp_path / "catalog").mkdir()
    (tmp_path / "catalog" / "broken.mp3").write_bytes(b"not audio at all" * 100)
    from indexer.build import BuildOptions, build_catalog
    from tests.fake_embedder import FakeEmbedder

    build_catalog(tmp_path / "catalog", tmp_path / "data", BuildOptions(workers=1, progress=False), FakeEmbedder())
    at = page(tmp_path / "data")
    assert not at.exception
    assert "indexer build" in at.error[0].value


def test_a_track_whose_file_is_gone(page, page_catalog):
    catalog_dir, data = page_catalog
    (catalog_dir / "bo/tides/03 swell.flac").unlink()
    at = pick(page(data), "ebb")
    swell = Catalog.open(data).resolve("bo/tides/03 swell.flac").id
    assert swell in neighbour_ids(at)  # still listed
    gone = [w.value for w in at.warning]
    assert len(gone) == 1 and "gone" in gone[0] and "swell.flac" in gone[0]
    assert f"/soundalike/audio/{swell}" not in audio_sources(at)
    assert len(audio_sources(at)) == 10  # the query and the 9 other neighbours still play


def test_index_being_rebuilt_keeps_answering(page, page_catalog):
    _, data = page_catalog
    catalog = Catalog.open(data)
    five = catalog.resolve("cy/solo/05 five.flac")
    # A build has stored a new vector but not yet swapped the index.
    Store(data).save_embedding(five.id, "mule", "fake-rev", {}, np.ones(32, np.float32), np.ones((1, 32)), np.zeros(1))
    at = pick(page(data), "morning")
    assert "being updated" in messages(at)
    assert len(neighbour_ids(at)) == 10


def test_a_rebuilt_index_is_picked_up_without_a_restart(page, page_catalog):
    catalog_dir, data = page_catalog
    at = pick(page(data), "morning")
    before = set(neighbour_ids(at))
    from indexer.build import BuildOptions, build_catalog
    from tests.audio_files import tag, write_audio

    new = write_audio(catalog_dir / "dee/late/01 encore.flac", 5.0, seed=0)  # Morning's audio: its nearest
    tag(new, artist="Dee", album="Late", title="Encore")
    build_catalog(catalog_dir, data, BuildOptions(workers=1, progress=False), FakeEmbedder())
    at.run()
    encore = Catalog.open(data).resolve("dee/late/01 encore.flac").id
    assert encore not in before and neighbour_ids(at)[0] == encore
    assert "being updated" not in messages(at)


def test_upload_with_the_real_model(page, tmp_path, mule_checkpoint, mule_embedder, monkeypatch):
    """The page loads MULE itself (local weights folder) and queries a catalog MULE built."""
    from indexer.build import BuildOptions, build_catalog
    from tests.audio_files import write_audio

    for i in range(3):
        write_audio(tmp_path / "catalog" / f"t{i}.flac", 4.0, seed=10 + i)
    build_catalog(tmp_path / "catalog", tmp_path / "data", BuildOptions(workers=1, progress=False), mule_embedder)
    monkeypatch.setenv("SOUNDALIKE_WEIGHTS", str(mule_checkpoint))
    at = page(tmp_path / "data")
    upload = (tmp_path / "catalog" / "t1.flac").read_bytes()
    at.file_uploader(key="upload_file").upload("t1 copy.flac", upload, "audio/flac").run(timeout=180)
    assert not at.exception and not at.error and not at.warning
    catalog = Catalog.open(tmp_path / "data")
    assert "This is “t1” in your catalog" in messages(at)  # the same file: the same content hash
    assert sorted(neighbour_ids(at)) == sorted(t.id for t in catalog.search_tracks("") if t.path != "t1.flac")
    assert all(c.value.startswith("closer than") for c in at.caption if c.help and c.help.startswith("cosine"))


def test_several_models_side_by_side(page, page_catalog, tmp_path):
    from indexer.build import BuildOptions, build_catalog
    from indexer.models.mert.checkpoint import mert_config
    from indexer.models.mert.testing import write_random_mert as write_random_checkpoint

    catalog_dir, data = page_catalog
    weights = write_random_checkpoint(tmp_path / "mert", mert_config("95m", small=True))
    options = BuildOptions(model="mert-95m", weights=str(weights), workers=1, progress=False)
    build_catalog(catalog_dir, data, options)
    at = page(data)
    assert at.selectbox(key="model").options == ["mert-95m", "mule"]
    assert at.selectbox(key="model").value == "mule"
    at.selectbox(key="model").set_value("mert-95m").run()
    at = pick(at, "flow")
    flow = Catalog.open(data, "mert-95m").resolve("bo/tides/02 flow.m4a")
    assert neighbour_ids(at) == [n.track.id for n in similar(Catalog.open(data, "mert-95m"), flow, 10)]
    assert "mert-95m" in " ".join(c.value for c in at.sidebar.caption)


def test_styles_shown_and_filtered_with_a_tagging_model(page, page_catalog, tmp_path):
    from indexer.models.maest.checkpoint import maest_config
    from indexer.models.maest.testing import write_random_maest as write_random_checkpoint

    catalog_dir, data = page_catalog
    labels = [f"Genre{g}---Style{g}.{s}" for g in range(4) for s in range(10)]
    weights = write_random_checkpoint(tmp_path / "maest", maest_config(labels, small=True), 316)
    build_beside(catalog_dir, data, "maest", weights, variant="5s-pw-129e", styles_top="2", styles_min="0.0")
    at = page(data)
    at.selectbox(key="model").set_value("maest").run()
    at = pick(at, "three")
    assert "CC BY-NC-SA 4.0" in " ".join(c.value for c in at.sidebar.caption)
    shown = [c.value for c in at.caption if c.value.startswith("styles:")]
    assert len(shown) == 1 + 10  # the query and every neighbour
    catalog = Catalog.open(data, "maest")
    counts = dict(catalog.style_counts())
    rare = min(counts, key=lambda label: (counts[label], label))
    at.multiselect(key="styles").set_value([rare]).run()
    kept = neighbour_ids(at)
    three = catalog.resolve("cy/solo/03 three.flac").id
    assert set(kept) == catalog.tracks_with_styles([rare]) - {three}
    # Searching with MULE, the MAEST styles built beside it still say what query and result share.
    at.multiselect(key="styles").set_value([]).run()
    at.selectbox(key="model").set_value("mule").run()
    compared = [c.value for c in at.caption if c.value.startswith("styles:")][1:]
    assert len(compared) == len(neighbour_ids(at)) and all(
        re.search(r"(both|only this track|only the query): Genre\d / Style", c) for c in compared
    )


def test_musicnn_tags_shown_filtered_and_compared(page, page_catalog, tmp_path):
    """MusiCNN's tags (plain labels, not Genre---Style) on every card, in the filter, and compared when MULE
    is searched beside it."""
    from indexer.models.musicnn.testing import write_random_musicnn

    catalog_dir, data = page_catalog
    weights = write_random_musicnn(tmp_path / "musicnn")
    build_beside(catalog_dir, data, "musicnn", weights, tags_top="3", tags_min="0")
    at = page(data)
    at.selectbox(key="model").set_value("musicnn").run()
    at = pick(at, "three")
    assert "ISC licence" in " ".join(c.value for c in at.sidebar.caption)
    shown = [c.value for c in at.caption if c.value.startswith("styles:")]
    assert len(shown) == 1 + 10 and all("msd tag" in c for c in shown)
    catalog = Catalog.open(data, "musicnn")
    counts = dict(catalog.style_counts())
    assert at.multiselect(key="styles").options == [label for label, _ in catalog.style_counts()]  # no genres
    rare = min(counts, key=lambda label: (counts[label], label))
    at.multiselect(key="styles").set_value([rare]).run()
    three = catalog.resolve("cy/solo/03 three.flac").id
    assert set(neighbour_ids(at)) == catalog.tracks_with_styles([rare]) - {three}
    at.multiselect(key="styles").set_value([]).run()
    at.selectbox(key="model").set_value("mule").run()
    compared = [c.value for c in at.caption if c.value.startswith("styles:")][1:]
    assert compared and all(re.search(r"(both|only this track|only the query): msd tag", c) for c in compared)


def test_an_upload_follows_the_model_picker(page, page_catalog, tmp_path, monkeypatch):
    """Switching models re-embeds the upload with the new model (vectors of two models never meet)."""
    import indexer.models
    from indexer.build import BuildOptions, build_catalog
    from indexer.models.mert.checkpoint import mert_config
    from indexer.models.mert.testing import write_random_mert as write_random_checkpoint

    catalog_dir, data = page_catalog
    weights = write_random_checkpoint(tmp_path / "mert", mert_config("95m", small=True))
    build_catalog(catalog_dir, data, BuildOptions(model="mert-95m", weights=str(weights), workers=1, progress=False))
    real = indexer.models.load_embedder
    fake = FakeEmbedder()
    monkeypatch.setattr(
        indexer.models, "load_embedder", lambda model, *a, **kw: fake if model == "mule" else real(model, *a, **kw)
    )
    at = page(data)
    night = (catalog_dir / "ana/second/02 night.wav").read_bytes()
    at.file_uploader(key="upload_file").upload("night copy.wav", night, "audio/wav").run()
    night_id = Catalog.open(data).resolve("ana/second/02 night.wav").id
    assert "in your catalog" in messages(at) and night_id not in neighbour_ids(at) and not at.error
    fake.embedded.clear()
    at.selectbox(key="model").set_value("mert-95m").run()
    assert not at.error and not at.exception
    assert not fake.embedded  # embedded again, by MERT this time
    assert "in your catalog" in messages(at) and night_id not in neighbour_ids(at)


def test_a_recording_shows_once_with_also_in(page, tmp_path):
    import soundfile as sf

    from indexer.build import BuildOptions, build_catalog
    from tests.audio_files import melody, write_audio

    music = tmp_path / "music"
    original = melody(30.0, seed=1, sr=44100)
    write_audio(music / "a.flac", 0, mono=original, stereo=False)
    sf.write(music / "a copy.mp3", original, 44100, format="MP3", compression_level=0.3)
    for i, seconds in enumerate((20.0, 24.0, 35.0), start=2):
        write_audio(music / f"other {i}.ogg", 0, mono=melody(seconds, seed=i, sr=44100), stereo=False)
    build_catalog(music, tmp_path / "data", BuildOptions(workers=1, progress=False), FakeEmbedder())
    at = pick(page(tmp_path / "data"), "other 2")
    also = [c for c in at.caption if c.value.startswith("also in:")]
    assert len(neighbour_ids(at)) == 3 and len(also) == 1  # a.flac and its MP3: one result
    assert also[0].value in ("also in: a copy.mp3", "also in: a.flac")


def test_a_remaster_is_listed_as_another_version(page, tmp_path):
    """The same performance on another master (a treble boost): fingerprints match, levels per band do not;
    the card says "other version" and the result is not hidden."""
    from scipy.signal import butter, sosfilt

    from indexer.build import BuildOptions, build_catalog
    from tests.audio_files import melody, write_audio

    music = tmp_path / "music"
    original = melody(30.0, seed=1, sr=44100)
    bright = original + 2.0 * sosfilt(butter(2, 3000, "highpass", fs=44100, output="sos"), original)
    write_audio(music / "sunrise.flac", 0, mono=original, stereo=False)
    write_audio(music / "bright.flac", 0, mono=(0.9 * bright / abs(bright).max()).astype("float32"), stereo=False)
    for i, seconds in enumerate((20.0, 24.0), start=2):
        write_audio(music / f"other {i}.ogg", 0, mono=melody(seconds, seed=i, sr=44100), stereo=False)
    build_catalog(music, tmp_path / "data", BuildOptions(workers=1, progress=False), FakeEmbedder())
    at = pick(page(tmp_path / "data"), "sunrise")
    remaster = Catalog.open(tmp_path / "data").resolve("bright.flac").id
    assert remaster in neighbour_ids(at)
    cards = [m.value for m in at.markdown if "**bright**" in m.value and m.value[0].isdigit()]  # result cards
    assert len(cards) == 1 and "· *other version*" in cards[0]


def test_radio_and_path_with_an_m3u(page, built_catalog):
    _, data = built_catalog
    at = pick(page(data), "ana first")
    catalog = Catalog.open(data)
    morning = catalog.resolve("ana/first/01 morning.flac")
    at = at.button(key="radio").click().run()
    assert "Radio from Ana Lune – Morning" in [h.value for h in at.subheader]
    listing = next(m.value for m in at.markdown if m.value.startswith("1. "))
    assert listing.count("\n") >= 4 and "Morning" not in listing  # the seed is not in its own radio
    assert at.get("download_button"), "an M3U to download"
    first = neighbour_ids(at)[0]
    at = at.button(key=f"path-{first}").click().run()
    heading = [h.value for h in at.subheader if h.value.startswith("Path from")]
    assert heading == [f"Path from Ana Lune – Morning to {track_label(catalog.track(first))}"]
    listing = next(m.value for m in at.markdown if m.value.startswith("1. "))
    assert listing.startswith("1. Ana Lune – Morning") and track_label(catalog.track(first)) in listing.splitlines()[-1]
    assert morning.id not in neighbour_ids(at)
