"""The ``locust-browser`` command: ``install`` a browser, ``doctor`` the setup.

Design note: ``install`` is a short list of attempts, each a command run with
its output streamed to the terminal (downloads and apt-get take minutes, and a
silent terminal looks hung). Playwright's installer comes first because its
headless shell matches the Playwright version; the system package manager is
the fallback, tried only where it can run without a password prompt (as root,
with apt-get). Whatever fails, the last message says what to run by hand. The
runner, the root check and the resolver are parameters so tests can check the
order of attempts without downloading or installing anything.

``doctor`` checks what a worker will do: the same resolution, the same
``LAUNCH_ARGS``, one headless launch through Playwright's asyncio API. It runs
after the package import has let locust patch the standard library with
gevent, as a worker does; ``asyncio.run`` works on the patched selectors.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.metadata
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Protocol, TextIO

from locust_browser._executable import (
    ENV_EXECUTABLE,
    LAUNCH_ARGS,
    BrowserChoice,
    BrowserNotFoundError,
    resolve_browser,
)

__all__ = ["Runner", "doctor", "install_browser", "main", "run_streaming"]

DEFAULT_TIMEOUT = 900.0
"""Seconds one install command may run before it is stopped."""

LAUNCH_TIMEOUT_MS = 60_000.0
"""Milliseconds ``doctor`` allows for launching the browser and for the page."""

_DOCTOR_HTML = "<title>doctor</title><p id='probe'>locust-browser</p>"
_VERSIONED = ("locust", "playwright", "gevent", "greenlet")
_STOP_GRACE = 10.0


class Runner(Protocol):
    """Run one command, letting its output reach the terminal."""

    def __call__(
        self,
        argv: Sequence[str],
        *,
        timeout: float,
        env: Mapping[str, str] | None = None,
    ) -> int:
        """Run ``argv`` and return its exit status, nonzero when it failed.

        Args:
            argv: The command and its arguments.
            timeout: Seconds before the command is stopped and counted failed.
            env: Variables added to the inherited environment.
        """
        ...


def main(argv: list[str] | None = None) -> int:
    """Run the ``locust-browser`` command line.

    Args:
        argv: Arguments after the program name; defaults to ``sys.argv[1:]``.

    Returns:
        The exit status: 0 on success, 1 on failure, 2 on a usage error.
    """
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "install":
        return install_browser(
            force=args.force, timeout=args.timeout, run=run_streaming
        )
    if args.command == "doctor":
        return doctor(explicit=args.browser_executable)
    parser.print_help(sys.stderr)
    return 2


def install_browser(
    *,
    force: bool = False,
    timeout: float = DEFAULT_TIMEOUT,
    run: Runner | None = None,
    resolve: Callable[[], BrowserChoice] = resolve_browser,
    is_root: Callable[[], bool] | None = None,
    which: Callable[[str], str | None] = shutil.which,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Make a browser available: Playwright's installer, then apt-get.

    Args:
        force: Install even when a browser already resolves.
        timeout: Seconds each install command may run.
        run: Runs one command; defaults to :func:`run_streaming`.
        resolve: Finds the browser; called before and after installing.
        is_root: Whether this process may run the system package manager;
            defaults to checking for user id 0.
        which: Finds a program on ``PATH``.
        out: Stream for progress; defaults to ``sys.stdout``.
        err: Stream for the final error; defaults to ``sys.stderr``.

    Returns:
        0 when a browser resolves at the end, 1 otherwise.
    """
    out = sys.stdout if out is None else out
    err = sys.stderr if err is None else err
    if not force:
        existing = _try_resolve(resolve)
        if isinstance(existing, BrowserChoice):
            print(f"A browser is already available: {existing.describe()}.", file=out)
            print("Use `locust-browser install --force` to install anyway.", file=out)
            return 0

    installer = _Installer(
        run or run_streaming,
        timeout,
        out,
        apt_get=which("apt-get"),
        is_root=(is_root or _is_root)(),
    )
    attempts = (installer.with_playwright, installer.with_apt_get)

    for attempt in attempts:
        if not attempt():
            continue
        found = _try_resolve(resolve)
        if isinstance(found, BrowserChoice):
            print(f"Installed. Using {found.describe()}.", file=out)
            print("Run `locust-browser doctor` to check that it launches.", file=out)
            return 0
        installer.notes.append(f"The install finished, but then: {found}")

    print(_manual_instructions(installer.notes), file=err)
    return 1


