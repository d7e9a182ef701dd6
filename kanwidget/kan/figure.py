"""The Figure class of kanwidget's static diagrams (``model.plot``, ``plot_tree``, the MLP's
plot): a matplotlib Figure that a notebook shows once.  Its own module so that importing
the package does not import matplotlib (~0.9 s): the plotting functions import it on use."""

from __future__ import annotations

from matplotlib.figure import Figure

__all__ = ["KANFigure"]


class KANFigure(Figure):
    """A matplotlib Figure that IPython shows once: while it is open in pyplot under the
    inline backend, the backend shows it at the end of the cell, so displaying it as a value
    adds nothing; otherwise (closed, or another backend) it shows itself as a PNG."""

    def _ipython_display_(self) -> None:
        import matplotlib
        import matplotlib.pyplot as plt
        from IPython.display import Image, display

        inline = "inline" in matplotlib.get_backend()
        if inline and plt.fignum_exists(self.number):
            return
        import io

        buffer = io.BytesIO()
        self.savefig(buffer, format="png", bbox_inches="tight")
        display(Image(data=buffer.getvalue(), format="png"))
