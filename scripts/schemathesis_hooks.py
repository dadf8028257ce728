"""A check of our own for scripts/schemathesis.sh: every error is problem+json (RFC 9457)
whose status is the response's."""

import schemathesis


@schemathesis.check
def problem_json_for_errors(ctx, response, case):
    if response.status_code < 400:
        return None
    content_type = response.headers.get("content-type", [""])[0]
    if not content_type.startswith("application/problem+json"):
        raise AssertionError(f"{response.status_code} is not problem+json but {content_type!r}")
    body = response.json()
    if body.get("status") != response.status_code or not body.get("detail"):
        raise AssertionError(f"problem body does not match its status: {body}")
    return None
