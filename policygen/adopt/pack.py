"""An estate → a pack: `policygen.yaml` plus intents whose build reproduces every object read.

Written in two passes: the intents first (definitions lifted to kinds where a kind renders the same rule),
then compiled once with the real `compile_pack`; the metadata each object carries beyond what policygen stamps
is written into the intent's `metadata`, which the renderer merges last, so the same merge completes the build
(no second compile: it doubled the time of large imports), compared field by field with the source, as
`policygen plan` compares. Ownership markers are kept as they are
(an object with no marker keeps none: `pacOwnerId: null`), unless `adopt` makes the pack their owner, which
the rendered metadata records (`adoptedFrom`) and `policygen plan` shows.
"""

from __future__ import annotations

import re
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from policygen.adopt import lift
from policygen.adopt.estate import Estate, Item
from policygen.arm.scopes import key
from policygen.artefacts import Build
from policygen.azure import diff as diffing
from policygen.errors import InputError
from policygen.intents.lifecycle import MEMBER_VERSION_PIN_RE, VERSION_PIN_RE
from policygen.intents.models import SEMVER_RE
from policygen.render.assignments import scope_label
from policygen.render.compile import compile_pack

STAMPS = {"createdby", "createdon", "updatedby", "updatedon"}
OWNER_KEYS = ("pacOwnerId", "policygen")
SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
PARAM_REF = re.compile(r"^\[parameters\('([^']+)'\)\]$")
FOLDER = {"definition": "definitions", "initiative": "initiatives", "assignment": "assignments",
          "exemption": "exemptions"}


@dataclass
class Report:
    """What an import produced: counts, and every object it could not reproduce exactly (with why)."""

    source: str
    out: str = ""
    lifted: Counter[str] = field(default_factory=Counter)  # kind -> definitions lifted to it
    custom: int = 0
    counts: Counter[str] = field(default_factory=Counter)  # kind -> objects written
    exact: Counter[str] = field(default_factory=Counter)  # kind -> objects whose build equals the source
    inexact: list[str] = field(default_factory=list)  # "where: what differs"
    skipped: list[str] = field(default_factory=list)  # "where: why not imported"
    adopted: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)

    @property
    def definitions(self) -> int:
        return sum(self.lifted.values()) + self.custom


DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # libyaml when present: same YAML, much faster


def dump(data: dict[str, Any]) -> str:
    return yaml.dump(data, Dumper=DUMPER, sort_keys=False, allow_unicode=True, width=120, default_flow_style=False)


def _semver(*values: Any) -> str | None:
    return next((str(v) for v in values if isinstance(v, str) and re.fullmatch(SEMVER_RE, v)), None)


def _base(item: Item) -> dict[str, Any]:
    """Fields every imported definition or initiative intent carries verbatim."""
    p = item.props
    meta = p.get("metadata") if isinstance(p.get("metadata"), dict) else {}
    out: dict[str, Any] = {"displayName": p.get("displayName") or item.name}
    if p.get("description"):
        out["description"] = p["description"]
    if isinstance(meta.get("category"), str):
        out["category"] = meta["category"]
    version = _semver(p.get("version"), meta.get("version"))
    if version:
        out["version"] = version
    return out


