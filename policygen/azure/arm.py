"""One place that turns scopes into SDK calls: every read and write of plan/apply/remediate/status goes
through `Arm`, which picks the SDK method for the scope level, converts models to plain REST dicts and
wraps each request in `call_with_retries`.

The real SDK clients are used throughout (policy, policy insights, authorization, management groups;
exemptions, which the policy SDK lacks, and the plan's list reads, whose models cost more than the calls,
go through the same clients' pipelines as JSON: `azure/rest.py`);
bodies go out as plain dicts (sent verbatim) or raw JSON bytes where the SDK model lacks fields
(remediation `failureThreshold`, `parallelDeployments`, `resourceCount` need api-version 2021-10-01).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

from azure.core.exceptions import ResourceNotFoundError

from policygen.arm.scopes import Scope, ScopeKind, parse_scope, scope_of_id
from policygen.azure import rest
from policygen.azure.pacing import Pacing
from policygen.azure.rest import list_url, sdk_api_version
from policygen.azure.retry import CallStats, Notify, RetrySettings, call_with_retries
from policygen.azure.target import Target

NO_SUB = "00000000-0000-0000-0000-000000000000"  # clients need a subscription id even for MG-scope calls
REMEDIATION_API = "2021-10-01"
NO_RETRY = {"retry_total": 0}


def as_dict(obj: Any) -> dict[str, Any]:
    """A model (hybrid TypeSpec or msrest) or dict as its REST JSON."""
    if obj is None:
        return {}
    if isinstance(obj, dict):
        return obj
    if hasattr(obj, "serialize") and hasattr(obj, "_attribute_map"):  # msrest models
        return obj.serialize(keep_readonly=True)
    if hasattr(obj, "as_dict"):
        return obj.as_dict()
    return dict(obj)


class Clients:
    """The SDK clients for one target (built by `policygen.azure.clients`), cached per subscription.

    All clients share one requests session whose pool is as large as the apply concurrency, so parallel
    writes do not queue behind urllib3's default pool of 10 connections.
    """

    def __init__(self, target: Target, credential: Any = None, pool_size: int = 64):
        from policygen.azure.clients import build_clients
        from policygen.azure.connection import pooled_transport

        self.target = target
        self._base = build_clients(NO_SUB, endpoint=target.endpoint,
                                   cloud=None if target.is_local else target.cloud, credential=credential,
                                   transport=pooled_transport(pool_size, local=target.endpoint.startswith("http://")),
                                   polling_interval=None if target.endpoint.startswith("http://") else 5)
        self._cache: dict[str, Any] = {}
        self._lock = threading.Lock()

    def _for(self, sub: str | None) -> Any:
        sub = sub or NO_SUB
        with self._lock:
            found = self._cache.get(sub)
            if found is None:
                found = self._cache[sub] = self._base if sub == NO_SUB else self._base.for_subscription(sub)
            return found

    def policy(self, sub: str | None = None) -> Any:
        return self._for(sub).policy

    def insights(self, sub: str | None = None) -> Any:
        return self._for(sub).insights

    def authorization(self, sub: str | None = None) -> Any:
        return self._for(sub).authorization

    def management_groups(self) -> Any:
        return self._for(None).management_groups

    def close(self) -> None:
        with self._lock:
            for clients in self._cache.values():
                clients.close()
            self._cache.clear()


class Arm:
    """Scope-aware ARM operations with retries. Reads return REST dicts; writes return the server's reply.

    Every call is paced with the others of its ARM operation class (read, write, delete: ARM's buckets;
    POST queries count as writes there, as the HTTP method decides)."""

    def __init__(self, clients: Clients, settings: RetrySettings | None = None, stats: CallStats | None = None,
                 pacing: Pacing | None = None):
        self.clients = clients
        self.settings = settings or RetrySettings()
        self.stats = stats or CallStats()
        self.pacing = pacing or Pacing(64, self.settings.clock)

    def _call(self, fn: Callable[[], Any], *, write: bool = False, principal_retry: bool = False,
              on_retry: Notify | None = None, op_class: str | None = None) -> Any:
        pacer = self.pacing[op_class or ("write" if write else "read")]
        return call_with_retries(fn, self.settings, self.stats, write=write, principal_retry=principal_retry,
                                 on_retry=on_retry, pacer=pacer)

    def _list(self, make_pager: Callable[[], Any], on_retry: Notify | None = None) -> list[dict[str, Any]]:
        return self._call(lambda: [as_dict(x) for x in make_pager()], on_retry=on_retry)

    # ------------------------------------------------------------------ definitions and initiatives

    def _defs_ops(self, kind: str, scope: Scope) -> Any:
        client = self.clients.policy(scope.subscription)
        return client.policy_definitions if kind == "definition" else client.policy_set_definitions

    def _raw_list(self, client: Any, ops: Any, scope: Scope, collection: str, flt: str,
                  on_retry: Notify | None = None) -> list[dict[str, Any]]:
        """Every item listed at `scope`, as JSON through `client`'s pipeline (`azure.rest`), at the api-version
        its operation group `ops` would send."""
        version = sdk_api_version(ops)
        url = list_url(scope.id, collection, version, flt)
        return self._call(lambda: rest.pages(client, url, version), on_retry=on_retry)

    def list_definitions(self, kind: str, scope_id: str, on_retry: Notify | None = None) -> list[dict[str, Any]]:
        """Custom definitions (or initiatives) defined exactly at `scope_id` (inherited ones filtered out)."""
        scope = parse_scope(scope_id)
        if scope.kind not in (ScopeKind.MANAGEMENT_GROUP, ScopeKind.SUBSCRIPTION):
            raise ValueError(f"definitions live at a management group or subscription, not {scope_id}")
        collection = "policyDefinitions" if kind == "definition" else "policySetDefinitions"
        items = self._raw_list(self.clients.policy(scope.subscription), self._defs_ops(kind, scope), scope, collection,
                               "policyType eq 'Custom'", on_retry)
        prefix = scope.id.lower() + "/providers/"
        return [i for i in items if str(i.get("id", "")).lower().startswith(prefix)]

    def get_definition(self, definition_id: str) -> dict[str, Any] | None:
        """Any definition or initiative by id (built-in, MG or subscription); None when missing."""
        low = definition_id.lower()
        is_set = "/policysetdefinitions/" in low
        name = definition_id.rstrip("/").rsplit("/", 1)[-1]
        scope_part = scope_of_id(definition_id)
        try:
            if scope_part in (None, "/"):
                client = self.clients.policy()
                ops = client.policy_set_definitions if is_set else client.policy_definitions
                return as_dict(self._call(lambda: ops.get_built_in(name, **NO_RETRY)))
            scope = parse_scope(scope_part)
            ops = self._defs_ops("initiative" if is_set else "definition", scope)
            if scope.kind is ScopeKind.MANAGEMENT_GROUP:
                mg = scope.management_group
                return as_dict(self._call(lambda: ops.get_at_management_group(mg, name, **NO_RETRY)))
            return as_dict(self._call(lambda: ops.get(name, **NO_RETRY)))
        except ResourceNotFoundError:
            return None

    def put_definition(self, kind: str, scope_id: str, name: str, body: dict[str, Any],
                       on_retry: Notify | None = None) -> dict[str, Any]:
        scope = parse_scope(scope_id)
        ops = self._defs_ops(kind, scope)
        if scope.kind is ScopeKind.MANAGEMENT_GROUP:
            fn = lambda: ops.create_or_update_at_management_group(scope.management_group, name, body, **NO_RETRY)  # noqa: E731
        else:
            fn = lambda: ops.create_or_update(name, body, **NO_RETRY)  # noqa: E731
        return as_dict(self._call(fn, write=True, on_retry=on_retry))

    def delete_definition(self, kind: str, scope_id: str, name: str, on_retry: Notify | None = None) -> None:
        scope = parse_scope(scope_id)
        ops = self._defs_ops(kind, scope)
        if scope.kind is ScopeKind.MANAGEMENT_GROUP:
            fn = lambda: ops.delete_at_management_group(scope.management_group, name, **NO_RETRY)  # noqa: E731
        else:
            fn = lambda: ops.delete(name, **NO_RETRY)  # noqa: E731
        self._call(fn, write=True, on_retry=on_retry, op_class="delete")

    # ------------------------------------------------------------------ assignments

    def list_assignments(self, scope_id: str, on_retry: Notify | None = None) -> list[dict[str, Any]]:
        """Assignments made exactly at `scope_id`."""
        scope = parse_scope(scope_id)
        if scope.kind not in (ScopeKind.MANAGEMENT_GROUP, ScopeKind.SUBSCRIPTION, ScopeKind.RESOURCE_GROUP):
            raise ValueError(f"assignments at resource scope are not supported: {scope_id}")
        client = self.clients.policy(scope.subscription)
        items = self._raw_list(client, client.policy_assignments, scope, "policyAssignments", "atExactScope()",
                               on_retry)
        want = scope.id.lower()
        return [i for i in items if str((i.get("properties") or {}).get("scope", want)).lower().rstrip("/") == want]

    def put_assignment(self, scope_id: str, name: str, body: dict[str, Any],
                       on_retry: Notify | None = None) -> dict[str, Any]:
        ops = self.clients.policy(parse_scope(scope_id).subscription).policy_assignments
        return as_dict(self._call(lambda: ops.create(scope_id, name, body, **NO_RETRY), write=True,
                                  on_retry=on_retry))

    def delete_assignment(self, scope_id: str, name: str, on_retry: Notify | None = None) -> None:
        ops = self.clients.policy(parse_scope(scope_id).subscription).policy_assignments
        self._call(lambda: ops.delete(scope_id, name, **NO_RETRY), write=True, on_retry=on_retry, op_class="delete")

    # ------------------------------------------------------------------ exemptions

    def _exemptions(self, scope_id: str) -> Any:
        from policygen.azure.exemptions import ExemptionsClient

        return ExemptionsClient(self.clients.policy(parse_scope(scope_id).subscription))

    def list_exemptions(self, scope_id: str, on_retry: Notify | None = None) -> list[dict[str, Any]]:
        """Exemptions made exactly at `scope_id` (a management group, subscription, group or resource) or,
        given a policy assignment id, the exemptions of that assignment at and below its scope."""
        low = scope_id.lower()
        cut = low.rfind("/providers/microsoft.authorization/policyassignments/")
        if cut >= 0:
            scope = scope_id[:cut]
            return self._call(lambda: self._exemptions(scope).list(scope, scope_id), on_retry=on_retry)
        return self._call(lambda: self._exemptions(scope_id).list(scope_id), on_retry=on_retry)

    def list_exemptions_of(self, scope_id: str, assignment_ids: tuple[str, ...],
                           on_retry: Notify | None = None) -> list[dict[str, Any]]:
        """The exemptions of these assignments, all made at `scope_id`, wherever they are: one listing."""
        return self._call(lambda: self._exemptions(scope_id).list_of(scope_id, assignment_ids), on_retry=on_retry)

    def put_exemption(self, scope_id: str, name: str, body: dict[str, Any],
                      on_retry: Notify | None = None) -> dict[str, Any]:
        return self._call(lambda: self._exemptions(scope_id).put(scope_id, name, body), write=True,
                          on_retry=on_retry)

    def delete_exemption(self, scope_id: str, name: str, on_retry: Notify | None = None) -> None:
        self._call(lambda: self._exemptions(scope_id).delete(scope_id, name), write=True, on_retry=on_retry,
                   op_class="delete")

    # ------------------------------------------------------------------ role assignments

    def list_role_assignments(self, scope_id: str, on_retry: Notify | None = None) -> list[dict[str, Any]]:
        """Role assignments made exactly at `scope_id` (inherited ones filtered out)."""
        scope = parse_scope(scope_id)
        client = self.clients.authorization(scope.subscription)
        items = self._raw_list(client, client.role_assignments, scope, "roleAssignments", "atScope()", on_retry)
        want = scope.id.lower()
        return [i for i in items if str((i.get("properties") or {}).get("scope", "")).lower().rstrip("/") == want]

    def put_role_assignment(self, scope_id: str, name: str, body: dict[str, Any],
                            on_retry: Notify | None = None) -> dict[str, Any]:
        ops = self.clients.authorization(parse_scope(scope_id).subscription).role_assignments
        raw = json.dumps(body).encode("utf-8")
        return as_dict(self._call(lambda: ops.create(scope_id, name, raw, **NO_RETRY), write=True,
                                  principal_retry=True, on_retry=on_retry))

    def delete_role_assignment(self, scope_id: str, name: str, on_retry: Notify | None = None) -> None:
        ops = self.clients.authorization(parse_scope(scope_id).subscription).role_assignments
        self._call(lambda: ops.delete(scope_id, name, **NO_RETRY), write=True, on_retry=on_retry, op_class="delete")

    # ------------------------------------------------------------------ remediation

    def _remediation_call(self, scope_id: str, verb: str, *args: Any, **kw: Any) -> Any:
        scope = parse_scope(scope_id)
        ops = self.clients.insights(scope.subscription).remediations
        sep = "_" if verb == "list_for" else "_at_"  # list_for_management_group vs get_at_management_group
        if scope.kind is ScopeKind.MANAGEMENT_GROUP:
            return getattr(ops, f"{verb}{sep}management_group")(scope.management_group, *args, **kw)
        if scope.kind is ScopeKind.SUBSCRIPTION:
            return getattr(ops, f"{verb}{sep}subscription")(*args, **kw)
        if scope.kind is ScopeKind.RESOURCE_GROUP:
            return getattr(ops, f"{verb}{sep}resource_group")(scope.resource_group, *args, **kw)
        return getattr(ops, f"{verb}{sep}resource")(scope.id, *args, **kw)

    def list_remediations(self, scope_id: str, on_retry: Notify | None = None) -> list[dict[str, Any]]:
        items = self._list(lambda: self._remediation_call(scope_id, "list_for", **NO_RETRY), on_retry)
        want = scope_id.lower().rstrip("/") + "/providers/microsoft.policyinsights/remediations/"
        return [i for i in items if str(i.get("id", "")).lower().startswith(want)]

    def put_remediation(self, scope_id: str, name: str, body: dict[str, Any],
                        on_retry: Notify | None = None) -> dict[str, Any]:
        raw = json.dumps(body).encode("utf-8")
        return self._call(lambda: self._remediation_call(
            scope_id, "create_or_update", name, raw, api_version=REMEDIATION_API, cls=_raw_json, **NO_RETRY),
            write=True, on_retry=on_retry)

    def get_remediation(self, scope_id: str, name: str, on_retry: Notify | None = None) -> dict[str, Any]:
        return self._call(lambda: self._remediation_call(scope_id, "get", name, api_version=REMEDIATION_API,
                                                         cls=_raw_json, **NO_RETRY), on_retry=on_retry)

    # ------------------------------------------------------------------ hierarchy, evaluation, states

    def subscriptions_under(self, scope_id: str) -> list[str]:
        """Subscription ids at or below a scope (management group descendants; a subscription itself)."""
        scope = parse_scope(scope_id)
        if scope.kind is not ScopeKind.MANAGEMENT_GROUP:
            return [scope.subscription] if scope.subscription else []
        ops = self.clients.management_groups().management_groups
        items = self._list(lambda: ops.get_descendants(scope.management_group, **NO_RETRY))
        return sorted({str(i.get("name")) for i in items if str(i.get("type", "")).lower().endswith("/subscriptions")})

    def trigger_evaluation(self, scope_id: str) -> None:
        """On-demand compliance scan; Azure offers it at subscription and resource-group scope only."""
        scope = parse_scope(scope_id)
        states = self.clients.insights(scope.subscription).policy_states
        if scope.kind is ScopeKind.SUBSCRIPTION:
            fn = lambda: states.begin_trigger_subscription_evaluation(scope.subscription, **NO_RETRY).result()  # noqa: E731
        elif scope.kind is ScopeKind.RESOURCE_GROUP:
            fn = lambda: states.begin_trigger_resource_group_evaluation(scope.subscription, scope.resource_group,  # noqa: E731
                                                                        **NO_RETRY).result()
        else:
            raise ValueError(f"on-demand evaluation needs a subscription or resource-group scope, not {scope_id}")
        self._call(fn, write=True)

    def summarize(self, scope_id: str, assignment_id: str | None = None) -> dict[str, Any]:
        """`policyStates/latest/summarize` at a scope (optionally filtered to one assignment)."""
        from azure.mgmt.policyinsights.models import QueryOptions

        scope = parse_scope(scope_id)
        states = self.clients.insights(scope.subscription).policy_states
        opts = QueryOptions(filter=f"policyAssignmentId eq '{assignment_id}'") if assignment_id else None
        if scope.kind is ScopeKind.MANAGEMENT_GROUP:
            fn = lambda: states.summarize_for_management_group("latest", scope.management_group, query_options=opts,  # noqa: E731
                                                               **NO_RETRY)
        elif scope.kind is ScopeKind.SUBSCRIPTION:
            fn = lambda: states.summarize_for_subscription("latest", scope.subscription, query_options=opts,  # noqa: E731
                                                           **NO_RETRY)
        elif scope.kind is ScopeKind.RESOURCE_GROUP:
            fn = lambda: states.summarize_for_resource_group("latest", scope.subscription, scope.resource_group,  # noqa: E731
                                                             query_options=opts, **NO_RETRY)
        else:
            raise ValueError(f"cannot summarize compliance at {scope_id}")
        return as_dict(self._call(fn, op_class="write"))

    def query_states(self, scope_id: str, assignment_id: str | None = None) -> list[dict[str, Any]]:
        """Latest policy states (one row per resource x policy) at a scope, optionally for one assignment."""
        from azure.mgmt.policyinsights.models import QueryOptions

        scope = parse_scope(scope_id)
        states = self.clients.insights(scope.subscription).policy_states
        opts = QueryOptions(filter=f"policyAssignmentId eq '{assignment_id}'") if assignment_id else None
        if scope.kind is ScopeKind.MANAGEMENT_GROUP:
            pager = lambda: states.list_query_results_for_management_group(  # noqa: E731
                "latest", scope.management_group, query_options=opts, **NO_RETRY)
        elif scope.kind is ScopeKind.SUBSCRIPTION:
            pager = lambda: states.list_query_results_for_subscription(  # noqa: E731
                "latest", scope.subscription, query_options=opts, **NO_RETRY)
        elif scope.kind is ScopeKind.RESOURCE_GROUP:
            pager = lambda: states.list_query_results_for_resource_group(  # noqa: E731
                "latest", scope.subscription, scope.resource_group, query_options=opts, **NO_RETRY)
        else:
            raise ValueError(f"cannot query compliance at {scope_id}")
        return self._list(pager)


def _raw_json(pipeline_response: Any, deserialized: Any, headers: Any) -> dict[str, Any]:
    """`cls=` hook: the reply as sent, including fields the 1.0.1 Remediation model does not know."""
    try:
        return pipeline_response.http_response.json() or {}
    except ValueError:
        return as_dict(deserialized)
