-- POST /faults, each request a fault on a resource of its own (no deduplication), under a
-- site with an open outage half of the time (correlation joins it) and a quiet one otherwise.
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
wrk.headers["Content-Type"] = "application/json"
local counter = 0
local thread_id = math.random(1, 1000000000)

request = function()
  counter = counter + 1
  local site = (counter % 2 == 0) and "site_busy" or ("site_quiet_" .. (counter % 50))
  local body = string.format(
    '{"resource_id":"dev_%d_%d","microservice_id":"bench","type":"wan-degradation",' ..
    '"severity":"MEDIUM","message":"latency high","cause":"probe over 250ms",' ..
    '"resource_ancestry_path":"region_1|%s|dev_%d_%d"}',
    thread_id, counter, site, thread_id, counter)
  return wrk.format(nil, nil, nil, body)
end
