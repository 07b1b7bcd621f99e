"""Each schema's one declaration: the MetaData of its models. `fundtrack migrate` creates a fresh schema from it
and checks an existing one against it (deploy/drift.py); `alembic revision --autogenerate` compares with it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import MetaData

from gateway import models as gateway_models
from services.funds import models as funds_models
from services.loans import models as loans_models
from services.oversight import models as oversight_models
from services.projects import models as projects_models
from services.registry import models as registry_models

TARGET_METADATA: dict[str, MetaData] = {
    "gateway": gateway_models.metadata,
    "funds": funds_models.metadata,
    "projects": projects_models.metadata,
    "loans": loans_models.metadata,
    "registry": registry_models.metadata,
    "oversight": oversight_models.metadata,
}
# Set on an Alembic Config's `attributes` by deploy.migrate: create the schema from its models, then stamp it.
CREATE_FROM_MODELS = "fundtrack_create_from_models"


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """Alembic's own bookmark is no table of the models."""
    return not (type_ == "table" and name == "alembic_version")


# What Alembic compares, here and in `alembic revision --autogenerate` (env_common): types and server defaults too.
COMPARE_OPTIONS: dict[str, Any] = {
    "include_name": include_name,
    "compare_type": True,
    "compare_server_default": True,
}
