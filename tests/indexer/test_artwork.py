"""Cover art: embedded pictures in every tag format, else an image beside the file."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from app.covers import cover_response, thumbnail
from indexer.artwork import cover_art
from tests.audio_files import embed_cover, image_bytes, write_audio


@pytest.mark.parametrize("suffix", [".flac", ".mp3", ".m4a", ".ogg", ".aiff", ".wav"])
def test_embedded_picture_is_found_in_every_format(tmp_path, suffix):
    path = write_audio(tmp_path / f"track{suffix}", 1.0)
    assert cover_art(path) is None
    picture = image_bytes((200, 30, 30))
    embed_cover(path, picture)
    assert cover_art(path) == picture


def test_the_front_cover_wins_over_other_pictures(tmp_path):
    path = write_audio(tmp_path / "track.mp3", 1.0)
    back, front = image_bytes((0, 0, 255)), image_bytes((255, 0, 0))
    embed_cover(path, back, picture_type=4)
    embed_cover(path, front, picture_type=3)
    assert cover_art(path) == front


def test_a_cover_file_beside_the_track_stands_in(tmp_path):
    path = write_audio(tmp_path / "album" / "01.flac", 1.0)
    png = image_bytes((0, 200, 0), fmt="PNG")
    (tmp_path / "album" / "Folder.PNG").write_bytes(png)  # any case, as Windows rippers write it
    assert cover_art(path) == png
    jpeg = image_bytes((0, 0, 200))
    (tmp_path / "album" / "cover.jpg").write_bytes(jpeg)  # cover before folder
    assert cover_art(path) == jpeg
    embedded = image_bytes((9, 9, 9))
    embed_cover(path, embedded)  # the file's own picture before the folder's
    assert cover_art(path) == embedded


def test_damaged_tags_and_images_mean_no_cover(tmp_path):
    broken = tmp_path / "broken.mp3"
    broken.write_bytes(b"ID3\x04\x00\x00\x00\x00\x10\x00" + b"\x00" * 40)
    assert cover_art(broken) is None
    assert thumbnail(b"not an image") is None


def test_served_covers_are_small_jpegs_or_the_placeholder(tmp_path):
    path = write_audio(tmp_path / "track.flac", 1.0)
    embed_cover(path, image_bytes((10, 120, 240), size=1200))
    reply = cover_response(path)
    assert reply.media_type == "image/jpeg" and reply.headers["etag"]
    with Image.open(io.BytesIO(reply.body)) as image:
        assert max(image.size) == 320 and image.getpixel((5, 5))[2] > 200
    none = cover_response(write_audio(tmp_path / "bare" / "x.wav", 1.0))
    assert none.media_type == "image/svg+xml" and b"<svg" in none.body
    assert cover_response(None).media_type == "image/svg+xml"  # a file that is gone
