"""Drives the web console in headless Chromium (playwright), the way people use it.

Usage: python3 console_browser_check.py BASE_URL ADMIN_TOKEN USER_TOKEN SCREENSHOT_DIR
Prints one JSON object: {"failures": [...], "screenshots": [...]}; exits 0 even when checks fail
(the Swift test reads the failures), 2 when the browser could not be driven at all.
"""
import json
import os
import sys
import traceback
import urllib.request

from playwright.sync_api import sync_playwright

base, admin_token, user_token, shots = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
os.makedirs(shots, exist_ok=True)
failures = []
script_errors = []
screenshots = []
csp_missing = []


def check(condition, message):
    if not condition:
        failures.append(message)


def api(method, path, token=admin_token, body=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, method=method)
    request.add_header("Authorization", "Bearer " + token)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            text = response.read().decode()
            return response.status, json.loads(text) if text else None
    except urllib.error.HTTPError as error:
        return error.code, None


def watch(page):
    page.on("pageerror", lambda error: script_errors.append(f"pageerror on {page.url}: {error}"))

    def on_console(message):
        # A 4xx page (a refused form, a 403) is logged as a failed load; that is expected, not a script error.
        if message.type == "error" and "Failed to load resource: the server responded with a status of 4" not in message.text:
            script_errors.append(f"console error on {page.url}: {message.text}")

    page.on("console", on_console)

    def on_response(response):
        if response.request.resource_type == "document" and response.url.startswith(base + "/console"):
            if "script-src 'self'" not in (response.headers.get("content-security-policy") or ""):
                csp_missing.append(response.url)

    page.on("response", on_response)


def shot(page, name):
    path = os.path.join(shots, name + ".png")
    page.screenshot(path=path, full_page=True)
    screenshots.append(path)


def sign_in(page, token):
    page.goto(base + "/console")
    page.get_by_label("Access token").fill(token)
    page.get_by_role("button", name="Sign in").click()


def model_row(page, name):
    return page.locator("tbody tr", has=page.get_by_role("link", name=name, exact=True))


