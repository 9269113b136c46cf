"""Shared strategies for the bag tests: random data and random partitionings."""

from hypothesis import strategies as st

ints = st.lists(st.integers(-50, 50), max_size=40)
npartitions = st.integers(1, 7)
words = st.lists(st.sampled_from(["apple", "pear", "fig", "kiwi", "plum", "lime"]), max_size=40)
