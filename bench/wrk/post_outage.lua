-- POST /outages with a small, valid body; the token comes from the environment.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
wrk.body = '{"site_name": "Bench Tower", "severity": "high", "services_affected": ["4G"], ' ..
           '"description": "Benchmark outage: intermittent packet loss"}'
