#!/usr/bin/env python3
"""Time to first SSE chunk, one request at a time over one keep-alive connection.

Usage: ttfc.py --url URL --body FILE [--token T] [--n 200] [--warmup 20] [--out FILE]
Prints/writes JSON: samples, errors, ttfc and full-stream latency (µs) p50/p90/p99/mean.
Each sample: send the request, read the status line and headers, then lines until the first
line starting with b"data:"; that instant is the first chunk. The rest of the body is read
before the next request (so the connection is reused and the server finishes the stream).
"""
import argparse, http.client, json, time, urllib.parse


def pct(values, p):
    s = sorted(values)
    if not s:
        return None
    k = max(0, min(len(s) - 1, int(round(p / 100.0 * len(s) + 0.5)) - 1))
    return s[k]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--body", required=True)
    ap.add_argument("--token", default="")
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--out")
    a = ap.parse_args()
    u = urllib.parse.urlsplit(a.url)
    body = open(a.body, "rb").read()
    headers = {"Content-Type": "application/json", "Accept": "text/event-stream"}
    if a.token:
        headers["Authorization"] = "Bearer " + a.token
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    ttfc, total, errors, sent = [], [], 0, 0
    for i in range(a.warmup + a.n):
        t0 = time.perf_counter_ns()
        try:
            sent += 1
            conn.request("POST", u.path, body=body, headers=headers)
            r = conn.getresponse()
            first = None
            while True:
                line = r.readline()
                if not line:
                    break
                if line.startswith(b"data:"):
                    first = time.perf_counter_ns()
                    break
            r.read()
            t2 = time.perf_counter_ns()
            if r.status != 200 or first is None:
                errors += 1
                continue
        except Exception:
            errors += 1
            conn.close()
            conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
            continue
        if i >= a.warmup:
            ttfc.append((first - t0) / 1000.0)
            total.append((t2 - t0) / 1000.0)
    conn.close()

    def summary(v):
        return {"mean": sum(v) / len(v) if v else None, "p50": pct(v, 50), "p90": pct(v, 90), "p99": pct(v, 99), "max": max(v) if v else None}

    out = {"samples": len(ttfc), "sent": sent, "errors": errors, "ttfc_us": summary(ttfc), "full_us": summary(total)}
    text = json.dumps(out)
    if a.out:
        open(a.out, "w").write(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
