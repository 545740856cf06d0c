"""Styles compared in words: shared first, then each track's own."""

from app.explain import compare_styles


def test_shared_and_differing_styles():
    query = {"Jazz---Bebop": 0.6, "Jazz---Cool Jazz": 0.3, "Rock---Blues Rock": 0.2, "Pop---Ballad": 0.01}
    result = {"Jazz---Cool Jazz": 0.5, "Jazz---Bebop": 0.2, "Jazz---Hard Bop": 0.2}
    said = compare_styles(query, result)
    assert said.shared == ["Jazz / Cool Jazz", "Jazz / Bebop"]
    assert said.only_result == ["Jazz / Hard Bop"]
    assert said.only_query == ["Rock / Blues Rock"]  # the 1% ballad says little: left out
    assert said.sentence() == (
        "both: Jazz / Cool Jazz, Jazz / Bebop · only this track: Jazz / Hard Bop · only the query: Rock / Blues Rock"
    )
    assert compare_styles({}, {}).sentence() == ""
