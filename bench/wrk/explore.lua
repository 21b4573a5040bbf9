-- GET one of several paths (the lines of the file PATHS_FILE, else PATHS separated by '|')
-- picked at random per request, with
-- Accept from ACCEPT; prints p95/p99. Random, so that wrk's threads do not walk the same
-- sequence (a path one thread asked is not a cache hit for the other by construction).
local paths = {}
local file = os.getenv("PATHS_FILE")
if file then
  for line in io.lines(file) do table.insert(paths, line) end
else
  for p in string.gmatch(os.getenv("PATHS") or "/", "[^|]+") do table.insert(paths, p) end
end
wrk.headers["Accept"] = os.getenv("ACCEPT") or "text/html"
init = function(args)
  math.randomseed(os.time() + math.floor(os.clock() * 1000000) + tonumber(tostring({}):match("0x(%x+)") or "0", 16) % 100000)
end
request = function()
  return wrk.format("GET", paths[math.random(#paths)])
end
done = function(summary, latency, requests)
  io.write(string.format("p95 %.3fms\np99 %.3fms\n", latency:percentile(95) / 1000,
                         latency:percentile(99) / 1000))
end
