"""soundalike storage: track metadata and vectors (SQLAlchemy), FAISS search. Never imports torch."""
