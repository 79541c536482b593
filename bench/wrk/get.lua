-- GET with the bearer token from the environment.
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
