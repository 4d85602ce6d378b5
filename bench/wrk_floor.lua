-- The floor: GET /bench/floor?id=<user id> (one indexed SELECT), bodies checked.
dofile("bench/wrk_common.lua")

function init(args)
  ok, bad, first_bad, n = 0, 0, "", 0
  rows = read_rows(args[1])
end

function request()
  n = n + 1
  local row = rows[(n * 7 + tid * 131) % #rows + 1]
  return wrk.format("GET", "/bench/floor?id=" .. row.uid)
end

function check(status, body)
  return status == 200 and body:find('{"balance": "', 1, true) == 1
end
