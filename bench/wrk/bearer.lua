-- GET with an Accept header and a bearer token from the environment (ACCEPT, TOKEN).
wrk.headers["Accept"] = os.getenv("ACCEPT")
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
