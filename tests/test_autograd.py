"""engine/autograd.py's Function: a derivative written by hand, as torch.autograd.Function,
run as PyTorch's tutorials write it (Legendre polynomial, ReLU, a linear layer) and checked
against PyTorch, central differences and second derivatives; its ctx; its errors."""
from __future__ import annotations

import math

import numpy as np
import pytest

import engine
from engine import Tensor
from engine.autograd import Function, gradcheck


def functions(torch):
    """The custom Functions of PyTorch's tutorials (and a two-output one), written once for
    `torch` = engine or torch."""
    class LegendrePolynomial3(torch.autograd.Function):  # "Learning PyTorch with Examples"
        @staticmethod
        def forward(ctx, input):
            ctx.save_for_backward(input)
            return 0.5 * (5 * input ** 3 - 3 * input)

        @staticmethod
        def backward(ctx, grad_output):
            input, = ctx.saved_tensors
            return grad_output * 1.5 * (5 * input ** 2 - 1)

    class MyReLU(torch.autograd.Function):
        @staticmethod
        def forward(ctx, input):
            ctx.save_for_backward(input)
            return input.clamp(min=0)

        @staticmethod
        def backward(ctx, grad_output):
            input, = ctx.saved_tensors
            grad_input = grad_output.clone()
            grad_input[input < 0] = 0
            return grad_input

    class LinearFunction(torch.autograd.Function):  # "Extending PyTorch", PyTorch 2's form
        @staticmethod
        def forward(input, weight, bias):
            output = input.mm(weight.t())
            if bias is not None:
                output += bias.unsqueeze(0).expand_as(output)
            return output

        @staticmethod
        def setup_context(ctx, inputs, output):
            input, weight, bias = inputs
            ctx.save_for_backward(input, weight, bias)

        @staticmethod
        def backward(ctx, grad_output):
            input, weight, bias = ctx.saved_tensors
            grad_input = grad_weight = grad_bias = None
            if ctx.needs_input_grad[0]:
                grad_input = grad_output.mm(weight)
            if ctx.needs_input_grad[1]:
                grad_weight = grad_output.t().mm(input)
            if bias is not None and ctx.needs_input_grad[2]:
                grad_bias = grad_output.sum(0)
            return grad_input, grad_weight, grad_bias

    class MulConstant(torch.autograd.Function):  # a number among the inputs
        @staticmethod
        def forward(ctx, tensor, constant):
            ctx.constant = constant
            return tensor * constant

        @staticmethod
        def backward(ctx, grad_output):
            return grad_output * ctx.constant, None

    class ExpAndSquare(torch.autograd.Function):  # two outputs, one saved for backward
        @staticmethod
        def forward(ctx, x):
            e = x.exp()
            ctx.save_for_backward(x, e)
            return e, x * x

        @staticmethod
        def backward(ctx, grad_e, grad_square):
            x, e = ctx.saved_tensors
            return grad_e * e + grad_square * 2 * x

    return {"legendre": (LegendrePolynomial3, 1), "relu": (MyReLU, 1),
            "linear": (LinearFunction, 3), "mul_constant": (MulConstant, 1),
            "exp_and_square": (ExpAndSquare, 1)}


INPUTS = {
    "legendre": lambda rng: [rng.normal(size=(3, 2))],
    "relu": lambda rng: [rng.normal(size=(4,))],
    "linear": lambda rng: [rng.normal(size=(3, 4)), rng.normal(size=(2, 4)), rng.normal(size=2)],
    "mul_constant": lambda rng: [rng.normal(size=(2, 3)), 2.5],
    "exp_and_square": lambda rng: [rng.normal(size=(3,))],
}


def _call(torch, name, arrays):
    fn, _ = functions(torch)[name]
    args = [torch.tensor(a, requires_grad=True, dtype=torch.float64)
            if isinstance(a, np.ndarray) else a for a in arrays]
    out = fn.apply(*args)
    outs = out if isinstance(out, tuple) else (out,)
    weights = [torch.tensor(np.linspace(0.5, 1.5, o.numel()).reshape(tuple(o.shape)),
                            dtype=torch.float64) for o in outs]
    loss = sum((o * w).sum() for o, w in zip(outs, weights))
    return args, outs, loss


