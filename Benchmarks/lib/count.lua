-- wrk script for profiling: like chat.lua, but each thread stops after BENCH_COUNT responses.
local body_file = os.getenv("BENCH_BODY")
local token = os.getenv("BENCH_TOKEN")
local limit = tonumber(os.getenv("BENCH_COUNT") or "1000")
local f = assert(io.open(body_file, "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
if token and token ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. token
end
local seen = 0
response = function(status, headers, body)
  seen = seen + 1
  if seen >= limit then wrk.thread:stop() end
end
