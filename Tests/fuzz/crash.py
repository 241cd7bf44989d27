"""Crash-finding run: extreme and malformed values for every numeric and string field of every /v1 door and
/api body, and hostile upstream answers, against a real `model-service serve`. The property: after every
case the process is still up and answering. A trap (integer overflow, a Double that does not fit an Int)
kills the process for every user, so one dead process fails the run; so does any HTTP 500.

Usage: python3 Tests/fuzz/crash.py BINARY [--seconds N]
Prints the cases tried, crashes and server errors; exit 0 only with none of either.
"""
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

BINARY = sys.argv[1]
MAX_SECONDS = float(sys.argv[sys.argv.index("--seconds") + 1]) if "--seconds" in sys.argv else 600.0
ADMIN = "crash-admin-token-0123456789abcdef"

# Raw JSON text, so NaN, Infinity and numbers past 2^64 go out as a hostile client writes them.
NUMBERS = ["0", "-1", "1", "2147483648", "9007199254740993", "9223372036854775807", "9223372036854775808",
           "-9223372036854775809", "18446744073709551616", "1e308", "-1e308", "1e400", "0.5", "NaN", "Infinity", "-Infinity"]
STRINGS = ['""', '"123"', '"-1"', '"9223372036854775808"', json.dumps("x" * 100_000), '"\\u0000"', '"\\ud800"', "null", "[]", "{}", "true"]
VALUES = NUMBERS + STRINGS


class Crashed(Exception):
    """The service process died: nothing more can be tried."""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Service:
    def __init__(self, work):
        self.work = work
        self.fakes = subprocess.Popen([BINARY, "fake-providers", "--port", "0"], stdout=open(f"{work}/fakes.log", "w"), stderr=subprocess.STDOUT)
        urls = ""
        for _ in range(200):
            text = open(f"{work}/fakes.log").read()
            match = re.search(r"listening on \S+ (.*)", text)
            if match:
                urls = match.group(1)
                break
            time.sleep(0.05)
        if not urls:
            raise SystemExit("crash-fuzz: the fake providers did not start")
        env = dict(os.environ)
        for pair in urls.split():
            name, _, value = pair.partition("=")
            env[name] = value
        self.port = free_port()
        env.update(HOST="127.0.0.1", PORT=str(self.port), DATA_DIR=f"{work}/data", ADMIN_TOKEN=ADMIN, LOG_LEVEL="error",
                   ENCRYPTION_SECRET="crash-encryption-secret-0123456789abcdef", ENCRYPTION_KDF_COST="fast-for-tests",
                   INTERNAL_SECRET="crash-internal-secret-0123456789abcdef", SEED_ON_START="true",
                   UPSTREAM_TIMEOUT_SECONDS="5", UPSTREAM_RETRY_BASE_MS="5", UPSTREAM_RETRY_MAX_MS="20", UPSTREAM_RETRY_AFTER_CAP_MS="50",
                   OPENAI_API_KEY="sk-crash-openai", ANTHROPIC_API_KEY="sk-crash-anthropic", GOOGLE_API_KEY="crash-google",
                   AZURE_OPENAI_API_KEY="crash-azure", XAI_API_KEY="crash-xai", DEEPSEEK_API_KEY="crash-deepseek",
                   AWS_BEARER_TOKEN_BEDROCK="crash-bedrock")
        self.log = open(f"{work}/serve.log", "w")
        self.process = subprocess.Popen([BINARY, "serve"], env=env, stdout=self.log, stderr=subprocess.STDOUT)
        for _ in range(600):
            if self.alive() and self.answer("GET", "/api/health", token=None)[0] == 200:
                return
            time.sleep(0.1)
        raise SystemExit("crash-fuzz: the service did not start:\n" + open(f"{work}/serve.log").read()[-3000:])

    def alive(self):
        return self.process.poll() is None

    def answer(self, method, path, body=None, token=ADMIN, headers=None):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            all_headers = {"Content-Type": "application/json"}
            if token:
                all_headers["Authorization"] = "Bearer " + token
            all_headers.update(headers or {})
            connection.request(method, path, body=body.encode() if isinstance(body, str) else body, headers=all_headers)
            response = connection.getresponse()
            return response.status, response.read()
        except (OSError, http.client.HTTPException) as error:
            return None, str(error).encode()
        finally:
            connection.close()

    def stop(self):
        for process in (self.process, self.fakes):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()


