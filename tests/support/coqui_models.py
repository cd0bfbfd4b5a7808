"""A real, tiny Coqui VITS model built with coqui-tts's own classes, for tests.

No Coqui weights can be had offline, so the tests make one: a character-level VITS with
a few thousand parameters per layer, randomly initialised (it speaks noise, not words),
saved exactly as Coqui's releases are (``config.json`` + ``model_file.pth``, optionally
zipped inside a ``tts_models--...`` folder). The duration predictor's output is fixed to
``FRAMES_PER_TOKEN`` frames, so the audio length for a text is known in advance:
``tokens x FRAMES_PER_TOKEN x HOP`` samples.
"""

from __future__ import annotations

import io
import math
import zipfile
from pathlib import Path

SAMPLE_RATE = 16000
HOP = 256  # the product of the decoder's upsampling rates below
FRAMES_PER_TOKEN = 5  # 80 ms per character: about the pace of real speech
CHARACTERS = "abcdefghijklmnopqrstuvwxyz"
PUNCTUATIONS = "!'(),-.:;? "


def build_tiny_vits(folder: Path, *, checkpoint_name: str = "model_file.pth") -> list[Path]:
    """Write the model into ``folder``; returns [checkpoint, config]."""
    from speech.tts.coqui_tts import prepare_import

    prepare_import()
    import torch
    from TTS.tts.configs.shared_configs import CharactersConfig
    from TTS.tts.configs.vits_config import VitsArgs, VitsConfig
    from TTS.tts.models.vits import Vits

    torch.manual_seed(0)
    args = VitsArgs(
        hidden_channels=32,
        hidden_channels_ffn_text_encoder=64,
        num_heads_text_encoder=2,
        num_layers_text_encoder=2,
        num_layers_posterior_encoder=2,
        num_layers_flow=2,
        resblock_type_decoder="2",
        resblock_kernel_sizes_decoder=[3],
        resblock_dilation_sizes_decoder=[[1, 3]],
        upsample_rates_decoder=[8, 8, 4],
        upsample_initial_channel_decoder=32,
        upsample_kernel_sizes_decoder=[16, 16, 8],
        use_sdp=False,  # the deterministic duration predictor, so lengths are known
        init_discriminator=False,  # training only
    )
    characters = CharactersConfig(
        characters_class="TTS.tts.models.vits.VitsCharacters",
        pad="_",
        eos="",
        bos="",
        blank=None,
        characters=CHARACTERS,
        punctuations=PUNCTUATIONS,
        phonemes=None,
        is_unique=True,
        is_sorted=True,
    )
    config = VitsConfig(
        model_args=args,
        characters=characters,
        use_phonemes=False,
        text_cleaner="basic_cleaners",
        add_blank=False,
    )
    config.audio.sample_rate = SAMPLE_RATE
    config.audio.hop_length = HOP
    model = Vits(config)
    with torch.no_grad():
        projection = model.duration_predictor.proj
        projection.weight.zero_()
        # exp(log w) is ceil()-ed: a hair under the integer gives exactly that many frames
        projection.bias.fill_(math.log(FRAMES_PER_TOKEN - 0.01))
    folder.mkdir(parents=True, exist_ok=True)
    checkpoint = folder / checkpoint_name
    torch.save({"model": model.state_dict()}, checkpoint)
    config.save_json(str(folder / "config.json"))
    return [checkpoint, folder / "config.json"]


def zipped(files: list[Path], inner_folder: str) -> bytes:
    """The files in one zip, inside ``inner_folder/`` as Coqui's release zips are."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in files:
            archive.write(path, f"{inner_folder}/{path.name}")
    return buffer.getvalue()


def expected_samples(text: str) -> int:
    """Samples the tiny model makes for already-cleaned text (lower case, known marks)."""
    tokens = [c for c in text.lower() if c in CHARACTERS or c in PUNCTUATIONS]
    return len(tokens) * FRAMES_PER_TOKEN * HOP
