"""Helpers shared by graphflow's tests: event builders (`graphflow.testing.events`) and cluster fixtures.

Nothing is imported here; import the submodule you need.
"""