def with_value(template, field, value):
    """The template body (a dict) with `field` (dotted path) set to raw JSON text `value`."""
    marker = "\u0001FUZZ\u0001"
    body = json.loads(json.dumps(template))
    target = body
    parts = field.split(".")
    for part in parts[:-1]:
        target = target.setdefault(part, {})
    target[parts[-1]] = marker
    return json.dumps(body).replace(json.dumps(marker), value)


def main():
    work = tempfile.mkdtemp(prefix="ms-crash-")
    service = Service(work)
    cases = crashes = server_errors = 0
    findings = []
    started = time.time()

    def case(label, method, path, body=None, token=ADMIN, headers=None):
        nonlocal cases, crashes, server_errors
        if time.time() - started > MAX_SECONDS:
            return None
        cases += 1
        status, payload = service.answer(method, path, body, token=token, headers=headers)
        if not service.alive() or service.answer("GET", "/api/health", token=None)[0] is None:
            crashes += 1
            findings.append(f"CRASH after {label}")
            tail = open(f"{work}/serve.log").read()[-2000:]
            print(f"crash-fuzz: the process died after {label}\n{tail}", flush=True)
            raise Crashed()
        if status == 500:
            server_errors += 1
            findings.append(f"500 after {label}: {payload[:300]!r}")
        return status, payload

    try:
        setup(service)
        user_token = service.user_token
        tokens = [("admin", ADMIN), ("user with budget and limits", user_token)]
        chat = {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 20}
        messages = {"model": "anthropic/claude-3-5-haiku", "max_tokens": 20, "messages": [{"role": "user", "content": "hi"}]}
        messages_translated = dict(messages, model="openai/gpt-4o-mini")
        responses = {"model": "openai/gpt-4o-mini", "input": "hi"}
        embeddings = {"model": "openai/text-embedding-3-small", "input": "hi"}
        doors = [
            ("/v1/chat/completions", chat, ["model", "max_tokens", "max_completion_tokens", "n", "top_logprobs", "temperature", "top_p",
                                            "seed", "user", "stream", "stream_options.include_usage", "presence_penalty", "messages"]),
            ("/v1/messages", messages, ["model", "max_tokens", "thinking.budget_tokens", "top_k", "temperature", "stream", "metadata.user_id", "system"]),
            ("/v1/messages", messages_translated, ["max_tokens", "top_k", "temperature", "stream", "stop_sequences"]),
            ("/v1/messages/count_tokens", messages, ["model", "max_tokens"]),
            ("/v1/responses", responses, ["model", "max_output_tokens", "top_logprobs", "stream", "user", "input"]),
            ("/v1/embeddings", embeddings, ["model", "input", "dimensions", "encoding_format", "user"]),
        ]
        for path, template, fields in doors:
            for field in fields:
                for value in VALUES:
                    for who, token in tokens:
                        case(f"{path} {field}={value[:40]} as {who}", "POST", path, with_value(template, field, value), token=token)
        for value in ["1e300", "nan", "-1", "9223372036854775808", "soon", "1"]:
            case(f"X-Stainless-Timeout: {value}", "POST", "/v1/chat/completions", json.dumps(chat), headers={"X-Stainless-Timeout": value})
        # Hostile upstreams: every usage form on every format, streamed and not, relayed and translated.
        for model in service.hostile_models:
            for who, token in tokens:
                for stream in ("false", "true"):
                    case(f"{model} chat stream={stream} as {who}", "POST", "/v1/chat/completions",
                         with_value(dict(chat, model=model), "stream", stream), token=token)
                    case(f"{model} messages stream={stream} as {who}", "POST", "/v1/messages",
                         with_value(dict(messages, model=model), "stream", stream), token=token)
        for model in service.hostile_embedding_models:
            for who, token in tokens:
                case(f"{model} embeddings as {who}", "POST", "/v1/embeddings", json.dumps(dict(embeddings, model=model)), token=token)
        # /api bodies.
        model_body = {"name": "fuzz/model", "provider": "openai", "modelId": "fake-echo", "maxTokens": 100, "inputCostPer1kTokens": 1,
                      "outputCostPer1kTokens": 1, "rateLimitPerMinute": 10, "tokenLimitPerMinute": 100, "defaultTemperature": 0.5,
                      "providerSettings": {"maxOutputTokens": 50}}
        api = [
            ("POST", "/api/models", model_body, list(model_body.keys()) + ["providerSettings.maxOutputTokens", "rateLimitPerHour",
                                                                           "rateLimitPerDay", "tokenLimitPerDay", "fallbacks", "mode",
                                                                           "inputCostPerMillion", "cacheReadCostPerMillion",
                                                                           "cacheWrite1hCostPerMillion", "priceTiers", "allowUnpriced"]),
            ("PATCH", "/api/models/openai/gpt-4o-mini", {"isActive": True}, ["maxTokens", "inputCostPer1kTokens", "rateLimitPerMinute",
                                                                              "tokenLimitPerDay", "providerSettings.maxOutputTokens",
                                                                              "outputCostPerMillion", "cacheWriteCostPerMillion", "priceTiers"]),
            ("POST", "/api/budgets", {"userId": "fuzz-user", "period": "day", "maxCost": 1}, ["maxCost", "maxTokens", "softThreshold", "period", "userId"]),
            ("POST", "/api/tokens", {"role": "user", "userId": "fuzz-user"}, ["role", "userId", "name", "expiresAt"]),
            ("POST", "/api/api-keys?skipValidation=true", {"userId": "fuzz-user", "provider": "openai", "keyName": "k", "apiKey": "sk-fuzz-0123456789"},
             ["userId", "provider", "keyName", "apiKey", "endpoint"]),
        ]
        for method, path, template, fields in api:
            for field in fields:
                for value in VALUES:
                    case(f"{method} {path} {field}={value[:40]}", method, path, with_value(template, field, value))
                    # A model the fuzz created is removed so the next case can create it again.
                    service.answer("DELETE", "/api/models/fuzz/model")
        for query in ["page", "from", "to", "limit", "groupBy", "userId"]:
            for value in ["9223372036854775807", "-9223372036854775808", "99999999999999999999", "1e308", "NaN", "", "%00", "x" * 2000]:
                for path in ["/api/usage", "/api/audit", "/console/usage", "/console/audit", "/console/models"]:
                    case(f"GET {path}?{query}={value[:30]}", "GET", f"{path}?{query}={value}")
    except Crashed:
        pass
    finally:
        service.stop()
    for finding in findings[:50]:
        print("crash-fuzz:", finding)
    print(f"crash-fuzz: {cases} cases, {crashes} crashes, {server_errors} server errors in {time.time() - started:.0f} s")
    shutil.rmtree(work, ignore_errors=True)
    sys.exit(1 if crashes or server_errors else 0)


