"""convlab.functional: vectorised reference kernels, drop-in twins of torch.nn.functional."""
from convlab.functional.conv import conv1d, conv2d, conv3d, corr2d
from convlab.functional.fold import fold, unfold
from convlab.functional.padding import pad
from convlab.functional.pooling import avg_pool1d, avg_pool2d, max_pool1d, max_pool2d
from convlab.functional.transposed import conv_transpose1d, conv_transpose2d, conv_transpose3d

__all__ = [
    "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
    "max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d", "unfold", "fold", "pad", "corr2d",
]