class Importer:
    def __init__(self, estate: Estate, name: str, *, adopt: bool = False, owner_id: str | None = None):
        self.estate, self.name, self.adopt = estate, name, adopt
        markers = Counter(m for i in estate.items if (m := _marker(i)))
        self.owner = owner_id or estate.owner_id or (markers.most_common(1)[0][0] if markers else f"policygen-{name}")
        self.report = Report(estate.source)
        self.data: dict[tuple[str, str], dict[str, Any]] = {}  # (kind, name) -> intent data
        self.items: dict[tuple[str, str], Item] = {}
        self.local: dict[tuple[str, str], str] = {}  # (kind, lower-cased name) -> name
        # One assignment name at several scopes (EPAC's pacSelectors, the portal): name -> [(item, scope key)],
        # written as one intent with `scope: [..]`, built as one assignment per scope (key `name@label`).
        self.copies: dict[str, list[tuple[Item, str]]] = {}
        # Exemptions alike: one intent with `scope: [..]` (keyed name@label); one that differs is renamed.
        self.exemption_copies: dict[str, list[tuple[Item, str]]] = {}
        self.renamed: dict[str, Item] = {}  # stem -> the exemption imported under another name
        env = estate.environments.get(estate.env or "", {})
        self.scopes: dict[str, str] = dict(env.get("scopes") or {})

    # ------------------------------------------------------------------ pass 1: intents

    def run(self) -> Report:
        for item in self.estate.items:
            if not SAFE_NAME.match(item.name):
                self.report.skipped.append(f"{item.where}: name {item.name!r} cannot be a file name; not imported")
                continue
            if (item.kind, item.name) in self.items:
                first = self.items[(item.kind, item.name)]
                copies = self.copies if item.kind == "assignment" else self.exemption_copies
                if item.kind in ("assignment", "exemption") and _scope_of(item) and key(_scope_of(item)) not in \
                        {key(_scope_of(c)) for c, _ in copies.get(item.name, [(first, "")])}:
                    copies.setdefault(item.name, [(first, "")]).append((item, ""))
                    continue
                self.report.skipped.append(f"{item.where}: a {item.kind} named {item.name!r} was read already")
                continue
            self.items[(item.kind, item.name)] = item
            if item.kind in ("definition", "initiative"):
                self.local[(item.kind, item.name.lower())] = item.name
        for (kind, _), item in self.items.items():
            if kind == "definition":
                self._definition(item)
        for (kind, name), item in self.items.items():
            if kind == "initiative":
                self.data[(kind, name)] = self._initiative(item)
            elif kind == "assignment" and name in self.copies:
                self._assignment_families(name)
            elif kind == "assignment":
                self.data[(kind, name)] = self._assignment(item)
            elif kind == "exemption" and name in self.exemption_copies:
                self._exemption_families(name)
            elif kind == "exemption":
                self.data[(kind, name)] = self._exemption(item)
        build = self._compile()  # once: `_metadata` then completes it as the renderer would
        if build is not None:
            self._metadata(build)
            self._check(build)
        self.report.files = self._files()
        self.report.notes.extend(self.estate.notes)
        return self.report

    def _definition(self, item: Item) -> None:
        base = _base(item)
        rel = f"definitions/{item.name}.yaml"
        lifted = lift.lift(item.body, base, rel, self.owner, "General")
        if lifted is not None:
            data = lifted[0]
            self.report.lifted[data["intent"]] += 1
        else:
            data = lift.custom(item.body, base)
            if data is None:
                self.report.skipped.append(
                    f"{item.where}: definition {item.name!r} has a rule `then` beyond effect and details, or "
                    "parameter metadata the intent model cannot carry; left in place and referenced by id")
                del self.local[("definition", item.name.lower())]
                return
            self.report.custom += 1
        self.data[("definition", item.name)] = data

    def _local(self, policy_id: str) -> tuple[str, str] | None:
        """(kind, intent name) when `policy_id` names a definition or initiative this import writes."""
        if policy_id.lower().startswith("/providers/microsoft.authorization/"):
            return None  # a built-in stays a built-in reference
        kind = "definition" if "/policydefinitions/" in policy_id.lower() else "initiative"
        name = self.local.get((kind, policy_id.rstrip("/").rsplit("/", 1)[-1].lower()))
        return None if name is None else (kind, name)

    def _member_target(self, policy_id: str) -> dict[str, str]:
        local = self._local(policy_id)
        return {"definition": local[1]} if local is not None and local[0] == "definition" else {"builtin": policy_id}

    def _params(self, item: Item) -> dict[str, Any]:
        out = {}
        for pname, spec in (item.props.get("parameters") or {}).items():
            form = lift.param_spec(spec)
            if form is None:
                self.report.inexact.append(f"{item.where}: parameter {pname!r} has metadata the intent model "
                                           "cannot carry; kept without it")
                form = {k: v for k, v in spec.items() if k in ("type", "defaultValue", "allowedValues")}
            out[pname] = form
        return out

    def _initiative(self, item: Item) -> dict[str, Any]:
        p = item.props
        data = _base(item)
        params = self._params(item)
        if params:
            data["parameters"] = params
        if "policyDefinitionGroups" in p:  # as read: a list, or null (absent stays absent)
            groups = p["policyDefinitionGroups"]
            data["groups"] = None if groups is None else [
                {k: g[k] for k in ("name", "displayName", "category", "description", "additionalMetadataId")
                 if g.get(k) is not None} for g in groups]
        members = []
        for m in p.get("policyDefinitions") or []:
            entry: dict[str, Any] = self._member_target(str(m.get("policyDefinitionId", "")))
            entry["referenceId"] = m.get("policyDefinitionReferenceId")
            if m.get("groupNames") is not None:  # `[]` too: the build writes what was read
                entry["groups"] = list(m["groupNames"])
            if m.get("definitionVersion"):
                if re.fullmatch(MEMBER_VERSION_PIN_RE, str(m["definitionVersion"])):
                    entry["definitionVersion"] = m["definitionVersion"]
                else:
                    self.report.inexact.append(f"{item.where}: member {entry['referenceId']!r} definitionVersion "
                                               f"{m['definitionVersion']!r} is not a version pin policygen takes")
            values = {}
            for pname, spec in (m.get("parameters") or {}).items():
                value = spec.get("value") if isinstance(spec, dict) else spec
                ref = PARAM_REF.match(value) if isinstance(value, str) else None
                values[pname] = {"parameter": ref.group(1)} if ref and ref.group(1) in params else value
            if values:
                entry["parameters"] = values
            if "definition" in entry and "effect" not in values and "effect" in self._def_params(entry["definition"]):
                entry["effectParameter"] = False  # the source passes no effect: the definition's default runs
            members.append(entry)
        data["members"] = members
        return data

    def _def_params(self, name: str) -> dict[str, Any]:
        params = self.items[("definition", name)].props.get("parameters")
        return params if isinstance(params, dict) else {}

    def _scope_key(self, scope: str, hint: Any) -> str:
        for h in hint if isinstance(hint, list) else [hint]:  # a list: the scopes of a multi-scope intent
            if isinstance(h, str) and key(self.scopes.get(h, "")) == key(scope):
                return h
        if isinstance(hint, list):
            hint = None
        for k, v in self.scopes.items():
            if key(v) == key(scope):
                return k
        stem = re.sub(r"[^a-z0-9-]+", "-", scope.rstrip("/").rsplit("/", 1)[-1].lower()).strip("-") or "scope"
        new = hint if isinstance(hint, str) and hint not in self.scopes else stem
        n = 2
        while new in self.scopes:
            new, n = f"{stem}-{n}", n + 1
        self.scopes[new] = scope
        return new

    def _assignment(self, item: Item) -> dict[str, Any]:
        p = item.props
        meta = p.get("metadata") if isinstance(p.get("metadata"), dict) else {}
        hint = (meta.get("policygen") or {}).get("scope") if isinstance(meta.get("policygen"), dict) else None
        data: dict[str, Any] = {"displayName": p.get("displayName") or item.name}
        if p.get("description"):
            data["description"] = p["description"]
        target = str(p.get("policyDefinitionId") or "")
        local = self._local(target)
        if local is not None:
            data[local[0]] = local[1]
        else:
            data["builtin"] = target
        data["scope"] = self._scope_key(str(p.get("scope") or ""), hint)
        if p.get("notScopes"):
            data["notScopes"] = list(p["notScopes"])
        if p.get("parameters"):
            data["parameters"] = {k: (v.get("value") if isinstance(v, dict) else v) for k, v in p["parameters"].items()}
        if p.get("enforcementMode"):
            data["enforcementMode"] = p["enforcementMode"]
        ident = item.body.get("identity") or {}
        itype = str(ident.get("type") or "None")
        identity: dict[str, Any] = {"type": {"systemassigned": "SystemAssigned",
                                             "userassigned": "UserAssigned"}.get(itype.lower(), "None")}
        if identity["type"] == "UserAssigned":
            identity["userAssignedIdentity"] = next(iter(ident.get("userAssignedIdentities") or {}), None)
        if identity["type"] != "None" and item.body.get("location"):
            identity["location"] = item.body["location"]
        data["identity"] = identity
        if p.get("nonComplianceMessages"):
            data["nonComplianceMessages"] = list(p["nonComplianceMessages"])
        for k in ("definitionVersion", "resourceSelectors", "overrides"):
            if p.get(k):
                data[k] = p[k]
        if "definitionVersion" in data and not re.fullmatch(VERSION_PIN_RE, str(data["definitionVersion"])):
            self.report.inexact.append(f"{item.where}: definitionVersion {data.pop('definitionVersion')!r} is not a "
                                       "version pin an assignment takes (like 1.*.*); not kept")
        if item.remediation:
            data["remediation"] = {"enabled": True, **item.remediation}
        return data

    def _assignment_families(self, name: str) -> None:
        """The intents of one name assigned at several scopes: copies alike but for their scope and notScopes
        share one intent (`scope: [..]`; notScopes a list when every copy has the same, else per scope); a
        copy that differs in anything else gets an intent of its own (`<name>@<scope key>.yaml` with
        `name: <name>`), since ARM names an assignment per scope. `self.copies` then holds each intent's."""
        copies = self.copies.pop(name)
        meta = copies[0][0].props.get("metadata")
        hint = (meta.get("policygen") or {}).get("scope") if isinstance(meta, dict) and \
            isinstance(meta.get("policygen"), dict) else None
        if isinstance(hint, list):  # policygen wrote them: keep the intent's order of scopes
            order = [key(self.scopes.get(h, "")) if isinstance(h, str) else "" for h in hint]
            copies.sort(key=lambda c: order.index(key(_scope_of(c[0]))) if key(_scope_of(c[0])) in order
                        else len(order))
        families: list[tuple[dict[str, Any], list[tuple[Item, str]], dict[str, list[str]]]] = []
        taken: set[str] = set()
        for item, _ in copies:
            data = self._assignment(item)
            scope = data["scope"]
            if scope in taken:  # two scope ids the estate keys alike: keep the id
                scope = _scope_of(item)
            taken.add(scope)
            rest = {k: v for k, v in data.items() if k not in ("scope", "notScopes")}
            family = next((f for f in families if {k: v for k, v in f[0].items()
                                                   if k not in ("scope", "notScopes")} == rest), None)
            if family is None:
                family = (data, [], {})
                families.append(family)
            family[1].append((item, scope))
            family[2][scope] = list(item.props.get("notScopes") or [])
        for n, (first, members, not_scopes) in enumerate(families):
            scopes = [scope for _, scope in members]
            lists = list(not_scopes.values())
            out: dict[str, Any] = {} if n == 0 else {"name": name}
            for k, v in first.items():
                if k == "scope":
                    out["scope"] = scopes if len(scopes) > 1 else scopes[0]
                    if any(lists):
                        out["notScopes"] = lists[0] if all(ns == lists[0] for ns in lists) else \
                            {s: ns for s, ns in not_scopes.items() if ns}
                elif k != "notScopes":
                    out[k] = v
            stem = name if n == 0 else f"{name}@{scope_label(scopes[0])}"
            self.data[("assignment", stem)] = out
            self.copies[stem] = members

    def _exemption_families(self, name: str) -> None:
        """One exemption name at several scopes (EPAC's `scopes`, or read from Azure): one intent with
        `scope: [..]` for the copies alike but for their scope; another that differs cannot share the name
        in a pack and is imported renamed (`<name>-2`, said in a note: Azure would see a new exemption)."""
        copies = self.exemption_copies.pop(name)
        families: list[tuple[dict[str, Any], list[tuple[Item, str]]]] = []
        for item, _ in copies:
            data = self._exemption(item)
            rest = {k: v for k, v in data.items() if k != "scope"}
            family = next((f for f in families if {k: v for k, v in f[0].items() if k != "scope"} == rest), None)
            if family is None:
                family = (data, [])
                families.append(family)
            family[1].append((item, str(data["scope"])))
        for n, (data, members) in enumerate(families):
            scopes = [s for _, s in members]
            if n == 0:
                self.data[("exemption", name)] = {**data, "scope": scopes if len(scopes) > 1 else scopes[0]}
                if len(scopes) > 1:
                    self.exemption_copies[name] = members
                continue
            stem, i = f"{name}-{n + 1}", n + 1
            while ("exemption", stem) in self.items or ("exemption", stem) in self.data:
                i += 1
                stem = f"{name}-{i}"
            for j, (item, scope) in enumerate(members):
                one = stem if j == 0 else f"{stem}-{j + 1}"
                self.data[("exemption", one)] = {**data, "scope": scope}
                self.renamed[one] = item
                self.estate.notes.append(f"{item.where}: exemption {name!r} at {scope} differs from the one at "
                                         f"{families[0][1][0][1]}; a pack names it once, so it is imported as "
                                         f"{one!r} (Azure would see a new exemption)")

    def _exemption(self, item: Item) -> dict[str, Any]:
        from policygen.adopt.exemptions import exemption_intent

        copies: dict[str, list[tuple[str, str]]] = {}  # assignment name -> [(scope id, scope as written)]
        for members in self.copies.values():
            for i, s in members:
                copies.setdefault(i.name, []).append((_scope_of(i), s))
        return exemption_intent(item, self._scope_key, self.items, self.scopes, copies)

    # ------------------------------------------------------------------ pass 2: metadata, then compare

    def _files(self) -> dict[str, str]:
        files = {"policygen.yaml": dump(self._settings())}
        for (kind, name), data in sorted(self.data.items()):
            files[f"{FOLDER[kind]}/{name}.yaml"] = dump(data)
            # objects, as `exact` counts them: an assignment at several scopes is one intent, several objects
            copies = self.copies if kind == "assignment" else self.exemption_copies if kind == "exemption" else {}
            self.report.counts[kind] += len(copies.get(name, [None]))
        return files

    def _settings(self) -> dict[str, Any]:
        envs = {}
        for env_name, spec in self.estate.environments.items():
            spec = dict(spec)
            if env_name == self.estate.env:
                spec["scopes"] = dict(self.scopes)
            envs[env_name] = spec
        return {"name": self.name, "ownerId": self.owner, "definitionScope": self.estate.definition_scope,
                "environments": envs}

    def _compile(self) -> Build | None:
        with tempfile.TemporaryDirectory(prefix="policygen-import-") as tmp:
            for rel, text in self._files().items():
                target = Path(tmp) / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text, encoding="utf-8")
            self.report.counts.clear()
            try:
                return compile_pack(tmp, env=self.estate.env)
            except InputError as exc:
                shown = [str(d).replace(tmp + "/", "") for d in exc.diagnostics]
                self.report.skipped.extend(f"(imported pack) {d}" for d in shown)
                return None

    def _leave(self, item: Item) -> set[str]:
        """Metadata keys left to the renderer: the source engine's stamps, ARM's, and (adopting) ownership."""
        leave = {*self.estate.engine_keys, *self.estate.stamp_keys}
        if self.adopt and _marker(item) != self.owner:
            leave |= set(OWNER_KEYS)
        return leave

    def _built(self, build: Build) -> list[tuple[str, str, Any, Item]]:
        """(kind, name, artefact or None, source item) for every object read, a multi-scope copy each."""
        out = []
        for kind, name in self.data:
            if kind == "assignment" and name in self.copies:
                for item, scope in self.copies[name]:
                    out.append((kind, name, build.assignments.get(f"{item.name}@{scope_label(scope)}"), item))
            elif kind == "exemption" and name in self.exemption_copies:
                for item, scope in self.exemption_copies[name]:
                    out.append((kind, name, build.exemptions.get(f"{item.name}@{scope_label(scope)}"), item))
            elif kind == "exemption" and name in self.renamed:
                out.append((kind, name, build.exemptions.get(name), self.renamed[name]))
            else:
                out.append((kind, name, _artefact(build, kind, name), self.items[(kind, name)]))
        return out

    def _metadata(self, build: Build) -> None:
        done: set[tuple[str, str]] = set()
        for kind, name, art, item in self._built(build):
            if art is None:
                continue
            data = self.data[(kind, name)]
            if (kind, name) in done:  # a further copy of a multi-scope assignment: the intent's metadata
                if data.get("metadata"):
                    art.properties["metadata"] = {**(art.properties.get("metadata") or {}), **data["metadata"]}
                continue
            done.add((kind, name))
            src = item.props.get("metadata") if isinstance(item.props.get("metadata"), dict) else {}
            have = art.properties.get("metadata") or {}
            leave = self._leave(item)
            over: dict[str, Any] = {}
            for k, v in src.items():
                if k in leave or k.lower() in STAMPS:
                    continue
                if have.get(k, over) != v:
                    over[k] = v
            for k in have:
                if k not in src and k not in leave:
                    over[k] = None  # the source has no such key (e.g. no owner marker): keep it absent
            if self.adopt and _marker(item) != self.owner:
                over["adoptedFrom"] = _marker(item) or "none"
                self.report.adopted.append(f"{kind} {name} (owner {_marker(item) or 'none'} -> {self.owner})")
            if over:
                data["metadata"] = over
                # The renderer applies an intent's metadata last ({...its stamps, **metadata}): the same merge
                # here is the build of the pack as written, without compiling it a second time.
                art.properties["metadata"] = {**have, **over}

    def _check(self, build: Build | None) -> None:
        if build is None:
            return
        for kind, name, art, item in self._built(build):
            if art is None:
                self.report.inexact.append(f"{item.where}: {kind} {name!r} did not build")
                continue
            diffs = differences(kind, item.body, art.body, self._leave(item) | {"adoptedFrom"})
            if diffs:
                shown = ", ".join(d.path for d in diffs[:4]) + (" …" if len(diffs) > 4 else "")
                self.report.inexact.append(f"{item.where}: {kind} {name!r} builds differently at {shown}")
            else:
                self.report.exact[kind] += 1


