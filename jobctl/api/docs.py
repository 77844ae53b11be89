"""The API's description of itself: ``/openapi.json`` and, when asked for, the ``/docs`` page.

By default the document needs a bearer token like every other endpoint (only ``/healthz`` is
open), and there is no ``/docs``: FastAPI's page loads Swagger UI's script and style from a
CDN, so a sysadmin's browser would fetch code from the internet without being told. With
``[daemon] docs = true`` the page is served (said in the README and the example config) and
the document is public, because the page's browser fetches it without a token.

Swagger UI is not served from a package of our own: the one wheel that bundles it
(``swagger-ui-bundle``) ships Swagger UI 4, which cannot render the OpenAPI 3.1 documents
FastAPI generates, and would add 2.6 MB for a page most daemons never serve.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse

from jobctl.api.auth import CurrentService

OPENAPI_PATH = "/openapi.json"
DOCS_PATH = "/docs"
NO_FAVICON = "data:,"
"""An empty icon, so the page fetches nothing beyond Swagger UI itself (FastAPI's default is remote)."""


def install_docs(app: FastAPI, *, public: bool) -> None:
    """Serve the document at :data:`OPENAPI_PATH`; with ``public``, also the page at :data:`DOCS_PATH`."""
    if public:
        app.add_api_route(OPENAPI_PATH, public_document, methods=["GET"], include_in_schema=False)
        app.add_api_route(DOCS_PATH, docs_page, methods=["GET"], include_in_schema=False)
    else:
        app.add_api_route(OPENAPI_PATH, document_for_token, methods=["GET"], include_in_schema=False)


async def public_document(request: Request) -> JSONResponse:
    """The OpenAPI document, to anyone (``[daemon] docs = true``)."""
    return JSONResponse(request.app.openapi())


def document_for_token(request: Request, service: CurrentService) -> JSONResponse:
    """The OpenAPI document, to any valid token. :raises NotAuthenticated: (401)"""
    return JSONResponse(request.app.openapi())


async def docs_page(request: Request) -> HTMLResponse:
    """Swagger UI over the document; the browser loads Swagger UI from the CDN FastAPI names."""
    return get_swagger_ui_html(
        openapi_url=OPENAPI_PATH, title=f"{request.app.title} - docs", swagger_favicon_url=NO_FAVICON
    )
