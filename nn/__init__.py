"""Neural-net building blocks on the engine, as torch.nn: Module and Parameter, layers,
containers, normalisation, convolutions (transposed too) and pools, padding, upsampling and
pixel shuffle, fold and unfold, recurrent layers (RNN, LSTM, GRU and
their cells), attention and the Transformer layers, `functional` (`import nn.functional as
F`), `init`, `utils` (gradient clipping); plus the scalar MLPs of micrograd (`nn.scalar`)
and the optimizers (`nn.optim`, as torch.optim).

The losses are reachable at the top level too (`nn.cross_entropy`), and so are the
optimizers (`nn.SGD`, `nn.Adam`, `nn.AdamW`).
"""
from nn import functional, init, parallel, scalar, utils
from nn.activation import (ELU, GLU, Hardsigmoid, Hardswish, Hardtanh, LeakyReLU, LogSigmoid,
                           Mish, PReLU, ReLU6, SiLU, Softplus, Softsign)
from nn.container import ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential
from nn.functional import cross_entropy, hinge_loss, mse_loss, nll_loss
from nn.layers import (GELU, AdaptiveAvgPool2d, AdaptiveAvgPool3d, AvgPool2d, AvgPool3d,
                       Conv1d, Conv2d, Conv3d, CrossEntropyLoss, Dropout, Embedding, Flatten,
                       Identity, Linear, LogSoftmax, MaxPool2d, MaxPool3d, MSELoss, NLLLoss,
                       ReLU, Sigmoid, Softmax, Tanh, Unflatten, manual_seed)
from nn.loss import BCELoss, BCEWithLogitsLoss, HuberLoss, KLDivLoss, L1Loss, SmoothL1Loss
from nn.activation_more import (CELU, SELU, Hardshrink, RReLU, Softmax2d, Softmin, Softshrink,
                                Tanhshrink, Threshold)
from nn.dropout import AlphaDropout, Dropout1d, Dropout2d, Dropout3d, FeatureAlphaDropout
from nn.distance import PairwiseDistance
from nn.loss_more import (CosineEmbeddingLoss, GaussianNLLLoss, HingeEmbeddingLoss,
                          MarginRankingLoss, MultiLabelMarginLoss, MultiLabelSoftMarginLoss,
                          MultiMarginLoss, PoissonNLLLoss, SoftMarginLoss, TripletMarginLoss)
from nn.ctc import CTCLoss
from nn.bilinear import Bilinear
from nn.embedding_bag import EmbeddingBag
from nn.local_response_norm import LocalResponseNorm
from nn.conv_transpose import ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
from nn.fold import Fold, Unfold
from nn.instancenorm import InstanceNorm1d, InstanceNorm2d, InstanceNorm3d
from nn.module import Module
from nn.padding import (CircularPad1d, CircularPad2d, CircularPad3d, ConstantPad1d,
                        ConstantPad2d, ConstantPad3d, ReflectionPad1d, ReflectionPad2d,
                        ReflectionPad3d, ReplicationPad1d, ReplicationPad2d, ReplicationPad3d,
                        ZeroPad1d, ZeroPad2d, ZeroPad3d)
from nn.pooling import (AdaptiveAvgPool1d, AdaptiveMaxPool1d, AdaptiveMaxPool2d,
                        AdaptiveMaxPool3d, AvgPool1d, MaxPool1d)
from nn.upsampling import (PixelShuffle, PixelUnshuffle, Upsample, UpsamplingBilinear2d,
                           UpsamplingNearest2d)
from nn.normalization import (BatchNorm1d, BatchNorm2d, BatchNorm3d, CosineSimilarity,
                              GroupNorm, LayerNorm, RMSNorm)
from nn.parameter import Parameter
from nn.pooling_more import (LPPool1d, LPPool2d, LPPool3d, MaxUnpool1d, MaxUnpool2d,
                             MaxUnpool3d)
from nn.extras import ChannelShuffle
from nn.buffer import Buffer
from nn.rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNBase, RNNCell, RNNCellBase
from nn.transformer import (MultiheadAttention, Transformer, TransformerDecoder,
                            TransformerDecoderLayer, TransformerEncoder, TransformerEncoderLayer)
from nn import optim
from nn.optim import SGD, Adam, AdamW

__all__ = ["Module", "Parameter", "Linear", "Embedding", "Identity", "Flatten", "Dropout",
           "ReLU", "GELU", "Tanh", "Sigmoid", "Softmax", "LogSoftmax", "LayerNorm",
           "BatchNorm1d", "BatchNorm2d", "Conv1d", "Conv2d", "MaxPool2d", "AvgPool2d",
           "AdaptiveAvgPool2d", "Sequential", "ModuleList", "ModuleDict", "CrossEntropyLoss",
           "MSELoss", "NLLLoss", "functional", "init", "optim", "scalar", "utils", "manual_seed",
           "mse_loss", "cross_entropy", "nll_loss", "hinge_loss", "SGD", "Adam", "AdamW",
           "Unflatten", "LeakyReLU", "ELU", "Softplus", "Mish", "Hardtanh", "ReLU6", "SiLU",
           "Softsign", "LogSigmoid", "GLU", "Hardswish", "Hardsigmoid", "PReLU", "BCELoss",
           "BCEWithLogitsLoss", "L1Loss", "SmoothL1Loss", "HuberLoss", "KLDivLoss",
           "CosineSimilarity", "RMSNorm", "GroupNorm", "ParameterList", "ParameterDict",
           "RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell",
           "MultiheadAttention", "TransformerEncoderLayer", "TransformerEncoder",
           "TransformerDecoderLayer", "TransformerDecoder", "Transformer",
           "ConvTranspose1d", "ConvTranspose2d", "Fold", "Unfold", "InstanceNorm1d",
           "InstanceNorm2d", "InstanceNorm3d", "ZeroPad1d", "ZeroPad2d", "ZeroPad3d",
           "ConstantPad1d", "ConstantPad2d", "ConstantPad3d", "ReflectionPad1d",
           "ReflectionPad2d", "ReflectionPad3d", "ReplicationPad1d", "ReplicationPad2d",
           "ReplicationPad3d", "CircularPad1d", "CircularPad2d", "CircularPad3d", "AvgPool1d",
           "MaxPool1d", "AdaptiveAvgPool1d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d",
           "Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d", "PixelShuffle",
           "PixelUnshuffle", "Softmin", "Softmax2d", "SELU", "CELU", "RReLU", "Threshold",
           "Tanhshrink", "Softshrink", "Hardshrink", "Dropout1d", "Dropout2d", "Dropout3d",
           "AlphaDropout", "FeatureAlphaDropout", "PairwiseDistance", "MarginRankingLoss",
           "TripletMarginLoss", "CosineEmbeddingLoss", "HingeEmbeddingLoss", "SoftMarginLoss",
           "MultiLabelSoftMarginLoss", "MultiLabelMarginLoss", "MultiMarginLoss",
           "PoissonNLLLoss", "GaussianNLLLoss", "CTCLoss", "Bilinear", "EmbeddingBag",
           "LocalResponseNorm", "LPPool1d", "LPPool2d", "MaxUnpool1d", "MaxUnpool2d",
           "ChannelShuffle", "Buffer", "Conv3d", "ConvTranspose3d", "MaxPool3d", "AvgPool3d",
           "AdaptiveAvgPool3d", "AdaptiveMaxPool3d", "BatchNorm3d", "MaxUnpool3d", "LPPool3d"]
