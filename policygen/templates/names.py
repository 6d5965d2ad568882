"""Resource ids from a type and a name, as ARM composes them (Learn, template-functions-resource#resourceid,
child-resource-name-type)."""

from __future__ import annotations


class TemplateError(Exception):
    """A template that cannot be deployed (ARM's InvalidTemplate / DeploymentFailed)."""

    cause: str | None = None  # the innermost reason, when expressions nest (variables of variables)


def child_type_name(parent_type: str, parent_name: str, rtype: str, name: str) -> tuple[str, str]:
    """A child declared in its parent's `resources`: a single-segment type and name composed with the parent's
    (Learn, child-resource-name-type); a full type (with its namespace) and full name are taken as they are."""
    full_type = rtype if "/" in rtype else f"{parent_type}/{rtype}"
    if "/" not in rtype and "/" in name:
        raise TemplateError(f"a child resource declared in its parent takes a single-segment name, not '{name}'")
    needed = len(full_type.split("/")) - 1
    segments = name.strip("/").split("/")
    if len(segments) >= needed:
        return full_type, name
    return full_type, "/".join([*parent_name.split("/")[: needed - len(segments)], *segments])


def split_type_name(text: str) -> tuple[str, ...]:
    """`Microsoft.Storage/storageAccounts/sa/blobServices/default` → (type, 'sa', 'default')."""
    parts = text.strip("/").split("/")
    ns, rest = parts[0], parts[1:]
    types = [ns] + rest[0::2]
    return ("/".join(types), *rest[1::2])


def resource_path(rtype: str, name: str) -> str:
    """`Microsoft.Storage/storageAccounts/blobServices` + `sa/default` → the id tail after /providers/."""
    tsegs = rtype.strip("/").split("/")
    nsegs = [n for n in name.strip("/").split("/") if n != ""]
    path = [tsegs[0]]
    ni = 0
    for t in tsegs[1:]:
        if ni >= len(nsegs):
            raise TemplateError(f"the resource name '{name}' has too few segments for type '{rtype}'")
        if t.lower() == "providers":
            path += ["providers", nsegs[ni]]
        else:
            path += [t, nsegs[ni]]
        ni += 1
    if ni != len(nsegs):
        raise TemplateError(f"the resource name '{name}' has too many segments for type '{rtype}'")
    return "/".join(path)
