-- POST a body read from the environment, with a unique Slug per request so every
-- request creates a new resource (wrk -s post.lua ...; BODY_FILE, CONTENT_TYPE, TOKEN).
-- Counts responses by HTTP status; done() prints "status <code> <count>" lines.
local counter = 0
local f = assert(io.open(os.getenv("BODY_FILE"), "rb"))
local body = f:read("*a")
f:close()
local ctype = os.getenv("CONTENT_TYPE")
local token = os.getenv("TOKEN")
local thread_id = 0
local threads = {}
statuses = {}

function setup(thread)
  thread_id = thread_id + 1
  thread:set("tid", thread_id)
  table.insert(threads, thread)
end

function request()
  counter = counter + 1
  local headers = { ["Content-Type"] = ctype, ["Slug"] = "b" .. tid .. "-" .. counter .. "-" .. math.random(1, 1e9) }
  if token and token ~= "" then headers["Authorization"] = "Bearer " .. token end
  return wrk.format("POST", nil, headers, body)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses")) do
      total[status] = (total[status] or 0) + n
    end
  end
  for status, n in pairs(total) do
    io.write(string.format("status %d %d\n", status, n))
  end
end
