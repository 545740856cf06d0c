"""MAEST (Alonso-Jiménez et al., ISMIR 2023): Discogs-trained AST, embeddings and 400 style labels."""
