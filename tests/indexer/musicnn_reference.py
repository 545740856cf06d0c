"""The authors' MusiCNN, run in a side environment (TensorFlow 2.15, numpy < 2, librosa 0.10, musicnn 0.1.0
installed without its pins): the reference that tests/indexer/test_musicnn_fidelity.py compares ours with.

Not musicnn's `extractor()` (it repeats patch 0's `penultimate` for every later patch): its graph
(`musicnn.models.define_model`) restored from the wheel's checkpoint, run on every patch at once, with the
log-mel computed as its `batch_data` does (librosa, float16, log10(10000·x + 1), patches of 187 frames).

    python musicnn_reference.py MODEL OUT.npz (--wave WAVE.npy | --audio FILE) [--repeat N]

OUT.npz: `mel` (frames, 96), `penultimate` (patches, 200), `bias_add` (patches, 200: the dense layer
before its ReLU), `taggram` (patches, 50), and with --repeat the median seconds of N runs of the log-mel
(`mel_seconds`) and of the graph on every patch (`seconds`).
"""

from __future__ import annotations

import argparse
import os
import time

import librosa
import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import tensorflow as tf  # noqa: E402
from musicnn import configuration, models  # noqa: E402

tf.compat.v1.disable_eager_execution()
N_FRAMES = 187


def log_mel(wave: np.ndarray) -> np.ndarray:
    rep = librosa.feature.melspectrogram(
        y=wave, sr=configuration.SR, hop_length=configuration.FFT_HOP, n_fft=configuration.FFT_SIZE,
        n_mels=configuration.N_MELS,
    ).T  # fmt: skip
    return np.log10(10000 * rep.astype(np.float16) + 1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("model", choices=["MSD_musicnn", "MTT_musicnn"])
    parser.add_argument("out")
    parser.add_argument("--wave")
    parser.add_argument("--audio")
    parser.add_argument("--repeat", type=int, default=0)
    args = parser.parse_args()
    wave = np.load(args.wave) if args.wave else librosa.load(args.audio, sr=configuration.SR)[0]
    mel = log_mel(wave.astype(np.float32))
    patches = np.stack([mel[i : i + N_FRAMES] for i in range(0, mel.shape[0] - N_FRAMES + 1, N_FRAMES)])
    labels = configuration.MSD_LABELS if args.model.startswith("MSD") else configuration.MTT_LABELS
    with tf.name_scope("model"):
        x = tf.compat.v1.placeholder(tf.float32, [None, N_FRAMES, configuration.N_MELS])
        training = tf.compat.v1.placeholder(tf.bool)
        out = models.define_model(x, training, args.model, len(labels))
        taggram = tf.nn.sigmoid(out[0])
        penultimate = out[-1]
    bias_add = tf.compat.v1.get_default_graph().get_tensor_by_name("model/dense/BiasAdd:0")
    session = tf.compat.v1.Session()
    tf.compat.v1.train.Saver().restore(session, os.path.join(os.path.dirname(models.__file__), args.model) + "/")
    feed = {x: patches, training: False}
    results = session.run([penultimate, bias_add, taggram], feed_dict=feed)
    seconds, mel_seconds = [], []
    for _ in range(args.repeat):
        start = time.perf_counter()
        log_mel(wave.astype(np.float32))
        mel_seconds.append(time.perf_counter() - start)
        start = time.perf_counter()
        session.run([penultimate, taggram], feed_dict=feed)
        seconds.append(time.perf_counter() - start)
    np.savez(
        args.out,
        mel=mel.astype(np.float32),
        penultimate=results[0],
        bias_add=results[1],
        taggram=results[2],
        seconds=np.median(seconds) if seconds else np.nan,
        mel_seconds=np.median(mel_seconds) if mel_seconds else np.nan,
    )


if __name__ == "__main__":
    main()
