"""Backend tests run torch on one thread: tiny models are faster that way and timings of
concurrent test processes don't fight over the two cores."""

import torch

torch.set_num_threads(1)
