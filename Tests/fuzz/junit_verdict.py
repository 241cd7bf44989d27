#!/usr/bin/env python3
"""Reads schemathesis's JUnit report and says which outcomes are the service's and which are the fuzzer's own.

A check failure (a 5xx) or an error outside the fuzzer is the service's: exit 1, naming it. An error whose
traceback lies inside Hypothesis's engine (seen once: an IndexError in its target optimiser) says nothing about
the service: its operation is printed as `METHOD PATH` so the caller can fuzz that operation again.
Usage: junit_verdict.py REPORT.xml
"""
import sys
import xml.etree.ElementTree as ElementTree

ENGINE_FAULT = "hypothesis/internal/"

def main(path: str) -> int:
    service_faults = []
    rerun = []
    for case in ElementTree.parse(path).getroot().iter("testcase"):
        name = case.get("name", "")
        if case.findall("failure"):
            service_faults.append(f"{name}: a check failed")
        errors = case.findall("error")
        if not errors:
            continue
        if all(ENGINE_FAULT in (error.text or "") for error in errors):
            rerun.append(name)
        else:
            service_faults.append(f"{name}: {(errors[0].text or '').strip().splitlines()[:1]}")
    for fault in service_faults:
        print(f"fuzz: {fault}", file=sys.stderr)
    for name in rerun:
        print(name)
    return 1 if service_faults else 0

if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
