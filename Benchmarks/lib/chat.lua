-- wrk script: POST a chat completion body; print a JSON summary line for run.sh.
-- Env: BENCH_BODY (file with the JSON body), BENCH_TOKEN (bearer token, optional), BENCH_OUT (summary file).
local body_file = os.getenv("BENCH_BODY")
local token = os.getenv("BENCH_TOKEN")
local f = assert(io.open(body_file, "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
if token and token ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. token
end

done = function(summary, latency, requests)
  local e = summary.errors
  local line = string.format(
    '{"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"min":%d,"mean":%.2f,"stdev":%.2f,"max":%d,"p50":%d,"p90":%d,"p99":%d,"p999":%d}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.min, latency.mean, latency.stdev, latency.max,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9))
  local out = os.getenv("BENCH_OUT")
  if out and out ~= "" then
    local o = assert(io.open(out, "w"))
    o:write(line)
    o:close()
  else
    io.write(line)
  end
end