@pytest.mark.parametrize("name", INPUTS)
def test_outputs_and_gradients_are_pytorchs(torch, name):
    arrays = INPUTS[name](np.random.default_rng(0))
    ours, our_outs, our_loss = _call(engine, name, arrays)
    theirs, their_outs, their_loss = _call(torch, name, arrays)
    for o, t in zip(our_outs, their_outs):
        np.testing.assert_allclose(o.detach().numpy(), t.detach().numpy(), rtol=1e-14)
    our_loss.backward()
    their_loss.backward()
    for x, t in zip(ours, theirs):
        if isinstance(x, Tensor):
            np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-13)


@pytest.mark.parametrize("name", INPUTS)
def test_gradients_match_central_differences(name):
    fn, _ = functions(engine)[name]
    args = [Tensor(a, requires_grad=True, dtype=np.float64) if isinstance(a, np.ndarray)
            else a for a in INPUTS[name](np.random.default_rng(1))]
    first = (lambda *xs: fn.apply(*xs)[0]) if name == "exp_and_square" else fn.apply
    assert gradcheck(first, args)  # every entry of the Jacobian
    if name == "exp_and_square":
        assert gradcheck(lambda *xs: fn.apply(*xs)[1], args)


@pytest.mark.parametrize("name", ["legendre", "linear", "exp_and_square"])
def test_a_backward_of_tensor_ops_differentiates_again(torch, name):
    """create_graph=True: the backward runs recorded, so second derivatives are PyTorch's."""
    arrays = INPUTS[name](np.random.default_rng(2))
    second = []
    for lib in (engine, torch):
        args, _, loss = _call(lib, name, arrays)
        tensors = [a for a in args if isinstance(a, lib.Tensor)]
        grads = lib.autograd.grad(loss, tensors, create_graph=True)
        total = sum((g * g).sum() for g in grads)
        second.append([None if h is None else h.detach().numpy()
                       for h in lib.autograd.grad(total, tensors, allow_unused=True)])
    for ours, theirs in zip(*second):
        if theirs is None:  # (linear's bias: its gradient does not depend on the inputs)
            assert ours is None
        else:
            np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_the_tutorials_legendre_fit_runs_as_on_pytorch(torch):
    """"Learning PyTorch with Examples": a + b P3(c + d x) fitted to sin(x) for 200 steps."""
    losses = []
    for lib in (engine, torch):
        fn, _ = functions(lib)["legendre"]
        x = lib.linspace(-math.pi, math.pi, 2000, dtype=lib.float64)
        y = lib.sin(x)
        a, b, c, d = (lib.full((), v, dtype=lib.float64, requires_grad=True)
                      for v in (0.0, -1.0, 0.0, 0.3))
        for _ in range(200):
            loss = (a + b * fn.apply(c + d * x) - y).pow(2).sum()
            loss.backward()
            with lib.no_grad():
                for p in (a, b, c, d):
                    p -= 5e-6 * p.grad
                    p.grad = None
        losses.append([loss.item(), b.item(), d.item()])
    np.testing.assert_allclose(losses[0], losses[1], rtol=1e-12)


def test_ctx_knows_which_inputs_need_a_gradient():
    seen = []

    class Probe(Function):
        @staticmethod
        def forward(ctx, a, b, k):
            seen.append(ctx.needs_input_grad)
            return a * b * k

        @staticmethod
        def backward(ctx, g):
            return g, g, None
    a, b = Tensor([1.0], requires_grad=True), Tensor([2.0])
    Probe.apply(a, b, 3.0)
    assert seen == [(True, False, False)]


def test_forward_runs_unrecorded_and_no_grad_gives_a_plain_tensor():
    recorded = []

    class Square(Function):
        @staticmethod
        def forward(ctx, x):
            y = x * x
            recorded.append(y.requires_grad)
            return y

        @staticmethod
        def backward(ctx, g):
            return g
    x = Tensor([3.0], requires_grad=True)
    y = Square.apply(x)
    assert recorded == [False] and y.requires_grad
    assert y.grad_fn.name() == "SquareBackward"  # as PyTorch names a custom Function's node
    with engine.no_grad():
        assert not Square.apply(x).requires_grad


