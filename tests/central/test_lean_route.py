"""LeanRoute: FastAPI's documentation, the endpoint called with path values and a validated body."""

from __future__ import annotations

import pytest
from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.testclient import TestClient
from pydantic import BaseModel, Field

from central.api.errors import install_error_handlers
from central.api.lean_route import LeanRoute


class Greeting(BaseModel):
    name: str = Field(min_length=1)
    times: int = Field(ge=1, le=3)


def lean_app() -> FastAPI:
    router = APIRouter(route_class=LeanRoute)

    @router.post("/rooms/{room}/greet", response_model=Greeting)
    async def greet(request: Request, room: str, body: Greeting) -> Response:
        text = f"{request.method} {room}: " + " ".join([f"hello {body.name}"] * body.times)
        return Response(text)

    app = FastAPI()
    install_error_handlers(app)
    app.include_router(router)
    return app


def test_the_endpoint_gets_its_path_text_and_validated_body() -> None:
    with TestClient(lean_app()) as client:
        response = client.post("/rooms/r7/greet", json={"name": "Li", "times": 2})
    assert response.status_code == 200
    assert response.text == "POST r7: hello Li hello Li"


JSON = {"Content-Type": "application/json"}


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b'{"name": "", "times": 9}', "name: String should have at least 1 character"),
        (b"[1]", "Input should be an object"),
    ],
)
def test_a_bad_body_is_answered_like_fastapi_validation(content: bytes, problem: str) -> None:
    with TestClient(lean_app()) as client:
        response = client.post("/rooms/r7/greet", content=content, headers=JSON)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_failed" and problem in error["message"]


@pytest.mark.parametrize(
    ("content", "headers", "problem"),
    [
        (b"{not json", JSON, "the body is not valid JSON: "),
        (b"", JSON, "the body is not valid JSON: "),
        (b'{"name": "Li", "times": 1}', {}, "Content-Type: application/json"),
        (b'{"name": "Li", "times": 1}', {"Content-Type": "text/plain"}, "application/json"),
    ],
)
def test_a_body_that_is_not_json_is_a_bad_request(
    content: bytes, headers: dict[str, str], problem: str
) -> None:
    with TestClient(lean_app()) as client:
        response = client.post("/rooms/r7/greet", content=content, headers=headers)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "bad_request" and problem in error["message"]


def test_openapi_still_describes_the_body_and_path() -> None:
    with TestClient(lean_app()) as client:
        operation = client.get("/openapi.json").json()["paths"]["/rooms/{room}/greet"]["post"]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/Greeting"}
    assert [p["name"] for p in operation["parameters"]] == ["room"]


def test_an_endpoint_it_cannot_call_is_refused_when_declared() -> None:
    router = APIRouter(route_class=LeanRoute)
    with pytest.raises(TypeError, match="limit"):

        @router.get("/things")
        async def things(request: Request, limit: int = 10) -> Response:
            return Response(str(limit))
