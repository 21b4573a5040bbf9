-- GET with an Accept header from the environment (ACCEPT).
wrk.headers["Accept"] = os.getenv("ACCEPT")
