-- Counts responses that are not 200 (wrk counts 3xx as success; a redirect to the sign-in
-- page would hide a lost session). Printed as "NON200 <n>" when the run ends.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  bad = 0
end

function response(status, headers, body)
  if status ~= 200 then
    bad = bad + 1
  end
end

function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do
    total = total + thread:get("bad")
  end
  io.write(string.format("NON200 %d\n", total))
end
