"""ApexChainX: outages from detection to settlement."""
