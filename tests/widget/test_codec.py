"""codec: ndarray/Tensor <-> {view, dtype, shape} binary arrays, and the array traits."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from ipywidgets.widgets.widget import _remove_buffers

from kanwidget.widget.codec import (
    ArrayDict,
    ArrayList,
    decode_array,
    encode_array,
    from_json,
    to_json,
)


@pytest.mark.parametrize("shape", [(5,), (3, 4), (2, 3, 4), (0, 48), ()])
def test_codec_roundtrip_values_dtype_shape(shape):
    values = torch.randn(shape, dtype=torch.float64)
    wire = encode_array(values)
    assert wire["dtype"] == "float32"
    assert wire["shape"] == list(shape)
    assert isinstance(wire["view"], memoryview)
    assert wire["view"].nbytes == 4 * values.numel()
    back = decode_array({**wire, "view": bytes(wire["view"])})  # as the kernel receives it
    assert back.dtype == np.float32
    assert back.shape == shape
    np.testing.assert_array_equal(back, values.numpy().astype(np.float32))


def test_codec_nested_to_json_from_json():
    value = {"x": np.arange(6.0).reshape(2, 3), "meta": "keep", "list": [{"y": torch.ones(2)}, 3]}
    wire = to_json(value)
    assert wire["meta"] == "keep" and wire["list"][1] == 3
    assert wire["x"]["shape"] == [2, 3] and isinstance(wire["x"]["view"], memoryview)
    back = from_json(wire)
    np.testing.assert_array_equal(back["x"], np.arange(6.0, dtype=np.float32).reshape(2, 3))
    np.testing.assert_array_equal(back["list"][0]["y"], np.ones(2, np.float32))


def test_codec_decode_accepts_json_lists():
    back = decode_array({"view": [1, 2, 3, 4], "dtype": "float32", "shape": [2, 2]})
    np.testing.assert_array_equal(back, np.array([[1, 2], [3, 4]], np.float32))


def test_codec_traits_cast_to_float32_and_travel_as_buffers():
    import ipywidgets

    class W(ipywidgets.Widget):
        arrays = ArrayDict()
        items = ArrayList()

    w = W()
    w.arrays = {"a": torch.arange(4, dtype=torch.float64), "b": [1.0, 2.0]}
    w.items = [{"curve": {"x": np.zeros(3, np.int64)}}]
    assert w.arrays["a"].dtype == np.float32 and w.arrays["a"].flags.c_contiguous
    assert w.arrays["b"] == [1.0, 2.0]  # plain lists are JSON, not arrays
    assert w.items[0]["curve"]["x"].dtype == np.float32
    state = w.get_state(["arrays", "items"])
    _, paths, buffers = _remove_buffers(state)
    assert ["arrays", "a", "view"] in paths and ["items", 0, "curve", "x", "view"] in paths
    assert sum(b.nbytes for b in buffers) == 4 * 4 + 3 * 4
    w.close()
