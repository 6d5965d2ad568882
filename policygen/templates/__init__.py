"""ARM templates expanded once, for every stage that reads them (issue #18: Azure's vocabulary lives once).

`expressions` evaluates template expressions in a deployment's context (parameters, variables with `copy`,
copyIndex, the deployment functions); `expand` places every resource of a template at its id (copy loops,
conditions, children, nested deployments, deployment scopes). `policygen check` keeps reference()/list*()
symbolic; the emulator resolves them against its store through a `Resolver` and deploys what is placed.
"""
