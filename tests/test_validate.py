"""The shared argument checks: accepted values come back as plain Python numbers, rejected ones
raise TypeError (wrong type) or ValueError (wrong value) with one sentence; expectations by hand."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from gradstep.validate import boolean, integer, real, unit_interval

# -- real ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, 0.0),
        (3, 3.0),
        (-2.5, -2.5),
        (np.float32(0.5), 0.5),
        (np.float64(1e-300), 1e-300),
        (np.int64(7), 7.0),
        (np.uint8(255), 255.0),
        (Fraction(1, 4), 0.25),
    ],
)
def test_real_takes_python_and_numpy_numbers_and_returns_a_float(value, expected):
    got = real("x", value)
    assert type(got) is float
    assert got == expected


@pytest.mark.parametrize("value", [True, False, np.bool_(True), "0.5", None, [0.5], np.array(0.5)])
def test_real_rejects_what_is_not_a_number_with_type_error(value):
    with pytest.raises(TypeError, match=r"^x must be a finite number, got .*\.$"):
        real("x", value)


def test_real_rejects_nan_always():
    for kwargs in ({}, {"finite": False}, {"finite": False, "coerce": True}, {"low": 0.0}):
        with pytest.raises(ValueError, match="got nan"):
            real("x", math.nan, **kwargs)
    with pytest.raises(ValueError, match=r"^x must be a number, got np\.float32\(nan\)\.$"):
        real("x", np.float32("nan"), finite=False)


def test_real_infinity_only_when_finite_is_false():
    with pytest.raises(ValueError, match=r"^x must be a finite number, got inf\.$"):
        real("x", math.inf)
    with pytest.raises(ValueError, match=r"^x must be a finite number >= 0, got inf\.$"):
        real("x", math.inf, 0.0)
    assert real("x", math.inf, finite=False) == math.inf
    assert real("x", -math.inf, finite=False) == -math.inf
    assert real("lr", math.inf, 0.0, finite=False) == math.inf
    with pytest.raises(ValueError, match=r"^lr must be a number >= 0, got -inf\.$"):
        real("lr", -math.inf, 0.0, finite=False)
    with pytest.raises(ValueError, match=r"^x must be a number in \[0, 1\], got inf\.$"):
        real("x", math.inf, 0.0, 1.0, finite=False)


def test_real_closed_and_open_ends():
    assert real("x", 0.0, 0.0) == 0.0
    assert real("x", -0.0, 0.0) == 0.0
    assert real("x", 1.0, 0.0, 1.0) == 1.0
    assert real("x", 1e-300, 0.0, low_open=True) == 1e-300
    assert real("x", np.nextafter(1.0, 0.0), 0.0, 1.0, high_open=True) < 1.0
    with pytest.raises(ValueError, match=r"^x must be a finite number > 0, got 0\.0\.$"):
        real("x", 0.0, 0.0, low_open=True)
    with pytest.raises(ValueError, match=r"^x must be a finite number >= 0, got -1e-300\.$"):
        real("x", -1e-300, 0.0)
    with pytest.raises(ValueError, match=r"^x must be a number in \[0, 1\), got 1\.$"):
        real("x", 1, 0.0, 1.0, high_open=True)
    with pytest.raises(ValueError, match=r"^x must be a number in \(0, 1\], got 0\.$"):
        real("x", 0, 0.0, 1.0, low_open=True)
    with pytest.raises(ValueError, match=r"^x must be a number in \[0, 1\], got 1\.5\.$"):
        real("x", 1.5, 0.0, 1.0)


def test_real_upper_bound_only():
    assert real("x", -5, high=2.0) == -5.0
    assert real("x", 2, high=2.0) == 2.0
    with pytest.raises(ValueError, match=r"^x must be a finite number <= 2, got 3\.$"):
        real("x", 3, high=2.0)
    with pytest.raises(ValueError, match=r"^x must be a number < 0\.5, got 0\.5\.$"):
        real("x", 0.5, high=0.5, high_open=True, finite=False)


def test_real_bounds_print_compactly():
    with pytest.raises(ValueError, match=r"^eps must be a finite number >= 0\.0001, got 0\.$"):
        real("eps", 0, 1e-4)


def test_real_coerce_takes_what_float_takes_but_not_bools():
    assert real("norm_type", "inf", finite=False, coerce=True) == math.inf
    assert real("max_norm", "1.5", coerce=True) == 1.5
    assert real("max_norm", np.array(0.25), coerce=True) == 0.25
    with pytest.raises(TypeError, match=r"^max_norm must be a number, got 'big'\.$"):
        real("max_norm", "big", finite=False, coerce=True)
    with pytest.raises(TypeError, match=r"^c must be a number, got True\.$"):
        real("c", True, finite=False, coerce=True)
    with pytest.raises(TypeError, match=r"^c must be a number, got \[1\.0\]\.$"):
        real("c", [1.0], finite=False, coerce=True)
    with pytest.raises(ValueError, match=r"^c must be a number, got 'nan'\.$"):
        real("c", "nan", finite=False, coerce=True)


def test_a_long_value_is_shortened_in_the_message():
    with pytest.raises(TypeError) as info:
        real("lr", np.zeros(10_000))
    message = str(info.value)
    assert message.startswith("lr must be a finite number, got array(")
    assert len(message) < 100


# -- integer ---------------------------------------------------------------------------------------


def test_integer_takes_python_and_numpy_ints_and_returns_an_int():
    got = integer("n", np.int64(5), 1)
    assert type(got) is int and got == 5
    assert integer("n", 0, 0) == 0
    assert integer("n", -7) == -7
    assert integer("last_epoch", -1, -1) == -1


@pytest.mark.parametrize("value", [True, np.bool_(False), 2.0, np.float64(2), "2", None, 2.5])
def test_integer_rejects_non_ints_with_type_error(value):
    with pytest.raises(TypeError, match=r"^n must be a positive int, got .*\.$"):
        integer("n", value, 1)


@pytest.mark.parametrize(
    ("low", "value", "message"),
    [
        (0, -1, "n must be a non-negative int, got -1."),
        (1, 0, "n must be a positive int, got 0."),
        (-1, -2, "n must be an int >= -1, got -2."),
        (5, np.int32(4), "n must be an int >= 5, got np.int32(4)."),
    ],
)
def test_integer_below_low_is_a_value_error(low, value, message):
    with pytest.raises(ValueError) as info:
        integer("n", value, low)
    assert str(info.value) == message


def test_integer_without_low_names_just_an_int():
    with pytest.raises(TypeError) as info:
        integer("n", 1.5)
    assert str(info.value) == "n must be an int, got 1.5."


# -- boolean ---------------------------------------------------------------------------------------


def test_boolean_takes_python_and_numpy_bools():
    for value, expected in [(True, True), (False, False), (np.bool_(True), True)]:
        got = boolean("flag", value)
        assert type(got) is bool and got is expected


@pytest.mark.parametrize("value", [0, 1, "yes", None, np.int64(1), 1.0])
def test_boolean_rejects_everything_else(value):
    with pytest.raises(TypeError) as info:
        boolean("amsgrad", value)
    assert str(info.value) == f"amsgrad must be True or False, got {value!r}."


# -- unit_interval ---------------------------------------------------------------------------------


def test_unit_interval_is_zero_inclusive_one_exclusive():
    assert unit_interval("b", 0) == 0.0
    assert unit_interval("b", 0.999) == 0.999
    assert unit_interval("b", np.float32(0.5)) == 0.5
    for bad in (1, 1.0, -1e-12, math.inf, math.nan):
        with pytest.raises(ValueError, match=r"^b must be a number in \[0, 1\), got "):
            unit_interval("b", bad)
    with pytest.raises(TypeError, match=r"^b must be a number in \[0, 1\), got \(0\.9,\)\.$"):
        unit_interval("b", (0.9,))
