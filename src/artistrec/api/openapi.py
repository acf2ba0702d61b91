"""The OpenAPI document: FastAPI's routes plus the msgspec request bodies, as OpenAPI 3.0.3.

Why 3.0 and not the 3.1 FastAPI writes: the API refuses ``"artist_id": 289.0`` (a client that
sends a float where an id belongs has a bug worth hearing about), and only OpenAPI 3.0's schema
language says so. Its ``integer`` is JSON Schema draft 4's, "a JSON number without a fraction or
exponent part", which ``289.0`` is not; OpenAPI 3.1 uses JSON Schema 2020-12, where ``289.0`` *is*
an integer, so a 3.1 document would promise to accept what the server refuses (schemathesis's
``positive_data_acceptance`` check sends exactly such values). The conversion is mechanical:
``anyOf [X, {"type": "null"}]`` becomes ``nullable``, ``examples`` becomes ``example``,
``const`` becomes a one-value ``enum``, numeric ``exclusiveMinimum``/``exclusiveMaximum`` become
draft 4's boolean form.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from artistrec.api.bodies import openapi_components

OPENAPI_VERSION = "3.0.3"


def build_openapi(app: FastAPI, models: list[str]) -> dict[str, Any]:
    """The document served at ``/openapi.json`` (cached on the app)."""
    if app.openapi_schema is None:
        doc = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
        )
        doc.setdefault("components", {}).setdefault("schemas", {}).update(
            openapi_components(models)
        )
        doc = to_openapi30(doc)
        doc["openapi"] = OPENAPI_VERSION
        app.openapi_schema = doc
    return app.openapi_schema


def _is_null(schema: Any) -> bool:
    return isinstance(schema, dict) and schema.get("type") == "null" and len(schema) == 1


def _schema30(schema: dict[str, Any]) -> dict[str, Any]:
    """One JSON Schema 2020-12 object (and everything in it) in OpenAPI 3.0's dialect."""
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "properties" and isinstance(value, dict):  # names -> schemas
            out[key] = {name: to_openapi30(v) for name, v in value.items()}
        else:
            out[key] = to_openapi30(value)
    for key in ("anyOf", "oneOf"):
        alts = out.get(key)
        if isinstance(alts, list) and any(_is_null(a) for a in alts):
            rest = [a for a in alts if not _is_null(a)]
            del out[key]
            if len(rest) == 1 and "$ref" not in rest[0]:
                out = {**rest[0], **out}
            elif len(rest) == 1:
                out["allOf"] = rest
            else:
                out[key] = rest
            out["nullable"] = True
    if isinstance(out.get("type"), list):  # ["string", "null"] -> "string" + nullable
        types = [t for t in out.pop("type") if t != "null"]
        if len(types) == 1:
            out["type"] = types[0]
        out["nullable"] = True
    if "examples" in out and isinstance(out["examples"], list):
        examples = out.pop("examples")
        if examples:
            out["example"] = examples[0]
    if "const" in out:
        out["enum"] = [out.pop("const")]
    for bound, flag in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        value = out.get(bound)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            out[flag] = value
            out[bound] = True
    return out


def to_openapi30(node: Any) -> Any:
    """``node`` (a whole document or any part of it) with every schema in OpenAPI 3.0's dialect.

    Schemas are recognised by where they can sit; converting keys that only schemas have is
    harmless elsewhere (``examples`` of a media type is a map, left alone).
    """
    if isinstance(node, list):
        return [to_openapi30(v) for v in node]
    if not isinstance(node, dict):
        return node
    if _looks_like_schema(node):
        return _schema30(node)
    return {k: to_openapi30(v) for k, v in node.items()}


_SCHEMA_KEYS = {
    "type",
    "anyOf",
    "oneOf",
    "allOf",
    "$ref",
    "properties",
    "items",
    "enum",
    "const",
    "additionalProperties",
}


def _looks_like_schema(node: dict[str, Any]) -> bool:
    return bool(_SCHEMA_KEYS & node.keys()) and not isinstance(node.get("examples"), dict)
