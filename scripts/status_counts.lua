-- wrk script: sends WRK_METHOD with the JSON body WRK_BODY (both optional) and counts the
-- answers by status. Each wrk thread has its own Lua state, so done() collects every thread's
-- table through thread:get.
wrk.method = os.getenv("WRK_METHOD") or "GET"
if os.getenv("WRK_BODY") then
  wrk.body = os.getenv("WRK_BODY")
  wrk.headers["Content-Type"] = "application/json"
end

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init()
  statuses = {}
end

function response(status)
  statuses[status] = (statuses[status] or 0) + 1
end

function done()
  local total = {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      total[status] = (total[status] or 0) + count
    end
  end
  for status, count in pairs(total) do
    io.write(string.format("status %d: %d\n", status, count))
  end
end
