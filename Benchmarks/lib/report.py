#!/usr/bin/env python3
"""Assembles one benchmark run (the temp dir run.sh filled) into latest.json and latest.md.

Usage: report.py TMPDIR RESULTSDIR
"""
import glob
import datetime, json, os, sys

tmp, results = sys.argv[1], sys.argv[2]
runs = os.path.join(tmp, "runs")


def load(path, default=None):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return default


meta = {}
for line in open(os.path.join(tmp, "meta.env")):
    key, _, value = line.rstrip("\n").partition("=")
    meta[key] = value

TARGETS = ["direct", "nginx", "floor", "gateway", "baseline", "litellm"]  # floor, baseline and litellm only when the harness ran them
scenarios = []
gateway_completed = 0
gateway_connections = 0
for mode in ["json", "stream"]:
    for c in [1, 32]:
        for target in TARGETS:
            name = f"{target}-{mode}-c{c}"
            run = load(os.path.join(runs, name + ".json"))
            warm = load(os.path.join(runs, name + ".warmup.json"), {"requests": 0})
            cpu = load(os.path.join(runs, name + ".cpu.json"), {})
            if run is None:
                continue
            lat = run["latency_us"]
            seconds = run["duration_us"] / 1e6
            errors = run["errors"]
            tck = cpu.get("clk_tck", 100)
            entry = {
                "target": target,
                "mode": mode,
                "concurrency": c,
                "requests": run["requests"],
                "seconds": round(seconds, 3),
                "rps": round(run["requests"] / seconds, 1),
                "p50_ms": lat["p50"] / 1000,
                "p90_ms": lat["p90"] / 1000,
                "p99_ms": lat["p99"] / 1000,
                "p999_ms": lat["p999"] / 1000,
                "mean_ms": round(lat["mean"] / 1000, 4),
                "max_ms": lat["max"] / 1000,
                "errors": errors["connect"] + errors["read"] + errors["write"] + errors["timeout"] + errors["status"],
                "errorDetail": errors,
                "bytes": run["bytes"],
            }
            if run["requests"] and cpu:
                # CPU time (user+sys, 10 ms ticks) of the proxy (nginx master+workers, or model-service) and
                # of the fake upstream during the measured run, per completed request.
                if target != "direct":
                    entry["proxyCpuMicrosecondsPerRequest"] = round(cpu["proxy_ticks"] / tck / run["requests"] * 1e6, 1)
                entry["upstreamCpuMicrosecondsPerRequest"] = round(cpu["upstream_ticks"] / tck / run["requests"] * 1e6, 1)
            scenarios.append(entry)
            if target == "gateway":
                gateway_completed += run["requests"] + warm.get("requests", 0)
                gateway_connections += 2 * c  # warm-up and measured run may each leave c requests in flight


# run.sh --rounds: the extra c=32 runs went through the gateway too, and wrote their records.
for path in glob.glob(os.path.join(runs, "round*-gateway-*-c32.json")):
    run = load(path)
    warm = load(path[: -len(".json")] + ".warmup.json", {"requests": 0})
    gateway_completed += run["requests"] + warm.get("requests", 0)
    gateway_connections += 2 * 32


def find(target, mode, c):
    for s in scenarios:
        if (s["target"], s["mode"], s["concurrency"]) == (target, mode, c):
            return s
    return None


