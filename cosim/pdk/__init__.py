"""Process design kits: where the device models are and the trimmed libraries cosim generates from them."""
