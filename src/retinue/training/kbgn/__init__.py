"""KBGN (Jiang et al., ACM MM 2020): the Knowledge-Bridge Graph Network for visual dialogue, trained here on
procedurally generated scenes and dialogues."""
