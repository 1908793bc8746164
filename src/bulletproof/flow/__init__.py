"""Each command as a composition of the stages, returning one frozen result (flow/results.py)."""

from bulletproof.flow.setup import Outcome, choose_target, locked_run, setup, verify_only

__all__ = ["Outcome", "choose_target", "locked_run", "setup", "verify_only"]
