"""What a request's credentials, and the public, may do with a resource: the WAC-Allow header.

Solid apps read ``WAC-Allow`` (Web Access Control, "WAC-Allow HTTP header") to decide
what to show: a container without it reads as inaccessible. The node has no ACL
documents; its rules are the token scopes and the container kinds
(:meth:`ddsnode.ldp.node.Node.required_scope`), so the modes are derived from them:

* ``read`` when a GET needs no token, or the token has scope ``read``;
* ``append`` when a POST (create a member) is allowed — containers only;
* ``write`` (which implies ``append``, WAC "acl:Write") when PUT/PATCH/DELETE are allowed.

The root and the configured containers are managed by settings (405 on PUT/DELETE), so
they never offer ``write``; a configured container offers ``append`` (POST).
``control`` is never offered: access is changed by operators with ``ddsnode token``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from ddsnode.ldp.records import Target

READ, WRITE, APPEND = "read", "write", "append"

#: Node.required_scope: the token scope a method on a target needs, or None when public.
ScopeRule = Callable[[str, Target], "str | None"]


def modes(target: Target, scopes: Iterable[str] | None, rule: ScopeRule) -> tuple[str, ...]:
    """The WAC access modes granted on ``target`` to a holder of ``scopes`` (None: public)."""
    held = set(scopes or ())
    if "admin" in held:
        held |= {"read", "write"}

    def allowed(method: str) -> bool:
        needed = rule(method, target)
        return needed is None or needed in held

    granted = []
    if allowed("GET"):
        granted.append(READ)
    container = target.container
    managed = target.path == "" or (container is not None and target.path == container.path)
    if target.path == "":
        return tuple(granted)  # the root: GET only (405 on every write)
    if not managed and allowed("PUT"):
        granted += [WRITE, APPEND]
    elif target.is_container and allowed("POST"):
        granted.append(APPEND)
    return tuple(granted)


def header(user: Iterable[str], public: Iterable[str]) -> str:
    """The WAC-Allow value: ``user="…",public="…"`` (WAC, WAC-Allow ABNF)."""
    return f'user="{" ".join(user)}",public="{" ".join(public)}"'


def wac_allow(target: Target, scopes: Iterable[str] | None, rule: ScopeRule) -> str:
    """WAC-Allow for ``target``: what ``scopes`` (None: no valid credentials) and anyone may do.

    Without valid credentials the user is the public (WAC: "user" describes the
    requesting agent, who is then anonymous)."""
    public = modes(target, None, rule)
    user = public if scopes is None else modes(target, scopes, rule)
    return header(user, public)
