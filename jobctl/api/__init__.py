"""The REST API of ``jobctl daemon``: an ASGI app over the service layer (FastAPI).

Importing this package builds nothing; :func:`create_app` makes an app for an open store.
The CLI never imports it (only the daemon does), so ``jobctl --help`` stays fast.

Layout: :mod:`.app` (factory), :mod:`.auth` (bearer token to caller), :mod:`.routes`
(one module per resource), :mod:`.json_body` and :mod:`.params` (input), :mod:`.openapi`
(the document's schemas, from :mod:`jobctl.wire`), :mod:`.errors` and :mod:`.limits` (the
funnel, the body limit).
"""

from jobctl.api.app import ALIAS_PREFIX, API_PREFIX, create_app

__all__ = ["ALIAS_PREFIX", "API_PREFIX", "create_app"]
