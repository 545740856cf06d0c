"""MusicFM (Won, Hung, Le, ICASSP 2024): a BEST-RQ conformer at 25 Hz, MSD and FMA weights."""
