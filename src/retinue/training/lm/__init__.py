"""A small-LM toolkit: a LLaMA-style decoder, a byte tokenizer, packed data, a training loop and
perplexity. Domain continual pretraining (Igea) builds on it."""