def doctor(*, explicit: str | None = None, out: TextIO | None = None) -> int:
    """Print versions and the chosen browser, then launch it once.

    Args:
        explicit: A ``--browser-executable`` value, as for
            :func:`~locust_browser._executable.resolve_browser`.
        out: Stream for the report; defaults to ``sys.stdout``.

    Returns:
        0 when the browser launched and rendered a page, 1 otherwise.
    """
    out = sys.stdout if out is None else out

    print(f"{'python':<11} {sys.version.split()[0]} ({sys.executable})", file=out)
    for name in _VERSIONED:
        print(f"{name:<11} {_version_of(name)}", file=out)

    try:
        choice = resolve_browser(explicit)
    except BrowserNotFoundError as error:
        print(f"{'browser':<11} none: {error}", file=out)
        return 1
    print(f"{'browser':<11} {choice.describe()}", file=out)
    if not choice.is_headless_shell:
        print(
            f"{'':<11} note: a full browser costs several times more CPU per "
            "user than a headless shell; see `locust-browser install`",
            file=out,
        )

    started = time.perf_counter()
    try:
        version = asyncio.run(_launch_once(choice))
    except Exception as error:
        print(f"{'launch':<11} FAILED ({type(error).__name__}):", file=out)
        print(str(error).strip(), file=out)
        return 1
    elapsed = time.perf_counter() - started
    print(f"{'launch':<11} ok: version {version}, {elapsed:.2f} s", file=out)
    return 0


def run_streaming(
    argv: Sequence[str],
    *,
    timeout: float,
    env: Mapping[str, str] | None = None,
) -> int:
    """Run a command with output to this terminal; stop it after ``timeout``.

    The command runs in its own session, so stopping it also stops what it
    started (Playwright's node driver, dpkg).

    Args:
        argv: The command and its arguments.
        timeout: Seconds before the command's process group is terminated.
        env: Variables added to the inherited environment.

    Returns:
        The command's exit status; 127 when it cannot be started, 124 when it
        timed out, as the shell and coreutils' ``timeout`` report them.
    """
    sys.stdout.flush()
    try:
        process = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            env={**os.environ, **(env or {})},
            start_new_session=True,
        )
    except OSError as error:
        print(f"Cannot run {argv[0]}: {error}", file=sys.stderr)
        return 127

    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        print(f"{argv[0]} timed out after {timeout:g} s; stopping it.", file=sys.stderr)
        _stop(process)
        return 124
    except BaseException:
        # The command has its own session, so Ctrl-C reached only us.
        _stop(process)
        raise


class _Installer:
    """Run install commands in order and remember why each one failed."""

    def __init__(
        self,
        run: Runner,
        timeout: float,
        out: TextIO,
        *,
        apt_get: str | None,
        is_root: bool,
    ) -> None:
        self.run = run
        self.timeout = timeout
        self.out = out
        self.apt_get = apt_get
        self.is_root = is_root
        self.notes: list[str] = []

    def with_playwright(self) -> bool:
        """Download Playwright's headless shell for the installed Playwright."""
        return self.step(_playwright_install_command())

    def with_apt_get(self) -> bool:
        """Install the system headless shell, or Chromium where that is unknown.

        Runs only as root: sudo is not assumed, since it may ask for a password.
        """
        apt_get = self.apt_get
        if apt_get is None or not self.is_root:
            reason = "it is not on PATH" if apt_get is None else "it needs root"
            self.notes.append(f"apt-get was not tried: {reason}.")
            return False
        env = {"DEBIAN_FRONTEND": "noninteractive"}

        # Go on when the update fails: the package lists may be recent enough.
        self.step([apt_get, "update"], env)

        if self.step([apt_get, "install", "-y", "chromium-headless-shell"], env):
            return True
        print(
            "chromium-headless-shell could not be installed (releases before "
            "Debian 12 do not have it); trying chromium.",
            file=self.out,
        )
        return self.step([apt_get, "install", "-y", "chromium"], env)

    def step(self, argv: list[str], env: Mapping[str, str] | None = None) -> bool:
        """Run one command, showing it first; note it when it fails."""
        print(f"$ {shlex.join(argv)}", file=self.out, flush=True)
        status = self.run(argv, timeout=self.timeout, env=env)
        if status != 0:
            self.notes.append(f"`{shlex.join(argv)}` failed with exit status {status}.")
        return status == 0


