"""Cross-check: lrcourse.optimizers equals torch.optim (2.13, single-tensor, float64).

Every optimizer and every option runs 130 steps on random gradients with random (seeded)
hyperparameters, side by side with torch; parameters and state must agree to ~1e-12.
"""

from __future__ import annotations

import inspect
import math
import warnings
import zlib

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from lrcourse import optimizers as opt  # noqa: E402

STEPS = 130
RTOL = 1e-12
SHAPES = [(), (5,), (2, 3, 2)]
TORCH_CLASS = {
    "sgd": torch.optim.SGD,
    "adagrad": torch.optim.Adagrad,
    "rmsprop": torch.optim.RMSprop,
    "adadelta": torch.optim.Adadelta,
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "nadam": torch.optim.NAdam,
}
OURS = {
    "sgd": (opt.SGD, opt.sgd_step),
    "adagrad": (opt.Adagrad, opt.adagrad_step),
    "rmsprop": (opt.RMSprop, opt.rmsprop_step),
    "adadelta": (opt.Adadelta, opt.adadelta_step),
    "adam": (opt.Adam, opt.adam_step),
    "adamw": (opt.AdamW, opt.adamw_step),
    "nadam": (opt.NAdam, opt.nadam_step),
}
# torch arguments that choose an implementation, not the maths
IMPLEMENTATION_ONLY = {"foreach", "capturable", "differentiable", "fused"}


@pytest.fixture(autouse=True)
def float64_default():
    # torch keeps its step counters in the default dtype: float32 would round them.
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(previous)


def _draw(option: str, rng: np.random.Generator):
    """A random valid value for one hyperparameter (or True for a flag)."""
    draws = {
        "lr": lambda: 10 ** rng.uniform(-4, -1),
        "momentum": lambda: rng.uniform(0.5, 0.99),
        "dampening": lambda: rng.uniform(0.05, 0.9),
        "weight_decay": lambda: 10 ** rng.uniform(-3, -0.5),
        "lr_decay": lambda: 10 ** rng.uniform(-3, -0.5),
        "initial_accumulator_value": lambda: rng.uniform(0.01, 1.0),
        "eps": lambda: 10 ** rng.uniform(-10, -4),
        "alpha": lambda: rng.uniform(0.8, 0.999),
        "rho": lambda: rng.uniform(0.3, 0.99),
        "betas": lambda: (rng.uniform(0.3, 0.95), rng.uniform(0.9, 0.9999)),
        "momentum_decay": lambda: 10 ** rng.uniform(-3, -1),
    }
    return draws[option]() if option in draws else True


# (optimizer, options switched on or drawn at random); "lr" is always drawn.
CASES = [
    ("sgd", ()),
    ("sgd", ("momentum",)),
    ("sgd", ("momentum", "dampening")),
    ("sgd", ("momentum", "nesterov")),
    ("sgd", ("weight_decay",)),
    ("sgd", ("maximize",)),
    ("sgd", ("momentum", "nesterov", "weight_decay", "maximize")),
    ("sgd", ("momentum", "dampening", "weight_decay")),
    ("adagrad", ()),
    ("adagrad", ("lr_decay",)),
    ("adagrad", ("initial_accumulator_value",)),
    ("adagrad", ("eps", "weight_decay")),
    ("adagrad", ("maximize", "lr_decay", "initial_accumulator_value", "weight_decay")),
    ("rmsprop", ()),
    ("rmsprop", ("alpha", "eps")),
    ("rmsprop", ("centered",)),
    ("rmsprop", ("momentum",)),
    ("rmsprop", ("centered", "momentum")),
    ("rmsprop", ("weight_decay", "maximize")),
    ("rmsprop", ("alpha", "centered", "momentum", "weight_decay", "maximize")),
    ("adadelta", ()),
    ("adadelta", ("rho", "eps")),
    ("adadelta", ("weight_decay",)),
    ("adadelta", ("maximize", "rho", "weight_decay")),
    ("adam", ()),
    ("adam", ("betas", "eps")),
    ("adam", ("amsgrad",)),
    ("adam", ("weight_decay",)),
    ("adam", ("maximize",)),
    ("adam", ("betas", "amsgrad", "weight_decay", "maximize")),
    ("adamw", ()),
    ("adamw", ("weight_decay",)),
    ("adamw", ("amsgrad", "betas")),
    ("adamw", ("maximize", "weight_decay", "amsgrad")),
    ("nadam", ()),
    ("nadam", ("betas", "eps")),
    ("nadam", ("momentum_decay",)),
    ("nadam", ("weight_decay",)),
    ("nadam", ("weight_decay", "decoupled_weight_decay")),
    ("nadam", ("maximize", "momentum_decay", "weight_decay", "decoupled_weight_decay")),
]


