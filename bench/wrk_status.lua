-- `status` of 100 of the caller's orders through /api/v2, keys in turn; a body is good only
-- when it holds 100 statuses and no error.
dofile("bench/wrk_common.lua")

function init(args)
  ok, bad, first_bad, n = 0, 0, "", 0
  rows = {}
  for _, row in ipairs(read_rows(args[1])) do
    if row.ids ~= "-" then
      table.insert(rows, "action=status&key=" .. row.key .. "&orders=" .. row.ids)
    end
  end
end

function request()
  n = n + 1
  return wrk.format("POST", "/api/v2",
    { ["Content-Type"] = "application/x-www-form-urlencoded" },
    rows[(n * 7 + tid * 131) % #rows + 1])
end

function check(status, body)
  if status ~= 200 or body:sub(1, 1) ~= "{" or body:find('"error"', 1, true) then
    return false
  end
  local _, statuses = body:gsub('"status":"', "")
  return statuses == 100
end
