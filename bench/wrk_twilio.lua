-- wrk script for the SMS loopback ceiling: the same form POST Herald sends to Twilio's
-- Messages endpoint (To, From, Body; HTTP Basic AccountSid:AuthToken), against the sandbox.
-- bench.mjs passes the body and the Authorization header in the environment:
--   WRK_BODY='To=%2B1415...&From=%2B1310...&Body=...' WRK_AUTH='Basic ...' \
--   wrk -t2 -c64 -d5s -s bench/wrk_twilio.lua http://127.0.0.1:PORT/2010-04-01/Accounts/AC.../Messages.json
wrk.method = "POST"
wrk.body = os.getenv("WRK_BODY") or error("WRK_BODY is not set")
wrk.headers["Authorization"] = os.getenv("WRK_AUTH") or error("WRK_AUTH is not set")
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["User-Agent"] = "herald-bench-wrk"