def _case_id(case):
    name, options = case
    return f"{name}[{'+'.join(options) or 'defaults'}]"


def _seed(text: str) -> int:
    """A seed from a case's name, the same in every run (str hashes are salted per process)."""
    return zlib.crc32(text.encode())


def _hyper(name: str, options, rng) -> dict:
    hyper = {"lr": _draw("lr", rng)}
    if name == "adadelta":
        hyper["lr"] = rng.uniform(0.1, 1.0)  # Adadelta's lr scales a self-sized step
    for option in options:
        hyper[option] = _draw(option, rng)
    return hyper


def _torch_kwargs(hyper: dict) -> dict:
    return {**hyper, "foreach": False}


def _gradients(rng, shapes, steps):
    """Random gradients whose coordinates differ in scale by up to 1e5 (adaptivity matters)."""
    scales = [10 ** rng.uniform(-3, 2, size=shape) for shape in shapes]
    return [[s * rng.standard_normal(s.shape) for s in scales] for _ in range(steps)]


def _assert_close(ours, theirs, what):
    theirs = np.asarray(theirs, dtype=np.float64)
    scale = max(1.0, float(np.max(np.abs(theirs), initial=0.0)))
    np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=RTOL * 1e-2 * scale, err_msg=what)


def _torch_state_value(value):
    return value.detach().numpy() if torch.is_tensor(value) else value


def _compare_state(ours: dict, theirs: dict, what: str):
    theirs = {k: v for k, v in theirs.items() if v is not None}
    ours = {k: v for k, v in ours.items() if v is not None}
    assert set(ours) == set(theirs), f"{what}: state names {sorted(ours)} != {sorted(theirs)}"
    for key, value in theirs.items():
        _assert_close(np.asarray(ours[key], dtype=np.float64), _torch_state_value(value),
                      f"{what}: state {key!r}")


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_class_and_pure_rule_equal_torch_over_130_steps(case):
    name, options = case
    rng = np.random.default_rng(_seed(_case_id(case)))
    hyper = _hyper(name, options, rng)
    cls, rule = OURS[name]
    params = [rng.standard_normal(shape) for shape in SHAPES]
    pure_params = [p.copy() for p in params]
    pure_states = [None] * len(params)
    tparams = [torch.tensor(p.copy(), requires_grad=True) for p in params]
    ours = cls(params, **hyper)
    theirs = TORCH_CLASS[name](tparams, **_torch_kwargs(hyper))
    for t, grads in enumerate(_gradients(rng, SHAPES, STEPS), start=1):
        ours.step(grads)
        for k, g in enumerate(grads):
            pure_params[k], pure_states[k] = rule(pure_params[k], g, pure_states[k], **hyper)
            tparams[k].grad = torch.tensor(g)
        theirs.step()
        for k in range(len(params)):
            reference = tparams[k].detach().numpy()
            _assert_close(params[k], reference, f"{case}: class, step {t}, param {k}")
            _assert_close(pure_params[k], reference, f"{case}: pure rule, step {t}, param {k}")
    for k, p in enumerate(tparams):
        _compare_state(ours.state[k], theirs.state[p], f"{case}: class, param {k}")
        pure = {f: getattr(pure_states[k], f) for f in pure_states[k].__dataclass_fields__}
        _compare_state(pure, theirs.state[p], f"{case}: pure rule, param {k}")


