"""The compact colorizer: EfficientNet-Lite0 encoder (ImageNet-pretrained) and a DeOldify-style
decoder (pixel-shuffle upsampling with blur, skip connections with BatchNorm, self-attention at
1/8 scale, spectral norm on the decoder convs in training), merged with the input at 1/2 scale,
predicting a distribution over quantised chroma bins (OpenCV's analogue YUV, the space
Tintype's pipeline merges in).

forward() returns logits (training); colorize() turns them into an RGB image in ImageNet-
normalised space, the same contract as DeOldify's generator, so Tintype's pipeline (denormalise,
truncate, resize back, keep the original's luminance) applies unchanged. src/model/compact.rs
mirrors this file; keep them in step.

Padding is symmetric (k // 2) everywhere, including stride 2: simpler to mirror exactly in
candle than TF's "same" padding the pretrained weights came from; fine-tuning absorbs the
half-pixel shift.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
BN_EPS = 1e-3  # the pretrained encoder's (TF-ported) BatchNorm epsilon

# EfficientNet-Lite0 blocks: (expand ratio, kernel, stride, in, out). 16 blocks.
LITE0_BLOCKS = (
    [(1, 3, 1, 32, 16)]
    + [(6, 3, 2, 16, 24), (6, 3, 1, 24, 24)]
    + [(6, 5, 2, 24, 40), (6, 5, 1, 40, 40)]
    + [(6, 3, 2, 40, 80), (6, 3, 1, 80, 80), (6, 3, 1, 80, 80)]
    + [(6, 5, 1, 80, 112), (6, 5, 1, 112, 112), (6, 5, 1, 112, 112)]
    + [(6, 5, 2, 112, 192), (6, 5, 1, 192, 192), (6, 5, 1, 192, 192), (6, 5, 1, 192, 192)]
    + [(6, 3, 1, 192, 320)]
)
# Encoder outputs kept as skips: after block 0 (1/2, 16 ch), 2 (1/4, 24), 4 (1/8, 40), 10 (1/16, 112).
SKIP_AFTER = (0, 2, 4, 10)


class MBConv(nn.Module):
    """Inverted residual block of EfficientNet-Lite (no squeeze-excitation, ReLU6)."""

    def __init__(self, expand, k, stride, cin, cout):
        super().__init__()
        mid = cin * expand
        self.expand = expand != 1
        if self.expand:
            self._expand_conv = nn.Conv2d(cin, mid, 1, bias=False)
            self._bn0 = nn.BatchNorm2d(mid, eps=BN_EPS)
        self._depthwise_conv = nn.Conv2d(mid, mid, k, stride, k // 2, groups=mid, bias=False)
        self._bn1 = nn.BatchNorm2d(mid, eps=BN_EPS)
        self._project_conv = nn.Conv2d(mid, cout, 1, bias=False)
        self._bn2 = nn.BatchNorm2d(cout, eps=BN_EPS)
        self.residual = stride == 1 and cin == cout

    def forward(self, x):
        h = x
        if self.expand:
            h = F.relu6(self._bn0(self._expand_conv(h)))
        h = F.relu6(self._bn1(self._depthwise_conv(h)))
        h = self._bn2(self._project_conv(h))
        return h + x if self.residual else h


class Encoder(nn.Module):
    """Key names follow the pretrained file (lukemelas/EfficientNet-PyTorch layout). With
    `context`, also the classifier's last conv (320 → 1280, what ImageNet's 1,000 classes are
    read from), averaged over the picture: what the photo shows, as one vector."""

    def __init__(self, context=False):
        super().__init__()
        self._conv_stem = nn.Conv2d(3, 32, 3, 2, 1, bias=False)
        self._bn0 = nn.BatchNorm2d(32, eps=BN_EPS)
        self._blocks = nn.ModuleList(MBConv(*cfg) for cfg in LITE0_BLOCKS)
        if context:
            self._conv_head = nn.Conv2d(320, 1280, 1, bias=False)
            self._bn1 = nn.BatchNorm2d(1280, eps=BN_EPS)

    def forward(self, x):
        h = F.relu6(self._bn0(self._conv_stem(x)))
        skips = []
        for i, block in enumerate(self._blocks):
            h = block(h)
            if i in SKIP_AFTER:
                skips.append(h)
        context = F.relu6(self._bn1(self._conv_head(h))).mean((2, 3)) if hasattr(self, "_conv_head") else None
        return h, skips[::-1], context  # skips deepest first: 1/16, 1/8, 1/4, 1/2


def sn(conv, use):
    return nn.utils.parametrizations.spectral_norm(conv) if use else conv


class Upsample(nn.Module):
    """DeOldify's CustomPixelShuffle_ICNR: conv1x1 → BN → ReLU → shuffle ×2 → blur."""

    def __init__(self, cin, cout, spectral):
        super().__init__()
        self.conv = sn(nn.Conv2d(cin, 4 * cout, 1, bias=False), spectral)
        self.bn = nn.BatchNorm2d(4 * cout)

    def forward(self, x):
        x = F.pixel_shuffle(F.relu(self.bn(self.conv(x))), 2)
        return F.avg_pool2d(F.pad(x, (1, 0, 1, 0), mode="replicate"), 2, stride=1)


