"""Headless Chromium for the console's browser tests, scripts/screenshots and benches/console.py.

Debian's /usr/bin/chromium driven by Playwright for Python (no browser download: `playwright
install` is never run), with the flags this machine's closed network needs and a fresh profile
per launch. `rendered(page)` waits until a console page has nothing left loading.
"""

import shutil
import tempfile

CHROMIUM = "/usr/bin/chromium"

# Without the background-networking flags Chromium keeps trying (and failing) to reach
# Google's hosts on a machine without internet.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# The screenshots' and tests' window.
VIEWPORT = {"width": 1440, "height": 900}

# True once a console page is fully drawn: no panel loading, no spinner, and (playground) no
# query running.
RENDERED_JS = """() => {
  if (!document.querySelector('main')) return false;
  if (document.querySelector('.spinner')) return false;
  if (document.querySelector('.panel[data-state="loading"]')) return false;
  if (document.querySelector('.results[data-state="running"]')) return false;
  return true;
}"""


class Browser:
    """A Chromium with a fresh profile; `page()` opens a tab that records console errors and
    uncaught exceptions in `page.errors`. Close it (or use `with`) to remove the profile."""

    def __init__(self, playwright):
        self.profile = tempfile.mkdtemp(prefix="chatlake-chromium-")
        self.context = playwright.chromium.launch_persistent_context(
            self.profile,
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport=VIEWPORT,
            accept_downloads=True,
        )

    def page(self):
        page = self.context.new_page()
        page.errors = []
        page.on("console", lambda m: m.type == "error" and page.errors.append(f"console: {m.text}"))
        page.on("pageerror", lambda e: page.errors.append(f"uncaught: {e}"))
        return page

    def close(self):
        self.context.close()
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def rendered(page, timeout_ms=120_000):
    """Waits until the page has nothing left loading (see RENDERED_JS)."""
    page.wait_for_function(RENDERED_JS, timeout=timeout_ms, polling=50)