def _assert_same_non_finite(ours, theirs, what):
    """Equal where finite (to RTOL), and NaN, +inf and -inf at the same places."""
    theirs = np.asarray(theirs, dtype=np.float64)
    for kind, test in [("NaN", np.isnan), ("+inf", np.isposinf), ("-inf", np.isneginf)]:
        np.testing.assert_array_equal(test(ours), test(theirs), err_msg=f"{what}: {kind} places")
    finite = np.isfinite(theirs)
    _assert_close(ours[finite], theirs[finite], what)


NON_FINITE = {"nan": np.nan, "inf": np.inf, "-inf": -np.inf}


@pytest.mark.parametrize("value", sorted(NON_FINITE))
@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_class_applies_a_non_finite_gradient_like_torch(case, value):
    # torch.optim does not screen gradients: a NaN or an inf is applied and spreads. Our
    # classes must give the same numbers (and raise or warn nothing), step after step.
    name, options = case
    rng = np.random.default_rng(_seed(f"{_case_id(case)}/{value}"))
    hyper = _hyper(name, options, rng)
    cls, _ = OURS[name]
    shape = (3, 4)
    param = rng.standard_normal(shape)
    tparam = torch.tensor(param.copy(), requires_grad=True)
    ours = cls([param], **hyper)
    theirs = TORCH_CLASS[name]([tparam], **_torch_kwargs(hyper))
    for t, (grad,) in enumerate(_gradients(rng, [shape], 6)):
        if t == 2:
            grad[0, 1] = NON_FINITE[value]  # one bad coordinate at the third step
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            ours.step([grad])
        tparam.grad = torch.tensor(grad)
        theirs.step()
        _assert_same_non_finite(param, tparam.detach().numpy(), f"{case}: step {t}")
    assert not np.isfinite(param[0, 1])
    for key, value_ in theirs.state[tparam].items():
        if torch.is_tensor(value_) and value_.ndim:
            _assert_same_non_finite(ours.state[0][key], value_.detach().numpy(),
                                    f"{case}: state {key!r}")


def _run_with_schedule(name, hyper, set_hyper, steps=STEPS, seed=0):
    """Run ours and torch's with ``set_hyper(group, t)`` called before every step."""
    rng = np.random.default_rng(seed)
    cls, _ = OURS[name]
    params = [rng.standard_normal(shape) for shape in SHAPES]
    tparams = [torch.tensor(p.copy(), requires_grad=True) for p in params]
    ours = cls(params, **hyper)
    theirs = TORCH_CLASS[name](tparams, **_torch_kwargs(hyper))
    for t, grads in enumerate(_gradients(rng, SHAPES, steps)):
        set_hyper(ours.param_groups[0], t)
        set_hyper(theirs.param_groups[0], t)
        ours.step(grads)
        for p, g in zip(tparams, grads, strict=True):
            p.grad = torch.tensor(g)
        theirs.step()
        for k, p in enumerate(tparams):
            _assert_close(params[k], p.detach().numpy(), f"{name}: step {t}, param {k}")
    return params


def _cosine(t, lr_max=1e-1, lr_min=1e-4, period=40):
    return lr_min + 0.5 * (lr_max - lr_min) * (1 + math.cos(math.pi * (t % period) / period))


def test_adamw_decay_uses_the_scheduled_lr_like_torch():
    def schedule(group, t):
        group["lr"] = _cosine(t)

    final = _run_with_schedule("adamw", {"lr": 0.1, "weight_decay": 0.3}, schedule)
    # The decay must actually depend on the schedule: a constant lr ends elsewhere.
    constant = _run_with_schedule("adamw", {"lr": 0.1, "weight_decay": 0.3}, lambda g, t: None)
    assert not np.allclose(final[1], constant[1])


@pytest.mark.parametrize("name", sorted(OURS))
def test_every_optimizer_follows_a_changing_lr_like_torch(name):
    def schedule(group, t):
        group["lr"] = _cosine(t)

    _run_with_schedule(name, {"lr": 0.1}, schedule, steps=60)