async def _launch_once(choice: BrowserChoice) -> str:
    """Launch the browser headless, render a page, and return its version."""
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=choice.executable,
            args=list(LAUNCH_ARGS),
            headless=True,
            timeout=LAUNCH_TIMEOUT_MS,
        )
        try:
            page = await browser.new_page()
            page.set_default_timeout(LAUNCH_TIMEOUT_MS)
            await page.set_content(_DOCTOR_HTML)
            text = await page.text_content("#probe")
            if text != "locust-browser":
                raise RuntimeError(f"The page rendered {text!r}, not 'locust-browser'")
            return browser.version
        finally:
            await browser.close()


def _playwright_install_command() -> list[str]:
    return [sys.executable, "-m", "playwright", "install", "chromium-headless-shell"]


def _manual_instructions(notes: Sequence[str]) -> str:
    """Say what failed and exactly what to run by hand instead."""
    playwright = shlex.join(_playwright_install_command())
    lines = ["locust-browser install could not make a browser available:"]
    lines += [f"  - {note}" for note in notes]
    lines += [
        "",
        "Install one by hand with one of:",
        "  as root:  apt-get update && apt-get install -y chromium-headless-shell",
        "            (apt-get install -y chromium where that package is unknown)",
        f"  or:       {playwright}",
        "            (needs https://cdn.playwright.dev, or a mirror in "
        "PLAYWRIGHT_DOWNLOAD_HOST)",
        "or use a Chromium or Chrome you already have:",
        "  --browser-executable /path/to/chrome",
        f"  or {ENV_EXECUTABLE}=/path/to/chrome in the environment",
    ]
    return "\n".join(lines)


def _try_resolve(resolve: Callable[[], BrowserChoice]) -> BrowserChoice | str:
    """Return the resolved browser, or why there is none."""
    try:
        return resolve()
    except BrowserNotFoundError as error:
        return str(error)


def _is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def _version_of(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Terminate a command's whole session, then kill it if it lingers."""
    for sig, grace in ((signal.SIGTERM, _STOP_GRACE), (signal.SIGKILL, None)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            pass
        try:
            process.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="locust-browser",
        description="Set up and check the browser that locust-browser launches.",
    )
    parser.add_argument(
        "--version",
        action="version",
        version=f"%(prog)s {_version_of('locust-browser')}",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    install_parser = commands.add_parser(
        "install",
        help="make a headless Chromium available",
        description="Install Playwright's headless shell, or the system's "
        "chromium-headless-shell with apt-get when run as root.",
    )
    install_parser.add_argument(
        "--force", action="store_true", help="install even if a browser is found"
    )
    install_parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help="stop each install command after this long (default: %(default)g)",
    )

    doctor_parser = commands.add_parser(
        "doctor",
        help="print versions and the browser used, and launch it once",
        description="Print the versions that matter, the browser that would be "
        f"used ({ENV_EXECUTABLE} is honoured), and whether it launches.",
    )
    doctor_parser.add_argument(
        "--browser-executable",
        metavar="PATH",
        help="check this executable instead of the one found automatically",
    )
    return parser


if __name__ == "__main__":
    raise SystemExit(main())
