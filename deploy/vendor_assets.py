"""The console's vendored front-end libraries, fetched again from their npm packages and checked (issue #19).

The console loads nothing from a CDN: ECharts and htmx are committed under gateway/console/static/vendor/ and
served by the gateway, and so is Swagger UI, for the gateway's /docs; axe-core (the accessibility checker) is
committed under tests/console/vendor/ and used by the browser tests only, never shipped. Each is pinned here by
version, by npm's integrity of the package tarball and by the sha256 of every file taken from it, so
`python -m deploy.vendor_assets` reproduces the committed files byte for byte (or refuses), `--check` does the same
without writing, and `--offline` checks the committed files against the pins without npm (tests/console/test_vendor.py
runs that one).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONSOLE_VENDOR = "gateway/console/static/vendor"
TESTS_VENDOR = "tests/console/vendor"


@dataclass(frozen=True)
class VendoredFile:
    """One file taken from a package tarball: where it is in the tarball, where it goes in the repository."""

    source: str
    target: str
    sha256: str


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    integrity: str  # npm's `dist.integrity` of the tarball: sha512, base64
    files: tuple[VendoredFile, ...]

    @property
    def spec(self) -> str:
        return f"{self.name}@{self.version}"


PACKAGES: tuple[Package, ...] = (
    Package(
        "echarts",
        "6.1.0",
        "sha512-q0yaFPggC9FUdsWH4blavRWFmxdrIodbkoKNAjJudAI6CA9gNPxHtV2RcZNEepZVlk4yvBYkOkbk6HIVpIyHZA==",
        (
            VendoredFile(
                "dist/echarts.min.js",
                f"{CONSOLE_VENDOR}/echarts.min.js",
                "b66b25aeb4df84e33199dc21694014d336d222cbd9deb0e5a7c14bd6aa0d0fd0",
            ),
            VendoredFile(
                "LICENSE", f"{CONSOLE_VENDOR}/echarts.LICENSE",
                "634293835b43a6dd2094fa39182a3d9a6b9ca43b7fdb9ac354e8037af2a3093a",
            ),
            VendoredFile(
                "NOTICE", f"{CONSOLE_VENDOR}/echarts.NOTICE",
                "d491d358344f842685c1b1585970999db65fe30ecf7ef3867af8814f4016c016",
            ),
            # ECharts' LICENSE names the files that embed d3 (BSD 3-Clause) and points to this one.
            VendoredFile(
                "licenses/LICENSE-d3", f"{CONSOLE_VENDOR}/echarts.LICENSE-d3",
                "e1211892da0b0e0585b7aebe8f98c1274fba15bafe47fa1f4ee8a7a502c06304",
            ),
        ),
    ),
    Package(
        "htmx.org",
        "2.0.11",
        "sha512-Thx/WtpeOQqSrqBCw/A1cwGJGg4UrVa3+sW0GmrM3p4gJgO89ecH4qtbnyzDDWFvBTqjnIMCgELTNt636dtamA==",
        (
            VendoredFile(
                "dist/htmx.min.js", f"{CONSOLE_VENDOR}/htmx.min.js",
                "d6fdc75f204e6bdefa99b69bf1e6d4ac69b8a364f77929f45c13476b4000f717",
            ),
            VendoredFile(
                "LICENSE", f"{CONSOLE_VENDOR}/htmx.LICENSE",
                "d3d2456f76414f2456104660ebd65aff1c04cd7966b942bdabd63f3cdb316a38",
            ),
        ),
    ),
    Package(
        "swagger-ui-dist",
        "5.35.0",
        "sha512-U06rpMtW9V3XPGOBeamTUSr0Z09jMX4IJuANpE/EZbAhw0G8CgwrzU4YmXkn/h0wCDNsXdGarTNNHC3sU8yVUQ==",
        (
            # The gateway's /docs (gateway/api_docs.py), not the console's pages, loads these two.
            VendoredFile(
                "swagger-ui-bundle.js", f"{CONSOLE_VENDOR}/swagger-ui-bundle.js",
                "e6a898692f2d768e807c3ba4626068a69a2c5dd960dd6c76f3e4d3a3de180af2",
            ),
            VendoredFile(
                "swagger-ui.css", f"{CONSOLE_VENDOR}/swagger-ui.css",
                "5ed08757e53da3e026d6cbecc61fe5d43585c9560b302d534ad56692519a273d",
            ),
            VendoredFile(
                "LICENSE", f"{CONSOLE_VENDOR}/swagger-ui.LICENSE",
                "cfc7749b96f63bd31c3c42b5c471bf756814053e847c10f3eb003417bc523d30",
            ),
            VendoredFile(
                "NOTICE", f"{CONSOLE_VENDOR}/swagger-ui.NOTICE",
                "0d20d1adef18aee3f40dd258172155521ce702ac445cb5f7b7d60ed32dad2fb2",
            ),
            # the licences of the libraries the bundle embeds (React, Immutable, classnames, ...), as the package
            # ships them beside it
            VendoredFile(
                "swagger-ui-bundle.js.LICENSE.txt", f"{CONSOLE_VENDOR}/swagger-ui-bundle.js.LICENSE.txt",
                "37eb6e7e59aed57b2c1acf076574b818ea07b74265717e0bd67b59e0baf9abbb",
            ),
        ),
    ),
    Package(
        "axe-core",
        "4.14.1",
        "sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ==",
        (
            VendoredFile(
                "axe.min.js", f"{TESTS_VENDOR}/axe.min.js",
                "29348999450cdf2849a8e70b7912fc2da85a849da39c0d0d5394f51d4a9ed95c",
            ),
            VendoredFile(
                "LICENSE", f"{TESTS_VENDOR}/LICENSE",
                "af175b9d96ee93c21a036152e1b905b0b95304d4ae8c2c921c7609100ba8df7e",
            ),
            VendoredFile(
                "LICENSE-3RD-PARTY.txt", f"{TESTS_VENDOR}/LICENSE-3RD-PARTY.txt",
                "4f8563870d0fca38bbc3e00b6f670cb7fa9f380ba9f26a7f7d1184a6b18b1653",
            ),
        ),
    ),
)


class VendorError(Exception):
    """A tarball or a file that is not the pinned one, or npm that could not fetch it: nothing was written."""


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def npm_integrity(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode("ascii")


def pack(package: Package, directory: Path) -> Path:
    """The package's tarball from the npm registry, through npm itself (its configuration, its proxy, its cache)."""
    npm = shutil.which("npm")
    if npm is None:
        raise VendorError("npm 未安装 / npm is not installed: apt-get install -y npm")
    done = subprocess.run(
        [npm, "pack", package.spec, "--pack-destination", str(directory), "--silent"],
        capture_output=True, text=True, check=False,
    )
    if done.returncode != 0:
        raise VendorError(f"npm pack {package.spec} 失败 / failed: {done.stderr.strip()}")
    tarballs = list(directory.glob("*.tgz"))
    if len(tarballs) != 1:
        raise VendorError(f"npm pack {package.spec}: expected one tarball in {directory}, found {len(tarballs)}")
    data = tarballs[0].read_bytes()
    if npm_integrity(data) != package.integrity:
        raise VendorError(
            f"{package.spec}: 压缩包与固定的不符 / the tarball is not the pinned one "
            f"({npm_integrity(data)} != {package.integrity})"
        )
    return tarballs[0]