def admin_flows(browser):
    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    watch(page)

    # Sign in: the form, a wrong token refused next to its field, then the admin token.
    response = page.goto(base + "/")
    check(page.url == base + "/console", f"/ did not lead to /console but to {page.url}")
    check("script-src 'self'" in (response.headers.get("content-security-policy") or ""), "sign-in page has no CSP")
    shot(page, "01-sign-in")
    page.get_by_label("Access token").fill("not-a-token")
    page.get_by_role("button", name="Sign in").click()
    check("not valid" in page.locator(".error-message").inner_text(), "a wrong token is not refused next to the field")
    sign_in(page, admin_token)
    page.wait_for_url("**/console/models")
    cookie = next((c for c in context.cookies() if c["name"] == "ms_console"), None)
    check(cookie is not None and cookie["httpOnly"] and cookie["sameSite"] == "Strict", f"session cookie flags wrong: {cookie}")
    check(admin_token not in page.content() and admin_token not in page.url, "the token appears in the page or URL after sign-in")
    nav = page.locator("nav[aria-label=Console] a").all_inner_texts()
    check(nav == ["Models", "Prices", "Keys", "Tokens", "Teams", "Usage", "Audit", "Health", "Webhooks"], f"admin navigation is {nav}")
    shot(page, "02-models")

    # A model: a bad value first (nothing stored, typed values kept), then create, edit, disable, default, test, delete.
    page.get_by_role("link", name="New model").click()
    page.get_by_label("Name", exact=True).fill("console/echo")
    page.get_by_label("Provider", exact=True).select_option("openai")
    page.get_by_label("Model ID").fill("fake-echo")
    page.get_by_label("Max tokens").fill("-5")
    page.get_by_role("button", name="Save model").click()
    check("Max tokens" not in page.title() and page.locator("#field-maxTokens-error").count() == 1, "no error next to Max tokens")
    check("There is a problem" in page.locator(".error-summary").inner_text(), "no error summary at the top")
    check(page.get_by_label("Name", exact=True).input_value() == "console/echo", "the typed name was not kept")
    check(page.get_by_label("Max tokens").input_value() == "-5", "the typed max tokens was not kept")
    status, models = api("GET", "/api/models")
    check(status == 200 and not any(m["name"] == "console/echo" for m in models), "a bad form value stored a model")
    shot(page, "03-model-form-error")
    page.get_by_label("Max tokens").fill("512")
    page.get_by_label("Fallbacks").fill("test-openai/fake-error-500")
    page.get_by_role("button", name="Save model").click()
    page.wait_for_url("**/console/models?done=created")
    check(model_row(page, "console/echo").count() == 1, "the new model is not listed")
    check("unpriced" in model_row(page, "console/echo").inner_text(), "a model saved without prices is not flagged unpriced")

    model_row(page, "console/echo").get_by_role("link", name="console/echo", exact=True).click()
    page.get_by_label("Display name").fill("Console echo")
    page.get_by_label("Input price per million tokens (USD)").fill("2")
    page.get_by_label("Cache read price per million tokens (USD)").fill("0.2")
    page.get_by_role("button", name="Save model").click()
    page.wait_for_url("**/console/models?done=saved")
    status, model = api("GET", "/api/models/console%2Fecho")
    check(status == 200 and model["displayName"] == "Console echo" and model["inputCostPerMillion"] == 2 and model["cacheReadCostPerMillion"] == 0.2 and model["inputCostPer1kTokens"] == 0.002, f"edit not stored: {model}")
    check(model and model.get("fallbacks") == ["test-openai/fake-error-500"], f"fallbacks not stored: {model}")

    # Deployments: a second way of calling the model, added on its own page and listed on the model page.
    page.get_by_role("link", name="Deployments of console/echo").click()
    page.get_by_label("Upstream model ID").fill("fake-echo-second")
    page.get_by_label("Weight").fill("2")
    page.get_by_label("Region").fill("eu-west")
    page.get_by_role("button", name="Add deployment").click()
    page.wait_for_url("**/deployments?done=added")
    rows = page.locator("main table").nth(0).locator("tbody tr")
    check(rows.count() == 2 and "fake-echo-second" in rows.nth(1).inner_text() and "eu-west" in rows.nth(1).inner_text(), "the added deployment is not listed")
    shot(page, "03b-deployments")
    page.get_by_role("link", name="Back to the model").click()
    check("fake-echo-second" in page.locator("main").inner_text(), "the model page does not list its deployments")
    page.goto(base + "/console/models")

    page.get_by_role("button", name="Disable console/echo").click()
    page.wait_for_url("**/console/models?done=disabled")
    check("inactive" in model_row(page, "console/echo").inner_text(), "disable did not show the model inactive")
    page.get_by_role("button", name="Enable console/echo").click()
    page.wait_for_url("**/console/models?done=enabled")
    page.get_by_role("button", name="Set console/echo as default").click()
    page.wait_for_url("**/console/models?done=default")
    check("default" in model_row(page, "console/echo").inner_text(), "set default did not mark the model")
    status, model = api("GET", "/api/models/console%2Fecho")
    check(model and model["isDefault"] and model["isActive"], f"default/enable not stored: {model}")

    page.get_by_role("button", name="Test console/echo").click()
    answer = page.locator(".answer").inner_text() if page.locator(".answer").count() else ""
    check("Echo from openai" in answer, f"Test did not show the answer: {page.locator('main').inner_text()[:400]}")
    check("ms" in page.locator("main").inner_text() and "$" in page.locator("main").inner_text(), "Test did not show latency and cost")
    shot(page, "04-model-test")

    page.goto(base + "/console/models?q=console")
    page.get_by_role("link", name="Delete console/echo").click()
    check("cannot be undone" in page.locator("main").inner_text(), "delete asks no confirmation")
    page.get_by_role("button", name="Delete model").click()
    page.wait_for_url("**/console/models?done=deleted")
    check(model_row(page, "console/echo").count() == 0, "the deleted model is still listed")
    page.goto(base + "/console/models?provider=anthropic&status=active")
    check(page.locator("tbody tr").count() > 0 and "OpenAI" not in page.locator("tbody").inner_text(), "the provider filter does not filter")

    # Keys: add a shared key (a rejected one first), re-validate, deactivate.
    page.goto(base + "/console/keys")
    page.get_by_label("Provider", exact=True).select_option("anthropic")
    page.get_by_label("Key name").fill("team")
    page.get_by_label("API key", exact=True).fill("bad-shared-key-000")
    page.get_by_role("button", name="Add shared key").click()
    check("rejected" in page.locator("#field-apiKey-error").inner_text(), "a rejected shared key is not refused next to the field")
    check(page.get_by_label("Key name").input_value() == "team", "the typed key name was not kept")
    page.get_by_label("API key", exact=True).fill("sk-ant-shared-good-123456")
    page.get_by_role("button", name="Add shared key").click()
    page.wait_for_url("**/console/keys?done=added")
    row = page.locator("tbody tr", has_text="team")
    check(row.count() == 1 and "Shared" in row.inner_text() and "valid" in row.inner_text(), "the shared key is not listed as valid")
    check("sk-ant-shared-good-123456" not in page.content(), "the whole key appears on the Keys page")
    row.get_by_role("button", name="Re-validate").click()
    page.wait_for_url("**/console/keys?done=valid")
    page.locator("tbody tr", has_text="team").get_by_role("button", name="Deactivate").click()
    page.wait_for_url("**/console/keys?done=deactivated")
    check("inactive" in page.locator("tbody tr", has_text="team").inner_text(), "deactivate did not show the key inactive")
    shot(page, "05-keys")

    # Tokens: create (secret shown once), revoke.
    page.goto(base + "/console/tokens")
    page.get_by_label("Token name").fill("browser user")
    page.get_by_label("Role").select_option("user")
    page.get_by_label("User ID").fill("carol")
    page.get_by_role("button", name="Create token").click()
    secret = page.get_by_label("New access token").input_value()
    check(len(secret) > 20, "the new token's secret is not shown")
    shot(page, "06-token-created")
    check(api("GET", "/api/users/me/keys", token=secret)[0] == 200, "the new token does not work")
    page.goto(base + "/console/tokens")
    check(secret not in page.content(), "the secret is shown again on the token list")
    page.get_by_role("button", name="Revoke browser user").click()
    page.wait_for_url("**/console/tokens?done=revoked")
    check("revoked" in page.locator("tbody tr", has_text="browser user").inner_text(), "the revoked token is not shown revoked")
    check(api("GET", "/api/users/me/keys", token=secret)[0] == 401, "the revoked token still works")
    shot(page, "07-tokens")

    # Usage: chart bars with titles, tables, CSV.
    page.goto(base + "/console/usage")
    bars = page.locator("svg.chart rect.bar")
    check(bars.count() >= 30, f"the usage chart has {bars.count()} bars")
    titles = page.locator("svg.chart rect.bar title").all_text_contents()
    check(any("$" in t and not t.endswith("$0.0000") for t in titles), f"no bar shows a cost: {titles[-3:]}")
    check("test-anthropic/fake-echo" in page.locator("main").inner_text(), "the by-model table misses the model used")
    shot(page, "08-usage")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download CSV").click()
    csv_text = open(download_info.value.path()).read()
    lines = csv_text.strip().split("\n")
    check(lines[0] == "date,requests,prompt_tokens,completion_tokens,total_tokens,cost_usd", f"CSV header is {lines[0]}")
    check(any(line.split(",")[1] != "0" for line in lines[1:]), "the CSV has no day with requests")
    page.goto(base + "/console/usage?from=2026-13-01")
    check(page.locator(".error-summary").count() == 1, "a bad date gives no error summary")

    # Audit, filtered; Health.
    page.goto(base + "/console/audit")
    page.get_by_label("Action").select_option("create")
    page.get_by_role("button", name="Filter").click()
    cells = page.locator("tbody tr td:nth-child(2)").all_inner_texts()
    check(len(cells) > 0 and all(c == "create" for c in cells), f"the audit filter shows {cells[:5]}")
    shot(page, "09-audit")
    page.goto(base + "/console/health")
    text = page.locator("main").inner_text()
    check("reachable" in text and "unlocked" in text and "version" in text, "health misses database, vault or version")
    shot(page, "10-health")
    page.get_by_role("link", name="Prices").click()
    check("No price import is waiting" in page.locator("main").inner_text(), "the prices page does not say how to stage an import")
    shot(page, "10b-prices")
    page.get_by_role("link", name="Webhooks").click()
    check(page.get_by_role("button", name="Add webhook").count() == 1 and "Delivery log" in page.locator("main").inner_text(), "the webhooks page misses its form or delivery log")
    shot(page, "10c-webhooks")

    # Sign out: the session is gone.
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/console?signedOut=1")
    page.goto(base + "/console/models")
    check(page.url == base + "/console", "after sign-out a page still opens")
    context.close()


