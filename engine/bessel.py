"""The modified Bessel functions of the first kind, I0 and I1, and their exponentially scaled
forms i0e(x) = exp(-|x|) I0(x) and i1e(x) = exp(-|x|) I1(x): `torch.i0` (`t.i0()`,
`t.i0_()`) and torch.special's `i0`, `i0e`, `i1`, `i1e`, each with its rule right below it,
as in engine/elementwise.py. Each rule is made of the family's ops, so derivatives of any
order follow.

The numpy kernels are PyTorch's (aten/src/ATen/native/Math.h, from the Cephes Math
Library): a Chebyshev series in x/2 - 2 on [0, 8] and in 32/x - 2 beyond, summed by
Clenshaw's recurrence (Cephes' chbevl) in the input's own float dtype, with the shorter
series PyTorch uses for float32's i1 and i1e: float32 results are PyTorch's to the bit at
all but about 1 in 2000 points, and to 4 ulps there; float64 ones to about 2e-15, relative
(PyTorch's fused multiply-adds are not copied in float64: numpy has none).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from engine.in_place_forms import in_place_form
from engine.tensor import _IEEE, Tensor, _floating, _node, _where

# exp(-x) I0(x) on [0, 8] in x/2 - 2, and exp(-x) sqrt(x) I0(x) on (8, inf) in 32/x - 2
_I0E_NEAR = (
    -4.41534164647933937950E-18, 3.33079451882223809783E-17, -2.43127984654795469359E-16,
    1.71539128555513303061E-15, -1.16853328779934516808E-14, 7.67618549860493561688E-14,
    -4.85644678311192946090E-13, 2.95505266312963983461E-12, -1.72682629144155570723E-11,
    9.67580903537323691224E-11, -5.18979560163526290666E-10, 2.65982372468238665035E-9,
    -1.30002500998624804212E-8, 6.04699502254191894932E-8, -2.67079385394061173391E-7,
    1.11738753912010371815E-6, -4.41673835845875056359E-6, 1.64484480707288970893E-5,
    -5.75419501008210370398E-5, 1.88502885095841655729E-4, -5.76375574538582365885E-4,
    1.63947561694133579842E-3, -4.32430999505057594430E-3, 1.05464603945949983183E-2,
    -2.37374148058994688156E-2, 4.93052842396707084878E-2, -9.49010970480476444210E-2,
    1.71620901522208775349E-1, -3.04682672343198398683E-1, 6.76795274409476084995E-1)
_I0E_FAR = (
    -7.23318048787475395456E-18, -4.83050448594418207126E-18, 4.46562142029675999901E-17,
    3.46122286769746109310E-17, -2.82762398051658348494E-16, -3.42548561967721913462E-16,
    1.77256013305652638360E-15, 3.81168066935262242075E-15, -9.55484669882830764870E-15,
    -4.15056934728722208663E-14, 1.54008621752140982691E-14, 3.85277838274214270114E-13,
    7.18012445138366623367E-13, -1.79417853150680611778E-12, -1.32158118404477131188E-11,
    -3.14991652796324136454E-11, 1.18891471078464383424E-11, 4.94060238822496958910E-10,
    3.39623202570838634515E-9, 2.26666899049817806459E-8, 2.04891858946906374183E-7,
    2.89137052083475648297E-6, 6.88975834691682398426E-5, 3.36911647825569408990E-3,
    8.04490411014108831608E-1)
# exp(-x) I1(x) / x on [0, 8], and exp(-x) sqrt(x) I1(x) on (8, inf); float32 sums only the
# last 17 and 7 terms, as PyTorch's
_I1E_NEAR = (
    2.77791411276104639959E-18, -2.11142121435816608115E-17, 1.55363195773620046921E-16,
    -1.10559694773538630805E-15, 7.60068429473540693410E-15, -5.04218550472791168711E-14,
    3.22379336594557470981E-13, -1.98397439776494371520E-12, 1.17361862988909016308E-11,
    -6.66348972350202774223E-11, 3.62559028155211703701E-10, -1.88724975172282928790E-9,
    9.38153738649577178388E-9, -4.44505912879632808065E-8, 2.00329475355213526229E-7,
    -8.56872026469545474066E-7, 3.47025130813767847674E-6, -1.32731636560394358279E-5,
    4.78156510755005422638E-5, -1.61760815825896745588E-4, 5.12285956168575772895E-4,
    -1.51357245063125314899E-3, 4.15642294431288815669E-3, -1.05640848946261981558E-2,
    2.47264490306265168283E-2, -5.29459812080949914269E-2, 1.02643658689847095384E-1,
    -1.76416518357834055153E-1, 2.52587186443633654823E-1)
_I1E_FAR = (
    7.51729631084210481353E-18, 4.41434832307170791151E-18, -4.65030536848935832153E-17,
    -3.20952592199342395980E-17, 2.96262899764595013876E-16, 3.30820231092092828324E-16,
    -1.88035477551078244854E-15, -3.81440307243700780478E-15, 1.04202769841288027642E-14,
    4.27244001671195135429E-14, -2.10154184277266431302E-14, -4.08355111109219731823E-13,
    -7.19855177624590851209E-13, 2.03562854414708950722E-12, 1.41258074366137813316E-11,
    3.25260358301548823856E-11, -1.89749581235054123450E-11, -5.58974346219658380687E-10,
    -3.83538038596423702205E-9, -2.63146884688951950684E-8, -2.51223623787020892529E-7,
    -3.88256480887769039346E-6, -1.10588938762623716291E-4, -9.76109749136146840777E-3,
    7.78576235018280120474E-1)
_FLOAT32_TERMS = {_I1E_NEAR: 17, _I1E_FAR: 7}


def _chbevl(y: np.ndarray, coefficients: tuple) -> np.ndarray:
    """The Chebyshev series at y by Clenshaw's recurrence, in y's dtype (Cephes' chbevl).
    For float32 each step's y b1 - b2 is rounded once, from float64, as PyTorch's compiled
    kernel computes it (a fused multiply-add): near |x| = 8 the recurrence magnifies each
    step's rounding, by 10 ulps of the result where the two differ."""
    if y.dtype == np.float32:
        coefficients = coefficients[-_FLOAT32_TERMS.get(coefficients, 0):]
    c = np.array(coefficients, y.dtype)
    wide = y.astype(np.float64, copy=False)
    b0, b1, b2 = np.full_like(y, c[0]), np.zeros_like(y), np.zeros_like(y)
    for term in c[1:]:  # a loop over the series' terms
        b2, b1 = b1, b0
        b0 = (wide * b1 - b2).astype(y.dtype, copy=False) + term
    return (b0 - b2) * y.dtype.type(0.5)


def _kernel(x: np.ndarray, name: str) -> np.ndarray:
    """PyTorch's i0, i0e, i1 or i1e of the float array x, its products in PyTorch's order."""
    one = name.startswith("i1")
    ax = np.abs(x)
    t = ax.dtype.type
    with np.errstate(**_IEEE):
        near = _chbevl(ax / t(2) - t(2), _I1E_NEAR if one else _I0E_NEAR)
        far = _chbevl(t(32) / ax - t(2), _I1E_FAR if one else _I0E_FAR)
        if name.endswith("e"):
            near, far = (near * ax if one else near), far / np.sqrt(ax)
        else:
            grown = np.exp(ax.astype(np.float64)).astype(ax.dtype)  # float32's rounded once
            near, far = (grown * ax if one else grown) * near, grown * far / np.sqrt(ax)
        out = np.where(ax <= 8, near, far)
    return np.where(x < 0, -out, out) if one else out


def _array_op(x: np.ndarray, name: str) -> np.ndarray:
    """_kernel in x's float dtype; float16 computes in float32, as PyTorch upcasts it."""
    if x.dtype == np.float16:
        return _kernel(x.astype(np.float32), name).astype(np.float16)
    return _kernel(x, name)


def _of(name: str, x: Any) -> Any:
    """The op `name` of x: the kernel's for an array, the op's for a Tensor (create_graph)."""
    return _OPS[name](x) if isinstance(x, Tensor) else _array_op(x, name)


def _sign(x: Any) -> Any:
    return x.sign() if isinstance(x, Tensor) else np.sign(x)


def _near_zero_safe(a: Any) -> tuple:
    """(|a| > eps, a with eps where it is not): 1/a stays finite where the limit is taken."""
    raw = a._data if isinstance(a, Tensor) else a
    eps = np.finfo(raw.dtype).eps
    away = np.abs(raw) > eps
    return away, _where(away, a, np.full_like(raw, eps))


def i0(input: Tensor) -> Tensor:
    """I0(a), the modified Bessel function of the first kind of order 0; da = g i1(a)."""
    def rule(g: Any, out: Any, need: list, a: Any) -> tuple:
        return (g * _of("i1", a),)
    return _node(_array_op(_floating(input)._data, "i0"), "i0", rule, input)


def i0e(input: Tensor) -> Tensor:
    """exp(-|a|) I0(a); da = g (i1e(a) - sign(a) i0e(a))."""
    def rule(g: Any, out: Any, need: list, a: Any) -> tuple:
        return (g * (_of("i1e", a) - _sign(a) * out),)
    return _node(_array_op(_floating(input)._data, "i0e"), "special_i0e", rule, input)


def i1(input: Tensor) -> Tensor:
    """I1(a), of order 1; da = g (i0(a) - i1(a) / a), 1/2 at 0 (its limit), as PyTorch's."""
    def rule(g: Any, out: Any, need: list, a: Any) -> tuple:
        away, safe = _near_zero_safe(a)
        with np.errstate(**_IEEE):
            return (g * _where(away, _of("i0", safe) - out / safe, 0.5),)
    return _node(_array_op(_floating(input)._data, "i1"), "special_i1", rule, input)


def i1e(input: Tensor) -> Tensor:
    """exp(-|a|) I1(a); da = g (i0e(a) - i1e(a) (sign(a) + 1/a)), 1/2 at 0, as PyTorch's."""
    def rule(g: Any, out: Any, need: list, a: Any) -> tuple:
        away, safe = _near_zero_safe(a)
        with np.errstate(**_IEEE):
            return (g * _where(away, _of("i0e", safe) - out * (_sign(safe) + 1 / safe), 0.5),)
    return _node(_array_op(_floating(input)._data, "i1e"), "special_i1e", rule, input)


_OPS = {"i0": i0, "i0e": i0e, "i1": i1, "i1e": i1e}
Tensor.i0, Tensor.i0_ = i0, in_place_form(i0)
__all__ = ["i0"]
