"""The console's vendored libraries are the pinned npm files, each with its licence, and the README says so (#19).

Offline: the committed files against the pins of deploy/vendor_assets.py (`--offline`); the network side
(`python -m deploy.vendor_assets --check`, npm pack and the tarball's integrity) is run by hand, as its README says.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from deploy.vendor_assets import CONSOLE_VENDOR, PACKAGES, ROOT, committed_differences, main

PINNED = {file.target: (package, file) for package in PACKAGES for file in package.files}


def test_the_committed_files_are_the_pinned_ones() -> None:
    assert committed_differences() == []
    assert main(["--offline"]) == 0


def _copy_of_the_pinned_files(root: Path) -> None:
    for target in PINNED:
        (root / target).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / target, root / target)


def test_a_changed_or_missing_file_is_named(tmp_path: Path) -> None:
    _copy_of_the_pinned_files(tmp_path)
    assert committed_differences(tmp_path) == []
    changed = tmp_path / CONSOLE_VENDOR / "htmx.min.js"
    changed.write_bytes(changed.read_bytes() + b"\n")
    (tmp_path / CONSOLE_VENDOR / "echarts.NOTICE").unlink()
    differences = committed_differences(tmp_path)
    assert len(differences) == 2
    assert any(line.startswith(f"{CONSOLE_VENDOR}/htmx.min.js: sha256 ") for line in differences)
    assert f"{CONSOLE_VENDOR}/echarts.NOTICE: missing (echarts@6.1.0)" in differences


def test_every_shipped_file_is_pinned_and_every_package_has_its_licence() -> None:
    shipped = {str(path.relative_to(ROOT)) for path in (ROOT / CONSOLE_VENDOR).iterdir()}
    shipped.discard(f"{CONSOLE_VENDOR}/README.md")
    assert shipped == {target for target in PINNED if target.startswith(CONSOLE_VENDOR)}
    for package in PACKAGES:
        assert any(Path(file.source).name == "LICENSE" for file in package.files), package.spec


def test_the_readme_names_each_version_file_and_sha256() -> None:
    readme = (ROOT / CONSOLE_VENDOR / "README.md").read_text(encoding="utf-8")
    for package, file in PINNED.values():
        assert f"| {package.name} | {package.version} |" in readme or f"{package.name} {package.version}" in readme
        if file.target.startswith(CONSOLE_VENDOR) or file.target.endswith(".min.js"):
            assert file.sha256 in readme, file.target
            assert f"`{Path(file.target).name}`" in readme, file.target
    assert "python3 -m deploy.vendor_assets" in readme
