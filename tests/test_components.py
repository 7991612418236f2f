"""Table entries read the library's defaults from the constructor, overlay the CLI-default
column, map config names to parameters, and build the component."""

from __future__ import annotations

import pytest

from gradstep.components import REQUIRED, Default, Entry, find, table


def make(a, b=2, *, c=(1, 2), d="x"):
    return {"a": a, "b": b, "c": c, "d": d}


def test_parameters_are_the_signatures_defaults_under_config_names():
    entry = Entry("m", make, rename={"bee": "b"})
    assert entry.parameters() == {"a": REQUIRED, "bee": 2, "c": (1, 2), "d": "x"}


def test_the_cli_default_column_overrides_the_library_default():
    entry = Entry("m", make, cli_defaults={"b": Default(5, "five is better here")})
    assert entry.parameters()["b"] == 2
    assert entry.defaults() == {"a": REQUIRED, "b": 5, "c": (1, 2), "d": "x"}


def test_build_maps_names_and_turns_lists_into_tuples_where_the_default_is_one():
    entry = Entry("m", make, rename={"bee": "b"})
    assert entry.build(1, bee=3, c=[4, 5], d="y") == {"a": 1, "b": 3, "c": (4, 5), "d": "y"}
    assert Entry("nothing", None).build() is None
    assert Entry("nothing", None).parameters() == {}


def test_a_cli_default_must_name_a_parameter():
    with pytest.raises(ValueError, match="cli_defaults names 'e', which make does not take"):
        Entry("m", make, cli_defaults={"e": Default(1, "x")})


def test_tables_reject_a_name_twice_and_find_by_alias_case_and_hyphen():
    one = Entry("leaky_relu", make, aliases=("lrelu",))
    entries = table(one, Entry("relu", make))
    assert list(entries) == ["leaky_relu", "relu"]
    assert find(entries, "Leaky-ReLU") is one and find(entries, "LRELU") is one
    assert find(entries, "elu") is None
    with pytest.raises(ValueError, match="'relu' names two entries"):
        table(Entry("relu", make), Entry("rectifier", make, aliases=("relu",)))
