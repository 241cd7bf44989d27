"""Prints the tests a swift-testing log shows as started and never finished (passed, failed or skipped).

Used by .ci/run when its watchdog stops a hung `swift test`: the names say where to look.
"""
import re
import sys

started = re.compile(r"^◇ Test (?!case |run )(.+?) started\.$")
ended = re.compile(r"^[✔✘➜] Test (?!case |run )(.+?)(?: with \d+ test cases?)? (?:passed|failed|skipped)")

running = {}
with open(sys.argv[1], encoding="utf-8", errors="replace") as log:
    for line in log:
        line = line.rstrip("\n")
        if match := started.match(line):
            running[match.group(1)] = True
        elif match := ended.match(line):
            running.pop(match.group(1), None)
for name in running:
    print(f"  {name}")
if not running:
    print("  (none: the run hung after its last test, or before the first)")
