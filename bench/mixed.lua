-- wrk script: many users, each request for one picked at random. Mostly lists, some reads,
-- toggles and creates. The users (id, token, task ids) come from the file named by
-- BENCH_USERS, one per line: "<user_id> <token> <id>,<id>,...".
local users = {}

function init(args)
  for line in io.lines(os.getenv("BENCH_USERS")) do
    local id, token, tasks = line:match("^(%S+) (%S+) (%S+)$")
    local ids = {}
    for task in tasks:gmatch("%d+") do
      ids[#ids + 1] = task
    end
    users[#users + 1] = {base = "/api/" .. id .. "/tasks", auth = "Bearer " .. token, tasks = ids}
  end
  math.randomseed(os.time() + (tonumber(tostring({}):match("0x(%x+)"), 16) or 0))
end

function request()
  local user = users[math.random(#users)]
  local headers = {Authorization = user.auth}
  local pick = math.random(100)
  if pick <= 70 then
    return wrk.format("GET", user.base, headers)
  end
  local task = user.base .. "/" .. user.tasks[math.random(#user.tasks)]
  if pick <= 85 then
    return wrk.format("GET", task, headers)
  elseif pick <= 95 then
    return wrk.format("PATCH", task .. "/complete", headers)
  end
  headers["Content-Type"] = "application/json"
  return wrk.format("POST", user.base, headers, '{"title": "mixed", "description": "created by wrk"}')
end
