"""The C kernels (sources, build and cache, ctypes bindings): the only code using ctypes."""
