"""A stand-in for the azurerm provider: main.tf with every azurerm resource rewritten to the built-in
`terraform_data` resource (attributes and dynamic blocks become its `input` object), so `terraform apply`
runs offline and proves the wiring: for_each keys, references between resources, lookups, dependencies."""

from __future__ import annotations

import re

_RESOURCE = re.compile(r'^resource "azurerm_(\w+)" "(\w+)" \{$')
_DYNAMIC = re.compile(r'^  dynamic "(\w+)" \{$')
_REF = re.compile(r"\bazurerm_(\w+)\.(\w+)\b")


def rename(text: str) -> str:
    return _REF.sub(lambda m: f"terraform_data.{m[1]}_{m[2]}", text)


def shadow(main_tf: str) -> str:
    lines, out, i = main_tf.splitlines(), [], 0
    while i < len(lines):
        match = _RESOURCE.match(lines[i])
        if not match:
            out.append(rename(lines[i]))
            i += 1
            continue
        body, i = [], i + 1
        while lines[i] != "}":
            body.append(lines[i])
            i += 1
        i += 1
        meta, attrs, j = [], [], 0
        while j < len(body):
            line = body[j]
            dyn = _DYNAMIC.match(line)
            if dyn:
                name, iterator, each, fields = dyn[1], dyn[1], "", []
                j += 1
                while body[j] != "  }":
                    text = body[j].strip()
                    if text.startswith("for_each"):
                        each = text.split("=", 1)[1].strip()
                    elif text.startswith("iterator"):
                        iterator = text.split("=", 1)[1].strip()
                    elif text not in ("content {", "}"):
                        fields.append(text)
                    j += 1
                j += 1
                inner = ", ".join(re.sub(rf"\b{iterator}\.value\b", f"{iterator}_value", f) for f in fields)
                attrs.append(f"{name} = [for {iterator}_key, {iterator}_value in {rename(each)} : {{ {inner} }}]")
                continue
            text = line.strip()
            if text.startswith(("for_each", "depends_on")):
                meta.append("  " + rename(text))
            elif text:
                attrs.append(rename(text))
            j += 1
        out.append(f'resource "terraform_data" "{match[1]}_{match[2]}" {{')
        out += meta + ["  input = {"] + [f"    {a}" for a in attrs] + ["  }", "}"]
    return "\n".join(out) + "\n"
