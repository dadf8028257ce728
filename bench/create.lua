-- wrk script: POST a new task. Authorization comes from wrk -H on the command line.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"title": "bench task", "description": "created by wrk"}'