def user_flows(browser):
    context = browser.new_context()
    page = context.new_page()
    watch(page)
    sign_in(page, user_token)
    page.wait_for_url("**/console/settings")
    nav = page.locator("nav[aria-label=Console] a").all_inner_texts()
    check(nav == ["Teams", "Settings", "My usage"], f"user navigation is {nav}")

    # A valid key is saved; an invalid one is refused next to its field, nothing stored.
    page.get_by_label("OpenAI API key", exact=True).fill("sk-user-good-abcdef123456")
    page.locator("section", has=page.get_by_role("heading", name="OpenAI", exact=True)).get_by_role("button", name="Save key").click()
    page.wait_for_url("**/console/settings?done=saved")
    card = page.locator("section", has=page.get_by_role("heading", name="OpenAI", exact=True))
    check("valid" in card.inner_text() and "sk-user-good-abcdef123456" not in page.content(), "the saved key is not shown masked and valid")
    page.get_by_label("Anthropic API key", exact=True).fill("bad-user-key-000000")
    page.locator("section", has=page.get_by_role("heading", name="Anthropic", exact=True)).get_by_role("button", name="Save key").click()
    error = page.locator("#field-apiKey-anthropic-error")
    check(error.count() == 1 and "rejected" in error.inner_text(), "an invalid key is not refused next to its field")
    check(page.locator(".error-summary").count() == 1, "no error summary for the invalid key")
    status, keys = api("GET", "/api/users/me/keys", token=user_token)
    check(status == 200 and [k["provider"] for k in keys] == ["openai"], f"stored keys after the refusal: {keys}")
    shot(page, "11-settings-error")

    # The settings page follows the registry: a provider whose models are all inactive disappears.
    status, models = api("GET", "/api/models?provider=gemini")
    for model in models:
        api("PATCH", "/api/models/" + model["id"], body={"isActive": False})
    page.goto(base + "/console/settings")
    check(page.get_by_label("Gemini API key", exact=True).count() == 0, "a provider with no active model still has a card")
    api("PATCH", "/api/models/" + models[0]["id"], body={"isActive": True})
    page.goto(base + "/console/settings")
    check(page.get_by_label("Gemini API key", exact=True).count() == 1, "a provider with an active model again has no card")
    shot(page, "12-settings")

    # Replace, then delete the stored key.
    page.get_by_label("OpenAI API key", exact=True).fill("sk-user-second-abcdef99")
    page.locator("section", has=page.get_by_role("heading", name="OpenAI", exact=True)).get_by_role("button", name="Replace key").click()
    page.wait_for_url("**/console/settings?done=saved")
    page.get_by_role("button", name="Delete OpenAI key", exact=True).click()
    page.wait_for_url("**/console/settings?done=deleted")
    check(api("GET", "/api/users/me/keys", token=user_token)[1] == [], "the deleted key is still stored")

    page.goto(base + "/console/my-usage")
    check(page.locator("svg.chart").count() == 2, "my usage has no charts")
    check("test-openai/fake-echo" in page.locator("main").inner_text(), "my usage misses the user's own call")
    check("test-anthropic/fake-echo" not in page.locator("main").inner_text(), "my usage shows another caller's calls")
    shot(page, "13-my-usage")

    # A user is refused admin pages.
    for path in ["/console/models", "/console/keys", "/console/tokens", "/console/usage", "/console/audit", "/console/health", "/console/models/new"]:
        response = page.goto(base + path)
        check(response.status == 403 and "Not allowed" in page.locator("h1").inner_text(), f"a user opened {path}: {response.status}")
    shot(page, "14-forbidden")

    # A cross-site POST is refused: a page on another origin posts a form to the console.
    attacker = "http://attacker.test/form"
    page.route(attacker, lambda route: route.fulfill(
        status=200, content_type="text/html",
        body=f'<form method="post" action="{base}/console/settings/openai"><input name="apiKey" value="sk-attacker-000000000">'
             '<button type="submit">Go</button></form>'))
    page.goto(attacker)
    with page.expect_response(lambda r: r.url.endswith("/console/settings/openai")) as posted:
        page.get_by_role("button", name="Go").click()
    check(posted.value.status == 403, f"a cross-site POST got {posted.value.status}")
    check(api("GET", "/api/users/me/keys", token=user_token)[1] == [], "a cross-site POST stored a key")
    context.close()


try:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        admin_flows(browser)
        user_flows(browser)
        browser.close()
except Exception as error:  # a flow that could not go on is a failure with its reason, not a crash
    line = traceback.extract_tb(error.__traceback__)[-1].lineno if error.__traceback__ else "?"
    failures.append(f"flow stopped at line {line}: {type(error).__name__}: {str(error)[:600]}")

check(not script_errors, f"script errors: {script_errors[:5]}")
check(not csp_missing, f"pages without CSP: {csp_missing[:5]}")
print(json.dumps({"failures": failures, "screenshots": screenshots}))
