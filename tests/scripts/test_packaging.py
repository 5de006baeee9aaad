"""A non-editable install (`pip install .`) carries every file the package reads at run time:
the wheel holds each tracked data file under backend/, and the installed package, imported from
outside the checkout, renders a console page, loads the FAQ and migrates a database."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from tests.processes import ROOT


def _tracked_data_files() -> set[str]:
    listed = subprocess.run(
        ["git", "ls-files", "backend"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    return {name for name in listed if not name.endswith(".py")}


def _clean_copy(target: Path) -> Path:
    """The tracked files as they are in the work tree, without the build leftovers (an
    egg-info's file list) that would hide what the package data leaves out."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    for name in listed:
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


def _build_wheel(source: Path, out: Path) -> Path:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--wheel-dir",
            str(out),
            str(source),
        ],
        check=True,
        capture_output=True,
        env={**os.environ, "PIP_NO_INPUT": "1"},
    )
    (wheel,) = out.glob("tms_whatsapp-*.whl")
    return wheel


def test_the_wheel_holds_every_data_file_and_runs_from_outside_the_checkout(
    tmp_path: Path,
) -> None:
    wheel = _build_wheel(_clean_copy(tmp_path / "checkout"), tmp_path / "dist")
    with zipfile.ZipFile(wheel) as archive:
        packed = set(archive.namelist())
        missing = sorted(_tracked_data_files() - packed)
        assert not missing, f"left out of the wheel: {missing}"
        site = tmp_path / "site"
        archive.extractall(site)

    probe = """
import backend, sys
from pathlib import Path
assert Path(backend.__file__).is_relative_to(Path(sys.argv[1])), backend.__file__
from backend import rendering
from backend.services import knowledge
from backend import migrate
page = rendering.render("console/sign_in.html", me=None, csrf="x", next="", error=None,
                        phone="", sent=False, flash=None, nav=[], path="/console/sign-in")
assert "<form" in page
assert knowledge.FAQ_FILE.is_file()
migrate.upgrade("sqlite:///" + sys.argv[2])
print("ok")
"""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(site)
    env["TMS_VAR_DIR"] = str(tmp_path / "var")
    done = subprocess.run(
        [sys.executable, "-c", probe, str(site), str(tmp_path / "packaged.sqlite3")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().endswith("ok")
