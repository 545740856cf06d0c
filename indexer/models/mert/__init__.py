"""MERT (m-a-p MERT-v1-95M / -330M) loaded into `transformers.HubertModel`, no remote code."""
