#!/usr/bin/env python3
"""The panel SDK's products build none of the server: run by the test command.

    python3 scripts/panel_sdk_graph_test.py

From the manifest (`swift package describe`) and the resolved graph (`swift package
show-dependencies`): the targets RelevoPanelKit and RelevoPanelClient reach, and the packages of
the products they use with everything those packages depend on. RelevoPanelKit must reach no
package but swift-crypto and swift-http-types (and what those use); neither product may reach
Relevo's server targets, GRDB, PostgresNIO or Hummingbird. A product the SDK starts to use must be
added to PRODUCT_PACKAGES below, so that it is checked too. (SwiftPM builds exactly the targets a
product reaches; docs/performance.md shows a clean build of RelevoPanelKit and what it compiled.)
"""
import json, os, subprocess, sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PRODUCT_PACKAGES = {"Crypto": "swift-crypto", "HTTPTypes": "swift-http-types", "AsyncHTTPClient": "async-http-client"}
SERVER_TARGETS = {"Relevo", "RelevoCLI", "RelevoSQLiteConfig"}
FORBIDDEN_PACKAGES = {"grdb.swift", "postgres-nio", "hummingbird"}
KIT_PACKAGES = {"swift-crypto", "swift-http-types"}


def swift_json(*arguments):
    return json.loads(subprocess.run(["swift", "package", *arguments], cwd=ROOT, check=True, capture_output=True, text=True).stdout)


manifest = swift_json("describe", "--type", "json")
graph = swift_json("show-dependencies", "--format", "json")
targets = {target["name"]: target for target in manifest["targets"]}


def below(package):
    """Every package `package` depends on, itself included."""
    found, stack = set(), [node for node in graph["dependencies"] if node["identity"] == package]
    while stack:
        node = stack.pop()
        if node["identity"] not in found:
            found.add(node["identity"])
            stack.extend(node.get("dependencies", []))
    return found


failures = []
for product in ["RelevoPanelKit", "RelevoPanelClient"]:
    reached, stack, packages = set(), [product], set()
    while stack:
        name = stack.pop()
        if name in reached:
            continue
        reached.add(name)
        stack.extend(targets[name].get("target_dependencies") or [])
        for used in targets[name].get("product_dependencies") or []:
            if used not in PRODUCT_PACKAGES:
                failures.append(f"{product}: {name} uses the product {used}, which this check does not know")
                continue
            packages |= below(PRODUCT_PACKAGES[used])
    if reached & SERVER_TARGETS:
        failures.append(f"{product} reaches the server targets {sorted(reached & SERVER_TARGETS)}")
    if packages & FORBIDDEN_PACKAGES:
        failures.append(f"{product} reaches the packages {sorted(packages & FORBIDDEN_PACKAGES)}")
    direct = {PRODUCT_PACKAGES.get(used) for name in reached for used in targets[name].get("product_dependencies") or []}
    if product == "RelevoPanelKit" and not direct <= KIT_PACKAGES:
        failures.append(f"RelevoPanelKit uses packages beyond {sorted(KIT_PACKAGES)}: {sorted(direct - KIT_PACKAGES)}")
    print(f"{product}: targets {sorted(reached)}; packages {sorted(packages)}")

for failure in failures:
    print("FAIL", failure)
print("the panel SDK builds none of the server" if not failures else f"{len(failures)} problems")
sys.exit(1 if failures else 0)