def test_non_differentiable_outputs_leave_the_graph_and_unreached_grads_can_be_none():
    got = []

    class MaxAndIndex(Function):
        @staticmethod
        def forward(ctx, x):
            index = x.argmax()
            ctx.mark_non_differentiable(index)
            ctx.set_materialize_grads(False)
            ctx.save_for_backward(index)
            ctx.size = x.shape[0]
            return x.max(), index

        @staticmethod
        def backward(ctx, grad_max, grad_index):
            got.append(grad_index)
            index, = ctx.saved_tensors
            grad = engine.zeros(ctx.size, dtype=engine.float64)
            grad[index] = grad_max
            return grad
    x = Tensor([1.0, 5.0, 2.0], requires_grad=True, dtype=np.float64)
    top, index = MaxAndIndex.apply(x)
    assert not index.requires_grad and index.item() == 1
    top.backward()
    assert got == [None]
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 1.0, 0.0])


def test_a_backward_that_changes_its_gradient_in_place_changes_nothing_else():
    class Halved(Function):
        @staticmethod
        def forward(ctx, x):
            return x.clone()

        @staticmethod
        def backward(ctx, g):
            g *= 0.5  # in place, as some hand-written backwards do
            return g
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = Tensor([1.0, 2.0], requires_grad=True)
    (Halved.apply(x) + y).sum().backward()  # + hands x's branch and y the same gradient
    np.testing.assert_array_equal(y.grad.numpy(), [1.0, 1.0])
    np.testing.assert_array_equal(x.grad.numpy(), [0.5, 0.5])


class Identity(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.clone()

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return x  # the saved input itself


def test_a_gradient_that_is_a_saved_tensor_is_copied_into_grad():
    x = Tensor([1.0, 2.0], requires_grad=True)
    Identity.apply(x).sum().backward()
    x.grad.zero_()
    np.testing.assert_array_equal(x.numpy(), [1.0, 2.0])  # not the same array


def function(name: str, forward, backward=None) -> type:
    """A Function subclass from two plain functions (no backward: none defined)."""
    methods = {"forward": staticmethod(forward)}
    if backward is not None:
        methods["backward"] = staticmethod(backward)
    return type(name, (Function,), methods)


def _errors():
    x = Tensor([1.0, 2.0], requires_grad=True)
    same = function("Same", lambda ctx, x: x * 1, lambda ctx, g: g.sum()[None].expand(3))
    two = function("TooFew", lambda ctx, x, y: x * y, lambda ctx, g: g)
    number = function("ForANumber", lambda ctx, x, k: x * k, lambda ctx, g: (g, g))
    array = function("NotATensor", lambda ctx, x: x * 1, lambda ctx, g: g.numpy())
    saves = function("SavesANumber", lambda ctx, x: ctx.save_for_backward(2.0),
                     lambda ctx, g: g)
    return [
        (lambda: function("NoBackward", lambda ctx, x: x).apply(x), TypeError,
         "must define a static method backward"),
        (lambda: two.apply(x, x).sum().backward(), RuntimeError,
         "returned 1 gradients; forward took 2 inputs"),
        (lambda: same.apply(x).sum().backward(), RuntimeError,
         r"gradient of shape \(3,\) for input 0 of shape \(2,\)"),
        (lambda: number.apply(x, 2.0).sum().backward(), RuntimeError,
         "input 1, which is a float, not a Tensor: return None there"),
        (lambda: array.apply(x).sum().backward(), TypeError,
         "returned a ndarray for input 0; return a Tensor"),
        (lambda: saves.apply(x), TypeError, "argument 0 is a float"),
        (lambda: Identity(), RuntimeError, r"call Identity.apply\(...\)"),
    ]


@pytest.mark.parametrize("case", range(7))
def test_mistakes_are_named(case):
    call, error, message = _errors()[case]
    with pytest.raises(error, match=message):
        call()


def test_a_saved_tensor_changed_in_place_is_refused():
    scale = Tensor([2.0, 3.0])

    class Scaled(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(scale)
            return x * scale

        @staticmethod
        def backward(ctx, g):
            saved, = ctx.saved_tensors
            return g * saved
    out = Scaled.apply(Tensor([1.0, 2.0], requires_grad=True))
    scale.add_(1.0)
    with pytest.raises(RuntimeError, match="saved tensor 0 of this Function was modified"):
        out.sum().backward()
    # an input changed in place after the call: the graph's own version check refuses it
    z = Tensor([1.0, 2.0], requires_grad=True) * 1
    out = Identity.apply(z)
    with engine.no_grad():
        z.add_(1.0)
    with pytest.raises(RuntimeError, match="'Identity' node has been modified"):
        out.sum().backward()
