"""Monte-Carlo robustness studies: mismatch and noise, identical in circuit and software."""
