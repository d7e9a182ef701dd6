"""``import kanwidget`` leaves the widget stack unloaded until ``KANWidget`` is used."""

import subprocess
import sys

import pytest
import torch


def _run(code: str) -> str:
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    return out.stdout.strip()


def test_import_kanwidget_does_not_load_the_widget_stack():
    code = (
        "import sys, kanwidget\n"
        "print(sorted(m for m in ('anywidget', 'ipywidgets', 'kanwidget.widget')"
        " if m in sys.modules))"
    )
    assert _run(code) == "[]"


def test_import_kan_does_not_load_matplotlib_until_plot():
    """``from kanwidget import KAN`` (every sweep worker does it) leaves matplotlib
    unimported (~0.9 s); ``model.plot()`` loads it and returns a Figure."""
    code = (
        "import sys\n"
        "import matplotlib\n"
        "matplotlib.use('Agg')\n"
        "from kanwidget import KAN\n"
        "loaded = 'matplotlib.figure' in sys.modules\n"
        "fig = KAN([2, 1], seed=0).plot()\n"
        "print(loaded, type(fig).__name__, 'matplotlib.figure' in sys.modules)"
    )
    assert _run(code) == "False KANFigure True"


def test_kanwidget_widget_loads_on_first_use():
    code = (
        "import sys, kanwidget\n"
        "from kanwidget import KANWidget\n"
        "from kanwidget.widget import KANWidget as direct\n"
        "print(KANWidget is direct, 'anywidget' in sys.modules)"
    )
    assert _run(code) == "True True"


def test_unknown_attribute_raises_attribute_error():
    import kanwidget

    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        kanwidget.nope  # noqa: B018


@pytest.mark.parametrize(
    "fit_args, trained",
    [
        ("steps=3", "h['train_loss'][-1] < 1e-4"),  # L-BFGS, pykan's settings
        ("opt='Adam', lr=0.05, steps=60", "h['train_loss'][-1] < 0.5 * h['train_loss'][0]"),
    ],
)
def test_symbolic_fit_does_not_import_torch_dynamo(fit_args, trained):
    """fit on a symbolic model (the torch engine: L-BFGS, the last fit of every sweep
    universe, or Adam) leaves ``torch._dynamo`` unimported: torch.optim's wrappers import
    it (seconds per worker process); the fit itself still trains."""
    code = (
        "import sys, torch\n"
        "from kanwidget import KAN, create_dataset\n"
        "data = create_dataset(lambda x: torch.sin(x[:, :1]), 1, train_num=50, test_num=20)\n"
        "model = KAN([1, 1], grid=3, seed=0)\n"
        "model.fix_symbolic(0, 0, 0, 'sin', fit_params_bool=False, params=(0.8, 0.1, 1.2, 0.0))\n"
        "x, y = data['train_input'], data['train_label']\n"
        "before = float(((model(x) - y) ** 2).mean().sqrt())\n"
        f"h = model.fit(data, {fit_args}, progress=False)\n"
        f"print(before > 0.05, {trained}, 'torch._dynamo' in sys.modules)"
    )
    assert _run(code) == "True True False"


def test_fit_adam_matches_torch_adam_bit_for_bit():
    """The undecorated Adam takes torch.optim.Adam's iterates exactly (same update,
    foreach on), over several steps on two parameters."""
    from kanwidget.kan.train.adam import Adam

    torch.manual_seed(0)
    ours = [torch.nn.Parameter(torch.randn(7)), torch.nn.Parameter(torch.randn(3, 2))]
    ref = [torch.nn.Parameter(p.detach().clone()) for p in ours]
    start = [p.detach().clone() for p in ours]
    for params, opt in ((ours, Adam(ours, lr=0.05, foreach=True)),
                        (ref, torch.optim.Adam(ref, lr=0.05, foreach=True))):  # fmt: skip
        for _ in range(6):
            opt.zero_grad()
            sum((p**3 - p).sum() for p in params).backward()
            opt.step()
    assert all(torch.equal(a, b) for a, b in zip(ours, ref, strict=True))
    assert not any(torch.equal(a, b) for a, b in zip(ours, start, strict=True))  # moved


def test_fit_lbfgs_param_groups_and_zero_grad_work_without_torchs_wrappers():
    from kanwidget.kan.train.lbfgs import LBFGS

    a, b = torch.nn.Parameter(torch.ones(2)), torch.nn.Parameter(torch.ones(3))
    opt = LBFGS([a], lr=0.5)
    assert opt.param_groups[0]["lr"] == 0.5 and opt.param_groups[0]["params"] == [a]
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [a]})  # torch's own checks still run
    with pytest.raises(ValueError, match="per-parameter options"):
        LBFGS([{"params": [a]}, {"params": [b]}])
    (a.sum() * 2).backward()
    assert torch.equal(a.grad, torch.full((2,), 2.0))
    opt.zero_grad()
    assert a.grad is None


def test_result_widget_after_plain_import_kanwidget():
    # README: `kanwidget.sweep(...).widget()` shows the Pareto panel; with the lazy import
    # the widget package had not registered its viewer yet, so this raised
    # "no widget is registered: `import kanwidget.widget` first"
    code = (
        "import kanwidget\n"
        "from kanwidget.discovery.sweep import SweepResult\n"
        "model = kanwidget.KAN([2, 2, 1], grid=3, seed=0)\n"
        "w = SweepResult([], model.history, None).widget()\n"
        "print(type(w).__name__, w.history['current'], w.pareto == {})\n"
    )
    assert _run(code) == "KANWidget 0.0 True"  # no universe: an empty Pareto panel
