-- wrk script: POST /signin with the account the benchmark scripts create.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"email": "bench@example.com", "password": "correct horse battery"}'
