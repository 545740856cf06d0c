"""One registry: `--model` choices, option flags and help, licences and loaders come from the specs."""

from __future__ import annotations

import pytest

from indexer.build import BuildOptions, build_catalog
from indexer.commands.main import build_parser
from indexer.errors import UnknownModelError, UsageError
from indexer.models import LICENCES, MODELS, load_embedder


def test_cli_choices_and_option_flags_come_from_the_specs():
    build = build_parser()._subparsers._group_actions[0].choices["build"]
    flags = {a.dest: a for a in build._actions}
    assert list(flags["model"].choices) == list(MODELS)
    offered = {name.removeprefix("opt_") for name in flags if name.startswith("opt_")}
    assert offered == {o.name for spec in MODELS.values() for o in spec.options}
    assert "mert-330m 14" in flags["opt_layer"].help and "mert-95m 7" in flags["opt_layer"].help
    assert all("non-commercial" in LICENCES[m] for m in ("mule", "maest", "mert-95m"))


def test_unknown_models_and_options_are_bad_usage_before_any_write(tmp_path):
    with pytest.raises(UnknownModelError, match="available: mule, maest"):
        load_embedder("foo")
    with pytest.raises(UsageError, match="takes no --layer"):
        load_embedder("mule", layer="3")
    with pytest.raises(UsageError, match="takes no --layer"):
        build_catalog(tmp_path, tmp_path / "data", BuildOptions(model_options={"layer": "3"}))
    assert not (tmp_path / "data").exists()


def test_the_mule_spec_matches_the_loaded_model(mule_checkpoint):
    embedder = load_embedder("mule", str(mule_checkpoint), device="cpu")
    spec = MODELS["mule"]
    assert (embedder.sample_rate, embedder.batch_size) == (spec.sample_rate, spec.batch["cpu"])
