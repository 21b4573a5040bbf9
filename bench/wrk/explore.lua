-- GET one of several paths (PATHS, separated by '|'), Accept from ACCEPT; prints p95/p99.
local paths = {}
for p in string.gmatch(os.getenv("PATHS") or "/", "[^|]+") do table.insert(paths, p) end
local i = 0
wrk.headers["Accept"] = os.getenv("ACCEPT") or "text/html"
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i % #paths) + 1])
end
done = function(summary, latency, requests)
  io.write(string.format("p95 %.3fms\np99 %.3fms\n", latency:percentile(95) / 1000,
                         latency:percentile(99) / 1000))
end
