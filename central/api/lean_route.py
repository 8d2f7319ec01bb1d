"""Routes FastAPI documents from their signatures but runs without its per-request machinery.

For every request FastAPI solves the endpoint's dependencies, parses the
body into Python values and validates them again; on the selling path that
machinery cost about a third of the HTTP process's CPU per sale. A
``LeanRoute`` endpoint takes the request, its path parameters and at most one
body model. The route validates each path parameter by its declared type and
the body straight from its bytes (pydantic's JSON parser), then calls the
endpoint. Every body of the API is read here, so every route answers a bad
body alike: not JSON (no ``application/json`` Content-Type, or bytes that do
not parse) is 400 ``bad_request``; JSON that breaks the model is 422
``validation_failed``, located as FastAPI locates it. The OpenAPI description
is FastAPI's, read from the same signature.
"""

from __future__ import annotations

import email.message
import inspect
import re
import typing
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel, TypeAdapter, ValidationError

from protocol.errors import ErrorCode, StationKitError

Handler = Callable[[Request], Coroutine[Any, Any, Response]]
PATH_PARAM = re.compile(r"{(\w+)}")
NOT_JSON = "the body must be JSON, sent with Content-Type: application/json"


class BadBody(StationKitError):
    """A body that is not JSON at all: 400, before any field is looked at."""

    code = ErrorCode.BAD_REQUEST


class LeanRoute(APIRoute):
    """An ``APIRoute`` whose endpoint is called with the request, path values and body model."""

    def get_route_handler(self) -> Handler:
        endpoint = self.endpoint
        path_types, body = _parameters(endpoint, set(PATH_PARAM.findall(self.path_format)))

        async def handler(request: Request) -> Response:
            arguments = _path_values(path_types, request.path_params)
            if body is not None:
                name, model = body
                arguments[name] = _parse(model, request, await request.body())
            response: Response = await endpoint(request, **arguments)
            return response

        return handler


def _path_values(types: dict[str, TypeAdapter[Any]], texts: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    errors: list[Any] = []
    for name, adapter in types.items():
        try:
            values[name] = adapter.validate_python(texts[name])
        except ValidationError as exc:
            errors += [{**error, "loc": ("path", name, *error["loc"])} for error in exc.errors()]
    if errors:
        raise RequestValidationError(errors)
    return values


def is_json(content_type: str | None) -> bool:
    """True for ``application/json`` and ``application/*+json``, in UTF-8 (or no charset)."""
    if not content_type:
        return False
    message = email.message.Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    charset = str(message.get_param("charset") or "utf-8").lower()
    is_json_type = subtype == "json" or subtype.endswith("+json")
    return message.get_content_maintype() == "application" and is_json_type and charset == "utf-8"


def _parse(model: type[BaseModel], request: Request, raw: bytes) -> BaseModel:
    if not is_json(request.headers.get("content-type")):
        raise BadBody(NOT_JSON)
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        errors = exc.errors()
        if errors[0]["type"] == "json_invalid":
            raise BadBody(f"the body is not valid JSON: {errors[0]['ctx']['error']}") from None
        # located under "body", as FastAPI locates them: one error handler answers both
        located = [{**error, "loc": ("body", *error["loc"])} for error in errors]
        raise RequestValidationError(located) from None


def _parameters(
    endpoint: Callable[..., Any], path_params: set[str]
) -> tuple[dict[str, TypeAdapter[Any]], tuple[str, type[BaseModel]] | None]:
    """The endpoint's path parameter types and body; refuses a signature this route cannot call."""
    hints = typing.get_type_hints(endpoint, include_extras=True)
    path_types: dict[str, TypeAdapter[Any]] = {}
    body: tuple[str, type[BaseModel]] | None = None
    for name in inspect.signature(endpoint).parameters:
        hint = hints.get(name)
        if name == "request" and hint is Request:
            continue
        if name in path_params and hint is not None:
            path_types[name] = TypeAdapter(hint)
            continue
        if inspect.isclass(hint) and issubclass(hint, BaseModel) and body is None:
            body = (name, hint)
            continue
        raise TypeError(
            f"{endpoint.__name__}: a LeanRoute endpoint takes request: Request, "
            f"typed path parameters and one body model; not {name}: {hint}"
        )
    return path_types, body
