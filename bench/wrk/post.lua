-- POST a body read from the environment, with a unique Slug per request so every
-- request creates a new resource (wrk -s post.lua ...; BODY_FILE, CONTENT_TYPE, TOKEN).
local counter = 0
local f = assert(io.open(os.getenv("BODY_FILE"), "rb"))
local body = f:read("*a")
f:close()
local ctype = os.getenv("CONTENT_TYPE")
local token = os.getenv("TOKEN")
local thread_id = 0

function setup(thread)
  thread_id = thread_id + 1
  thread:set("tid", thread_id)
end

function request()
  counter = counter + 1
  local headers = { ["Content-Type"] = ctype, ["Slug"] = "b" .. tid .. "-" .. counter .. "-" .. math.random(1, 1e9) }
  if token and token ~= "" then headers["Authorization"] = "Bearer " .. token end
  return wrk.format("POST", nil, headers, body)
end
