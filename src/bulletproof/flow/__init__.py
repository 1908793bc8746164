"""Each command as a composition of the stages, under the project's run lock where it changes
anything, returning one frozen result (flow/results.py) that `commands` renders."""
