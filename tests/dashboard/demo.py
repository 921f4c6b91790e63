"""The dashboard of the running demo (examples/demo.toml) in Debian's Chromium through
Playwright: every deployment listed, the ensemble's three members on the Models page, the
strategies' signals on the Signals page with their measured quality and the market regimes; a
screenshot of each.

Usage: python3 demo.py URL TOKEN SCREENSHOT_DIR
Exits non-zero on any failure.
"""

import os
import sys

from playwright.sync_api import expect, sync_playwright

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
DEPLOYMENTS = ["sma-crossover", "bollinger-reversion", "donchian-breakout", "model-follower",
               "market-maker", "confidence-optimizer"]


def main(url, token, shots):
    os.makedirs(shots, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(url)
        page.fill("#token", token)
        page.click("#login-form button")
        for name in DEPLOYMENTS:
            expect(page.locator("#deployments tr", has_text=name)).to_be_visible(timeout=15_000)
        page.screenshot(path=os.path.join(shots, "demo-overview.png"), full_page=True)
        page.click('header nav a[data-page="models"]')
        for member in ["lstm", "transformer", "cnn"]:
            expect(page.locator("#models tr", has_text=member)).to_be_visible(timeout=10_000)
        page.screenshot(path=os.path.join(shots, "demo-models.png"), full_page=True)
        page.click('header nav a[data-page="signals"]')
        expect(page.locator("#signals")).to_contain_text("BTCUSDT", timeout=30_000)
        expect(page.locator("#signals-regimes")).to_contain_text("BTCUSDT", timeout=60_000)
        expect(page.locator("#signals-quality")).to_contain_text("BTCUSDT", timeout=90_000)
        page.screenshot(path=os.path.join(shots, "demo-signals.png"), full_page=True)
        browser.close()
        if errors:
            raise AssertionError("errors in the page: " + "; ".join(errors))


if __name__ == "__main__":
    main(*sys.argv[1:4])
