"""Sources of blocks: synthetic signals (lab validation), replay, Bluetooth LE sensors."""
