"""The check machinery: verdicts, diagnoses, delegation, serialisation across processes."""

from __future__ import annotations

import numpy as np
import pytest

from lrcourse.checks import check_gd_step
from lrcourse.checks._core import (
    Delegation,
    MutatedInput,
    Raised,
    collect,
    decode,
    encode,
    exercise,
    report,
    tripwire,
)


def good_gd_step(theta, grad, lr):
    return theta - lr * grad


def test_a_right_function_passes_and_says_so(capsys):
    check_gd_step(good_gd_step)
    assert "gd_step: 3 cases pass" in capsys.readouterr().out


def test_prints_inside_the_learners_function_do_not_break_the_check(capsys):
    def chatty(theta, grad, lr):
        print("debugging", theta)
        return theta - lr * grad

    check_gd_step(chatty)
    check_gd_step(chatty, seed=11, hidden=True)


def test_a_failure_names_the_case_and_shows_expected_and_obtained():
    with pytest.raises(AssertionError) as err:
        check_gd_step(lambda theta, grad, lr: theta + lr * grad)
    text = str(err.value)
    assert "Case 1 of 3: theta=2.0, grad=0.5, lr=0.1" in text
    assert "expected: 1.95" in text and "obtained: 2.05" in text
    assert "sign is flipped" in text


def test_a_hidden_failure_describes_the_case_without_its_inputs():
    def zero_d_breaks(theta, grad, lr):
        if np.ndim(theta) == 0 and isinstance(theta, np.ndarray):
            return None
        return theta - lr * grad

    with pytest.raises(AssertionError) as err:
        check_gd_step(zero_d_breaks, seed=3, hidden=True)
    text = str(err.value)
    assert "A hidden test case (0-d arrays) failed" in text
    assert "expected:" not in text and "1.5" not in text


def test_an_exception_in_the_learners_code_is_reported_not_raised():
    def broken(theta, grad, lr):
        raise ZeroDivisionError("oops")

    with pytest.raises(AssertionError, match="your function raised ZeroDivisionError: oops"):
        check_gd_step(broken)


def test_changing_an_input_in_place_is_diagnosed():
    def in_place(theta, grad, lr):
        theta -= lr * grad
        return theta

    with pytest.raises(AssertionError, match="changed an input array in place"):
        check_gd_step(in_place)


def test_calling_the_reference_is_caught_even_under_another_name():
    from lrcourse.optimizers import sgd_step as renamed

    def delegating(theta, grad, lr):
        return renamed(np.asarray(theta, float), np.asarray(grad, float), lr=lr)[0]

    with pytest.raises(AssertionError, match="calls lrcourse.optimizers.sgd_step"):
        check_gd_step(delegating)


def test_the_tripwire_restores_the_reference_afterwards():
    from lrcourse.optimizers import sgd_step

    code = sgd_step.__code__
    with tripwire(["lrcourse.optimizers.sgd_step"]) as calls:
        sgd_step(np.zeros(2), np.ones(2), lr=0.1)
    assert calls == ["lrcourse.optimizers.sgd_step"]
    assert sgd_step.__code__ is code
    assert np.allclose(sgd_step(np.zeros(2), np.ones(2), lr=0.1)[0], -0.1)


def test_patching_numpy_allclose_does_not_fool_the_comparison(monkeypatch):
    monkeypatch.setattr(np, "allclose", lambda *a, **k: True)
    monkeypatch.setattr(np, "isclose", lambda a, b, **k: np.ones(np.shape(a), bool))
    with pytest.raises(AssertionError):
        check_gd_step(lambda theta, grad, lr: theta)


@pytest.mark.parametrize(
    "value",
    [
        1.5, 7, -0.0, float("inf"), float("nan"), "text", None, True,
        np.arange(6.0).reshape(2, 3), np.array(3), np.float32(2.5),
        (1.0, np.ones(2)), [1, [2, 3]], {"a": 1.0, "b": np.zeros(1)},
        Raised("ValueError", "bad"), Delegation("lrcourse.x.y"), MutatedInput(),
    ],
)
def test_outputs_survive_the_trip_between_processes(value):
    import json

    back = decode(json.loads(json.dumps(encode(value))))
    if isinstance(value, np.ndarray):
        assert back.dtype == value.dtype and np.array_equal(back, value)
    elif isinstance(value, float) and np.isnan(value):
        assert np.isnan(back)
    elif isinstance(value, tuple | list | dict):
        assert type(back) is type(value)
    else:
        assert back == value


def test_objects_that_are_not_plain_data_decode_as_an_error():
    class Weird:
        pass

    assert isinstance(decode(encode(Weird())), Raised)


def test_decoding_never_unpickles():
    import base64
    import io
    import pickle

    buf = io.BytesIO()
    np.save(buf, np.array([object()], dtype=object), allow_pickle=True)
    data = {"__ndarray__": base64.b64encode(buf.getvalue()).decode()}
    with pytest.raises(ValueError):
        decode(data)
    assert pickle  # the module is imported only to show what is not used


def test_report_of_collected_outputs_matches_the_in_kernel_verdict():
    ex = exercise("gd_step")
    outputs = collect(ex, lambda t, g, a: t + a * g, seed=0, hidden=False)
    assert "sign is flipped" in report(ex, outputs)
    assert report(ex, collect(ex, good_gd_step)) is None
