-- Sends the requests of a file in turn, one a line: "METHOD PATH" or "METHOD PATH BODY"
-- (a form-encoded body). Headers given with -H (Authorization) go on every request.
-- wrk ... -s rotate.lua URL -- requests.txt

local requests, i = {}, 0

function init(args)
  local with_body = {}
  for name, value in pairs(wrk.headers) do with_body[name] = value end
  with_body["Content-Type"] = "application/x-www-form-urlencoded"
  for line in io.lines(args[1]) do
    local method, path, body = line:match("^(%S+) (%S+) ?(%S*)$")
    if body == "" then
      requests[#requests + 1] = wrk.format(method, path)
    else
      requests[#requests + 1] = wrk.format(method, path, with_body, body)
    end
  end
  if #requests == 0 then error("no requests in " .. args[1]) end
end

function request()
  i = i % #requests + 1
  return requests[i]
end