comparisons = []
for mode in ["json", "stream"]:
    for c in [1, 32]:
        d, n, g = find("direct", mode, c), find("nginx", mode, c), find("gateway", mode, c)
        if not (d and n and g):
            continue
        comparisons.append({
            "mode": mode,
            "concurrency": c,
            "gatewayAddedP50Ms": round(g["p50_ms"] - d["p50_ms"], 3),
            "gatewayAddedP99Ms": round(g["p99_ms"] - d["p99_ms"], 3),
            "nginxAddedP50Ms": round(n["p50_ms"] - d["p50_ms"], 3),
            "nginxAddedP99Ms": round(n["p99_ms"] - d["p99_ms"], 3),
            "gatewayRpsOverNginx": round(g["rps"] / n["rps"], 3) if n["rps"] else None,
            "gatewayRpsOverDirect": round(g["rps"] / d["rps"], 3) if d["rps"] else None,
            "nginxRpsOverDirect": round(n["rps"] / d["rps"], 3) if d["rps"] else None,
        })
        floor = find("floor", mode, c)
        if floor:
            comparisons[-1].update({
                "floorAddedP50Ms": round(floor["p50_ms"] - d["p50_ms"], 3),
                "floorRpsOverNginx": round(floor["rps"] / n["rps"], 3) if n["rps"] else None,
                "gatewayRpsOverFloor": round(g["rps"] / floor["rps"], 3) if floor["rps"] else None,
            })
        base = find("baseline", mode, c)
        if base:
            comparisons[-1].update({
                "baselineAddedP50Ms": round(base["p50_ms"] - d["p50_ms"], 3),
                "baselineRpsOverNginx": round(base["rps"] / n["rps"], 3) if n["rps"] else None,
                "gatewayRpsOverBaseline": round(g["rps"] / base["rps"], 3) if base["rps"] else None,
                "baselineCpuMicrosecondsPerRequest": base.get("proxyCpuMicrosecondsPerRequest"),
                "gatewayCpuMicrosecondsPerRequest": g.get("proxyCpuMicrosecondsPerRequest"),
            })
        lite = find("litellm", mode, c)
        if lite:
            comparisons[-1].update({
                "litellmAddedP50Ms": round(lite["p50_ms"] - d["p50_ms"], 3),
                "litellmAddedP99Ms": round(lite["p99_ms"] - d["p99_ms"], 3),
                "gatewayRpsOverLitellm": round(g["rps"] / lite["rps"], 1) if lite["rps"] else None,
            })

ttfc = {}
for target in TARGETS:
    t = load(os.path.join(runs, f"ttfc-{target}.json"))
    if t:
        ttfc[target] = t
        if target == "gateway":
            gateway_completed += t["sent"]
ttfc_added = None
if "direct" in ttfc and "gateway" in ttfc:
    ttfc_added = {
        "p50Ms": round((ttfc["gateway"]["ttfc_us"]["p50"] - ttfc["direct"]["ttfc_us"]["p50"]) / 1000, 3),
        "p99Ms": round((ttfc["gateway"]["ttfc_us"]["p99"] - ttfc["direct"]["ttfc_us"]["p99"]) / 1000, 3),
    }

usage = load(os.path.join(tmp, "usage.json"), {})
usage_api = load(os.path.join(tmp, "usage-api.json"), {})
extra = int(meta.get("gateway_sent_extra", 0))
completed = gateway_completed + extra
records = usage.get("records", -1)
usage_check = {
    "gatewayRequestsCompleted": completed,
    "usageRecords": records,
    "usageRecordsByStatus": {k: v for k, v in usage.items() if k != "records"},
    "apiTotalsRequests": (usage_api.get("totals") or {}).get("requests"),
    "difference": records - completed,
    "allowedInFlightAtRunEnds": gateway_connections,
    # wrk stops with requests in flight; the gateway still records them (200 if finished, 499 if the
    # client had gone). So records may exceed completed by at most the connections of each run.
    "ok": 0 <= records - completed <= gateway_connections,
}

kb = lambda key: int(meta.get(key, "0") or 0)
memory = {
    "idleRssMiB": round(kb("rss_idle_kb") / 1024, 1),
    "peakRssDuringLoadMiB": round(kb("rss_peak_load_kb") / 1024, 1),
    "vmHWMMiB": round(kb("rss_hwm_kb") / 1024, 1),
    "endRssMiB": round(kb("rss_end_kb") / 1024, 1),
    "note": "peakRssDuringLoad: VmRSS sampled every 100 ms from after start-up to the end; VmHWM includes start-up (scrypt, 32 MiB transient)",
}

hotpath = load(os.path.join(tmp, "hotpath.json"))


def hot(prefix):
    if not hotpath:
        return None
    for r in hotpath["results"]:
        if r["operation"].startswith(prefix):
            return r
    return None


targets = []


def target(name, measured, limit, unit, ok):
    targets.append({"target": name, "measured": measured, "limit": limit, "unit": unit,
                    "met": None if measured is None else bool(ok), "gap": None if measured is None or ok else round(measured - limit, 3)})


for comp in comparisons:
    if comp["concurrency"] == 1:
        target(f"added latency p50, c=1, {comp['mode']}", comp["gatewayAddedP50Ms"], 0.2, "ms", comp["gatewayAddedP50Ms"] <= 0.2)
        target(f"added latency p99, c=1, {comp['mode']}", comp["gatewayAddedP99Ms"], 1.0, "ms", comp["gatewayAddedP99Ms"] <= 1.0)
