"""Drives the dashboard in a real headless Chromium (Debian's, through Playwright): logs in,
checks that every page renders the running service's data, halts, resumes, swaps, rolls back
a deployment and pulls the kill switch from the page and checks the service did each, checks
that a read-only token is offered no action, and keeps a screenshot of each page.

Usage: python3 check.py URL TOKEN READ_TOKEN DEPLOYMENT COMPONENT SCREENSHOT_DIR
(COMPONENT: a .wasm of another version of DEPLOYMENT's strategy, to swap to.)
Prints one JSON line of measurements (the login page's load and the first render with data, in
ms) and exits non-zero on any failure.
"""

import json
import os
import sys
import time
import urllib.request

from playwright.sync_api import expect, sync_playwright

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


def api(url, token, path):
    request = urllib.request.Request(url + path, headers={"Authorization": "Bearer " + token})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def deployment_of(url, token, name):
    return {d["name"]: d for d in api(url, token, "/v1/deployments")}[name]


def main(url, token, reader, deployment, component, shots):
    os.makedirs(shots, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

        # The login page alone: the baseline of the first render below.
        started = time.monotonic()
        page.goto(url)
        expect(page.locator("#login-form")).to_be_visible()
        login_page_ms = (time.monotonic() - started) * 1e3

        # A wrong token is refused on the login page.
        page.fill("#token", "wrong-token")
        page.click("#login-form button")
        expect(page.locator("#login-error")).to_contain_text("refused")
        errors.clear()  # the refused token's 401

        # Log in; time from submit to the deployments table showing the running deployment.
        started = time.monotonic()
        page.fill("#token", token)
        page.click("#login-form button")
        row = page.locator("#deployments tr", has_text=deployment)
        expect(row).to_be_visible(timeout=15_000)
        first_render_ms = (time.monotonic() - started) * 1e3
        expect(page.locator("#live")).to_have_text("live", timeout=10_000)
        expect(page.locator("#account-equity polyline")).to_have_count(1, timeout=20_000)
        expect(page.locator("#cards")).to_contain_text("Equity")
        page.screenshot(path=os.path.join(shots, "overview.png"), full_page=True)

        # The deployment's page: its fills and its equity chart.
        page.click(f'#deployments a[data-select="{deployment}"]')
        expect(page.locator("#page-deployment")).to_be_visible()
        expect(page.locator("#deployment-fills")).to_contain_text("BTCUSDT", timeout=15_000)
        expect(page.locator("#deployment-balances")).to_contain_text("USDT")
        expect(page.locator("#deployment-equity polyline")).to_have_count(1, timeout=15_000)
        page.screenshot(path=os.path.join(shots, "deployment.png"), full_page=True)

        # An action round-trips: halt from the page, the service reports it halted, resume.
        page.click('button[data-action="halt"]')
        expect(page.locator("#message")).to_contain_text("halt done")
        listed = {d["name"]: d for d in api(url, token, "/v1/deployments")}
        assert listed[deployment]["status"] == "halted", listed[deployment]
        expect(page.locator("#deployment-summary")).to_contain_text("halted", timeout=5_000)
        # The halt fires the configured alert: the live stream announces it, the badge counts it.
        expect(page.locator("#alert-message")).to_contain_text("alert firing", timeout=10_000)
        expect(page.locator("#alert-count")).to_have_text("1", timeout=10_000)
        page.screenshot(path=os.path.join(shots, "halted.png"), full_page=True)
        page.click('button[data-action="resume"]')
        expect(page.locator("#message")).to_contain_text("resume done")
        listed = {d["name"]: d for d in api(url, token, "/v1/deployments")}
        assert listed[deployment]["status"] == "running", listed[deployment]

        # A swap to another version from the page, then a roll back to the first.
        first = deployment_of(url, token, deployment)["hash"]
        page.set_input_files("#swap-file", component)
        expect(page.locator("#message")).to_contain_text("swapped to", timeout=15_000)
        swapped = deployment_of(url, token, deployment)
        assert swapped["hash"] != first and swapped["previous_hash"] == first, swapped
        page.click('button[data-action="rollback"]')
        expect(page.locator("#message")).to_contain_text("rollback done")
        assert deployment_of(url, token, deployment)["hash"] == first

        for name, check in [
            ("risk", "#risk-deployments"),
            ("signals", "#signals"),
            ("feeds", "#feeds"),
            ("models", "#models-summary"),
            ("alerts", "#alerts-rules"),
        ]:
            page.click(f'header nav a[data-page="{name}"]')
            expect(page.locator(check)).to_be_visible()
            if name == "risk":
                expect(page.locator(check)).to_contain_text(deployment)
            if name == "feeds":
                expect(page.locator(check)).to_contain_text("BTCUSDT", timeout=5_000)
                # The venue (paper trading here) and the parent orders' table.
                expect(page.locator("#venue-summary")).to_contain_text("simulated", timeout=5_000)
                expect(page.locator("#algos")).to_contain_text("shortfall", timeout=5_000)
            if name == "alerts":
                expect(page.locator("#alerts-recent")).to_contain_text("halted", timeout=5_000)
            page.screenshot(path=os.path.join(shots, name + ".png"), full_page=True)

        # The kill switch, confirmed in the browser's dialog: the whole account halts.
        page.once("dialog", lambda dialog: dialog.accept())
        page.click("#kill")
        expect(page.locator("#message")).to_contain_text("kill switch pulled")
        account = api(url, token, "/v1/risk")["account"]
        assert account["state"] == "halted", account
        expect(page.locator("#account-state")).to_contain_text("halted", timeout=5_000)
        page.screenshot(path=os.path.join(shots, "killed.png"), full_page=True)

        # A read-only token sees everything and is offered no action.
        page.click("#logout")
        page.fill("#token", reader)
        page.click("#login-form button")
        expect(page.locator("#who")).to_have_text("grafana (read)", timeout=10_000)
        expect(page.locator("#kill")).to_be_hidden()
        page.click(f'header nav a[data-page="deployment"]')
        expect(page.locator("#deployment-history")).to_contain_text("BTCUSDT", timeout=15_000)
        for action in ["halt", "resume", "rollback", "remove"]:
            expect(page.locator(f'button[data-action="{action}"]')).to_be_hidden()
        expect(page.locator("label.button", has_text="Swap")).to_be_hidden()
        page.screenshot(path=os.path.join(shots, "read-only.png"), full_page=True)

        browser.close()
        if errors:
            raise AssertionError("errors in the page: " + "; ".join(errors))
    print(json.dumps({"first_render_ms": round(first_render_ms, 1), "login_page_ms": round(login_page_ms, 1)}))


if __name__ == "__main__":
    main(*sys.argv[1:7])
