"""The ``locust-browser`` command: install's order of attempts, and doctor."""

from __future__ import annotations

import io
import os
import re
import select
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from locust_browser import _cli
from locust_browser._executable import (
    ENV_EXECUTABLE,
    BrowserChoice,
    BrowserNotFoundError,
)

APT_GET = "/usr/bin/apt-get"
INSTALLED = BrowserChoice("/fake/chrome-headless-shell", "playwright", True)
PLAYWRIGHT_INSTALL = [
    sys.executable,
    "-m",
    "playwright",
    "install",
    "chromium-headless-shell",
]
APT_UPDATE = [APT_GET, "update"]
APT_SHELL = [APT_GET, "install", "-y", "chromium-headless-shell"]
APT_CHROMIUM = [APT_GET, "install", "-y", "chromium"]


class FakeRunner:
    """Record commands instead of running them; some fail, some install."""

    def __init__(
        self,
        failing: Sequence[list[str]] = (),
        installing: Sequence[list[str]] = (PLAYWRIGHT_INSTALL, APT_SHELL, APT_CHROMIUM),
    ) -> None:
        self.failing = list(failing)
        self.installing = list(installing)
        self.calls: list[list[str]] = []
        self.envs: list[Mapping[str, str] | None] = []
        self.is_installed = False

    def __call__(
        self,
        argv: Sequence[str],
        *,
        timeout: float,
        env: Mapping[str, str] | None = None,
    ) -> int:
        assert timeout > 0
        self.calls.append(list(argv))
        self.envs.append(env)
        if list(argv) in self.failing:
            return 100
        if list(argv) in self.installing:
            self.is_installed = True
        return 0

    def resolve(self) -> BrowserChoice:
        if not self.is_installed:
            raise BrowserNotFoundError("No Chromium browser found.")
        return INSTALLED


def install(
    runner: FakeRunner, *, is_root: bool = True, has_apt_get: bool = True
) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = _cli.install_browser(
        run=runner,
        resolve=runner.resolve,
        is_root=lambda: is_root,
        which=lambda name: APT_GET if has_apt_get and name == "apt-get" else None,
        out=out,
        err=err,
    )
    return status, out.getvalue(), err.getvalue()


def test_install_does_nothing_when_a_browser_already_resolves() -> None:
    runner = FakeRunner()
    runner.is_installed = True

    status, out, _ = install(runner)

    assert status == 0
    assert runner.calls == []
    assert INSTALLED.describe() in out