for comp in comparisons:
    if comp["concurrency"] == 32 and comp["gatewayRpsOverNginx"] is not None:
        target(f"throughput vs nginx, c=32, {comp['mode']}", comp["gatewayRpsOverNginx"], 0.5, "ratio", comp["gatewayRpsOverNginx"] >= 0.5)
peak_mb = kb("rss_peak_load_kb") * 1024 / 1e6
target("peak RSS under load", round(peak_mb, 1), 100, "MB", peak_mb <= 100)
dec = hot("KeyCipher.decrypt")
target("key decrypt (mean)", dec and round(dec["meanMicroseconds"], 3), 20, "µs", dec and dec["meanMicroseconds"] <= 20)
res = hot("model(named:) from cache")
target("model resolution from cache (mean)", res and round(res["meanMicroseconds"], 3), 1, "µs", res and res["meanMicroseconds"] <= 1)
if ttfc_added:
    target("streaming: added time to first chunk, p50", ttfc_added["p50Ms"], 1.0, "ms", ttfc_added["p50Ms"] <= 1.0)
    target("streaming: added time to first chunk, p99", ttfc_added["p99Ms"], 1.0, "ms", ttfc_added["p99Ms"] <= 1.0)
target("usage records lost", 0 if usage_check["ok"] else abs(usage_check["difference"]), 0, "records", usage_check["ok"])

report = {
    "generatedAt": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    "machine": {"cpus": meta.get("nproc"), "cpuModel": meta.get("cpu_model"), "loadAverageStart": meta.get("load_start"),
                "loadAverageEnd": meta.get("load_end"), "pinned": meta.get("pinned") == "1"},
    "build": {"commit": meta.get("commit"), "uncommittedSourceFiles": int(meta.get("dirty", 0) or 0), "configuration": "release"},
    "method": {"loadGenerator": meta.get("wrk_version") + ", 1 thread, keep-alive", "secondsPerRun": int(meta["duration"]),
               "warmupSecondsPerRun": int(meta["warmup"]), "nginx": meta.get("nginx_version") + ", 2 workers, proxy_pass, upstream keepalive 64, proxy_buffering off",
               "upstream": "model-service fake-providers (release), model fake-echo", "sseEventsPerStream": int(meta.get("sse_events_per_stream", 0) or 0),
               "jsonResponseBytes": int(meta.get("response_bytes_json", 0) or 0),
               "gatewayPath": meta.get("path", "production"), "baseline": meta.get("baseline_bin", "not run"),
               "litellm": (f"litellm {meta['litellm_version']} proxy, default settings, same upstream" if meta.get("litellm_version") else "not run")},
    "scenarios": scenarios,
    "comparisons": comparisons,
    "timeToFirstChunk": {"perTarget": ttfc, "gatewayAdded": ttfc_added},
    "memory": memory,
    "usageCheck": usage_check,
    "targets": targets,
    "hotPath": hotpath,
}
os.makedirs(results, exist_ok=True)
with open(os.path.join(results, "latest.json"), "w") as f:
    json.dump(report, f, indent=2)
    f.write("\n")

# ---- text
lines = []
lines.append(f"Run {report['generatedAt']} · commit {meta.get('commit')} · {meta.get('nproc')} CPUs · load avg {meta.get('load_start')} → {meta.get('load_end')}"
             + (" · pinned" if report["machine"]["pinned"] else ""))
lines.append("")
lines.append("| mode | c | target | req/s | p50 ms | p99 ms | errors | proxy CPU µs/req |")
lines.append("|---|---:|---|---:|---:|---:|---:|---:|")
for s in scenarios:
    lines.append(f"| {s['mode']} | {s['concurrency']} | {s['target']} | {s['rps']:.0f} | {s['p50_ms']:.3f} | {s['p99_ms']:.3f} | {s['errors']} | {s.get('proxyCpuMicrosecondsPerRequest', '–')} |")
