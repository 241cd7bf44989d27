"""Console single sign-on in headless Chromium against oidc-provider-mock (a real OpenID provider run locally).

Usage: sso_browser_check.py BASE_URL PROVIDER_URL SCREENSHOT_DIR [expired]
With "expired" the provider issues ID tokens that have already expired: the sign-in must be refused.
Prints one JSON object: {"failures": [...], "screenshots": [...]}; exits 0 even when checks fail (the Swift test reads the list).
"""
import json
import os
import sys
import urllib.request

from playwright.sync_api import sync_playwright

base, provider, shots = sys.argv[1], sys.argv[2], sys.argv[3]
expired_mode = len(sys.argv) > 4 and sys.argv[4] == "expired"
os.makedirs(shots, exist_ok=True)
failures, screenshots = [], []


def check(condition, message):
    if not condition:
        failures.append(message)


def shot(page, name):
    path = os.path.join(shots, name)
    page.screenshot(path=path, full_page=True)
    screenshots.append(path)


def set_groups(sub, groups):
    body = json.dumps({"groups": groups, "email": f"{sub}@example.com"}).encode()
    request = urllib.request.Request(f"{provider}/users/{sub}", data=body, method="PUT", headers={"content-type": "application/json"})
    urllib.request.urlopen(request, timeout=10).read()


def sign_in(page, sub, tamper_nonce=False):
    """Returns the status of the gateway's callback page. With `tamper_nonce` the provider is asked for another
    nonce than the one the gateway put in the authorization URL, as a replayed or forged answer would carry."""
    page.goto(f"{base}/console")
    page.get_by_role("link", name="Sign in with").click()
    page.wait_for_url(f"{provider}/**")
    if tamper_nonce:
        page.goto(page.url.replace("nonce=", "nonce=tampered"))
    page.fill("input[name=sub]", sub)
    with page.expect_response(lambda response: response.url.startswith(f"{base}/console/sso/callback")) as callback:
        page.get_by_role("button", name="Authorize").click()
    page.wait_for_load_state("networkidle")
    return callback.value.status



with sync_playwright() as p:
    browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
    page = browser.new_page()
    try:
        if expired_mode:
            set_groups("olga", ["ms-admins"])
            status = sign_in(page, "olga")
            check(status == 401 and "expired" in page.content(), f"an expired ID token is refused ({status})")
            check("You are not signed in" in page.content(), "the refusal page says so")
            shot(page, "sso-06-expired.png")
            raise SystemExit
        # An admin, in team Research: the admin pages open, and the team exists with them in it.
        set_groups("olga", ["ms-admins", "team:Research"])
        sign_in(page, "olga")
        check("/console/models" in page.url, f"an admin lands on the models page, not {page.url}")
        check(page.get_by_role("link", name="Models").count() > 0, "the admin navigation is shown")
        shot(page, "sso-01-admin.png")
        page.goto(f"{base}/console/teams")
        check("Research" in page.content(), "the groups claim made team Research")
        shot(page, "sso-02-teams.png")
        page.get_by_role("button", name="Sign out").click()

        # Out of the admin group: a user from the next sign-in on.
        set_groups("olga", ["team:Research"])
        sign_in(page, "olga")
        check("/console/settings" in page.url, f"a user lands on the settings page, not {page.url}")
        response = page.goto(f"{base}/console/models")
        check(response is not None and response.status == 403, f"the admin pages are closed to her now ({response.status if response else None})")
        shot(page, "sso-03-no-longer-admin.png")

        # A callback that does not match the sign-in this browser started.
        response = page.goto(f"{base}/console/sso/callback?code=made-up&state=wrong-state")
        check(response is not None and response.status == 400, "a wrong state is refused")
        check("You are not signed in" in page.content() and "state" in page.content(), "the refusal page says why")
        shot(page, "sso-04-wrong-state.png")

        # The provider answers with an ID token for another nonce than this sign-in's.
        page.goto(f"{base}/console/settings")
        page.get_by_role("button", name="Sign out").click()
        status = sign_in(page, "olga", tamper_nonce=True)
        check(status == 401 and "nonce" in page.content(), f"a wrong nonce is refused ({status})")
        shot(page, "sso-05-wrong-nonce.png")
    except SystemExit:
        pass
    except Exception as error:  # a step that could not run is a failure, reported with the rest
        failures.append(f"{type(error).__name__}: {error}")
        shot(page, "sso-error.png")
    finally:
        browser.close()

print(json.dumps({"failures": failures, "screenshots": screenshots}))