def _scope_of(item: Item) -> str:
    if item.kind == "exemption":
        from policygen.adopt.exemptions import exemption_scope

        return exemption_scope(item)
    return str(item.props.get("scope") or "")


def _marker(item: Item) -> str | None:
    meta = item.props.get("metadata")
    return str(meta["pacOwnerId"]) if isinstance(meta, dict) and meta.get("pacOwnerId") else None


def _artefact(build: Build, kind: str, name: str) -> Any:
    group = {"definition": build.definitions, "initiative": build.initiatives, "assignment": build.assignments,
             "exemption": build.exemptions}[kind]
    return group.get(name)


def differences(kind: str, source: dict[str, Any], built: dict[str, Any], leave: set[str]) -> list[Any]:
    """Field differences as `policygen plan` sees them, minus metadata keys left to an engine (and
    `properties.version` when the source has none: policygen always versions what it writes)."""
    def strip(body: dict[str, Any], version: bool) -> dict[str, Any]:
        props = dict(body.get("properties") or {})
        if isinstance(props.get("metadata"), dict):
            props["metadata"] = {k: v for k, v in props["metadata"].items() if k not in leave}
        if not version:
            props.pop("version", None)
        return {**body, "properties": props}

    versioned = "version" in (source.get("properties") or {})
    if kind == "exemption":
        a, b = strip(source, versioned)["properties"], strip(built, versioned)["properties"]
        return diffing.field_diffs(lift.clean(a), lift.clean(b))
    return diffing.compare(kind, strip(source, versioned), strip(built, versioned))


def import_estate(estate: Estate, name: str, *, adopt: bool = False, owner_id: str | None = None) -> Report:
    """Turn an estate into pack files (in `Report.files`) and say what was lifted and what differs."""
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,62}", name):
        raise InputError(f"pack name {name!r}: use lower-case letters, digits and '-' (at most 63)")
    return Importer(estate, name, adopt=adopt, owner_id=owner_id).run()
