"""Where do I vote: a lookup table computed ahead of time from the node's stations and
districts and from VIP street segments (docs/voter.md)."""
