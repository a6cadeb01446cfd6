"""The answers every operation may give besides its own, declared in the schema so that it tells the truth.

They come from before the endpoint runs (the project's
buergerservice.input_guard and ninja's session authentication), so no
endpoint lists them itself:

- on every operation: 422 for a query parameter holding a character no
  database can store (a NUL), as the guard reads every query string; 400 for
  what Django refuses before any view (too many query fields, a body over the
  size limit, a foreign Host header);
- on every unsafe method: 400 for a body that is not JSON, 415 for a body
  that is not ``application/json`` (the guard refuses it before the
  endpoint, whether or not it takes a body), 422 for such a character in the
  body;
- 404 for every operation with a path parameter (a NUL in it: no such token);
- for the staff API (session authentication): 401 without a signed-in staff
  user, 403 for a POST without the CSRF token or a step only managers may take;
- for the public booking API (every operation but the staff API and the live
  status): 429 with ``Retry-After`` beyond the client address's or API key's
  budget, 401 for an API key that is wrong or revoked (access.limits).
"""

from typing import Any

UNSAFE_METHODS = {"post", "put", "patch", "delete"}
_DETAIL = {"application/json": {"schema": {"$ref": "#/components/schemas/ConflictOut"}}}
_INVALID = {"application/json": {"schema": {"$ref": "#/components/schemas/InvalidOut"}}}

_ANSWERS: dict[int, dict[str, Any]] = {
    400: {
        "description": "Bad Request: a body that is not valid JSON, or a request Django refuses before the API "
        "(too many query fields, a body over the size limit, a host name this server does not serve)",
        "content": _DETAIL,
    },
    401: {"description": "Unauthorized: no signed-in staff user", "content": _DETAIL},
    403: {"description": "Forbidden: the CSRF token is missing or wrong, or managers only", "content": _DETAIL},
    404: {"description": "Not Found", "content": _DETAIL},
    415: {"description": "Unsupported Media Type: send the body as application/json", "content": _DETAIL},
    422: {"description": "Unprocessable Content: the input is refused, with its place", "content": _INVALID},
}


_BUDGETED: dict[int, dict[str, Any]] = {
    401: {"description": "Unauthorized: the API key (Authorization: Bearer) is wrong or revoked", "content": _DETAIL},
    429: {
        "description": "Too Many Requests: the budget of the client address (or API key) is spent; the header "
        "Retry-After says in how many seconds it is renewed, the body says so in words (detail) and in seconds "
        "(retry_after)",
        "content": _DETAIL,
        "headers": {"Retry-After": {"schema": {"type": "integer"}, "description": "seconds to wait"}},
    },
}
_NOT_BUDGETED_TAGS = {"live status"}


def _declare(operation: dict[str, Any], *statuses: int, answers: dict[int, dict[str, Any]] = _ANSWERS) -> None:
    responses = operation["responses"]
    for status in statuses:
        if status not in responses and str(status) not in responses:
            responses[status] = answers[status]


def declare_common_answers(schema: dict[str, Any]) -> dict[str, Any]:
    """Adds the answers of the guard and of authentication to each operation of ``schema`` (in place)."""
    for operations in schema["paths"].values():
        for method, operation in operations.items():
            _declare(operation, 400, 422)
            if method in UNSAFE_METHODS:
                _declare(operation, 415)
            if any(parameter["in"] == "path" for parameter in operation.get("parameters", [])):
                _declare(operation, 404)
            if operation.get("security"):
                _declare(operation, 401, 403)
            elif not _NOT_BUDGETED_TAGS & set(operation.get("tags", [])):
                _declare(operation, 401, 429, answers=_BUDGETED)
    return schema