def test_install_command_exits_zero_without_running_anything_when_browser_resolves(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    browser = tmp_path / "chrome"
    browser.write_text("#!/bin/sh\n")
    browser.chmod(0o755)
    monkeypatch.setenv(ENV_EXECUTABLE, str(browser))
    runner = FakeRunner()
    monkeypatch.setattr(_cli, "run_streaming", runner)

    status = _cli.main(["install"])

    assert status == 0
    assert runner.calls == []
    assert str(browser) in capsys.readouterr().out


def test_install_tries_playwright_first_and_stops_when_it_works() -> None:
    runner = FakeRunner()

    status, out, _ = install(runner)

    assert status == 0
    assert runner.calls == [PLAYWRIGHT_INSTALL]
    assert f"Installed. Using {INSTALLED.describe()}" in out


def test_install_falls_back_to_apt_get_as_root_when_playwright_fails() -> None:
    runner = FakeRunner(failing=[PLAYWRIGHT_INSTALL])

    status, _, _ = install(runner)

    assert status == 0
    assert runner.calls == [PLAYWRIGHT_INSTALL, APT_UPDATE, APT_SHELL]


def test_install_tries_chromium_when_apt_get_lacks_the_headless_shell() -> None:
    runner = FakeRunner(failing=[PLAYWRIGHT_INSTALL, APT_SHELL])

    status, _, _ = install(runner)

    assert status == 0
    assert runner.calls == [PLAYWRIGHT_INSTALL, APT_UPDATE, APT_SHELL, APT_CHROMIUM]


def test_install_goes_on_to_apt_get_when_playwright_leaves_no_usable_browser() -> None:
    runner = FakeRunner(installing=[APT_SHELL])

    status, _, _ = install(runner)

    assert status == 0
    assert runner.calls == [PLAYWRIGHT_INSTALL, APT_UPDATE, APT_SHELL]


def test_apt_get_runs_non_interactively() -> None:
    runner = FakeRunner(failing=[PLAYWRIGHT_INSTALL])

    install(runner)

    apt_envs = runner.envs[1:]
    assert apt_envs and all(
        env is not None and env.get("DEBIAN_FRONTEND") == "noninteractive"
        for env in apt_envs
    )


def test_install_does_not_try_apt_get_when_not_root() -> None:
    runner = FakeRunner(failing=[PLAYWRIGHT_INSTALL])

    status, _, err = install(runner, is_root=False)

    assert status == 1
    assert runner.calls == [PLAYWRIGHT_INSTALL]
    assert "apt-get was not tried: it needs root." in err


def test_install_does_not_try_apt_get_where_there_is_none() -> None:
    runner = FakeRunner(failing=[PLAYWRIGHT_INSTALL])

    status, _, err = install(runner, has_apt_get=False)

    assert status == 1
    assert runner.calls == [PLAYWRIGHT_INSTALL]
    assert "apt-get was not tried: it is not on PATH." in err


def test_failed_install_says_exactly_what_to_run_by_hand() -> None:
    runner = FakeRunner(failing=[PLAYWRIGHT_INSTALL, APT_SHELL, APT_CHROMIUM])

    status, _, err = install(runner)

    assert status == 1
    assert f"`{' '.join(APT_SHELL)}` failed with exit status 100." in err
    assert f"`{' '.join(APT_CHROMIUM)}` failed with exit status 100." in err
    assert (
        "as root:  apt-get update && apt-get install -y chromium-headless-shell" in err
    )
    assert f"{sys.executable} -m playwright install chromium-headless-shell" in err
    assert "--browser-executable /path/to/chrome" in err
    assert f"{ENV_EXECUTABLE}=/path/to/chrome" in err


def test_force_installs_even_when_a_browser_resolves() -> None:
    runner = FakeRunner()
    runner.is_installed = True
    out, err = io.StringIO(), io.StringIO()

    status = _cli.install_browser(
        force=True, run=runner, resolve=runner.resolve, out=out, err=err
    )

    assert status == 0
    assert runner.calls == [PLAYWRIGHT_INSTALL]


def test_installed_playwright_accepts_the_install_command() -> None:
    dry_run = [*PLAYWRIGHT_INSTALL[:4], "--dry-run", *PLAYWRIGHT_INSTALL[4:]]

    completed = subprocess.run(
        dry_run, capture_output=True, text=True, timeout=120, check=False
    )

    assert completed.returncode == 0, completed.stderr
    assert "chromium-headless-shell" in completed.stdout
    assert "Chrome for Testing" not in completed.stdout  # not the full browser


def test_run_streaming_returns_the_exit_status() -> None:
    command = [sys.executable, "-c", "raise SystemExit(3)"]

    assert _cli.run_streaming(command, timeout=60) == 3


def test_run_streaming_passes_extra_environment() -> None:
    command = [
        sys.executable,
        "-c",
        "import os; raise SystemExit(os.environ['LB_PROBE'] != 'yes')",
    ]

    assert _cli.run_streaming(command, timeout=60, env={"LB_PROBE": "yes"}) == 0


def test_run_streaming_reports_a_missing_command_as_127(tmp_path: Path) -> None:
    assert _cli.run_streaming([str(tmp_path / "missing")], timeout=60) == 127


def test_timed_out_command_is_stopped_with_its_children(tmp_path: Path) -> None:
    pids_file = tmp_path / "pids"
    script = (
        "import os, subprocess, sys, time\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; "
        "time.sleep(120)'])\n"
        f"open({str(pids_file)!r}, 'w').write(f'{{os.getpid()}} {{child.pid}}')\n"
        "time.sleep(120)\n"
    )

    started = time.monotonic()
    status = _cli.run_streaming([sys.executable, "-c", script], timeout=5)

    assert status == 124
    assert time.monotonic() - started < 60
    pids = [int(pid) for pid in pids_file.read_text().split()]
    assert len(pids) == 2
    for pid in pids:
        assert wait_until_gone(pid, timeout=30), pid


def test_doctor_reports_a_missing_browser_and_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = str(tmp_path / "no-chrome")
    monkeypatch.setenv(ENV_EXECUTABLE, missing)
    out = io.StringIO()

    status = _cli.doctor(out=out)

    assert status == 1
    assert missing in out.getvalue()
    assert re.search(r"^playwright +\d+\.\d+", out.getvalue(), re.MULTILINE)


def test_doctor_fails_with_the_error_when_the_browser_does_not_start(
    tmp_path: Path,
) -> None:
    broken = tmp_path / "chrome"
    broken.write_text("#!/bin/sh\necho 'cannot start here' >&2\nexit 3\n")
    broken.chmod(0o755)

    completed = run_doctor("--browser-executable", str(broken))

    assert completed.returncode == 1, completed.stdout
    assert "launch      FAILED" in completed.stdout
    assert "cannot start here" in completed.stdout


@pytest.mark.browser
def test_doctor_launches_the_real_browser_and_prints_its_version() -> None:
    completed = run_doctor()

    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert re.search(r"^browser +chromium", completed.stdout, re.MULTILINE)
    assert re.search(
        r"^launch +ok: version \d+\.\d+\.\d+\.\d+, \d+\.\d\d s$",
        completed.stdout,
        re.MULTILINE,
    ), completed.stdout


def run_doctor(*args: str) -> subprocess.CompletedProcess[str]:
    """Run ``python -m locust_browser._cli doctor`` as a user would."""
    env = {key: value for key, value in os.environ.items() if key != ENV_EXECUTABLE}
    return subprocess.run(
        [sys.executable, "-m", "locust_browser._cli", "doctor", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
        check=False,
    )


def wait_until_gone(pid: int, *, timeout: float) -> bool:
    """Wait until ``pid`` has exited, without polling, through a pidfd."""
    try:
        pidfd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        readable, _, _ = select.select([pidfd], [], [], timeout)
        return bool(readable)
    finally:
        os.close(pidfd)
