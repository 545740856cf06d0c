"""The Docker images and compose file: parsed, and the CPU image built and run (Podman: docker/podman-setup.sh)."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import yaml

from tests.audio_files import write_audio

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


def container_cli() -> str | None:
    """Podman (docker/podman-setup.sh makes one work on these machines), else a Docker client with an engine."""
    if shutil.which("podman"):
        return "podman"
    if shutil.which("docker") and subprocess.run(["docker", "info"], capture_output=True, timeout=30).returncode == 0:
        return "docker"
    return None


def pip_build_settings(tmp_path: Path) -> list[str]:
    """`podman build` options giving the build this machine's pip configuration (its package index is reached
    through a proxy that re-signs certificates; local folders hold wheels): a pip.conf written from `pip config
    list`, mounted with the CA bundle and every local folder it names. Unreachable indexes are skipped at once."""
    listed = subprocess.run([sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True).stdout
    settings = {}
    for line in listed.splitlines():
        key, _, value = line.partition("=")
        settings[key.split(".", 1)[-1]] = value.strip().strip("'\"")
    settings["retries"] = "0"
    conf = tmp_path / "pip.conf"
    conf.write_text("[global]\n" + "".join(f"{k} = {v}\n" for k, v in settings.items()))
    mounts = {str(conf): "/etc/pip.conf"}
    for value in settings.values():
        for token in value.split():
            path = Path(token.removeprefix("file://"))
            if token.startswith("file://") and path.name == "simple":
                path = path.parent  # a local index's pages link to its files beside `simple/`
            if path.is_absolute() and path.exists():
                mounts[str(path)] = str(path)
    return [f"--volume={host}:{inside}:ro" for host, inside in mounts.items()]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_cpu_image_builds_indexes_and_serves_the_page(tmp_path):
    """The CPU image built from the repository's Dockerfile; inside it, a checkpoint written and `indexer build`
    run on a small catalog; the page started from the image on the data it built, its health polled from here."""
    cli = container_cli()
    if cli is None:
        message = "no container runtime: `bash docker/podman-setup.sh` installs Podman (.ci/run runs it)"
        pytest.fail(message) if os.environ.get("CI") else pytest.skip(message)
    tag = "localhost/soundalike:test-cpu"
    extra = ["--network=host", *pip_build_settings(tmp_path)] if cli == "podman" else []
    build = [cli, "build", *extra, "-f", str(DOCKERFILES["cpu"]), "-t", tag, str(ROOT)]
    subprocess.run(build, check=True, timeout=900, stdout=subprocess.DEVNULL)
    try:
        catalog, data = tmp_path / "catalog", tmp_path / "data"
        for i in range(3):
            write_audio(catalog / f"track {i}.flac", 4.0, seed=i)
        data.mkdir()
        data.chmod(0o777)  # the image's user (uid 10001) writes it
        run = [cli, "run", "--rm", "--network=host", f"--volume={catalog}:/catalog:ro", f"--volume={data}:/data", tag]
        who = subprocess.run([*run, "id", "-u"], capture_output=True, text=True, timeout=120)
        assert who.stdout.strip() == "10001", who.stderr
        script = (
            "python -c 'from pathlib import Path; from indexer.models.mule.testing import write_random_mule; "
            'write_random_mule(Path("/data/checkpoint"))\' '
            "&& indexer build /catalog --weights /data/checkpoint --workers 1 --quiet"
        )
        built = subprocess.run([*run, "sh", "-c", script], capture_output=True, text=True, timeout=600)
        assert built.returncode == 0 and "mule: indexed 3 " in built.stdout, built.stdout + built.stderr
        port = free_port()
        page = [*run[:2], "--detach", *run[3:], "streamlit", "run", "app/server.py", "--server.address=127.0.0.1"]
        started = subprocess.run([*page, f"--server.port={port}"], capture_output=True, text=True, check=True)
        container = started.stdout.strip().splitlines()[-1]
        try:
            assert poll(f"http://127.0.0.1:{port}/_stcore/health", limit=120) == "ok"
        finally:
            subprocess.run([cli, "rm", "--force", container], capture_output=True, timeout=60)
    finally:
        subprocess.run([cli, "rmi", "--force", tag], capture_output=True, timeout=300)
        subprocess.run([cli, "image", "prune", "--force"], capture_output=True, timeout=300)


def poll(url: str, limit: float) -> str:
    deadline = time.monotonic() + limit
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:
                return answer.read().decode()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(1)
