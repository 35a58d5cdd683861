"""The offline install bundle: one archive per platform for a machine that has never seen the internet.

    python app.py bundle --platform x86_64 --platform aarch64 --out dist/

build (wheels from the pinned requirements, the converted model, the archive) · install.sh (run on the
target: checksums, Python, venv with --no-index) · yandu (the installed launcher) · 安装说明.txt.
"""
from .build import (BUILD_ONLY, GLIBC, OCR_GROUP, PLATFORMS, SUPPORTED_PYTHONS, BundleOptions, BundleResult,
                    build_bundle, runtime_requirements)

__all__ = ["BUILD_ONLY", "GLIBC", "OCR_GROUP", "PLATFORMS", "SUPPORTED_PYTHONS", "BundleOptions", "BundleResult",
           "build_bundle", "runtime_requirements"]
