from tests.conftest import Api


async def test_gateway_reaches_every_service(admin: Api) -> None:
    response = await admin.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"] == {
        "database": True,
        "funds": True,
        "projects": True,
        "loans": True,
        "registry": True,
        "oversight": True,
    }
