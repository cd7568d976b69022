"""Sensors: profiles (``firmware_configs/*.toml``) and packet decoders."""