class SelfAttention(nn.Module):
    """fastai's SAGAN self-attention: softmax over the source index, no 1/sqrt(d), gamma·o + x."""

    def __init__(self, c, spectral):
        super().__init__()
        self.query = sn(nn.Conv1d(c, c // 8, 1, bias=False), spectral)
        self.key = sn(nn.Conv1d(c, c // 8, 1, bias=False), spectral)
        self.value = sn(nn.Conv1d(c, c, 1, bias=False), spectral)
        self.gamma = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        b, c, h, w = x.shape
        flat = x.view(b, c, h * w)
        f, g, v = self.query(flat), self.key(flat), self.value(flat)
        beta = F.softmax(torch.bmm(f.permute(0, 2, 1), g), dim=1)
        return (self.gamma * torch.bmm(v, beta) + flat).view(b, c, h, w)


class DecoderBlock(nn.Module):
    """Upsample, crop to the skip, cat with BN(skip), ReLU, conv3x3 → ReLU → BN [→ SA]."""

    def __init__(self, up_in, skip, out, attention, spectral, dropout=0.0):
        super().__init__()
        self.dropout = dropout
        self.shuf = Upsample(up_in, out, spectral)
        self.bn = nn.BatchNorm2d(skip)
        self.conv = sn(nn.Conv2d(out + skip, out, 3, padding=1, bias=False), spectral)
        self.conv_bn = nn.BatchNorm2d(out)
        self.attention = SelfAttention(out, spectral) if attention else None

    def forward(self, x, s):
        up = self.shuf(x)[..., : s.shape[2], : s.shape[3]]
        h = F.relu(torch.cat([up, self.bn(s)], 1))
        if self.dropout:
            h = F.dropout2d(h, self.dropout, self.training)
        h = self.conv_bn(F.relu(self.conv(h)))
        return self.attention(h) if self.attention is not None else h


class CompactColorizer(nn.Module):
    def __init__(self, bins, spectral=True, temperature=0.38, context=False, dropout=0.0, scene=False):
        """bins: (Q, 2) tensor of (U, V) bin centres in 8-bit units. context: the global
        context of Iizuka et al. (2016), the encoder's pooled classifier features added to the
        decoder's input (a zero-initialised linear map, so training starts from the plain model).
        dropout: Dropout2d on each decoder block's input in training (no weights; inference is
        unchanged). scene: the scene palette (colorize() steers the logits toward it), a linear
        softmax layer on the encoder's pooled output, fitted by scene_prior.py --head-out and
        added by export.py, not trained here."""
        super().__init__()
        self.encoder = Encoder(context)
        self.middle = sn(nn.Conv2d(320, 256, 3, padding=1, bias=False), spectral)
        self.middle_bn = nn.BatchNorm2d(256)
        if context:
            self.context = nn.Linear(1280, 256)
            nn.init.zeros_(self.context.weight)
            nn.init.zeros_(self.context.bias)
        self.blocks = nn.ModuleList(
            [
                DecoderBlock(256, 112, 128, False, spectral, dropout),  # 1/16
                DecoderBlock(128, 40, 96, True, spectral, dropout),  # 1/8, self-attention
                DecoderBlock(96, 24, 64, False, spectral, dropout),  # 1/4
                DecoderBlock(64, 16, 48, False, spectral, dropout),  # 1/2
            ]
        )
        # Merge with the input (its grey, at 1/2 scale), then the chroma-bin logits.
        self.head = sn(nn.Conv2d(48 + 1, 48, 3, padding=1), spectral)
        self.logits = nn.Conv2d(48, bins.shape[0], 1)
        self.register_buffer("bins", bins.float())
        self.temperature = temperature
        if scene:
            self.scene = nn.Linear(320, bins.shape[0])
            self.scene_strength = 0.0

    def forward(self, x, with_palette=False):
        """x: (B, 3, H, W) ImageNet-normalised grey; H, W multiples of 32. → logits at 1/2, and
        with_palette the scene palette's (B, Q) distribution (None in files without one)."""
        h, skips, context = self.encoder(x)
        palette = F.softmax(self.scene(h.mean((2, 3))), 1) if with_palette and hasattr(self, "scene") else None
        h = self.middle_bn(F.relu(self.middle(h)))
        if context is not None:
            h = h + self.context(context)[:, :, None, None]
        for block, s in zip(self.blocks, skips):
            h = block(h, s)
        grey = F.avg_pool2d(x[:, :1], 2)
        h = F.relu(self.head(torch.cat([h, grey], 1)))
        return (self.logits(h), palette) if with_palette else self.logits(h)

    def steered(self, x):
        """Logits for colorize(): steered toward the scene palette by scene_strength × the bias
        that makes the photo's mean predicted distribution match the palette (scene_bias)."""
        logits, palette = self.forward(x, with_palette=True)
        if palette is None or not self.scene_strength:
            return logits
        bias = torch.stack([scene_bias(l, p) for l, p in zip(logits, palette)])
        return logits + self.scene_strength * bias[:, :, None, None]

    def chroma(self, logits):
        """Annealed mean (Zhang et al. 2016): U, V at 1/2 scale, 8-bit units centred on 0."""
        p = F.softmax(logits / self.temperature, dim=1)
        uv = torch.einsum("bqhw,qc->bchw", p, self.bins) - 128.0
        return uv

    def colorize(self, x):
        """x as in forward → RGB in ImageNet-normalised space, (B, 3, H, W)."""
        uv = F.interpolate(self.chroma(self.steered(x)), scale_factor=2, mode="bilinear", align_corners=False)
        mean = torch.tensor(IMAGENET_MEAN, device=x.device).view(1, 3, 1, 1)
        std = torch.tensor(IMAGENET_STD, device=x.device).view(1, 3, 1, 1)
        y = (x[:, :1] * std[:, :1] + mean[:, :1]) * 255.0  # the grey input, 0..255
        return yuv_to_input(y, uv)


def yuv_to_input(y, uv):
    """Grey in 0..255 (B, 1, H, W) and U, V centred on 0 (B, 2, H, W) → RGB, clamped, in
    ImageNet-normalised space (the generator's output, and the encoder's input)."""
    mean = torch.tensor(IMAGENET_MEAN, device=y.device).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD, device=y.device).view(1, 3, 1, 1)
    u, v = uv[:, :1], uv[:, 1:]
    r = y + v / 0.877
    b = y + u / 0.492
    g = (y - 0.299 * r - 0.114 * b) / 0.587
    rgb = torch.cat([r, g, b], 1).clamp(0, 255) / 255.0
    return (rgb - mean) / std


SCENE_PIXELS = 4000  # about this many of a photo's logits, evenly strided, for scene_bias
SCENE_ITERATIONS = 30  # the fixed point to float rounding on the validation photos (20–30 needed)


def fit_bias(logits, target, iterations, floor=1e-5):
    """The bias b over the bins that makes the mean softmax of (N, Q) logits + b equal target
    (Q,), by fixed-point iteration b ← b + log target − log p(b); bins the target never holds
    are pushed down only to `floor`."""
    b = torch.zeros(logits.shape[1])
    target = target.clamp(min=floor)
    target = target / target.sum()
    for _ in range(iterations):
        pred = F.softmax(logits + b, dim=1).mean(0)
        b = b + torch.log(target) - torch.log(pred.clamp(min=floor))
        b = b - b.mean()
    return b


def scene_bias(logits, palette):
    """One photo's (Q, h, w) logits → the bias (Q,) that makes their mean distribution the
    palette's, fitted on every k-th pixel (k the pixels ÷ SCENE_PIXELS, at least 1)."""
    flat = logits.flatten(1).T
    return fit_bias(flat[:: max(1, flat.shape[0] // SCENE_PIXELS)], palette, SCENE_ITERATIONS)


def load_pretrained_encoder(model, path):
    """Loads the EfficientNet-Lite0 ImageNet weights. Some tensors in that file have permuted
    strides; torch.load + contiguous() handles them."""
    state = torch.load(path, map_location="cpu", weights_only=False)
    prefixes = ("_conv_stem", "_bn0", "_blocks") + (("_conv_head", "_bn1") if hasattr(model, "context") else ())
    enc = {k: v.contiguous() for k, v in state.items() if k.startswith(prefixes)}
    model.encoder.load_state_dict(enc, strict=True)


def has_context(model_state):
    """Whether a saved state dict is of a model with the global context."""
    return "context.weight" in model_state