def setup(service):
    """A user with a budget and limits, and models whose upstreams answer with hostile numbers."""
    def api(method, path, body):
        status, payload = service.answer(method, path, json.dumps(body))
        if status not in (200, 201):
            raise SystemExit(f"crash-fuzz: setup {method} {path} answered {status}: {payload[:300]!r}")
        return json.loads(payload) if payload else None
    created = api("POST", "/api/tokens", {"role": "user", "userId": "fuzz-user", "name": "fuzz"})
    service.user_token = created["token"]
    api("POST", "/api/budgets", {"userId": "fuzz-user", "period": "day", "maxCost": 1000, "maxTokens": 1000000000})
    api("PATCH", "/api/models/openai/gpt-4o-mini", {"rateLimitPerMinute": 100000, "tokenLimitPerMinute": 1000000000})
    forms = ["max", "2e64", "1e300", "1e400", "negative", "fraction", "string", "nan"]
    service.hostile_models = []
    for provider in ["openai", "anthropic", "gemini", "ollama"]:
        for form in forms:
            name = f"hostile/{provider}-{form}"
            api("POST", "/api/models", {"name": name, "provider": provider, "modelId": f"fake-hostile-usage-{form}", "maxTokens": 100,
                                        "inputCostPer1kTokens": 1, "outputCostPer1kTokens": 1})
            service.hostile_models.append(name)
    for after in ["1e300", "nan", "-1", "99999999999999999999", "httpdate", "soon"]:
        name = f"hostile/retry-after-{after}"
        api("POST", "/api/models", {"name": name, "provider": "openai", "modelId": f"fake-rate-limit-after-{after}", "maxTokens": 100})
        service.hostile_models.append(name)
    service.hostile_embedding_models = []
    for form in forms:
        name = f"hostile/embed-{form}"
        api("POST", "/api/models", {"name": name, "provider": "openai", "modelId": f"fake-embed-hostile-usage-{form}", "mode": "embedding"})
        service.hostile_embedding_models.append(name)


if __name__ == "__main__":
    main()
