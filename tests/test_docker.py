"""The Docker images and compose file, checked by parsing (no Docker engine here) and built where one runs."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILES = {"cpu": ROOT / "docker" / "Dockerfile.cpu", "cuda": ROOT / "docker" / "Dockerfile.cuda"}


def instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", path.read_text())
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def stages(path: Path) -> list[list[tuple[str, str]]]:
    found: list[list[tuple[str, str]]] = []
    for instruction in instructions(path):
        if instruction[0] == "FROM":
            found.append([])
        if found:
            found[-1].append(instruction)
    return found


@pytest.mark.parametrize("kind", sorted(DOCKERFILES))
def test_dockerfile_is_multistage_pinned_and_non_root(kind):
    path = DOCKERFILES[kind]
    args = dict(a.split("=", 1) for w, a in instructions(path) if w == "ARG" and "=" in a)
    base = args["PYTHON_IMAGE"]
    assert re.fullmatch(r"python:3\.11\.\d+-slim-\w+", base), f"base image not pinned to a patch release: {base}"
    build, runtime = stages(path)  # exactly two stages
    assert build[0][1] == "${PYTHON_IMAGE} AS build" and runtime[0][1] == "${PYTHON_IMAGE} AS runtime"
    assert ("COPY", "--from=build /opt/venv /opt/venv") in runtime
    users = [a for w, a in runtime if w == "USER"]
    assert users == ["soundalike"], "the runtime stage must drop root"
    assert any("useradd" in a and "--uid 10001 soundalike" in a for w, a in runtime if w == "RUN")
    cmd = [a for w, a in runtime if w == "CMD"][-1]
    assert cmd.startswith('["streamlit", "run", "app/server.py"')
    assert ("EXPOSE", "8501") in runtime
    assert any(w == "HEALTHCHECK" for w, _ in runtime)
    env = " ".join(a for w, a in runtime if w == "ENV")
    assert "SOUNDALIKE_DATA=/data" in env and "HF_HOME=/cache/huggingface" in env
    for word, arguments in instructions(path):  # everything copied from the context exists
        if word == "COPY" and not arguments.startswith("--from"):
            for source in arguments.split()[:-1]:
                assert (ROOT / source).exists(), source


def test_cpu_image_has_cpu_torch_and_cuda_image_has_faiss_gpu_only():
    cpu = " ".join(a for w, a in instructions(DOCKERFILES["cpu"]) if w == "RUN")
    cuda = " ".join(a for w, a in instructions(DOCKERFILES["cuda"]) if w == "RUN")
    assert "torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu" in cpu and "faiss-gpu" not in cpu
    assert "pip uninstall -y faiss-cpu" in cuda and "faiss-gpu" in cuda
    assert cuda.index("pip uninstall -y faiss-cpu") < cuda.index('pip install "faiss-gpu')
    pinned = re.search(r"torch==([\d.]+)", (ROOT / ".ci" / "run").read_text())
    assert pinned and f"torch=={pinned.group(1)}" in cpu, "the image and CI must run the same torch"


def test_dockerignore_keeps_the_context_small():
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".git", ".venv", "tests", "test-artifacts"} <= set(ignored)


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker" / "compose.yaml").read_text())


def test_compose_runs_the_page_and_a_one_off_build():
    services = compose()["services"]
    assert {"page", "indexer", "page-gpu", "indexer-gpu"} == set(services)
    for name, service in services.items():
        dockerfile = ROOT / "docker" / Path(service["build"]["dockerfile"]).name
        assert dockerfile.exists() and (ROOT / "docker" / service["build"]["context"]).resolve() == ROOT
        volumes = service["volumes"]
        catalog = [v for v in volumes if v.split(":")[-2] == "/catalog"]
        assert len(catalog) == 1 and catalog[0].endswith(":/catalog:ro"), f"{name}: catalog must be read-only"
        assert "soundalike-data:/data" in volumes and "huggingface-cache:/cache/huggingface" in volumes
        assert service["environment"]["SOUNDALIKE_DATA"] == "/data"
        assert service["environment"]["HF_HOME"] == "/cache/huggingface"
    assert services["page"]["ports"] == ["${SOUNDALIKE_PORT:-8501}:8501"]
    assert "profiles" not in services["page"], "the page starts with a plain `docker compose up`"
    assert services["indexer"]["profiles"] == ["tools"]  # one-off: `docker compose run --rm indexer`
    assert services["indexer"]["command"] == ["indexer", "build", "/catalog"]
    assert services["indexer-gpu"]["command"][-2:] == ["--device", "cuda"]
    gpu = services["page-gpu"]["deploy"]["resources"]["reservations"]["devices"][0]
    assert gpu["driver"] == "nvidia" and gpu["capabilities"] == ["gpu"]
    assert set(compose()["volumes"]) == {"soundalike-data", "huggingface-cache"}


def docker_engine() -> bool:
    if shutil.which("docker") is None:
        return False
    return subprocess.run(["docker", "info"], capture_output=True, timeout=30).returncode == 0


@pytest.mark.skipif(not docker_engine(), reason="no Docker engine on this machine (the client alone can't build)")
def test_cpu_image_builds_and_answers():
    tag = "soundalike:test-cpu"
    subprocess.run(["docker", "build", "-f", str(DOCKERFILES["cpu"]), "-t", tag, str(ROOT)], check=True)
    out = subprocess.run(["docker", "run", "--rm", tag, "indexer", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "build" in out.stdout
    who = subprocess.run(["docker", "run", "--rm", tag, "id", "-u"], capture_output=True, text=True)
    assert who.stdout.strip() == "10001"
