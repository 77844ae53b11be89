"""``jobctl token ...``: API tokens, managed on the store only."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from jobctl.cli import output
from jobctl.cli.context import AppContext
from jobctl.cli.tables import Column

if TYPE_CHECKING:
    from jobctl.store import Store

app = typer.Typer(suggest_commands=False, help="API tokens (on the store; not through --api).", no_args_is_help=True)
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _store(ctx: typer.Context, command: str) -> Store:
    app_ctx: AppContext = ctx.obj
    return app_ctx.direct_store(f"jobctl token {command}")


@app.command("create")
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Token name (recorded as the caller's user id).")],
    role: Annotated[str, typer.Option("--role", help="admin, operator or viewer.")],
    as_json: JsonFlag = False,
) -> None:
    """Create a token and print its secret (shown once; only a hash is stored).

    Example: TOKEN=$(jobctl token create ci --role operator)
    """
    from jobctl.service.tokens import create_token
    from jobctl.wire.responses import api_token

    secret, token = create_token(_store(ctx, "create"), name, role)
    if as_json:
        output.print_json({**api_token(token), "token": secret})
    else:
        output.print_line(secret)


@app.command("list")
def list_tokens(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """List tokens (never their secrets).

    Example: jobctl token list
    """
    from jobctl.service.tokens import list_tokens as listed

    data = listed(_store(ctx, "list"))
    if as_json:
        output.print_json(data)
        return
    rows = [
        [
            str(t["name"]),
            str(t["role"]),
            output.local_time(t["createdAt"]),
            output.relative(t["lastUsedAt"]),
            "revoked" if t["revokedAt"] else "active",
        ]
        for t in data
    ]
    columns: list[str | Column] = [
        Column("NAME", shrink=True),
        "ROLE",
        Column("CREATED", keep=3),
        Column("LAST USED", keep=4),
        "STATE",
    ]
    output.print_table(None, columns, rows)


@app.command("revoke")
def revoke(ctx: typer.Context, name: Annotated[str, typer.Argument(help="Token name.")]) -> None:
    """Revoke a token; requests with it get 401 from then on.

    Example: jobctl token revoke ci
    """
    from jobctl.service.tokens import revoke_token

    revoke_token(_store(ctx, "revoke"), name)
    output.note(f"revoked token {name!r}")
