"""The registry at scale: a release `serve` with N models (default 10,000), then the cost of one model change,
the console's models page and the model lists, each the median of repeated calls over loopback.

Usage: python3 Benchmarks/registry.py BINARY [--models N] [--database-url postgres://…]
Prints one JSON object (medians in ms, page size in bytes) and a table.
"""
import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

BINARY = sys.argv[1]
MODELS = int(sys.argv[sys.argv.index("--models") + 1]) if "--models" in sys.argv else 10_000
DATABASE_URL = sys.argv[sys.argv.index("--database-url") + 1] if "--database-url" in sys.argv else None
ADMIN = "bench-admin-token-0123456789abcdef"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Client:
    def __init__(self, port):
        self.port = port
        self.local = threading.local()

    def request(self, method, path, body=None, headers=None):
        connection = getattr(self.local, "connection", None)
        if connection is None:
            connection = self.local.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        all_headers = {"Authorization": "Bearer " + ADMIN, "Content-Type": "application/json"}
        all_headers.update(headers or {})
        started = time.perf_counter()
        connection.request(method, path, body=json.dumps(body) if isinstance(body, dict) else body, headers=all_headers)
        response = connection.getresponse()
        payload = response.read()
        return response.status, payload, (time.perf_counter() - started) * 1000, response


def model(index):
    return {"name": f"bench/m{index:05d}", "provider": ["openai", "anthropic", "gemini", "ollama"][index % 4], "modelId": f"m{index}",
            "maxTokens": 8192, "inputCostPer1kTokens": 0.001, "outputCostPer1kTokens": 0.002, "description": "A model for the registry benchmark."}


def main():
    work = tempfile.mkdtemp(prefix="ms-registry-bench-")
    port = free_port()
    env = dict(os.environ, HOST="127.0.0.1", PORT=str(port), DATA_DIR=work, ADMIN_TOKEN=ADMIN, LOG_LEVEL="error",
               ENCRYPTION_SECRET="bench-encryption-secret-0123456789abcdef", ENCRYPTION_KDF_COST="fast-for-tests", SEED_ON_START="false")
    if DATABASE_URL:
        env["DATABASE_URL"] = DATABASE_URL
    process = subprocess.Popen([BINARY, "serve"], env=env, stdout=open(f"{work}/serve.log", "w"), stderr=subprocess.STDOUT)
    client = Client(port)
    try:
        for _ in range(600):
            try:
                if client.request("GET", "/api/health")[0] == 200:
                    break
            except OSError:
                client.local.connection = None
            time.sleep(0.1)
        # Fill the registry with 4 writers (the same path as one at a time, only sooner).
        fill_started = time.time()
        def fill(start):
            for index in range(start, MODELS, 4):
                status = client.request("POST", "/api/models", model(index))[0]
                if status != 201:
                    raise SystemExit(f"create {index}: {status}")
        threads = [threading.Thread(target=fill, args=(start,)) for start in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        fill_seconds = time.time() - fill_started

        def median(samples):
            return round(statistics.median(samples), 2)
        creates, updates, deletes = [], [], []
        for index in range(MODELS, MODELS + 200):
            status, _, ms, _ = client.request("POST", "/api/models", model(index))
            assert status == 201, status
            creates.append(ms)
            status, _, ms, _ = client.request("PATCH", f"/api/models/bench/m{index:05d}", {"maxTokens": 4096, "isActive": False})
            assert status == 200, status
            updates.append(ms)
            status, _, ms, _ = client.request("DELETE", f"/api/models/bench/m{index:05d}")
            assert status == 204, status
            deletes.append(ms)

        # The console: sign in once, then the first page and a filtered page.
        status, _, _, response = client.request("POST", "/console/sign-in", urllib.parse.urlencode({"token": ADMIN}),
                                                headers={"Content-Type": "application/x-www-form-urlencoded", "Authorization": ""})
        cookie = (response.getheader("Set-Cookie") or "").split(";")[0]
        pages, page_bytes, filtered = [], 0, []
        for _ in range(30):
            status, payload, ms, _ = client.request("GET", "/console/models", headers={"Cookie": cookie, "Authorization": ""})
            assert status == 200, status
            pages.append(ms)
            page_bytes = len(payload)
            status, _, ms, _ = client.request("GET", "/console/models?q=m09&provider=gemini&page=2", headers={"Cookie": cookie, "Authorization": ""})
            filtered.append(ms)
        v1, api = [], []
        v1_bytes = api_bytes = 0
        for _ in range(30):
            status, payload, ms, _ = client.request("GET", "/v1/models")
            v1.append(ms)
            v1_bytes = len(payload)
            status, payload, ms, _ = client.request("GET", "/api/models")
            api.append(ms)
            api_bytes = len(payload)
        result = {
            "models": MODELS, "database": "postgresql" if DATABASE_URL else "sqlite", "fill_seconds": round(fill_seconds, 1),
            "create_ms": median(creates), "update_ms": median(updates), "delete_ms": median(deletes),
            "console_models_ms": median(pages), "console_models_bytes": page_bytes, "console_models_filtered_ms": median(filtered),
            "v1_models_ms": median(v1), "v1_models_bytes": v1_bytes, "api_models_ms": median(api), "api_models_bytes": api_bytes,
        }
        print(json.dumps(result))
        for key, value in result.items():
            print(f"{key:28} {value}")
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


if __name__ == "__main__":
    main()
