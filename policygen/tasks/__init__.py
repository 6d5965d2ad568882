"""Tasks: orchestration of several stages for one command (`demo`, `impact`, `test`).

A task takes plain options, calls the stage APIs and returns data; it never prints. Where a task runs
long enough to show progress it calls back into an object the command passes in (a view).
"""