def extract(package: Package, tarball: Path) -> dict[str, bytes]:
    """Every pinned file of the package, read from its tarball (npm puts them under `package/`) and checked."""
    contents: dict[str, bytes] = {}
    with tarfile.open(tarball) as archive:
        for file in package.files:
            member = archive.extractfile(f"package/{file.source}")
            if member is None:
                raise VendorError(f"{package.spec}: {file.source} is not a file in the tarball")
            data = member.read()
            if sha256_of(data) != file.sha256:
                raise VendorError(f"{package.spec}: {file.source} sha256 {sha256_of(data)} != pinned {file.sha256}")
            contents[file.target] = data
    return contents


def fetch_all() -> dict[str, bytes]:
    """Every vendored file, fetched and checked against its pins; raises VendorError before anything is written."""
    contents: dict[str, bytes] = {}
    for package in PACKAGES:
        with tempfile.TemporaryDirectory(prefix="fundtrack-vendor-") as scratch:
            contents.update(extract(package, pack(package, Path(scratch))))
    return contents


def committed_differences(root: Path = ROOT) -> list[str]:
    """The committed files that are missing or differ from their pins, one line each (no network)."""
    differences = []
    for package in PACKAGES:
        for file in package.files:
            path = root / file.target
            if not path.is_file():
                differences.append(f"{file.target}: missing ({package.spec})")
            elif (actual := sha256_of(path.read_bytes())) != file.sha256:
                differences.append(f"{file.target}: sha256 {actual} != pinned {file.sha256} ({package.spec})")
    return differences


def write_all(contents: dict[str, bytes], root: Path = ROOT) -> None:
    for target, data in contents.items():
        path = root / target
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.vendor_assets", description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="fetch with npm and compare with the tree; write nothing")
    mode.add_argument("--offline", action="store_true", help="compare the committed files with the pins; no npm")
    args = parser.parse_args(argv)
    try:
        if args.offline:
            differences = committed_differences()
        else:
            contents = fetch_all()
            if not args.check:
                write_all(contents)
            differences = committed_differences()
    except VendorError as error:
        print(f"vendor_assets: {error}", file=sys.stderr)
        return 1
    for line in differences:
        print(f"vendor_assets: {line}", file=sys.stderr)
    if not differences:
        print(f"vendor_assets: {sum(len(p.files) for p in PACKAGES)} files match their pins")
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main())
