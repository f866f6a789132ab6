"""convlab: an open course on convolution, with reference kernels that twin torch.nn.functional."""

__version__ = "0.1.0"
