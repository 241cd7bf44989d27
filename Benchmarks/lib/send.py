"""Sends exactly N POST requests over C keep-alive connections and exits (for profiling runs,
where wrk would wait out its whole duration). Prints the count of each status."""
import argparse, collections, http.client, threading, urllib.parse

parser = argparse.ArgumentParser()
parser.add_argument("--url", required=True)
parser.add_argument("--body", required=True)
parser.add_argument("--token", required=True)
parser.add_argument("--n", type=int, default=1000)
parser.add_argument("--c", type=int, default=4)
args = parser.parse_args()
url = urllib.parse.urlsplit(args.url)
body = open(args.body, "rb").read()
headers = {"Authorization": f"Bearer {args.token}", "Content-Type": "application/json"}
statuses = collections.Counter()
lock = threading.Lock()
remaining = [args.n]

def worker():
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=120)
    while True:
        with lock:
            if remaining[0] == 0:
                break
            remaining[0] -= 1
        connection.request("POST", url.path, body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        with lock:
            statuses[response.status] += 1

threads = [threading.Thread(target=worker) for _ in range(args.c)]
for thread in threads: thread.start()
for thread in threads: thread.join()
print(" ".join(f"{status}:{count}" for status, count in sorted(statuses.items())))