def test_sgd_follows_a_momentum_cycle_like_torch():
    def one_cycle_momentum(group, t):
        group["lr"] = _cosine(t)
        group["momentum"] = 0.95 - 0.1 * math.sin(math.pi * t / 60) ** 2

    _run_with_schedule("sgd", {"lr": 0.1, "momentum": 0.9, "nesterov": True},
                       one_cycle_momentum)


def test_adam_follows_a_beta1_cycle_like_torch():
    def one_cycle_beta1(group, t):
        group["betas"] = (0.95 - 0.1 * math.sin(math.pi * t / 60) ** 2, 0.999)

    _run_with_schedule("adam", {"lr": 0.01}, one_cycle_beta1)


@pytest.mark.parametrize("name", sorted(OURS))
def test_param_groups_with_their_own_hyperparameters_equal_torch(name):
    rng = np.random.default_rng(7)
    cls, _ = OURS[name]
    overrides = {
        "sgd": {"momentum": 0.5, "weight_decay": 0.01},
        "adagrad": {"lr_decay": 0.01},
        "rmsprop": {"centered": True, "momentum": 0.3},
        "adadelta": {"rho": 0.5},
        "adam": {"betas": (0.8, 0.99), "amsgrad": True},
        "adamw": {"weight_decay": 0.1},
        "nadam": {"momentum_decay": 0.01, "weight_decay": 0.01},
    }[name]
    params = [rng.standard_normal(shape) for shape in SHAPES]
    tparams = [torch.tensor(p.copy(), requires_grad=True) for p in params]

    def groups(ps):
        return [{"params": [ps[0]], "lr": 1e-4}, {"params": ps[1:], **overrides}]

    ours = cls(groups(params), lr=0.05)
    theirs = TORCH_CLASS[name](groups(tparams), lr=0.05, foreach=False)
    for grads in _gradients(rng, SHAPES, STEPS):
        ours.step(grads)
        for p, g in zip(tparams, grads, strict=True):
            p.grad = torch.tensor(g)
        theirs.step()
    for k, p in enumerate(tparams):
        _assert_close(params[k], p.detach().numpy(), f"{name}: param {k}")
        _compare_state(ours.state[k], theirs.state[p], f"{name}: param {k}")


@pytest.mark.parametrize("name", sorted(OURS))
def test_defaults_equal_torch_signature_defaults(name):
    cls, rule = OURS[name]
    torch_params = inspect.signature(TORCH_CLASS[name].__init__).parameters
    torch_defaults = {
        k: p.default for k, p in torch_params.items()
        if k not in IMPLEMENTATION_ONLY and k not in ("self", "params")
    }
    if name == "adam":
        # torch.optim.Adam(decoupled_weight_decay=True) is AdamW: ours keeps it in AdamW.
        assert torch_defaults.pop("decoupled_weight_decay") is False
    for ours in (cls.__init__, rule):
        ours_defaults = {
            k: p.default for k, p in inspect.signature(ours).parameters.items()
            if k not in ("self", "params", "param", "grad", "state")
        }
        assert ours_defaults == torch_defaults, f"{ours.__qualname__}"


@pytest.mark.parametrize("name", sorted(OURS))
def test_positional_hyperparameters_come_in_torch_order(name):
    # torch's positional list goes on with implementation switches (foreach...), after which
    # ours are keyword-only: Opt(params, 0.1, 0.9) means the same thing in both.
    cls, _ = OURS[name]
    ours = [
        k for k, p in inspect.signature(cls.__init__).parameters.items()
        if p.kind is p.POSITIONAL_OR_KEYWORD
    ]
    theirs = []
    for k, p in inspect.signature(TORCH_CLASS[name].__init__).parameters.items():
        if k in IMPLEMENTATION_ONLY or p.kind is not p.POSITIONAL_OR_KEYWORD:
            break
        theirs.append(k)
    assert ours == theirs


def test_torch_default_cpu_implementation_is_single_tensor():
    # What the benchmark and these tests compare against: on CPU, foreach=None resolves to
    # the single-tensor loop (torch's foreach kernels need an accelerator).
    from torch.optim.optimizer import _default_to_fused_or_foreach

    fused, foreach = _default_to_fused_or_foreach([torch.zeros(3)], differentiable=False)
    assert (fused, foreach) == (False, False)