lines.append("")
lines.append("| mode | c | gateway added p50 ms | added p99 ms | nginx added p50 ms | litellm added p50 ms | gateway/nginx req/s | gateway/direct req/s | gateway/litellm req/s |")
lines.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
for comp in comparisons:
    lite_p50 = f"{comp['litellmAddedP50Ms']:.3f}" if "litellmAddedP50Ms" in comp else "–"
    lite_ratio = f"{comp['gatewayRpsOverLitellm']}×" if comp.get("gatewayRpsOverLitellm") else "–"
    lines.append(f"| {comp['mode']} | {comp['concurrency']} | {comp['gatewayAddedP50Ms']:.3f} | {comp['gatewayAddedP99Ms']:.3f} | {comp['nginxAddedP50Ms']:.3f} | {lite_p50} | {comp['gatewayRpsOverNginx']:.2f} | {comp['gatewayRpsOverDirect']:.2f} | {lite_ratio} |")
if any("floorAddedP50Ms" in comp for comp in comparisons):
    lines.append("")
    lines.append("| mode | c | floor added p50 ms | floor/nginx req/s | gateway/floor req/s |")
    lines.append("|---|---:|---:|---:|---:|")
    for comp in comparisons:
        if "floorAddedP50Ms" in comp:
            lines.append(f"| {comp['mode']} | {comp['concurrency']} | {comp['floorAddedP50Ms']:.3f} | {comp['floorRpsOverNginx']:.2f} | {comp['gatewayRpsOverFloor']:.2f} |")
if any("baselineAddedP50Ms" in comp for comp in comparisons):
    lines.append("")
    lines.append(f"Baseline: {meta.get('baseline_bin')} on the light path; gateway on the {meta.get('path', 'production')} path")
    lines.append("")
    lines.append("| mode | c | gateway added p50 ms | baseline added p50 ms | gateway/nginx | baseline/nginx | gateway/baseline req/s | gateway CPU µs/req | baseline CPU µs/req |")
    lines.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for comp in comparisons:
        if "baselineAddedP50Ms" in comp:
            lines.append(f"| {comp['mode']} | {comp['concurrency']} | {comp['gatewayAddedP50Ms']:.3f} | {comp['baselineAddedP50Ms']:.3f} | {comp['gatewayRpsOverNginx']:.2f} | "
                         f"{comp['baselineRpsOverNginx']:.2f} | {comp['gatewayRpsOverBaseline']:.2f} | {comp.get('gatewayCpuMicrosecondsPerRequest', '–')} | "
                         f"{comp.get('baselineCpuMicrosecondsPerRequest', '–')} |")
if ttfc:
    lines.append("")
    lines.append("| time to first chunk (c=1) | samples | p50 ms | p99 ms | full stream p50 ms |")
    lines.append("|---|---:|---:|---:|---:|")
    for t, v in ttfc.items():
        lines.append(f"| {t} | {v['samples']} | {v['ttfc_us']['p50']/1000:.3f} | {v['ttfc_us']['p99']/1000:.3f} | {v['full_us']['p50']/1000:.3f} |")
lines.append("")
lines.append(f"Memory: idle {memory['idleRssMiB']} MiB, peak during load {memory['peakRssDuringLoadMiB']} MiB, VmHWM {memory['vmHWMMiB']} MiB")
lines.append(f"Usage records: {records} in usage_records for {completed} gateway requests completed by the clients "
             f"(difference {records - completed}, allowed 0…{gateway_connections} in flight at run ends; by status {usage_check['usageRecordsByStatus']}) → {'OK' if usage_check['ok'] else 'MISMATCH'}")
lines.append("")
lines.append("| target | measured | limit | met |")
lines.append("|---|---:|---:|---|")
for t in targets:
    met = "–" if t["met"] is None else ("met" if t["met"] else f"not met (gap {t['gap']} {t['unit']})")
    lines.append(f"| {t['target']} | {t['measured']} {t['unit']} | {t['limit']} {t['unit']} | {met} |")
if hotpath:
    lines.append("")
    lines.append("| hot path | operation | mean µs | p50 µs | p99 µs |")
    lines.append("|---|---|---:|---:|---:|")
    for r in hotpath["results"]:
        lines.append(f"| {r['group']} | {r['operation']} | {r['meanMicroseconds']:.3f} | {r['p50Microseconds']:.3f} | {r['p99Microseconds']:.3f} |")
text = "\n".join(lines) + "\n"
with open(os.path.join(results, "latest.md"), "w") as f:
    f.write(text)
print(text)
print(f"wrote {os.path.join(results, 'latest.json')} and latest.md")
