-- `add` through /api/v2 with 1,000 keys in turn, every link new; a body is good only when it
-- is {"order":<id>}.
dofile("bench/wrk_common.lua")

function init(args)
  ok, bad, first_bad, n = 0, 0, "", 0
  rows = read_rows(args[1])
  service, run = args[2], args[3]
end

function request()
  n = n + 1
  local row = rows[(n * 7 + tid * 131) % #rows + 1]
  local body = "action=add&service=" .. service .. "&quantity=100&key=" .. row.key
    .. "&link=https%3A%2F%2Finstagram.com%2Fp%2F" .. run .. "-" .. tid .. "-" .. n
  return wrk.format("POST", "/api/v2",
    { ["Content-Type"] = "application/x-www-form-urlencoded" }, body)
end

function check(status, body)
  return status == 200 and body:match('^{"order":%d+}$') ~= nil
end
