"""The dashboard's Feeds page with several exchange accounts, in Debian's Chromium through
Playwright: every account's cards (user stream, limits, reconciliation, books) are shown.

Usage: python3 venues.py URL TOKEN SCREENSHOT ACCOUNT...
Exits non-zero on any failure.
"""

import os
import sys

from playwright.sync_api import expect, sync_playwright

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


def main(url, token, screenshot, *accounts):
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(url + "/#feeds")
        page.fill("#token", token)
        page.click("#login-form button")
        summary = page.locator("#venue-summary")
        expect(summary).to_contain_text("routed", timeout=15_000)
        for name in accounts:
            section = summary.locator("h3", has_text=name)
            expect(section).to_be_visible()
        expect(summary.locator("h3")).to_have_count(len(accounts))
        expect(summary).to_contain_text("BTCUSDT")
        os.makedirs(os.path.dirname(screenshot), exist_ok=True)
        page.screenshot(path=screenshot, full_page=True)
        browser.close()
        if errors:
            raise AssertionError("errors in the page: " + "; ".join(errors))


if __name__ == "__main__":
    main(*sys.argv[1:])
