#!/usr/bin/env python3
"""Summarises run.sh's --rounds: per round and scenario, gateway/baseline requests per second and CPU per
request, then the median, lowest and highest ratio over the rounds (markdown on stdout).

One 10 s pair on this 2-vCPU machine moves by up to ±20 %; the median of several pairs taken back to back,
in alternating order, is the figure to compare.
Usage: rounds.py RUNS_DIR ROUNDS
"""
import json
import statistics
import sys
from pathlib import Path


def measured(runs: Path, name: str) -> tuple[float, float]:
    """Requests per second and the server's CPU microseconds per request of one wrk run."""
    run = json.loads((runs / f"{name}.json").read_text())
    cpu = json.loads((runs / f"{name}.cpu.json").read_text())
    requests = max(run["requests"], 1)
    return requests / run["duration_us"] * 1e6, cpu["proxy_ticks"] / cpu["clk_tck"] / requests * 1e6


def main(runs: Path, rounds: int) -> None:
    print("| round | scenario | gateway req/s | baseline req/s | gateway/baseline | gateway CPU µs/req | baseline CPU µs/req | CPU ratio |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|")
    ratios: dict[str, list[tuple[float, float]]] = {}
    for round_number in range(1, rounds + 1):
        for mode in ("json", "stream"):
            gateway = measured(runs, f"round{round_number}-gateway-{mode}-c32")
            baseline = measured(runs, f"round{round_number}-baseline-{mode}-c32")
            throughput, cpu = gateway[0] / baseline[0], gateway[1] / baseline[1]
            ratios.setdefault(mode, []).append((throughput, cpu))
            first = "gateway" if round_number % 2 == 1 else "baseline"
            print(f"| {round_number} ({first} first) | {mode} c=32 | {gateway[0]:.0f} | {baseline[0]:.0f} | {throughput:.2f} | "
                  f"{gateway[1]:.1f} | {baseline[1]:.1f} | {cpu:.2f} |")
    print()
    print("| scenario | gateway/baseline req/s: median (lowest–highest) | CPU per request ratio: median (lowest–highest) |")
    print("|---|---|---|")
    for mode, pairs in ratios.items():
        throughput = [pair[0] for pair in pairs]
        cpu = [pair[1] for pair in pairs]
        print(f"| {mode} c=32, {len(pairs)} rounds | {statistics.median(throughput):.3f} ({min(throughput):.2f}–{max(throughput):.2f}) | "
              f"{statistics.median(cpu):.3f} ({min(cpu):.2f}–{max(cpu):.2f}) |")


if __name__ == "__main__":
    main(Path(sys.argv[1]), int(sys.argv[2]))
