-- wrk script: POST end-user messages to Relevo's channel API, as a channel integration would, each
-- with a new message id, spread over the benchmark's conversations (users u0, u1, …).
-- Args (after --): PROJECT KEY CONVERSATIONS INSTANCES INSTANCE PREFIX
--   this wrk serves instance INSTANCE (0-based) of INSTANCES: conversation c lives on instance c mod INSTANCES.
-- done() prints one line: WRK {"requests": N, "non2xx": N, "socketErrors": N, "seconds": S}.
local threads = {}
local thread_count = 0

function setup(thread)
  thread:set("tid", thread_count)
  thread_count = thread_count + 1
  table.insert(threads, thread)
end

function init(args)
  project, key = args[1], args[2]
  conversations, instances, instance = tonumber(args[3]), tonumber(args[4]), tonumber(args[5])
  prefix = args[6] .. "-" .. tid .. "-"
  path = "/v1/projects/" .. project .. "/channel/messages"
  headers = { ["Content-Type"] = "application/json", ["x-api-key"] = key }
  mine = math.floor((conversations - instance + instances - 1) / instances)  -- conversations on this instance
  counter = 0
  non2xx = 0
end

function request()
  counter = counter + 1
  local conversation = instance + instances * ((counter * 7919 + tid) % mine)
  local id = prefix .. counter
  local body = '{"botId":"bench-bot","userId":"u' .. conversation .. '","value":{"id":"' .. id ..
      '","type":"text","content":{"body":"benchmark message ' .. id .. '"}}}'
  return wrk.format("POST", path, headers, body)
end

function response(status, headers, body)
  if status ~= 200 then non2xx = non2xx + 1 end
end

function done(summary, latency, requests)
  local bad = 0
  for _, thread in ipairs(threads) do bad = bad + thread:get("non2xx") end
  local errors = summary.errors
  io.write(string.format('WRK {"requests": %d, "non2xx": %d, "socketErrors": %d, "seconds": %.3f}\n',
    summary.requests, bad, errors.connect + errors.read + errors.write + errors.timeout, summary.duration / 1e6))
end
