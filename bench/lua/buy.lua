-- Buys distinct numbers, one a request, with an Idempotency-Key as the SDK sends one;
-- with "release", releases each number bought before buying the next (a buy+release pair).
-- wrk ... -s buy.lua URL -- NUMBERS ACCOUNTS NONCE OFFSET MODE
--   NUMBERS   a file of numbers for sale, one a line, used in order from OFFSET (0-based)
--   ACCOUNTS  a file of "SID AUTHORIZATION" lines; purchases take the accounts in turn
--   NONCE     makes this run's Idempotency-Keys differ from every other run's ("off": no key)
--   MODE      "release" (pairs: releases go through the first account), "keep" (buys stay
--             bought), or "record" (keep, and print "bought SID NUMBER" for every 2xx buy)
-- done() prints "buy.lua: sent N bought N released N other N" (sent counts purchases).

local threads = {}
local numbers, accounts, pending = {}, {}, {}
local nonce, offset, mode
sent, bought, released, other = 0, 0, 0, 0

function setup(thread)
  threads[#threads + 1] = thread
  thread:set("id", #threads)
end

function init(args)
  for line in io.lines(args[1]) do numbers[#numbers + 1] = line end
  for line in io.lines(args[2]) do
    local sid, auth = line:match("^(%S+) (.+)$")
    accounts[#accounts + 1] = {
      path = "/v2_beta/Accounts/" .. sid .. "/IncomingPhoneNumbers",
      auth = auth,
    }
  end
  nonce, offset, mode = args[3], tonumber(args[4]), args[5]
end

function request()
  if mode == "release" and #pending > 0 then
    local sid = table.remove(pending)
    return wrk.format("DELETE", accounts[1].path .. "/" .. sid, {Authorization = accounts[1].auth})
  end
  sent = sent + 1
  local number = numbers[(offset + sent - 1) % #numbers + 1]
  local account = accounts[(sent - 1) % #accounts + 1]
  local headers = {
    Authorization = account.auth,
    ["Content-Type"] = "application/x-www-form-urlencoded",
  }
  if nonce ~= "off" then
    -- No uuid in wrk's Lua: the run's nonce, the thread and a counter make a unique key.
    headers["Idempotency-Key"] = string.format("%s-%d-%d", nonce, id, sent)
  end
  return wrk.format("POST", account.path, headers, "PhoneNumber=" .. number:gsub("%+", "%%2B"))
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    other = other + 1
    return
  end
  local sid = body:match('"sid":%s*"([^"]+)"')
  if not sid then
    released = released + 1
    return
  end
  bought = bought + 1
  if mode == "release" then
    pending[#pending + 1] = sid
  elseif mode == "record" then
    local account = body:match('"account_sid":%s*"([^"]+)"')
    local number = body:match('"phone_number":%s*"([^"]+)"')
    io.write("bought ", tostring(account), " ", tostring(number), "\n")
  end
end

function done(summary, latency, requests)
  local n = {sent = 0, bought = 0, released = 0, other = 0}
  for _, thread in ipairs(threads) do
    for name, _ in pairs(n) do n[name] = n[name] + thread:get(name) end
  end
  io.write(string.format("buy.lua: sent %d bought %d released %d other %d\n",
    n.sent, n.bought, n.released, n.other))
end
